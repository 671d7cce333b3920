"""localmode.in_process: the local server process's own calls (outbox sender, stream poller, schedules,
issuing poller) reach the server's app without the socket, are journaled like the API's, answer errors as
DynamoDB/SQS do; calls for another host are left to HTTP. Runs in its own process (moto's state is per
process), as local mode does."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PHASE = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    import boto3, botocore.exceptions
    import pynamodb.connection.base
    from botocore.awsrequest import AWSPreparedRequest
    from localmode.dynamodb_server import LocalDynamoDB
    from localmode.in_process import ROUTE
    from localmode.run import share_botocore_data

    phase, data_dir = sys.argv[1], Path(sys.argv[2])
    kw = dict(region_name="ap-southeast-3", aws_access_key_id="x", aws_secret_access_key="x")
    report = {}
    if phase == "first":
        share_botocore_data(before_send=ROUTE)
        db = LocalDynamoDB(port=0, data_dir=data_dir).start()
        ROUTE.attach(db.app, db.endpoint)
        db.stop_serving()  # no HTTP from here on: every answer below comes in process
        c = boto3.client("dynamodb", endpoint_url=db.endpoint, **kw)
        c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}])
        key = {"PK": {"S": "REQ#1"}, "SK": {"S": "META"}}
        c.put_item(TableName="t", Item={**key, "nama": {"S": "Siti Aminah"}})
        try:  # a failed condition is DynamoDB's error, with its code, and writes nothing
            c.put_item(TableName="t", Item={**key, "nama": {"S": "lain"}},
                       ConditionExpression="attribute_not_exists(PK)")
        except botocore.exceptions.ClientError as err:
            report["error"] = err.response["Error"]["Code"]
        try:
            c.transact_write_items(TransactItems=[
                {"Put": {"TableName": "t", "Item": {"PK": {"S": "REQ#2"}, "SK": {"S": "META"}}}},
                {"ConditionCheck": {"TableName": "t", "Key": key, "ConditionExpression": "attribute_not_exists(PK)"}}])
        except botocore.exceptions.ClientError as err:
            report["cancelled"] = err.response["Error"]["Code"]
        # PynamoDB's per-thread sessions get the route too
        session = pynamodb.connection.base.get_session()
        item = session.create_client("dynamodb", endpoint_url=db.endpoint, **kw).get_item(TableName="t", Key=key)
        report["pynamodb_session"] = item["Item"]["nama"]["S"]
        sqs = boto3.client("sqs", endpoint_url=db.endpoint, **kw)
        url = sqs.create_queue(QueueName="issuing")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="letter")
        report["sqs"] = [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])]
        other = AWSPreparedRequest("POST", "http://127.0.0.1:9/", {}, b"{}", True)
        report["other_host"] = ROUTE(other) is None
        report["answered"] = ROUTE.answered
        ROUTE.detach()
        db.stop()
    else:  # a plain restart over HTTP: what the first phase wrote in process was journaled
        db = LocalDynamoDB(port=0, data_dir=data_dir).start()
        c = boto3.client("dynamodb", endpoint_url=db.endpoint, **kw)
        items = c.query(TableName="t", KeyConditionExpression="PK = :pk",
                        ExpressionAttributeValues={":pk": {"S": "REQ#1"}})["Items"]
        report["restored"] = [i["nama"]["S"] for i in items]
        kept = c.get_item(TableName="t", Key={"PK": {"S": "REQ#2"}, "SK": {"S": "META"}})
        report["cancelled_write_kept"] = "Item" in kept
        db.stop()
    print(json.dumps(report))
''')


def run_phase(phase: str, data_dir: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PHASE, phase, str(data_dir)], cwd=ROOT, capture_output=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def test_the_servers_own_calls_are_answered_in_process_and_journaled(tmp_path: Path) -> None:
    first = run_phase("first", tmp_path / "balai")
    assert first["error"] == "ConditionalCheckFailedException"
    assert first["cancelled"] == "TransactionCanceledException"
    assert first["pynamodb_session"] == "Siti Aminah"
    assert first["sqs"] == ["letter"]
    assert first["other_host"] is True
    assert first["answered"] == 8  # every call above, with the HTTP server already stopped

    second = run_phase("second", tmp_path / "balai")
    assert second["restored"] == ["Siti Aminah"]
    assert second["cancelled_write_kept"] is False

"""localmode.dynamodb_server: items whose TTL has passed are deleted as DynamoDB's TTL process does (OTP codes,
idempotency guards, throttle counters, upload records stop piling up in a long-running local mode): only
with TTL enabled, only a Number attribute in the past (but not more than five years past), journaled so a
restart does not bring them back, each leaving a REMOVE stream record. Runs in its own process, as local
mode does (moto's state is per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PHASE = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path
    import boto3
    from localmode.dynamodb_server import LocalDynamoDB

    phase, data_dir, sweep_every = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    db = LocalDynamoDB(port=0, data_dir=data_dir, ttl_sweep_seconds=sweep_every or None).start()
    kw = dict(endpoint_url=db.endpoint, region_name="ap-southeast-3", aws_access_key_id="x",
              aws_secret_access_key="x")
    c = boto3.client("dynamodb", **kw)
    now = int(time.time())
    def put(pk, **attrs):
        c.put_item(TableName="t", Item={"PK": {"S": pk}, "SK": {"S": "META"}, **attrs})
    report = {}
    if phase == "first":
        c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        c.create_table(TableName="no-ttl", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}])
        c.update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
        put("OTP#expired", expires_at={"N": str(now - 60)})
        put("IDEM#expired", expires_at={"N": f"{now - 1}.5"})
        put("THROTTLE#later", expires_at={"N": str(now + 3600)})
        put("REQ#no-ttl")
        put("TEXT#not-a-number", expires_at={"S": str(now - 60)})
        put("OLD#six-years-past", expires_at={"N": str(now - 6 * 365 * 24 * 3600)})
        c.put_item(TableName="no-ttl", Item={"PK": {"S": "X"}, "expires_at": {"N": str(now - 60)}})
        streams = boto3.client("dynamodbstreams", **kw)
        arn = c.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        report["deleted"] = db.sweep_expired()
        report["again"] = db.sweep_expired()
        records = streams.get_records(ShardIterator=it)["Records"]
        report["removed"] = sorted(r["dynamodb"]["Keys"]["PK"]["S"] for r in records if r["eventName"] == "REMOVE")
        report["identities"] = [r.get("userIdentity") for r in records if r["eventName"] == "REMOVE"]
        # a delete by anyone else names no one
        put("OTP#by-hand", expires_at={"N": str(now + 3600)})
        c.delete_item(TableName="t", Key={"PK": {"S": "OTP#by-hand"}, "SK": {"S": "META"}})
        it = records and streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=records[-1]["dynamodb"]["SequenceNumber"])["ShardIterator"]
        later = streams.get_records(ShardIterator=it)["Records"]
        report["by_hand"] = [r.get("userIdentity") for r in later if r["eventName"] == "REMOVE"]
    elif phase == "thread":
        put("UPLOAD#soon", expires_at={"N": str(now + 1)})
        began = time.monotonic()
        while "Item" in c.get_item(TableName="t", Key={"PK": {"S": "UPLOAD#soon"}, "SK": {"S": "META"}}) \\
                and time.monotonic() - began < 20:
            time.sleep(0.2)
    report["left"] = sorted(i["PK"]["S"] for i in c.scan(TableName="t")["Items"])
    report["left_no_ttl"] = [i["PK"]["S"] for i in c.scan(TableName="no-ttl")["Items"]]
    db.stop()
    print(json.dumps(report))
''')


def run_phase(phase: str, data_dir: Path, sweep_every: float = 0) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PHASE, phase, str(data_dir), str(sweep_every)], cwd=ROOT,
                          capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


KEPT = ["OLD#six-years-past", "REQ#no-ttl", "TEXT#not-a-number", "THROTTLE#later"]


def test_expired_items_are_deleted_journaled_and_streamed_as_ttl_removals_and_nothing_else(tmp_path: Path) -> None:
    data_dir = tmp_path / "balai"
    # Given a TTL table with two expired items, one expiring later, one without TTL, one whose TTL is not a
    # Number, one more than five years past, and an expired-looking item in a table without TTL
    # When local mode sweeps (twice)
    first = run_phase("first", data_dir)
    # Then exactly the two expired items are gone, each with a REMOVE stream record; the second sweep finds none
    assert first["deleted"] == 2 and first["again"] == 0
    assert first["removed"] == ["IDEM#expired", "OTP#expired"]
    # And each names DynamoDB's TTL service, as a TTL delete's record does (the stream handler deletes an unused
    # upload's file, or a closed request's attachments, only on such a removal); a delete by hand names no one
    assert first["identities"] == [{"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}] * 2
    assert first["by_hand"] == [None]
    assert first["left"] == KEPT and first["left_no_ttl"] == ["X"]
    # And after a restart they stay gone (the deletes are in the journal and snapshot)
    assert run_phase("restart", data_dir)["left"] == KEPT


def test_the_running_server_sweeps_by_itself(tmp_path: Path) -> None:
    data_dir = tmp_path / "balai"
    run_phase("first", data_dir)
    # Given local mode sweeping every 0.2 s, when an item's TTL passes, then it disappears without anyone asking
    report = run_phase("thread", data_dir, sweep_every=0.2)
    assert report["left"] == KEPT

"""localmode.dynamodb_server: snapshot + journal. A restart brings back tables (keys, indexes, stream, TTL)
and items; a crash loses no acknowledged write; a journal the snapshot already holds is never applied
twice (counters would double); the files are the owner's only. Each phase runs in its own process, as
local mode does (moto's state is per process)."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from localmode import item_text

ROOT = Path(__file__).resolve().parents[2]

PHASE = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    import boto3
    from localmode.dynamodb_server import LocalDynamoDB, write_snapshot

    phase, data_dir = sys.argv[1], Path(sys.argv[2])
    db = LocalDynamoDB(port=0, data_dir=data_dir).start()
    c = boto3.client("dynamodb", endpoint_url=db.endpoint, region_name="ap-southeast-3",
                     aws_access_key_id="x", aws_secret_access_key="x")
    def add(n):
        key = {"PK": {"S": "COUNTER"}, "SK": {"S": "META"}}
        c.transact_write_items(TransactItems=[{"Update": {"TableName": "t", "Key": key,
            "UpdateExpression": "ADD seq :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "t", "Item": {"PK": {"S": f"REQ#{n}"}, "SK": {"S": "META"}, "G1": {"S": "Q"},
                                                  "expires_at": {"N": "1"}}}}])
    if phase == "first":
        c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G1")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "GSI1", "KeySchema": [{"AttributeName": "G1", "KeyType": "HASH"},
                {"AttributeName": "PK", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        c.update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
        add(1)
    elif phase == "second":
        add(2)
    else:
        add(3)
    table = c.describe_table(TableName="t")["Table"]
    counter = c.get_item(TableName="t", Key={"PK": {"S": "COUNTER"}, "SK": {"S": "META"}})["Item"]["seq"]["N"]
    queue = c.query(TableName="t", IndexName="GSI1", KeyConditionExpression="G1 = :q",
                    ExpressionAttributeValues={":q": {"S": "Q"}})["Items"]
    report = json.dumps({"replayed": db.replayed, "restored": db.restored_items, "counter": counter,
                      "queue": sorted(i["PK"]["S"] for i in queue), "stream": table["StreamSpecification"],
                      "ttl": c.describe_time_to_live(TableName="t")["TimeToLiveDescription"]["TimeToLiveStatus"]})
    if phase == "first":
        db.stop_serving()  # a crash: no compaction on the way out
    elif phase == "second":
        # a crash right after the snapshot was written, before the next journal was started
        write_snapshot(db.journal.snapshot_path, "journal-that-never-started")
        db.stop_serving()
    else:
        db.stop()
    print(report)
''')


def run_phase(phase: str, data_dir: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PHASE, phase, str(data_dir)], cwd=ROOT, capture_output=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def test_restart_after_a_crash_and_a_half_finished_compaction_applies_each_write_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "balai"
    # Given a table with an index, a stream and TTL, and one counted write, then a crash
    first = run_phase("first", data_dir)
    assert first["counter"] == "1"
    # When local mode starts again: the journal is replayed (nothing was snapshotted yet)
    second = run_phase("second", data_dir)
    assert second["replayed"] == 3 and second["counter"] == "2"
    assert second["queue"] == ["REQ#1", "REQ#2"]
    assert second["stream"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and second["ttl"] == "ENABLED"
    # And it crashed after writing a snapshot but before starting the journal that continues it
    third = run_phase("third", data_dir)
    # Then the third start loads the snapshot and does not apply the old journal again
    assert third["replayed"] == 0 and third["restored"] == 3
    assert third["counter"] == "3"  # 2 from before, 1 from this run: not 4
    assert third["queue"] == ["REQ#1", "REQ#2", "REQ#3"]
    assert third["stream"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and third["ttl"] == "ENABLED"
    # And what it keeps is readable by the owner only
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data_dir.iterdir()}
    assert modes == {"dynamodb-journal.jsonl": 0o600, "dynamodb-snapshot.jsonl": 0o600}
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_a_snapshot_of_the_first_format_still_loads(tmp_path: Path) -> None:
    # Given a snapshot written by an earlier local mode: lines [table, attributes]
    data_dir = tmp_path / "balai"
    run_phase("first", data_dir)
    run_phase("third", data_dir)  # a clean stop: everything is in the (current format) snapshot
    snapshot = data_dir / "dynamodb-snapshot.jsonl"
    header, *lines = snapshot.read_text().splitlines()
    head = json.loads(header)
    ids = {int(n): item_text.register(base64.b64decode(d)) for n, d in head.get("dictionaries", {}).items()}
    old = [json.dumps({**head, "format": "balai-dynamodb-snapshot/1"})]
    old += [json.dumps([row[0], json.loads(item_text.text(item_text.renumbered(base64.b64decode(row[-1]), ids)))],
                       separators=(",", ":")) for row in map(json.loads, lines)]
    snapshot.write_text("\n".join(old) + "\n")
    # When local mode starts on it
    again = run_phase("third", data_dir)
    # Then every item is back (and the write of this run counted on top of them)
    assert again["restored"] == len(lines) and again["counter"] == "3"
    assert again["queue"] == ["REQ#1", "REQ#3"]

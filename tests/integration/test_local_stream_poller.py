"""Local mode's stream poller against the local moto server: Lambda-shaped batches, from LATEST on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.workers.outbox import wanted
from localmode.dynamodb_server import LocalDynamoDB
from localmode.streams import Job, Scheduler, StreamPoller, aws_client

REGION = "ap-southeast-3"


@pytest.fixture()
def server() -> Iterator[LocalDynamoDB]:
    db = LocalDynamoDB(port=0).start()
    client = aws_client("dynamodb", db.endpoint, REGION)
    client.create_table(TableName="poller-test", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                              {"AttributeName": "SK", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                   {"AttributeName": "SK", "KeyType": "RANGE"}],
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield db
    client.delete_table(TableName="poller-test")  # moto's state is per process: the next test makes its own
    db.stop()


def outbox_row(outbox_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"OUTBOX#{outbox_id}"}, "SK": {"S": "META"}, "entity": {"S": "outbox"},
            "id": {"S": outbox_id}, "status": {"S": "pending"}}


def test_poller_feeds_new_writes_only_in_the_lambda_event_shape(server: LocalDynamoDB) -> None:
    client = aws_client("dynamodb", server.endpoint, REGION)
    # Given a write made before the poller starts (as a journal replay would)
    client.put_item(TableName="poller-test", Item=outbox_row("OLD"))
    batches: list[dict[str, Any]] = []
    poller = StreamPoller(server.endpoint, "poller-test", REGION, batches.append, interval=0.05).start()
    try:
        # When the API writes a new outbox row in a transaction
        client.transact_write_items(TransactItems=[{"Put": {"TableName": "poller-test", "Item": outbox_row("NEW")}}])
        deadline = time.time() + 10
        while not batches and time.time() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
    # Then only the new row arrives, as an INSERT record the outbox worker picks
    records = [r for b in batches for r in b["Records"]]
    assert [wanted(r) for r in records] == ["NEW"]
    (record,) = records
    assert record["eventName"] == "INSERT" and record["eventSourceARN"].endswith(
        poller._stream_arn.rsplit("/", 1)[-1])
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)


def test_a_ttl_sweeps_removal_of_an_unused_upload_arrives_as_lambda_shows_a_ttl_delete(server: LocalDynamoDB) -> None:
    from chalicelib.storage.uploads import unused_expired_file

    client = aws_client("dynamodb", server.endpoint, REGION)
    client.update_time_to_live(TableName="poller-test",
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    key = "attachments/73.07.03.1001/01JUNUSED0000000000000000"
    # Given an upload no submission used, whose record expired
    client.put_item(TableName="poller-test", Item={
        "PK": {"S": "UPLOAD#01JUNUSED0000000000000000"}, "SK": {"S": "META"}, "entity": {"S": "upload"},
        "state": {"S": "unused"}, "file_key": {"S": key}, "expires_at": {"N": str(int(time.time()) - 5)}})
    batches: list[dict[str, Any]] = []
    poller = StreamPoller(server.endpoint, "poller-test", REGION, batches.append, interval=0.05).start()
    try:
        # When local mode's TTL sweep deletes it
        assert server.sweep_expired() == 1
        deadline = time.time() + 10
        while not batches and time.time() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
    # Then the handler gets a REMOVE naming DynamoDB's service, in Lambda's shape: the file is to be deleted
    (record,) = [r for b in batches for r in b["Records"]]
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert unused_expired_file(record) == key


def test_scheduler_runs_each_job_on_start_and_then_on_its_rate() -> None:
    calls: list[str] = []
    scheduler = Scheduler([Job("fast", 0.1, lambda: calls.append("fast")),
                           Job("slow", 60, lambda: calls.append("slow"))], tick=0.02).start()
    time.sleep(0.5)
    scheduler.stop()
    assert calls.count("slow") == 1 and calls.count("fast") >= 3


def test_local_workers_send_messages_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local channels write files: parallel senders only contended for the server process's GIL with the API's
    calls (issue 15: submit p50 145 -> 114 ms with one thread)."""
    from chalicelib.workers import outbox, retention
    from localmode import streams

    seen: dict[str, Any] = {}

    class Poller:
        def __init__(self, *_: Any) -> None:
            seen["handler"] = _[-1]

        def start(self, after: Any) -> Poller:
            return self

    monkeypatch.setattr(streams, "StreamPoller", Poller)
    monkeypatch.setattr(streams, "Scheduler", lambda jobs: type("S", (), {"start": lambda self: self})())
    monkeypatch.setattr(outbox, "handle_stream", lambda event, **kw: seen.update(outbox=kw))
    monkeypatch.setattr(retention, "handle_stream", lambda event: seen.update(retention=True))
    streams.start_local_workers("http://127.0.0.1:9", "t", REGION)
    seen["handler"]({"Records": []})
    assert seen["outbox"] == {"max_workers": 1}
    # and it deletes the files of TTL removals, as the cloud's handler does (unused uploads, closed attachments)
    assert seen["retention"] is True

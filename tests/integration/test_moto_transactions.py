"""localmode.moto_patches: a cancelled transaction restores exactly what it touched, in the same table
object; stream records of a committed transaction appear exactly once, of a cancelled one never; a
stream iterator taken before a cancelled transaction keeps seeing later writes; costs stay flat."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodbstreams.models import dynamodbstreams_backends

REGION = "ap-southeast-3"
TABLE = "moto-patch-test"


def s(value: str) -> dict[str, str]:
    return {"S": value}


@pytest.fixture()
def ddb() -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G1")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "GSI1", "KeySchema": [{"AttributeName": "G1", "KeyType": "HASH"},
                                                                    {"AttributeName": "SK", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True,
                                                                          "AttributeName": "expires_at"})
    yield client
    client.delete_table(TableName=TABLE)


def moto_table() -> Any:
    return dynamodb_backends["123456789012"][REGION].tables[TABLE]


def everything(client: Any) -> list[dict[str, Any]]:
    items = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def put(pk: str, sk: str = "META", **attrs: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"PK": s(pk), "SK": s(sk), **{k: s(v) for k, v in attrs.items()}}}}


def stream_iterator(kind: str = "LATEST") -> Any:
    """A shard iterator from moto's streams backend (in-process moto routes no DynamoDB Streams calls)."""
    streams = dynamodbstreams_backends["123456789012"][REGION]
    arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return streams.get_shard_iterator(arn, moto_table().stream_shard.id, kind)


def cancelled_transaction(client: Any) -> None:
    """Puts a new item, updates one, deletes one, then fails a condition on a missing item: all of it must be undone."""
    with pytest.raises(ClientError) as err:
        client.transact_write_items(TransactItems=[
            put("NEW#1", G1="g"),
            {"Update": {"TableName": TABLE, "Key": {"PK": s("A"), "SK": s("META")},
                        "UpdateExpression": "SET v = :v, G1 = :g", "ExpressionAttributeValues": {":v": s("changed"),
                                                                                                 ":g": s("moved")}}},
            {"Delete": {"TableName": TABLE, "Key": {"PK": s("B"), "SK": s("META")}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": s("MISSING"), "SK": s("META")},
                                "ConditionExpression": "attribute_exists(PK)"}},
        ])
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_a_cancelled_transaction_restores_every_item_it_touched_in_the_same_table(ddb: Any) -> None:
    # Given three items, one with a TTL, and the table object moto serves them from
    ddb.transact_write_items(TransactItems=[put("A", v="a", G1="g"), put("B", v="b"),
                                            put("C", v="c", expires_at="1")])
    before, table, shard = everything(ddb), moto_table(), moto_table().stream_shard
    # When a transaction that writes to A, B and a new item is cancelled by its condition on a missing item
    cancelled_transaction(ddb)
    # Then every item is as it was, read from the very same table and stream shard (nothing swapped)
    assert everything(ddb) == before
    assert moto_table() is table and moto_table().stream_shard is shard
    assert ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    # And the index answers as before: A is still under G1 = g, the rolled-back new item is not
    found = ddb.query(TableName=TABLE, IndexName="GSI1", KeyConditionExpression="G1 = :g",
                      ExpressionAttributeValues={":g": s("g")})["Items"]
    assert [i["PK"]["S"] for i in found] == ["A"]


def test_validation_errors_inside_a_transaction_also_roll_back(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"PK": s("A"), "SK": s("META"), "v": s("a")})
    # When the second operation names the same item again (a validation error, not a cancellation)
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[put("NEW#2"), put("A", v="twice"), put("A", v="thrice")])
    # Then the first operation's put is undone too
    assert [i["PK"]["S"] for i in everything(ddb)] == ["A"]
    assert everything(ddb)[0]["v"] == s("a")


def test_stream_records_appear_once_for_a_commit_and_never_for_a_cancelled_transaction(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("A", v="a"), put("B", v="b")])
    # Given a stream iterator taken before a cancelled transaction (the local poller holds one)
    iterator = stream_iterator("LATEST")
    cancelled_transaction(ddb)
    # When a transaction commits afterwards
    ddb.transact_write_items(TransactItems=[put("D", v="d"), put("E", v="e")])
    # Then the old iterator sees exactly its two INSERTs, once, and nothing of the cancelled one
    records = iterator.get(100)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in records] == [("INSERT", "D"),
                                                                                     ("INSERT", "E")]
    # And from the start of the stream every record is there exactly once, in order, numbers rising
    all_records = stream_iterator("TRIM_HORIZON").get(100)["Records"]
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in all_records] == ["A", "B", "D", "E"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in all_records]
    assert numbers == sorted(set(numbers))


def test_a_table_query_reads_its_partition_and_still_pages(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("P", f"EV#{n:02d}") for n in range(5)] + [put("Q", "EV#00")])
    first = ddb.query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": s("P")},
                      Limit=3, ScanIndexForward=False)
    rest = ddb.query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": s("P")},
                     ExclusiveStartKey=first["LastEvaluatedKey"], ScanIndexForward=False)
    assert [i["SK"]["S"] for i in first["Items"] + rest["Items"]] == [f"EV#{n:02d}" for n in range(4, -1, -1)]
    assert ddb.query(TableName=TABLE, KeyConditionExpression="PK = :p",
                     ExpressionAttributeValues={":p": s("nothing")})["Items"] == []


def test_transaction_cost_does_not_grow_with_the_table(ddb: Any) -> None:
    def batch(start: int, n: int) -> float:
        began = time.perf_counter()
        for i in range(start, start + n):
            ddb.transact_write_items(TransactItems=[put(f"R#{i}", f"S#{k}", G1="g") for k in range(5)])
        return time.perf_counter() - began

    # Given a table that grows by 5 items per transaction
    tracemalloc.start()
    first = batch(0, 100)
    batch(100, 500)
    last = batch(600, 100)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Then the last hundred transactions (on 3 500 items) cost about what the first hundred did (on none),
    # where whole-table copies made them about 30 times slower, and memory holds no table copies
    assert last < first * 3, (first, last)
    assert peak < 60_000_000, peak


def in_index(client: Any, value: str) -> list[str]:
    items = client.query(TableName=TABLE, IndexName="GSI1", KeyConditionExpression="G1 = :g",
                         ExpressionAttributeValues={":g": s(value)})["Items"]
    return sorted(i["PK"]["S"] for i in items)


def test_index_queries_follow_every_kind_of_write(ddb: Any) -> None:
    # Given items in two index partitions, and an index that has answered once (its map is built)
    ddb.transact_write_items(TransactItems=[put("A", G1="g"), put("B", G1="g"), put("C", G1="h")])
    assert in_index(ddb, "g") == ["A", "B"]
    # When items are moved by an update, deleted, put anew, and a cancelled transaction tries to move one
    ddb.update_item(TableName=TABLE, Key={"PK": s("A"), "SK": s("META")}, UpdateExpression="SET G1 = :h",
                    ExpressionAttributeValues={":h": s("h")})
    ddb.delete_item(TableName=TABLE, Key={"PK": s("C"), "SK": s("META")})
    ddb.put_item(TableName=TABLE, Item={"PK": s("D"), "SK": s("META"), "G1": s("g")})
    ddb.update_item(TableName=TABLE, Key={"PK": s("B"), "SK": s("META")}, UpdateExpression="REMOVE G1")
    cancelled_transaction(ddb)  # would move A to "moved" and add NEW#1 under "g"
    # Then each partition lists exactly what a full look at the table finds
    assert in_index(ddb, "g") == ["D"]
    assert in_index(ddb, "h") == ["A"]
    assert in_index(ddb, "moved") == []


def test_moto_keeps_no_item_it_no_longer_needs(ddb: Any) -> None:
    import gc

    from moto.dynamodb.models.dynamo_type import Item

    # Given 200 items written, each updated and read back (moto copies items for both)
    for i in range(200):
        ddb.transact_write_items(TransactItems=[put(f"K#{i}", v="a")])
        ddb.update_item(TableName=TABLE, Key={"PK": s(f"K#{i}"), "SK": s("META")}, UpdateExpression="SET v = :b",
                        ExpressionAttributeValues={":b": s("b")})
        ddb.query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": s(f"K#{i}")})
    gc.collect()
    # Then the live Item objects are the stored ones (of every table in this process), not one per copy made
    stored = sum(len(t.all_items()) for t in dynamodb_backends["123456789012"][REGION].tables.values())
    live = sum(isinstance(o, Item) for o in gc.get_objects())
    assert live <= stored + 20, (live, stored)


def test_old_stream_records_are_trimmed_and_readers_keep_their_place(
        ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from localmode import moto_patches

    monkeypatch.setattr(moto_patches, "STREAM_RECORDS_KEPT", 5)
    # Given a reader positioned early, and then 30 writes (DynamoDB would have trimmed old records by age)
    early = stream_iterator("LATEST")
    ddb.put_item(TableName=TABLE, Item={"PK": s("FIRST"), "SK": s("META")})
    for i in range(30):
        ddb.put_item(TableName=TABLE, Item={"PK": s(f"T#{i:02d}"), "SK": s("META")})
    # Then moto keeps at most twice the limit of records
    assert sum(r is not None for r in moto_table().stream_shard.items) <= 10
    # And a reader that fell behind gets the oldest kept records, in order
    behind = [r["dynamodb"]["Keys"]["PK"]["S"] for r in early.get(100)["Records"]]
    assert behind and behind == sorted(behind) and behind[-1] == "T#29" and "FIRST" not in behind
    # And a reader at LATEST sees exactly the next write
    latest = stream_iterator("LATEST")
    ddb.put_item(TableName=TABLE, Item={"PK": s("NEXT"), "SK": s("META")})
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in latest.get(100)["Records"]] == ["NEXT"]


def test_items_are_packed_between_calls_and_reads_do_not_re_encode_them(ddb: Any) -> None:
    key = {"PK": s("P#1"), "SK": s("META")}
    # Given an item with nested values, written and then changed by an update expression
    ddb.put_item(TableName=TABLE, Item={**key, "G1": s("g"), "n": {"N": "1"},
                                        "m": {"M": {"list": {"L": [s("x"), {"N": "2"}]}, "flag": {"BOOL": True}}},
                                        "tags": {"SS": ["a", "b"]}})
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET m.flag = :f, n = n + :one",
                    ExpressionAttributeValues={":f": {"BOOL": False}, ":one": {"N": "1"}})
    stored = next(item for item in moto_table().all_items() if item.hash_key.value == "P#1")
    # Then between calls it holds only its packed form, which reads back exactly what was written
    assert stored._balai_attrs is None and isinstance(stored._balai_packed, bytes)
    got = ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    assert got["m"]["M"] == {"list": {"L": [s("x"), {"N": "2"}]}, "flag": {"BOOL": False}}
    assert got["n"] == {"N": "2"} and sorted(got["tags"]["SS"]) == ["a", "b"]
    # And reads (GetItem, a Query on the index) leave the very same bytes; a write re-encodes them
    packed = stored._balai_packed
    ddb.query(TableName=TABLE, IndexName="GSI1", KeyConditionExpression="G1 = :g",
              ExpressionAttributeValues={":g": s("g")})
    assert stored._balai_packed is packed and stored._balai_attrs is None
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": s("w")})
    assert stored._balai_packed is not packed and stored._balai_attrs is None
    assert ddb.get_item(TableName=TABLE, Key=key)["Item"]["v"] == s("w")


def test_a_stored_item_costs_a_fraction_of_moto_s_own_form(ddb: Any) -> None:
    import gc
    import tracemalloc

    attrs = {f"field_{n}": s(f"value {n} of a village request, long enough to be realistic") for n in range(20)}
    attrs["history"] = {"L": [{"M": {"at": s("2026-12-02T04:00:00+00:00"), "to": s("approved")}}] * 3}
    ddb.put_item(TableName=TABLE, Item={"PK": s("WARM"), "SK": s("META"), **attrs})
    gc.collect()
    tracemalloc.start()
    # Given 300 items of ~2.4 KB of data each
    for i in range(300):
        ddb.put_item(TableName=TABLE, Item={"PK": s(f"MEM#{i}"), "SK": s("META"), **attrs})
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] / 300  # the item and its stream record
    # When each is unpacked into moto's own form (as moto kept every item)
    items = [item for item in moto_table().all_items() if item.hash_key.value.startswith("MEM#")]
    for item in items:
        item.attrs  # noqa: B018 - unpacks
    gc.collect()
    motos_form = tracemalloc.get_traced_memory()[0] / 300 - kept
    tracemalloc.stop()
    from localmode import moto_patches

    with moto_patches.store_lock:
        moto_patches.settle(reencode=False)
    # Then all local mode keeps per item, its stream record included (~2.4 KB of data each), is less than
    # what moto's form of the item alone takes (moto kept both, and the stream record unpacked too)
    assert kept < 0.8 * motos_form, (kept, motos_form)


def test_compressed_items_behave_as_moto_s_and_survive_a_snapshot(ddb: Any, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Any) -> None:
    from localmode import item_text, moto_patches
    from localmode.dynamodb_server import load_snapshot, write_snapshot

    item_text.reset()
    monkeypatch.setattr(item_text, "TRAIN_AT", (40,))
    # Given a store past its first dictionary: 60 queue items written
    for i in range(60):
        ddb.put_item(TableName=TABLE, Item={"PK": s(f"Q#{i:03d}"), "SK": s("META"), "G1": s("queue"),
                                            "state": s("submitted"), "village": s("73.07.08.2001")})
    stored = {item.hash_key.value: item for item in moto_table().all_items()}
    assert not item_text.is_plain(stored["Q#059"]._balai_packed)
    assert len(stored["Q#059"]._balai_packed) < 0.6 * len(moto_patches.packed_attributes(stored["Q#059"]))
    # When compressed items are updated, cancelled in a transaction, and queried by index
    ddb.update_item(TableName=TABLE, Key={"PK": s("Q#059"), "SK": s("META")}, UpdateExpression="SET #s = :v",
                    ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":v": s("approved")})
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": {"PK": s("Q#058"), "SK": s("META")},
                        "UpdateExpression": "SET #s = :v", "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":v": s("lost")}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": s("Q#057"), "SK": s("META")},
                                "ConditionExpression": "attribute_not_exists(PK)"}}])
    queue = ddb.query(TableName=TABLE, IndexName="GSI1", KeyConditionExpression="G1 = :q",
                      ExpressionAttributeValues={":q": s("queue")})["Items"]
    # Then they read as moto would answer
    states = {i["PK"]["S"]: i["state"]["S"] for i in queue}
    assert len(states) == 60 and states["Q#059"] == "approved" and states["Q#058"] == "submitted"
    # And a snapshot written now loads into a process that numbers its dictionaries differently
    before = everything(ddb)
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(path, "test")
    header = json.loads(path.read_text().splitlines()[0])
    assert header["dictionaries"]  # the dictionary these items need travels with them
    for backend in dynamodb_backends["123456789012"].values():
        backend.tables.clear()
    item_text.register(b"another store's dictionary" * 20)
    load_snapshot(path)
    assert everything(ddb) == before


def test_looking_up_or_deleting_absent_items_leaves_no_empty_partition(ddb: Any) -> None:
    # Given a table with one item
    ddb.put_item(TableName=TABLE, Item={"PK": s("KEPT"), "SK": s("META")})
    ddb.put_item(TableName=TABLE, Item={"PK": s("GONE"), "SK": s("META")})
    # When absent keys are read (as idempotency and uniqueness checks do) and deleted, and an item deleted
    for i in range(100):
        ddb.get_item(TableName=TABLE, Key={"PK": s(f"ABSENT#{i}"), "SK": s("META")})
        ddb.delete_item(TableName=TABLE, Key={"PK": s(f"ALSO#{i}"), "SK": s("META")})
    ddb.delete_item(TableName=TABLE, Key={"PK": s("GONE"), "SK": s("META")})
    # Then moto keeps only the partition that has an item (it kept one empty partition per absent key)
    assert [key.value for key in moto_table().items] == ["KEPT"]


def test_a_call_stuck_behind_the_store_lock_leaves_every_thread_s_stack(ddb: Any, monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Any) -> None:
    import threading

    from localmode import moto_patches

    monkeypatch.setattr(moto_patches, "SLOW_CALL_SECONDS", 0.3)
    log = (tmp_path / "watch.log").open("w")
    stop = moto_patches.watch_slow_calls(log, every=0.05)
    # Given the store held (as by a stalled call) while a GetItem waits for it
    with moto_patches.store_lock:
        waiting = threading.Thread(target=lambda: boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=TABLE, Key={"PK": s("X"), "SK": s("META")}), name="stuck-get-item")
        waiting.start()
        time.sleep(1.0)
    waiting.join(timeout=10)
    stop.set()
    time.sleep(0.2)
    log.close()
    # Then the watchdog wrote, once, how long it waited and every thread's stack (the waiting one included)
    text = (tmp_path / "watch.log").read_text()
    assert text.count("a DynamoDB call has taken") == 1
    assert "_call_action" in text and "test_a_call_stuck_behind_the_store_lock" in text
    # and named the waiting call by its shape, without its key's values (they can be NIKs or phone numbers)
    calls = [line for line in text.splitlines() if line.startswith("  Thread 0x")]
    assert len(calls) == 1 and f'GetItem {{"TableName": "{TABLE}"}}' in calls[0], calls
    assert '"X"' not in calls[0] and "META" not in calls[0]


def test_an_item_over_the_size_limit_is_refused_and_one_under_it_kept(ddb: Any) -> None:
    """The item constructor sums attribute sizes once instead of at every attribute: same limit, same error."""
    big = "x" * 100_000
    near = {"PK": s("BIG"), "SK": s("1"), **{f"a{i}": s(big) for i in range(4)}}  # ~400 KB: kept
    ddb.put_item(TableName=TABLE, Item=near)
    over = {"PK": s("BIG"), "SK": s("2"), **{f"a{i}": s(big) for i in range(5)}}  # ~500 KB: refused
    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName=TABLE, Item=over)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "size" in refused.value.response["Error"]["Message"].lower()
    kept = ddb.query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": s("BIG")})
    assert [i["SK"]["S"] for i in kept["Items"]] == ["1"]


def _pages(ddb: Any, limit: int, **kwargs: Any) -> list[list[str]]:
    pages, start = [], None
    while True:
        answer = ddb.query(TableName=TABLE, IndexName="GSI1", Limit=limit,
                           **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        pages.append([i["PK"]["S"] for i in answer["Items"]])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return pages


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("condition", [
    ("G1 = :g", {}),
    ("G1 = :g AND SK BETWEEN :a AND :b", {":a": s("K0120"), ":b": s("K0177")}),
    ("G1 = :g AND begins_with(SK, :a)", {":a": s("K01")}),
    ("G1 = :g AND SK > :a", {":a": s("K0150")}),
    ("G1 = :g AND SK <= :a", {":a": s("K0042")}),
])
def test_an_index_page_answers_as_the_whole_partition_would(ddb: Any, condition: tuple[str, dict[str, Any]],
                                                            forward: bool) -> None:
    """Index pages are cut from the partition by key values kept per item (not moto's sort of every item):
    the same items, order and LastEvaluatedKey as one query without a limit, page by page, both ways."""
    for n in range(200):
        item = {"PK": s(f"P{n % 37:03d}-{n:03d}"), "SK": s(f"K{(n * 7919) % 200:04d}"), "G1": s("Q"),
                "body": s("x" * 50)}
        if n % 11 == 0:
            del item["G1"]  # not in the index
        ddb.put_item(TableName=TABLE, Item=item)
    expression, values = condition
    kwargs = {"KeyConditionExpression": expression, "ScanIndexForward": forward,
              "ExpressionAttributeValues": {":g": s("Q"), **values}}
    whole = [i["PK"]["S"] for i in ddb.query(TableName=TABLE, IndexName="GSI1", **kwargs)["Items"]]
    assert whole, "the condition should match something"
    for limit in (1, 7, 20):
        pages = _pages(ddb, limit, **kwargs)
        assert [pk for page in pages for pk in page] == whole
        assert all(len(page) <= limit for page in pages)
    # A write between two pages is seen by the later page, as DynamoDB's next page would see it.
    first = ddb.query(TableName=TABLE, IndexName="GSI1", Limit=5, **kwargs)
    ddb.update_item(TableName=TABLE, Key={"PK": first["Items"][-1]["PK"], "SK": first["Items"][-1]["SK"]},
                    UpdateExpression="SET body = :b", ExpressionAttributeValues={":b": s("changed")})
    rest = ddb.query(TableName=TABLE, IndexName="GSI1", Limit=500, ExclusiveStartKey=first["LastEvaluatedKey"],
                     **kwargs)
    assert [i["PK"]["S"] for i in first["Items"] + rest["Items"]] == whole


@pytest.mark.parametrize("condition", [
    ("G1 = :g", {}),
    # Every sort-key operator as a KeyConditionExpression writes it: moto hands "<=" (not "LE") to Table.query,
    # and each of these took moto's whole-partition path until the window knew them (the SLA sweep's
    # `GSI4SK <= now` read every open request of a kabupaten).
    ("G1 = :g AND SK <= :a", {":a": s("2026-12-02T99999")}),
    ("G1 = :g AND SK < :a", {":a": s("2026-12-02T99999")}),
    ("G1 = :g AND SK >= :a", {":a": s("2026-12-02T00000")}),
    ("G1 = :g AND SK > :a", {":a": s("2026-12-02T")}),
    ("G1 = :g AND SK BETWEEN :a AND :b", {":a": s("2026-12-02T00000"), ":b": s("2026-12-02T99999")}),
    ("G1 = :g AND begins_with(SK, :a)", {":a": s("2026-12-02T")}),
])
def test_a_page_of_a_large_index_partition_reads_only_the_page(ddb: Any, monkeypatch: pytest.MonkeyPatch,
                                                               condition: tuple[str, dict[str, Any]]) -> None:
    """A 20-item page of a 3 000-item index partition unpacks about 20 items, not 3 000 (it did, under the store
    lock: a village queue page took seconds at a village's volume)."""
    from localmode import item_text, moto_patches

    for n in range(3000):
        ddb.put_item(TableName=TABLE, Item={"PK": s(f"R{n:05d}"), "SK": s(f"2026-12-02T{n:05d}"), "G1": s("QUEUE"),
                                            "body": s("y" * 200)})
    moto_patches.settle()
    expression, values = condition
    query = {"TableName": TABLE, "IndexName": "GSI1", "KeyConditionExpression": expression,
             "ExpressionAttributeValues": {":g": s("QUEUE"), **values}, "Limit": 20, "ScanIndexForward": False}
    ddb.query(**query)  # the first page reads each item's sort key once
    reads = []
    original = item_text.text
    monkeypatch.setattr(item_text, "text", lambda packed: reads.append(1) or original(packed))
    page = ddb.query(**query)
    assert [i["PK"]["S"] for i in page["Items"]] == [f"R{n:05d}" for n in range(2999, 2979, -1)]
    assert len(reads) < 100
    # The next page, after the start item has left the index (as a queue page while staff work on), goes on
    # from the start key's position, still reading only a page
    last = page["Items"][-1]
    ddb.update_item(TableName=TABLE, Key={"PK": last["PK"], "SK": last["SK"]}, UpdateExpression="REMOVE G1")
    moto_patches.settle()
    reads.clear()
    following = ddb.query(**query, ExclusiveStartKey=page["LastEvaluatedKey"])
    assert [i["PK"]["S"] for i in following["Items"]] == [f"R{n:05d}" for n in range(2979, 2959, -1)]
    assert len(reads) < 100


@pytest.mark.parametrize("forward", [True, False])
def test_a_page_after_its_start_item_left_the_index_answers_as_dynamodb(ddb: Any, forward: bool) -> None:
    """The start key's item is gone from the index (moved on, deleted): the page goes on from its position,
    the same items moto's own whole-partition walk gives."""
    from localmode import moto_patches

    for n in range(60):
        ddb.put_item(TableName=TABLE, Item={"PK": s(f"P{n % 7}-{n:03d}"), "SK": s(f"K{(n * 37) % 60:03d}"),
                                            "G1": s("Q")})
    first = ddb.query(TableName=TABLE, IndexName="GSI1", KeyConditionExpression="G1 = :g",
                      ExpressionAttributeValues={":g": s("Q")}, Limit=10, ScanIndexForward=forward)
    gone = first["Items"][-1]
    ddb.delete_item(TableName=TABLE, Key={"PK": gone["PK"], "SK": gone["SK"]})
    rest_kwargs = {"TableName": TABLE, "IndexName": "GSI1", "KeyConditionExpression": "G1 = :g",
                   "ExpressionAttributeValues": {":g": s("Q")}, "ScanIndexForward": forward,
                   "ExclusiveStartKey": first["LastEvaluatedKey"]}
    windowed = ddb.query(**rest_kwargs, Limit=10)["Items"]
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(moto_patches, "_index_window", lambda *args: None)  # moto's own walk
    try:
        walked = ddb.query(**rest_kwargs, Limit=10)["Items"]
    finally:
        monkeypatch.undo()
    assert [i["PK"]["S"] for i in windowed] == [i["PK"]["S"] for i in walked]
    assert windowed and gone["PK"] not in [i["PK"] for i in windowed]


def _count_add(token: str, condition: str | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {"TableName": TABLE, "Key": {"PK": s("CNT"), "SK": s("META")},
                              "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}
    if condition:
        update["ConditionExpression"] = condition
        update["ExpressionAttributeValues"][":want"] = {"N": "3"}
    return {"TransactItems": [{"Update": update}], "ClientRequestToken": token}


def test_a_transaction_repeated_with_its_client_token_is_applied_once(ddb: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB's ClientRequestToken: botocore retries a timed-out TransactWriteItems with the same token, and a
    repeat of a committed one succeeds without applying it again (moto applied it twice, or the retry failed
    its own condition: a volume run's approve answered 409 after a stall)."""
    from localmode import moto_patches

    def counted() -> int:
        return int(ddb.get_item(TableName=TABLE, Key={"PK": s("CNT"), "SK": s("META")})["Item"]["n"]["N"])

    for _ in range(3):
        ddb.transact_write_items(**_count_add("retry-1"))
    assert counted() == 1
    # The same token with other items is refused and changes nothing
    other = _count_add("retry-1")
    other["TransactItems"][0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "5"}
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(**other)
    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert counted() == 1
    # A cancelled transaction is not remembered: its retry is evaluated again
    with pytest.raises(ClientError):
        ddb.transact_write_items(**_count_add("retry-3", "n = :want"))
    ddb.transact_write_items(**_count_add("retry-2"))
    ddb.transact_write_items(**_count_add("retry-2b"))
    ddb.transact_write_items(**_count_add("retry-3", "n = :want"))
    assert counted() == 4
    # After the idempotency window a token is new again
    monkeypatch.setattr(moto_patches, "IDEMPOTENCY_SECONDS", 0.0)
    ddb.transact_write_items(**_count_add("retry-5"))
    ddb.transact_write_items(**_count_add("retry-5"))
    assert counted() == 6
    # And ten minutes later what is past its window is forgotten from the front (each transaction costs O(1)
    # there, not a walk of ten minutes of transactions): only the newest token is left
    import time
    from types import SimpleNamespace

    later = time.monotonic() + 601
    clock = SimpleNamespace(**{n: getattr(time, n) for n in dir(time) if not n.startswith("_")})
    clock.monotonic = lambda: later
    monkeypatch.setattr(moto_patches, "time", clock)
    assert len(moto_patches._committed) >= 4
    ddb.transact_write_items(**_count_add("retry-6"))
    assert list(moto_patches._committed) == ["retry-6"] and counted() == 7


def test_the_journal_keeps_a_repeated_transaction_once(tmp_path: Any) -> None:
    """A repeat answered from the token changed nothing; the restart's replay of the journal meets the same token
    and skips it the same way (counters would double)."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = textwrap.dedent('''
        import sys
        from pathlib import Path
        import boto3
        from localmode.dynamodb_server import LocalDynamoDB
        db = LocalDynamoDB(port=0, data_dir=Path(sys.argv[1])).start()
        c = boto3.client("dynamodb", endpoint_url=db.endpoint, region_name="ap-southeast-3",
                         aws_access_key_id="x", aws_secret_access_key="x")
        if sys.argv[2] == "first":
            c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}])
            add = {"TransactItems": [{"Update": {"TableName": "t", "Key": {"PK": {"S": "C"}, "SK": {"S": "M"}},
                   "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}],
                   "ClientRequestToken": "same"}
            c.transact_write_items(**add)
            c.transact_write_items(**add)
        print(c.get_item(TableName="t", Key={"PK": {"S": "C"}, "SK": {"S": "M"}})["Item"]["n"]["N"])
        if sys.argv[2] == "first":
            db.stop_serving()  # a crash: the journal is replayed on the next start
        else:
            db.stop()
    ''')
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.run([sys.executable, "-c", script, str(tmp_path / "data"), phase], cwd=root,
                           capture_output=True, text=True, timeout=120) for phase in ("first", "again")]
    assert [r.stdout.strip().splitlines()[-1] for r in runs] == ["1", "1"], [r.stderr[-2000:] for r in runs]

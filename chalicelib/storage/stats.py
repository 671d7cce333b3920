"""Repository of the transparency aggregates: monthly counter items per region, kept by atomic ADD.

Layout (keys in storage/keys.py): PK=STATS#{kabupaten}; one item per village and month
(SK=V#{kecamatan}#{YYYY-MM}#{village}), per kecamatan and month (SK=C#{YYYY-MM}#{kecamatan}), and each
village's backlog (SK=N#{village}; a kecamatan's is its villages', added when read). A kabupaten's figures are
its kecamatan's, added. Counters are top-level number attributes named by domain/stats.py (`issued`,
`req|SKD|submitted`, `hi|37`, ...), so any new counter is a plain ADD and no map has to exist first.

Access patterns:
| pattern                                      | operation                                                    |
|----------------------------------------------|--------------------------------------------------------------|
| count a request's or complaint's change      | in the change's own TransactWriteItems: Update ADD on each   |
|                                              |   (month, region) item it moves (count_changes)              |
| a kabupaten's kecamatan over months          | Query PK=STATS#{kab}, SK BETWEEN C#{from}# AND C#{to}#~      |
| a kecamatan's villages (or one) over months  | Query PK=STATS#{kab}, SK BETWEEN V#{kec}#{from}# AND ..#~     |
| backlog of every village                     | Query PK=STATS#{kab}, SK begins_with N#                      |
| recompute (ops CLI only: chalicelib/ops/stats)| its Scan; here: Query the partition, BatchWriteItem          |
Counter ADDs are low-level items and reads use the raw client (PynamoDB's models want every attribute declared
up front).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.regions import kabupaten_of, level_of
from chalicelib.domain.stats import Counters, change, merge, rollup
from chalicelib.storage import keys
from chalicelib.storage.table import connection_client
from chalicelib.storage.transaction import Transaction

# (entity, old state, new state) of one request or complaint write, as plain values; None where absent.
Change = tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]
_FIXED = {"PK", "SK", "entity", "code", "month", "level", "expires_at"}


@dataclass
class StatsRow:
    """One region's counters for one month (or CURRENT)."""

    code: str
    month: str
    level: str
    counters: Counters = field(default_factory=dict)


def _table() -> str:
    return get_settings().table_name


def _client() -> Any:
    return connection_client()


def _number(value: Mapping[str, Any]) -> int:
    return int(Decimal(value["N"]))


def _row(item: Mapping[str, Any]) -> StatsRow:
    counters = {name: _number(value) for name, value in item.items() if name not in _FIXED and "N" in value}
    return StatsRow(code=item["code"]["S"], month=item["month"]["S"], level=item["level"]["S"],
                    counters={k: v for k, v in counters.items() if v})


def _update(kabupaten: str, month: str, code: str, counters: Mapping[str, int]) -> dict[str, Any]:
    names = {"#e": "entity", "#c": "code", "#m": "month", "#l": "level"}
    values: dict[str, Any] = {":e": {"S": "stats"}, ":c": {"S": code}, ":m": {"S": month},
                              ":l": {"S": level_of(code)}}
    adds = []
    for i, (name, value) in enumerate(sorted(counters.items())):
        names[f"#a{i}"] = name
        values[f":a{i}"] = {"N": str(value)}
        adds.append(f"#a{i} :a{i}")
    return {"Update": {
        "TableName": _table(),
        "Key": {"PK": {"S": keys.stats_pk(kabupaten)}, "SK": {"S": keys.stats_sk(month, code)}},
        "UpdateExpression": "SET #e = :e, #c = :c, #m = :m, #l = :l ADD " + ", ".join(adds),
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def count_changes(tx: Transaction, changes: Iterable[Change]) -> None:
    """Add to `tx` the counter ADDs of its request and complaint changes, each (entity, old, new) as plain values
    (None: absent), what domain/stats.py `change` makes of them. Changes of the same village merge into one ADD
    per counter item: a transaction may write an item once (an issuing batch moves several requests of one
    village). Counting in the transaction of the change itself makes it exactly-once: no marker, no stream."""
    merged: dict[tuple[str, str, str], Counters] = {}
    for entity, old, new in changes:
        ref = new or old
        if ref is None:
            continue
        village = str(ref["village"])
        for (month, code), counters in rollup(village, change(entity, old, new)).items():
            merge(merged.setdefault((kabupaten_of(village), month, code), {}), counters)
    for (kabupaten, month, code), counters in sorted(merged.items()):
        counters = {name: value for name, value in counters.items() if value}
        if counters:
            tx.add_raw((keys.stats_pk(kabupaten), keys.stats_sk(month, code)), "stats",
                       _update(kabupaten, month, code, counters))


def image(model: Any) -> dict[str, Any]:
    """A PynamoDB item as the plain values `change` reads (what a stream image of it would deserialize to)."""
    return plain(model.serialize())


def _backoff(attempt: int) -> None:
    time.sleep(min(1.0, 0.02 * 2**attempt) * random.uniform(0.5, 1.0))


def _query(**kwargs: Any) -> Iterator[dict[str, Any]]:
    start = None
    while True:
        page = _client().query(TableName=_table(), **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _range(kabupaten: str, bounds: tuple[str, str], code: str | None = None) -> list[StatsRow]:
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":pk": {"S": keys.stats_pk(kabupaten)}, ":a": {"S": bounds[0]},
                                      ":b": {"S": bounds[1]}}}
    if code:
        kwargs["ExpressionAttributeNames"] = {"#c": "code"}
        kwargs["ExpressionAttributeValues"][":c"] = {"S": code}
        kwargs["FilterExpression"] = "#c = :c"
    return [_row(i) for i in _query(**kwargs)]


def kecamatan_months(kabupaten: str, first: str, last: str) -> list[StatsRow]:
    """Every kecamatan's counters of a kabupaten from month `first` to `last` (one Query, ~9 x 12 items)."""
    return _range(kabupaten, keys.stats_kecamatan_range(first, last))


def village_months(kecamatan: str, first: str, last: str, village: str | None = None) -> list[StatsRow]:
    """The counters of a kecamatan's villages (or of one of them) from `first` to `last` (one Query)."""
    return _range(kabupaten_of(kecamatan), keys.stats_village_range(kecamatan, first, last), village)


def current(kabupaten: str) -> list[StatsRow]:
    """The backlog counters of every village and kecamatan of a kabupaten (one Query)."""
    return [_row(i) for i in _query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :c)",
        ExpressionAttributeValues={":pk": {"S": keys.stats_pk(kabupaten)},
                                   ":c": {"S": keys.STATS_CURRENT_PREFIX}})]


def every_row(kabupaten: str) -> list[StatsRow]:
    """Every aggregate item of a kabupaten (tests, benchmarks, recompute checks: not a request path)."""
    return [_row(i) for i in _query(KeyConditionExpression="PK = :pk",
                                    ExpressionAttributeValues={":pk": {"S": keys.stats_pk(kabupaten)}})
            if i.get("entity", {}).get("S") == "stats"]


# ---- recompute (ops: reads everything, never on a request path) ------------------------------------------
RECORD_ENTITIES = ("request", "event", "complaint", "complaint_event")
EVENT_ENTITIES = ("event", "complaint_event")


def plain(image: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON item (a stream image, a recompute's record) as plain Python values, numbers as int/float."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _numbers(deserializer.deserialize(v)) for k, v in image.items()}


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, (list, set, frozenset)):
        return [_numbers(v) for v in value]
    return value


def replace_all(kabupaten: str, rows: list[StatsRow]) -> tuple[int, int]:
    """Make the kabupaten's aggregates exactly `rows`: put each, delete the ones no longer there.
    Returns (written, deleted)."""
    pk = keys.stats_pk(kabupaten)
    wanted = {keys.stats_sk(r.month, r.code): r for r in rows if any(r.counters.values())}
    existing = {i["SK"]["S"] for i in _query(KeyConditionExpression="PK = :pk",
                                             ExpressionAttributeValues={":pk": {"S": pk}},
                                             ProjectionExpression="SK")}
    requests: list[dict[str, Any]] = []
    for sk, r in wanted.items():
        item: dict[str, Any] = {"PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "stats"}, "code": {"S": r.code},
                                "month": {"S": r.month}, "level": {"S": r.level}}
        item.update({name: {"N": str(v)} for name, v in r.counters.items() if v})
        requests.append({"PutRequest": {"Item": item}})
    stale = existing - set(wanted)
    requests += [{"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}} for sk in sorted(stale)]
    for i in range(0, len(requests), 25):
        pending: dict[str, Any] = {_table(): requests[i:i + 25]}
        for attempt in range(8):
            answer = _client().batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                break
            _backoff(attempt)
    return len(wanted), len(stale)

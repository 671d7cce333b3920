"""Repository of the transparency aggregates: monthly counter items per region, kept by atomic ADD.

Layout (keys in storage/keys.py): PK=STATS#{kabupaten}; one item per village and month
(SK=V#{kecamatan}#{YYYY-MM}#{village}), per kecamatan and month (SK=C#{YYYY-MM}#{kecamatan}), and each
village's backlog (SK=N#{village}; a kecamatan's is its villages', added when read). A kabupaten's figures are
its kecamatan's, added. Counters are top-level number attributes named by domain/stats.py (`issued`,
`req|SKD|submitted`, `hi|37`, ...), so any new counter is a plain ADD and no map has to exist first.

Access patterns:
| pattern                                      | operation                                                    |
|----------------------------------------------|--------------------------------------------------------------|
| count one record change (stream)             | TransactWriteItems: Put STATS_APPLIED#{pk}#{sk}#{version} if |
|                                              |   absent + UpdateItem ADD on each (month, region) item       |
| a kabupaten's kecamatan over months          | Query PK=STATS#{kab}, SK BETWEEN C#{from}# AND C#{to}#~      |
| a kecamatan's villages (or one) over months  | Query PK=STATS#{kab}, SK BETWEEN V#{kec}#{from}# AND ..#~     |
| backlog of every village                     | Query PK=STATS#{kab}, SK begins_with N#                      |
| recompute (ops CLI only: chalicelib/ops/stats)| its Scan; here: Query the partition, BatchWriteItem          |
The marker expires (TTL) after MARKER_DAYS, longer than a stream keeps records (24 hours).
Counters are written with the raw client (PynamoDB's models want every attribute declared up front).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.config import get_settings
from chalicelib.domain.regions import kabupaten_of, level_of
from chalicelib.domain.stats import Counters
from chalicelib.errors import ExternalServiceError
from chalicelib.observability import logger
from chalicelib.storage import keys
from chalicelib.storage.table import connection_client

MARKER_DAYS = 3
MAX_ATTEMPTS = 6  # transaction conflicts: two shards adding to the same kabupaten item at once
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


def add_once(marker: tuple[str, str, str], kabupaten: str, deltas: Mapping[tuple[str, str], Counters],
             now_epoch: int | None = None) -> bool:
    """Add `deltas` ({(month, region code): counters}) and write the record change's marker, all in one
    transaction. False when the marker exists (the change was counted before: a replay). Raises
    ExternalServiceError when the table keeps refusing (the stream batch is then retried, safely)."""
    now_epoch = now_epoch or int(time.time())
    marker_pk = keys.stats_marker_pk(*marker)
    marker_put = {"Put": {
        "TableName": _table(),
        "Item": {"PK": {"S": marker_pk}, "SK": {"S": keys.META}, "entity": {"S": "stats_marker"},
                 "expires_at": {"N": str(now_epoch + MARKER_DAYS * 86400)}},
        "ConditionExpression": "attribute_not_exists(PK)"}}
    ops = [marker_put] + [_update(kabupaten, month, code, c) for (month, code), c in sorted(deltas.items()) if c]
    for attempt in range(MAX_ATTEMPTS):
        try:
            _client().transact_write_items(TransactItems=ops)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                if attempt + 1 < MAX_ATTEMPTS and _retryable(exc):
                    _backoff(attempt)
                    continue
                raise ExternalServiceError("Basis data tidak dapat diakses.", code="storage_error") from exc
            reasons = exc.response.get("CancellationReasons") or []
            # Read the outcome by item identity: the reason at the marker's position is the marker's.
            by_item = {_identity(op): (r or {}).get("Code") for op, r in zip(ops, reasons, strict=False)}
            if by_item.get(_identity(marker_put)) == "ConditionalCheckFailed":
                return False
            if attempt + 1 < MAX_ATTEMPTS:
                _backoff(attempt)
                continue
            logger.warning("stats transaction refused", extra={"reasons": sorted(set(map(str, by_item.values())))})
            raise ExternalServiceError("Basis data sedang sibuk.", code="storage_busy") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _identity(op: Mapping[str, Any]) -> tuple[str, str]:
    body = next(iter(op.values()))
    key = body.get("Key") or body.get("Item") or {}
    return key["PK"]["S"], key["SK"]["S"]


def _retryable(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in (
        "ProvisionedThroughputExceededException", "ThrottlingException", "TransactionConflictException",
        "InternalServerError", "RequestLimitExceeded")


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

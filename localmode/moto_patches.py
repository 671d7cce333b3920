"""Keep moto's DynamoDB usable for long runs (local mode, the test session) and true to DynamoDB.

moto 5.2.5 backs up every table a TransactWriteItems touches with copy.deepcopy before applying it,
and on a cancelled transaction swaps the copies in. Three things follow, all fixed here:
- each transaction costs time and memory in proportion to everything ever written (a local run
  slowed to seconds per request and grew past 13 GB; the test session peaked at 2.2 GB);
- a cancelled transaction replaces the table's stream shard object, so a stream iterator taken
  before keeps reading a shard nobody writes to (local notifications stopped after any 409);
- a concurrent write to another item of the same table is lost when the copy is swapped back in.

The patched transaction remembers only the items it touches (a copy of each before it is changed)
and, if cancelled, puts exactly those back into the same table object. Its stream records are held
back and appended when it commits, so a cancelled transaction leaves no stream record (as in
DynamoDB) and a committed one leaves each of its records exactly once.

moto answers every Query by looking at every item of the table. Here a Query on the table's key reads
that partition, and a Query on a global secondary index reads the index partition from a map kept
current on every write (built on the first Query of the table's indexes): Balai's queues, outbox
retries and SLA sweeps stay as fast at 100 000 items as at 100.

moto also keeps every model object it ever creates in a class-level list, for its web dashboard: every
item, every copy of an item made for a Query answer or an update's old image, every stream record and
every stream iterator stayed alive for good (issue 15's "1.1 M Item objects for 1 500 real items").
Tables (a deleted one stayed alive with all its items), items, stream records and iterators are not
tracked any more.

moto keeps every stream record for good (DynamoDB keeps them 24 hours): each holds both images of the
item, so a long run grew by the size of everything ever written twice over. Only the newest
STREAM_RECORDS_KEPT records of a shard are kept; older ones read as trimmed (as after 24 hours).

Items are kept compact. A moto Item held ~5 KB for ~760 bytes of data: one DynamoType object per
attribute value (and per nested value), a dict of them per item, a string per attribute name and value.
Here a stored item keeps only its key values and its attributes as one UTF-8 JSON bytes string (the
DynamoDB wire form); `item.attrs` unpacks them into moto's usual LimitedSizeDict of DynamoType on
first use. Every DynamoDB call runs under one lock (moto is not thread-safe, and the GIL runs one at a
time anyway); when it ends, the items it unpacked are packed again: those a write may have changed are
re-encoded, those a read only looked at drop their unpacked form. So conditions, updates, rollback,
streams and queries see exactly moto's objects while they run, and memory holds ~1 KB per item. Stream
records keep their item images packed the same way.

Smaller ones: item attribute names are interned (moto kept a copy of each name in every item), and
the stream iterators that each GetRecords creates are capped instead of kept forever.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from localmode import item_text

MOTO_VERSION = "5.2.5"  # the version whose transact_write_items this mirrors (requirements-dev.txt)
STREAM_RECORDS_KEPT = 1_000  # per shard (~40 s of a busy local run); the local poller reads within a second
MAX_SHARD_ITERATORS = 1000  # DynamoDB expires iterators after 15 minutes; moto keeps every one

_pending = threading.local()  # the stream records of the transaction running on this thread
_ttl_sweep = threading.local()  # set while this thread deletes expired items for the TTL sweep
# What DynamoDB's TTL delete leaves in its stream record (GetRecords' shape; Lambda hands it on as
# {"type": "Service", "principalId": "dynamodb.amazonaws.com"}): the handlers delete files only on such a removal.
TTL_USER_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
# Held across each DynamoDB call (and a snapshot): items are unpacked and packed again only under it.
store_lock = threading.RLock()
_unpacked: list[Any] = []  # items unpacked (or stored unpacked) since the last call ended
READ_ACTIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable",
                          "ListTables", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource"})


class _TouchedItems:
    """The items a transaction changed, each as it was before, to put back on cancellation."""

    def __init__(self) -> None:
        self._before: list[tuple[Any, Any, Any, Any]] = []

    def remember(self, table: Any, hash_key: Any, range_key: Any, current: Any) -> None:
        # update_item changes the stored Item in place, so keep a copy (of this one item only).
        self._before.append((table, hash_key, range_key, copy.deepcopy(current)))

    def restore(self) -> None:
        for table, hash_key, range_key, before in reversed(self._before):
            _restore_item(table, hash_key, range_key, before)
            if before is not None:
                _unpacked.append(before)  # a copy made unpacked: pack it when the call ends
            _reindex(table, hash_key, range_key)
        self._before.clear()


def _restore_item(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
        if table.range_key_attr is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
            return
        partition = table.items.get(hash_key)
        if before is not None:
            table.items[hash_key][range_key] = before
        elif partition is not None:
            partition.pop(range_key, None)
            if not partition:
                table.items.pop(hash_key, None)


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's DynamoDBBackend.transact_write_items with an item-level rollback (see module doc)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import get_filter_expression

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    touched = _TouchedItems()
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    stream_records: list[tuple[Any, Any, Any]] = []
    _pending.records = stream_records
    try:
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")
                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression, expression_attribute_names, expression_attribute_values)
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type != "ConditionCheck":
                    table = self.get_table(table_name)
                    hash_key, range_key = self.get_keys_value(table, key)
                    touched.remember(table, hash_key, range_key, current)
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], condition_expression=condition_expression,
                                  expression_attribute_names=expression_attribute_names,
                                  expression_attribute_values=expression_attribute_values)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, condition_expression=condition_expression,
                                     expression_attribute_names=expression_attribute_names,
                                     expression_attribute_values=expression_attribute_values)
                elif op_type == "Update":
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                     condition_expression=condition_expression,
                                     expression_attribute_names=expression_attribute_names,
                                     expression_attribute_values=expression_attribute_values)
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                touched.restore()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 - moto reports any other failure as a cancellation reason
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            touched.restore()
            raise TransactionCanceledException(errors)
    except BaseException:
        stream_records.clear()
        raise
    finally:
        _pending.records = None
    for shard, old, new in stream_records:
        _add_record(shard, old, new)


def _add_record(shard: Any, old: Any, new: Any) -> None:
    """StreamShard.add, then forget the oldest records beyond STREAM_RECORDS_KEPT.

    Forgotten records become None in place: sequence numbers and iterator positions are list indexes."""
    _original_shard_add(shard, old, new)
    kept_from = shard.__dict__.get("_balai_kept_from", 0)
    if len(shard.items) - kept_from > 2 * STREAM_RECORDS_KEPT:
        new_start = len(shard.items) - STREAM_RECORDS_KEPT
        for position in range(kept_from, new_start):
            shard.items[position] = None
        shard._balai_kept_from = new_start


def _shard_get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
    """StreamShard.get without the forgotten records (a reader that fell behind skips to the oldest kept)."""
    first = max(start - self.starting_sequence_number, self.__dict__.get("_balai_kept_from", 0))
    return [record.to_json() for record in self.items[first:first + quantity] if record is not None]


def _shard_add(self: Any, old: Any, new: Any) -> None:
    """StreamShard.add: inside a transaction on this thread, hold the record back until it commits."""
    records = getattr(_pending, "records", None)
    if records is not None:
        records.append((self, old, new))
    else:
        _add_record(self, old, new)


def _json_default(value: Any) -> str:
    if isinstance(value, bytes):  # a nested binary value, as DynamoDB JSON carries it
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot pack {type(value).__name__}")


def pack_attributes(attributes: dict[str, Any]) -> bytes:
    """DynamoDB JSON attributes ({"name": {"S": "..."}}) -> the compact stored form (UTF-8 JSON)."""
    return json.dumps(attributes, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()


def dynamo_type(value: dict[str, Any]) -> Any:
    """DynamoType(value), built directly (what its __init__ does, without its per-value checks)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    for kind, raw in value.items():
        if kind == "M":
            raw = {k: dynamo_type(v) for k, v in raw.items()}
        elif kind == "L":
            raw = [dynamo_type(v) for v in raw]
        made = DynamoType.__new__(DynamoType)
        made.type = kind
        made.value = raw
        return made
    raise ValueError("empty attribute value")


def _unpack(packed: bytes) -> Any:
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    values = LimitedSizeDict.__new__(LimitedSizeDict)  # stored items passed the size check when written
    dict.__init__(values)
    for name, value in json.loads(item_text.text(packed)).items():
        dict.__setitem__(values, name, dynamo_type(value))
    return values


# Item's state here is two plain attributes (class defaults None): `_balai_packed`, the attributes as
# pack_attributes bytes, and `_balai_attrs`, moto's LimitedSizeDict while unpacked. Plain attribute access
# (never item.__dict__, which would give every item a dict of its own) keeps an Item at ~100 bytes.
def _get_attrs(self: Any) -> Any:
    """Item.attrs: the unpacked attributes (unpacked on first use; packed again when the call ends)."""
    attrs = self._balai_attrs
    if attrs is None:
        packed = self._balai_packed
        if packed is None:
            return None
        attrs = self._balai_attrs = _unpack(packed)
        _unpacked.append(self)
    return attrs


def _set_attrs(self: Any, value: Any) -> None:
    self._balai_attrs = value
    self._balai_packed = None  # changed: encoded again when the call ends (if stored)


def new_packed_item(hash_key: Any, range_key: Any, packed: bytes) -> Any:
    """An Item holding `packed` (pack_attributes output) and its key values, without unpacking."""
    from moto.dynamodb.models.dynamo_type import Item

    item: Any = Item.__new__(Item)
    item.hash_key = hash_key
    item.range_key = range_key
    item._balai_attrs = None
    item._balai_packed = packed
    return item


def packed_attributes(item: Any) -> bytes:
    """The item's attributes as pack_attributes text (no unpacking when it is packed)."""
    packed = item._balai_packed
    if item._balai_attrs is None and packed is not None:
        return item_text.text(packed)
    return pack_attributes(_original_item_to_json(item)["Attributes"])


def stored_form(item: Any) -> bytes:
    """The item as local mode keeps it between calls (item_text's form: what a snapshot writes)."""
    packed = item._balai_packed
    if item._balai_attrs is None and packed is not None:
        return packed  # type: ignore[no-any-return]
    return item_text.pack(pack_attributes(_original_item_to_json(item)["Attributes"]))


def attribute(item: Any, name: str) -> dict[str, Any] | None:
    """One attribute of an item in DynamoDB JSON, read without unpacking the item."""
    packed = item._balai_packed
    if item._balai_attrs is None and packed is not None:
        packed = item_text.text(packed)
        if b'"' + name.encode() + b'":' not in packed:
            return None
        found = json.loads(packed).get(name)
        return found if isinstance(found, dict) else None
    value = item.attrs.get(name)
    return value.to_json() if value is not None else None  # type: ignore[no-any-return]


def _item_to_json(self: Any, root_attr_name: str = "Attributes") -> dict[str, Any]:
    packed = self._balai_packed
    if self._balai_attrs is None and packed is not None:
        return {root_attr_name: json.loads(item_text.text(packed))}
    return _original_item_to_json(self, root_attr_name)  # type: ignore[no-any-return]


def _item_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    """A packed item's copy shares its (immutable) packed bytes; an unpacked one is copied as moto does."""
    packed = self._balai_packed
    if self._balai_attrs is None and packed is not None:
        return new_packed_item(copy.deepcopy(self.hash_key, memo), copy.deepcopy(self.range_key, memo), packed)
    return _original_item_deepcopy(self, memo)


class ttl_deletes:  # noqa: N801 - used as a context manager, like a function
    """While active on this thread, the REMOVE stream records its deletes leave name DynamoDB's TTL service, as a
    TTL delete's do (localmode.dynamodb_server's sweep)."""

    def __enter__(self) -> None:
        _ttl_sweep.active = True

    def __exit__(self, *exc: object) -> None:
        _ttl_sweep.active = False


def settle(reencode: bool = True) -> None:
    """Pack the items unpacked since the last call: re-encode them (a write may have changed them) or,
    after a read, drop the unpacked form. Call with store_lock held."""
    while _unpacked:
        item = _unpacked.pop()
        attrs = item._balai_attrs
        if attrs is None:
            continue
        old = item._balai_packed
        if reencode or old is None:
            text = pack_attributes(_original_item_to_json(item)["Attributes"])
            if old is None or item_text.text(old) != text:  # a write's condition check only read it
                item._balai_packed = item_text.pack(text, tuple(sorted(attrs)))
        item._balai_attrs = None


def _body(handler: Any) -> dict[str, Any]:
    """The call's JSON body (moto parses it into `body` as it dispatches; raw text before)."""
    body = handler.body
    if isinstance(body, (str, bytes)):
        body = json.loads(body or "{}")
    return body if isinstance(body, dict) else {}


# DynamoDB makes TransactWriteItems idempotent by its ClientRequestToken (botocore sends one and keeps it for
# its own retries): a repeat within 10 minutes of a committed transaction succeeds without applying it again
# (the journal keeps the repeat too; a restart's replay meets the same token and skips it the same way),
# and the same token with other items is IdempotentParameterMismatchException. moto ignores the token, so in
# local mode a transaction whose answer timed out was applied, then retried by botocore, and the retry failed
# its own version condition (a staff approve answered 409 stale_version after a stall in a volume run).
IDEMPOTENCY_SECONDS = 600.0
# token -> (expires, digest of the items, the answer), oldest first: tokens are forgotten from the front, so a
# transaction costs O(1) here (walking all of them for expired ones cost 19 % of the server's CPU in a volume
# run: ten minutes of transactions, each walking every other one).
_committed: OrderedDict[str, tuple[float, str, Any]] = OrderedDict()


def _transaction_token(handler: Any) -> tuple[str, str] | None:
    try:
        body = _body(handler)
    except ValueError:
        return None
    token = body.get("ClientRequestToken")
    if not isinstance(token, str) or not token:
        return None
    digest = hashlib.sha256(json.dumps(body.get("TransactItems"), sort_keys=True).encode()).hexdigest()
    return token, digest


def _repeated_transaction(token: str, digest: str) -> Any:
    """The first answer again for a repeat of a committed transaction, an error for a reused token, or None."""
    now = time.monotonic()
    while _committed and next(iter(_committed.values()))[0] <= now:
        _committed.popitem(last=False)
    seen = _committed.get(token)
    if seen is None or seen[0] <= now:  # an entry behind a longer-lived one is checked here
        return None
    if seen[1] != digest:
        return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps({
            "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
            "message": "The request uses the same client token as a previous, but non-identical request."})
    return seen[2]


def _call_action(self: Any) -> Any:
    """DynamoHandler.call_action: one DynamoDB call at a time; its unpacked items packed again after."""
    ident = threading.get_ident()
    _calls[ident] = time.monotonic()  # for the watchdog: waiting for the lock counts
    _handlers[ident] = self
    try:
        with store_lock:
            token = _transaction_token(self) if self._get_action() == "TransactWriteItems" else None
            if token is not None:
                repeat = _repeated_transaction(*token)
                if repeat is not None:
                    return repeat
            try:
                answer = _original_call_action(self)
                if token is not None and isinstance(answer, tuple) and len(answer) == 3 and answer[0] == 200:
                    _committed.pop(token[0], None)  # a token used again after its window goes to the back
                    _committed[token[0]] = (time.monotonic() + IDEMPOTENCY_SECONDS, token[1], answer)
                return answer
            finally:
                try:
                    action = self._get_action()
                except Exception:  # noqa: BLE001 - unknown: re-encode, which is always right
                    action = ""
                settle(reencode=action not in READ_ACTIONS)
    finally:
        _calls.pop(ident, None)
        _handlers.pop(ident, None)


_calls: dict[int, float] = {}  # thread -> when its DynamoDB call began
_handlers: dict[int, Any] = {}  # thread -> the call's handler (for the watchdog to name the call)
SLOW_CALL_SECONDS = 5.0
# What the watchdog may write about a call: its shape, never attribute values (NIKs, phone numbers).
_CALL_SHAPE = ("TableName", "IndexName", "KeyConditionExpression", "Limit", "ScanIndexForward", "Select")


def describe_call(handler: Any) -> str:
    """A DynamoDB call's operation and shape (table, index, key condition, limit, whether it pages or
    filters), for the slow-call dump."""
    try:
        body = _body(handler)
        target = str(handler.headers.get("X-Amz-Target", "")).rpartition(".")[2]
    except Exception:  # noqa: BLE001 - a dump must not fail on an odd call
        return "?"
    shape = {k: body[k] for k in _CALL_SHAPE if k in body}
    shape.update({k: True for k in ("ExclusiveStartKey", "FilterExpression") if k in body})
    if "TransactItems" in body:
        shape["TransactItems"] = len(body["TransactItems"])
    return f"{target} {json.dumps(shape, sort_keys=True)}"


def watch_slow_calls(out: Any, every: float = 1.0, quiet_for: float = 60.0) -> threading.Event:
    """A daemon thread that writes every thread's stack to `out` when a DynamoDB call has waited or run for
    SLOW_CALL_SECONDS (then stays quiet for `quiet_for`): what the server was doing during a stall, which
    a client only sees as a timeout. Set the returned event to stop it."""
    import faulthandler

    stop = threading.Event()

    def watch() -> None:
        quiet_until = 0.0
        while not stop.wait(every):
            now = time.monotonic()
            oldest = min(_calls.values(), default=now)
            if now - oldest >= SLOW_CALL_SECONDS and now >= quiet_until:
                out.write(f"[balai] a DynamoDB call has taken {now - oldest:.1f} s; the calls in progress:\n")
                for ident, began in sorted(_calls.items(), key=lambda c: c[1]):
                    handler = _handlers.get(ident)
                    out.write(f"  Thread 0x{ident:016x}: {now - began:.1f} s "
                              f"{describe_call(handler) if handler is not None else '?'}\n")
                out.write("[balai] every thread's stack:\n")
                out.flush()
                faulthandler.dump_traceback(file=out, all_threads=True)
                quiet_until = now + quiet_for

    threading.Thread(target=watch, name="slow-call-watchdog", daemon=True).start()
    return stop


# The item and stream operations whose answers are plain JSON (AttributeValue trees, counts, keys, the
# stream records' epoch timestamps): encoded by json in C rather than by moto's generic, shape-walking
# response serializer, which took a third of the local DynamoDB process's CPU time.
FAST_ANSWERS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "PutItem", "UpdateItem",
                          "DeleteItem", "BatchWriteItem", "TransactWriteItems", "GetRecords", "GetShardIterator"})


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        from moto.core.utils import unix_time

        return unix_time(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _serialized(self: Any, action_result: Any) -> Any:
    """BaseResponse.serialized for DynamoDB and DynamoDB Streams: FAST_ANSWERS as JSON text (what the
    shape serializer writes for them: None members left out, binary as base64, times as epoch seconds)."""
    result = action_result.result
    if isinstance(result, dict) and self._get_action() in FAST_ANSWERS:
        body = json.dumps({k: v for k, v in result.items() if v is not None}, separators=(",", ":"),
                          default=_plain)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        headers.update(self.response_headers)
        return 200, headers, body
    return _original_serialized(self, action_result)


def _stream_record_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_stream_record_init(self, *args, **kwargs)
    if getattr(_ttl_sweep, "active", False) and self.record.get("eventName") == "REMOVE":
        self.record["userIdentity"] = dict(TTL_USER_IDENTITY)
    images = self.record["dynamodb"]
    for name in ("NewImage", "OldImage"):
        if name in images:
            images[name] = pack_attributes(images[name])


def _stream_record_to_json(self: Any) -> dict[str, Any]:
    record = dict(self.record)
    images = record["dynamodb"] = dict(record["dynamodb"])
    for name in ("NewImage", "OldImage"):
        if name in images:
            images[name] = json.loads(images[name])
    return record


_original_item_to_json: Any = None
_original_serialized: Any = None
_original_dynamo_hash: Any = None
_original_dynamo_eq: Any = None
_original_item_deepcopy: Any = None
_original_call_action: Any = None
_original_stream_record_init: Any = None
_original_shard_add: Any = None
_original_query: Any = None
_original_get_shard_iterator: Any = None
_original_table_put_item: Any = None
_original_table_delete_item: Any = None
_original_table_get_item: Any = None
_original_update_item: Any = None


class _PartitionView:
    """The table as Table.query sees it, with all_items() narrowed to one partition."""

    def __init__(self, table: Any, partition: list[Any]) -> None:
        self._table = table
        self._partition = partition

    def all_items(self) -> list[Any]:
        return self._partition

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


class _IndexMap:
    """For each global secondary index with one hash attribute: hash value -> {item key: item}."""

    def __init__(self, table: Any, scan: bool = True) -> None:
        self.signature = _index_signature(table)
        self.hash_attrs = dict(self.signature)
        self.members: dict[str, dict[Any, dict[Any, Any]]] = {name: {} for name in self.hash_attrs}
        self.placed: dict[Any, tuple[tuple[str, Any], ...]] = {}  # item key -> ((index, hash value), ...)
        self._canonical: dict[tuple[str, str, Any], Any] = {}
        # index name -> {item key: its sort key value}: filled by queries, forgotten when the item changes
        self.sort_values: dict[str, dict[Any, Any]] = {}
        if not scan:  # filled by the caller (a snapshot load, which knows each item's index values)
            return
        partitions = list(table.items.values())  # storage order: no need for all_items()'s sort
        for partition in partitions:
            for item in ([partition] if table.range_key_attr is None else list(partition.values())):
                self.place((item.hash_key, item.range_key), item)

    def index_values(self, key: Any) -> dict[str, Any]:
        """{attribute: DynamoDB JSON} of the index hash keys the item under `key` was placed by."""
        return {self.hash_attrs[name]: value.to_json() for name, value in self.placed.get(key, ())}

    def _shared(self, name: str, kind: str, raw: Any) -> Any:
        """One value object per index partition (all its items' placements refer to it)."""
        canonical = (name, kind, raw)
        value = self._canonical.get(canonical)
        if value is None:
            value = self._canonical[canonical] = dynamo_type({kind: raw})
        return value

    def place_values(self, key: Any, item: Any, values: dict[str, Any]) -> None:
        """Place a new item by index hash values already known ({attribute: DynamoDB JSON})."""
        placed = []
        for name, attr in self.hash_attrs.items():
            if attr in values:
                (kind, raw), = values[attr].items()
                value = self._shared(name, kind, raw)
                self.members[name].setdefault(value, {})[key] = item
                placed.append((name, value))
        if placed:
            self.placed[key] = tuple(placed)

    def _values(self, item: Any) -> dict[str, Any]:
        """The item's index key attributes in DynamoDB JSON (a packed item's text parsed once for all)."""
        packed = item._balai_packed
        if item._balai_attrs is None and packed is not None:
            packed = item_text.text(packed)
            if not any(b'"' + attr.encode() + b'":' in packed for attr in self.hash_attrs.values()):
                return {}
            attrs = json.loads(packed)
            return {attr: attrs[attr] for attr in self.hash_attrs.values() if isinstance(attrs.get(attr), dict)}
        return {attr: value.to_json() for attr in self.hash_attrs.values()
                if (value := item.attrs.get(attr)) is not None}

    def place(self, key: Any, item: Any) -> None:
        for cache in self.sort_values.values():
            cache.pop(key, None)
        for name, value in self.placed.pop(key, ()):
            partition = self.members[name].get(value)
            if partition is not None:
                partition.pop(key, None)
                if not partition:
                    del self.members[name][value]
                    self._canonical.pop((name, value.type, value.value), None)
        if item is None:
            return
        values = self._values(item)
        if values:
            self.place_values(key, item, values)


_index_lock = threading.RLock()


def _index_signature(table: Any) -> tuple[tuple[str, str], ...]:
    signature = []
    for index in table.global_indexes:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        if len(hashes) == 1:
            signature.append((index.name, hashes[0]))
    return tuple(signature)


def _index_map(table: Any) -> _IndexMap:
    with _index_lock:
        current = table.__dict__.get("_balai_index_map")
        if current is None or current.signature != _index_signature(table):
            current = table.__dict__["_balai_index_map"] = _IndexMap(table)
        return current  # type: ignore[no-any-return]


def index_map(table: Any, scan: bool = True) -> Any:
    """The table's index map (for a snapshot): built now if need be, or, with scan=False, started empty
    (for a snapshot load to fill with place_values). None for a table without global secondary indexes."""
    if not table.global_indexes:
        return None
    if not scan:
        with _index_lock:
            table._balai_index_map = made = _IndexMap(table, scan=False)
            return made
    return _index_map(table)


def _reindex(table: Any, hash_key: Any, range_key: Any) -> None:
    """Keep the index map (if one was built) current after a write to one item."""
    index_map = table.__dict__.get("_balai_index_map")
    if index_map is None:
        return
    partition = table.items.get(hash_key)
    item = partition if table.range_key_attr is None else (partition or {}).get(range_key)
    with _index_lock:
        index_map.place((hash_key, range_key), item)


def _table_put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
    item = _original_table_put_item(self, *args, **kwargs)
    _unpacked.append(item)  # stored unpacked: packed when the call ends
    _reindex(self, item.hash_key, item.range_key)
    return item


def _table_get_item(self: Any, hash_key: Any, range_key: Any = None, *args: Any, **kwargs: Any) -> Any:
    """Table.get_item without its side effect: looking up a missing partition of moto's defaultdict left
    an empty partition behind for good (every GetItem of an absent key: idempotency and uniqueness
    checks, throttles, ~11 a request, each ~250 bytes with its key)."""
    if range_key and hash_key not in self.items:
        return None
    return _original_table_get_item(self, hash_key, range_key, *args, **kwargs)


def _table_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
    item = _original_table_delete_item(self, hash_key, range_key)
    if range_key and not self.items.get(hash_key, True):  # no empty partition left behind (see get_item)
        del self.items[hash_key]
    _reindex(self, hash_key, range_key)
    return item


def _backend_update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
    item = _original_update_item(self, table_name, *args, **kwargs)  # changes the stored item in place
    _reindex(self.get_table(table_name), item.hash_key, item.range_key)
    return item


def _dynamo_hash(self: Any) -> int:
    """DynamoType.__hash__ without building cast_value for strings and binaries (the same value: every
    table lookup hashes its keys)."""
    kind = self.type
    if kind == "S" or kind == "B":
        return hash((kind, self.value))
    return _original_dynamo_hash(self)  # type: ignore[no-any-return]


def _dynamo_eq(self: Any, other: Any) -> bool:
    """DynamoType.__eq__ without building cast_value for two strings or two binaries (the same answer)."""
    kind = self.type
    if (kind == "S" or kind == "B") and type(other) is type(self) and other.type == kind:
        return bool(self.value == other.value)
    return _original_dynamo_eq(self, other)  # type: ignore[no-any-return]


ITEM_SIZE_LIMIT = 405_000  # moto's own figure in LimitedSizeDict (DynamoDB's 400 KB, measured)


def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """Item.__init__ without its quadratic size check: moto's LimitedSizeDict sums the size of every attribute
    already set each time it sets one. Summed once here, with the same limit and error."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    self.hash_key, self.range_key = hash_key, range_key
    values = LimitedSizeDict()
    size = 0
    for key, value in attrs.items():
        key = sys.intern(key)
        typed = DynamoType(value)
        dict.__setitem__(values, key, typed)
        size += bytesize(key) + typed.size()
    if size > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = values


def _query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """Table.query: read the one table or index partition the key names, not the whole table."""
    index_name = kwargs.get("index_name") if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
    if index_name:
        conditions = kwargs.get("hash_key_conditions") or []
        index_map = _index_map(self)
        attr = index_map.hash_attrs.get(index_name)
        if attr is None or len(conditions) != 1 or conditions[0][0] != attr:
            return _original_query(self, hash_key, *args, **kwargs)
        with _index_lock:
            members = list(index_map.members[index_name].get(conditions[0][1], {}).items())
        window = _index_window(self, index_map, index_name, members, args, kwargs)
        if window is not None:
            partition, args = window
            return _original_query(_PartitionView(self, partition), hash_key, *args, **kwargs)
        return _original_query(_PartitionView(self, [item for _, item in members]), hash_key, *args, **kwargs)
    if hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    if self.range_key_attr is None:
        found = self.items.get(hash_key)
        partition = [found] if found is not None else []
    else:
        partition = list(self.items.get(hash_key, {}).values())
    return _original_query(_PartitionView(self, partition), hash_key, *args, **kwargs)


_COMPARE: dict[str, Callable[[Any, list[Any]], bool]] = {
    "EQ": lambda v, o: bool(v == o[0]), "LT": lambda v, o: bool(v < o[0]), "LE": lambda v, o: bool(v <= o[0]),
    "GT": lambda v, o: bool(v > o[0]), "GE": lambda v, o: bool(v >= o[0]),
    "BETWEEN": lambda v, o: bool(o[0] <= v <= o[1]),
    "BEGINS_WITH": lambda v, o: isinstance(v, str) and v.startswith(o[0]),
}
# A KeyConditionExpression reaches Table.query with its operator as written ("<=", not "LE"): without these
# every sort-key comparison but BETWEEN and begins_with took moto's whole-partition path (the SLA sweep's
# `GSI4SK <= now` read all of a kabupaten's open requests, 10 s at 5 000, with the store lock held).
_COMPARE.update({"=": _COMPARE["EQ"], "<": _COMPARE["LT"], "<=": _COMPARE["LE"], ">": _COMPARE["GT"],
                 ">=": _COMPARE["GE"]})


_NOT_IN_INDEX = object()


def _sort_value(typed: dict[str, Any] | None) -> Any:
    """An index sort key's value as Python orders it like DynamoDB (S as text, N as a number), or None."""
    if not typed or len(typed) != 1:
        return None
    (kind, raw), = typed.items()
    if kind == "S" and isinstance(raw, str):
        return raw
    if kind == "N":
        return Decimal(raw)
    return None


def _index_window(table: Any, index_map: _IndexMap, index_name: str, members: list[tuple[Any, Any]],
                  args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], tuple[Any, ...]] | None:
    """The items of an index partition that a page can hold, without unpacking the others.

    moto sorts a whole index partition by reading every item's attributes (unpacking each) and then sizes
    every item it walks: a page of a village's queue cost seconds once the queue held thousands of requests,
    with the store lock held (every other call waited). Here the sort key values are kept per item (read
    once, forgotten when the item changes), the partition is filtered by the key condition, ordered, the
    exclusive start key found, and only the next `limit + 1` items are handed to moto, which then answers
    exactly as before (its own sort, condition, limit, LastEvaluatedKey, filter). None: not a case this
    handles (no limit, a legacy QueryFilter, a multi-attribute key, a start key without the index's sort
    key) - moto's own way."""
    if len(args) < 7 or kwargs.get("range_key_conditions") and len(kwargs["range_key_conditions"]) > 1:
        return None
    range_comparison, range_objs, limit, start_key, forward = args[0], args[1], args[2], args[3], args[4]
    if not limit or any(k not in ("hash_key_conditions", "range_key_conditions") for k in kwargs):
        return None
    index = next((i for i in table.global_indexes if i.name == index_name), None)
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"] if index else []
    if len(ranges) != 1:
        return None
    attr = ranges[0]
    bounds: list[Any] = []
    if range_comparison:
        if range_comparison not in _COMPARE:
            return None
        bounds = [_sort_value(o.to_json()) for o in range_objs]
        if any(b is None for b in bounds):
            return None
    rows = []
    with _index_lock:
        cache = index_map.sort_values.setdefault(index_name, {})
        for key, item in members:
            if key in cache:
                value = cache[key]
            else:
                typed = attribute(item, attr)
                value = cache[key] = _sort_value(typed) if typed is not None else _NOT_IN_INDEX
            if value is _NOT_IN_INDEX:
                continue  # DynamoDB leaves an item without the sort key out of the index
            if value is None:
                return None  # a binary sort key: moto's own way
            if range_comparison and not _COMPARE[range_comparison](value, bounds):
                continue
            rows.append((value, str(key[0].value), str(key[1].value) if key[1] is not None else "", item))
    if len({type(r[0]) for r in rows}) > 1:
        return None
    rows.sort(key=lambda r: r[:3], reverse=not forward)
    first = 0
    if start_key:
        wanted = (str(_sort_value(start_key.get(table.hash_key_attr))),
                  str(_sort_value(start_key.get(table.range_key_attr))) if table.range_key_attr else "")
        first = next((n + 1 for n, r in enumerate(rows) if (r[1], r[2]) == wanted), -1)
        if first < 0:
            # The start item left the index since the last page (a queue page while staff move requests
            # on): DynamoDB goes on from the start key's position, as the next rows after it in this order.
            raw = start_key.get(attr)
            position = _sort_value(raw) if isinstance(raw, dict) else None
            if position is None or any(type(r[0]) is not type(position) for r in rows[:1]):
                return None
            mark = (position, *wanted)
            first = next((n for n, r in enumerate(rows) if (r[:3] > mark if forward else r[:3] < mark)),
                         len(rows))
    window = [r[3] for r in rows[first:first + limit + 1]]
    return window, (args[0], args[1], args[2], None) + tuple(args[4:])


def _get_shard_iterator(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Keep the newest MAX_SHARD_ITERATORS (each GetRecords makes one; moto never forgets them)."""
    _trim_iterators(self.shard_iterators)
    return _original_get_shard_iterator(self, *args, **kwargs)


def _trim_iterators(iterators: dict[str, Any]) -> None:
    excess = len(iterators) - MAX_SHARD_ITERATORS
    if excess > 0:
        for arn in list(iterators)[:excess]:
            iterators.pop(arn, None)


def _get_records(self: Any, iterator_arn: str, limit: int) -> Any:
    _trim_iterators(self.shard_iterators)
    return self.shard_iterators[iterator_arn].get(limit)


class _Untracked(list):  # type: ignore[type-arg]
    """A class's `instances_tracked` that keeps nothing (moto appends every instance it creates)."""

    def append(self, _instance: Any) -> None:
        return None


def _stop_tracking(*classes: Any) -> None:
    from moto.core.model_instances import model_data

    for cls in classes:
        cls.instances_tracked = _Untracked()
        # moto's reset puts a fresh list on every class it knows: it need not know these.
        model_data[cls.__module__.split(".")[1]].pop(cls.__name__, None)


def apply() -> None:
    """Patch moto in this process (idempotent). Refuses another moto version: the copy above is of 5.2.5."""
    global _original_shard_add, _original_query, _original_get_shard_iterator, _original_table_put_item
    global _original_table_delete_item, _original_update_item, _original_item_to_json
    global _original_item_deepcopy, _original_call_action, _original_stream_record_init, _original_dynamo_hash
    global _original_serialized, _original_dynamo_eq, _original_table_get_item
    import moto
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    if getattr(DynamoDBBackend, "_balai_patched", False):
        return
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"localmode.moto_patches mirrors moto {MOTO_VERSION}, found {moto.__version__}: "
                           "re-check DynamoDBBackend.transact_write_items before changing the pin")
    _stop_tracking(Item, StreamRecord, ShardIterator, Table, StreamShard)
    _original_shard_add = StreamShard.add
    _original_query = Table.query
    _original_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    _original_table_put_item, _original_table_delete_item = Table.put_item, Table.delete_item
    _original_update_item = DynamoDBBackend.update_item
    Table.put_item = _table_put_item  # type: ignore[method-assign]
    _original_table_get_item = Table.get_item
    Table.get_item = _table_get_item  # type: ignore[method-assign]
    Table.delete_item = _table_delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _backend_update_item  # type: ignore[method-assign]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    _original_item_to_json, _original_item_deepcopy = Item.to_json, Item.__deepcopy__
    Item._balai_attrs = Item._balai_packed = None  # type: ignore[attr-defined]
    Item.attrs = property(_get_attrs, _set_attrs)  # type: ignore[assignment]
    Item.to_json = _item_to_json  # type: ignore[method-assign]
    _original_dynamo_hash = DynamoType.__hash__
    DynamoType.__hash__ = _dynamo_hash  # type: ignore[method-assign]
    _original_dynamo_eq = DynamoType.__eq__
    DynamoType.__eq__ = _dynamo_eq  # type: ignore[method-assign,assignment]
    Item.__deepcopy__ = _item_deepcopy  # type: ignore[method-assign]
    _original_serialized = BaseResponse.serialized
    DynamoHandler.serialized = _serialized  # type: ignore[method-assign]
    DynamoDBStreamsHandler.serialized = _serialized  # type: ignore[method-assign]
    _original_call_action = DynamoHandler.call_action
    DynamoHandler.call_action = _call_action  # type: ignore[method-assign]
    _original_stream_record_init = StreamRecord.__init__
    StreamRecord.__init__ = _stream_record_init  # type: ignore[method-assign]
    StreamRecord.to_json = _stream_record_to_json  # type: ignore[method-assign]
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    StreamShard.get = _shard_get  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = _get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]
    DynamoDBBackend._balai_patched = True  # type: ignore[attr-defined]

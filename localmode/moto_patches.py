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

Two smaller fixes: a Query on the table's own key reads its partition instead of every item of the
table, and the stream iterators that each GetRecords creates are capped instead of kept forever.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

MOTO_VERSION = "5.2.5"  # the version whose transact_write_items this mirrors (requirements-dev.txt)
MAX_SHARD_ITERATORS = 1000  # DynamoDB expires iterators after 15 minutes; moto keeps every one

_pending = threading.local()  # the stream records of the transaction running on this thread


class _TouchedItems:
    """The items a transaction changed, each as it was before, to put back on cancellation."""

    def __init__(self) -> None:
        self._before: list[tuple[Any, Any, Any, Any]] = []

    def remember(self, table: Any, hash_key: Any, range_key: Any, current: Any) -> None:
        # update_item changes the stored Item in place, so keep a copy (of this one item only).
        self._before.append((table, hash_key, range_key, copy.deepcopy(current)))

    def restore(self) -> None:
        for table, hash_key, range_key, before in reversed(self._before):
            if table.range_key_attr is None:
                if before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before
                continue
            partition = table.items.get(hash_key)
            if before is not None:
                table.items[hash_key][range_key] = before
            elif partition is not None:
                partition.pop(range_key, None)
                if not partition:
                    table.items.pop(hash_key, None)
        self._before.clear()


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
        _original_shard_add(shard, old, new)


def _shard_add(self: Any, old: Any, new: Any) -> None:
    """StreamShard.add: inside a transaction on this thread, hold the record back until it commits."""
    records = getattr(_pending, "records", None)
    if records is not None:
        records.append((self, old, new))
    else:
        _original_shard_add(self, old, new)


_original_shard_add: Any = None
_original_query: Any = None
_original_get_shard_iterator: Any = None


class _PartitionView:
    """The table as Table.query sees it, with all_items() narrowed to one partition."""

    def __init__(self, table: Any, partition: list[Any]) -> None:
        self._table = table
        self._partition = partition

    def all_items(self) -> list[Any]:
        return self._partition

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """Table.query: a Query on the table's own hash key reads that partition, not the whole table."""
    index_name = kwargs.get("index_name") if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
    if index_name or hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    if self.range_key_attr is None:
        found = self.items.get(hash_key)
        partition = [found] if found is not None else []
    else:
        partition = list(self.items.get(hash_key, {}).values())
    return _original_query(_PartitionView(self, partition), hash_key, *args, **kwargs)


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


def apply() -> None:
    """Patch moto in this process (idempotent). Refuses another moto version: the copy above is of 5.2.5."""
    global _original_shard_add, _original_query, _original_get_shard_iterator
    import moto
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    if getattr(DynamoDBBackend, "_balai_patched", False):
        return
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"localmode.moto_patches mirrors moto {MOTO_VERSION}, found {moto.__version__}: "
                           "re-check DynamoDBBackend.transact_write_items before changing the pin")
    _original_shard_add = StreamShard.add
    _original_query = Table.query
    _original_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = _get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]
    DynamoDBBackend._balai_patched = True  # type: ignore[attr-defined]

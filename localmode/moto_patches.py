"""Keep moto's DynamoDB usable for long runs (local mode, the test session).

moto backs up every table before a TransactWriteItems with copy.deepcopy, stream records included,
and never trims the stream. Each transaction then costs time and memory in proportion to every write
ever made: a local run slows down with use and a test session grew past 10 GB. Stream records are
never changed once written, so the backup can share them: copying the list is enough to roll back.
"""

from __future__ import annotations

import copy
from typing import Any


def apply() -> None:
    from moto.dynamodb.models.table import StreamShard

    if getattr(StreamShard, "_balai_patched", False):
        return
    _copy_tables_once_per_transaction()

    def shard_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
        clone = copy.copy(self)
        clone.table = memo.get(id(self.table), self.table)  # the table copy being made, if any
        clone.items = list(self.items)
        memo[id(self)] = clone
        return clone

    StreamShard.__deepcopy__ = shard_deepcopy  # type: ignore[attr-defined]
    StreamShard._balai_patched = True  # type: ignore[attr-defined]


def _copy_tables_once_per_transaction() -> None:
    """moto backs a table up once per *item* of a TransactWriteItems (the copy sits in its loop over the
    items), so a 100-item transaction (a resident register import sends 50 residents + 50 audit entries)
    copies the whole table 100 times and outlasts the client's timeout. One backup per table and
    transaction rolls back just the same."""
    import threading

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    state = threading.local()

    class _Copy:
        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            cache = getattr(state, "tables", None)
            if cache is not None and isinstance(obj, Table):
                if id(obj) not in cache:
                    cache[id(obj)] = copy.deepcopy(obj)
                return cache[id(obj)]
            return copy.deepcopy(obj, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    models.copy = _Copy()  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: Any) -> Any:
        state.tables = {}
        try:
            return original(self, transact_items)
        finally:
            state.tables = None

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

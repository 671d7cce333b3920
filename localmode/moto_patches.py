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

    def shard_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
        clone = copy.copy(self)
        clone.table = memo.get(id(self.table), self.table)  # the table copy being made, if any
        clone.items = list(self.items)
        memo[id(self)] = clone
        return clone

    StreamShard.__deepcopy__ = shard_deepcopy  # type: ignore[attr-defined]
    StreamShard._balai_patched = True  # type: ignore[attr-defined]

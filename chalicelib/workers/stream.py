"""Which table-stream records the stream handler acts on, as Lambda event filter patterns.

Lambda invokes the stream function only for records matching one of FILTER_PATTERNS (the event source
mapping's FilterCriteria, set by `python -m chalicelib.ops stream-filter`); records matching none are dropped
by Lambda before any invocation. Without the filter, three invocations in four would carry only records
nobody acts on: login codes, uploads made or used, sessions, audit events, and the handler's own writes (claims,
outcomes, inbox messages, counters), and requests and complaints themselves: their transparency counters are
added in the transaction that changes them (storage/stats.py), so their records invoke nothing. The patterns
must admit every record a part of the handler reads:
- the outbox sender (workers/outbox.py `wanted`): an outbox row whose new image is `pending` (a new row, or a
  failed row put back by a resend);
- the attachment retention (workers/retention.py): DynamoDB's TTL removing a retention item, or an upload item
  still `unused` (its file, written straight to its final key, is deleted).
`matches` evaluates the subset of Lambda's filter syntax these patterns use (nested objects, lists of allowed
values), for the tests and for bench/cost_sim.py, which invokes the handler only as Lambda would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain.notifications import PENDING
from chalicelib.storage.retention import ENTITY as RETENTION_ENTITY
from chalicelib.storage.uploads import ENTITY as UPLOAD_ENTITY
from chalicelib.storage.uploads import UNUSED

FILTER_PATTERNS: list[dict[str, Any]] = [
    {"dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}, "status": {"S": [PENDING]}}}},
    # DynamoDB's TTL removing a closed request's retention item: its attachments are deleted (workers/retention.py)
    {"eventName": ["REMOVE"], "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
     "dynamodb": {"OldImage": {"entity": {"S": [RETENTION_ENTITY]}}}},
    # DynamoDB's TTL removing an upload no submission used: its file is deleted (a used one invokes nothing)
    {"eventName": ["REMOVE"], "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
     "dynamodb": {"OldImage": {"entity": {"S": [UPLOAD_ENTITY]}, "state": {"S": [UNUSED]}}}},
]


def filter_criteria() -> dict[str, Any]:
    """The event source mapping's FilterCriteria (Lambda takes each pattern as a JSON string)."""
    return {"Filters": [{"Pattern": json.dumps(p, separators=(",", ":"))} for p in FILTER_PATTERNS]}


def _matches(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, Mapping):
        return isinstance(value, Mapping) and all(k in value and _matches(value[k], p) for k, p in pattern.items())
    if isinstance(pattern, Sequence) and not isinstance(pattern, str):
        return value in pattern
    raise ValueError(f"unsupported filter pattern element {pattern!r}")


def matches(record: Mapping[str, Any]) -> bool:
    """True when Lambda would hand this stream record to the function (it matches a pattern)."""
    return any(_matches(record, p) for p in FILTER_PATTERNS)

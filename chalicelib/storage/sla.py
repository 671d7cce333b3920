"""Repository of the SLA sweep and the digest: due-checkpoint Query, escalation transaction, village counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib.domain.clock import iso
from chalicelib.domain.operations import PutEvent, PutOutbox, RecordSlaLevel
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.requests import OPEN_STATUSES, HistoryEntry, ServiceRequest
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.codec import full_items, indexed_items, request_from_item, sla_level_actions, unchanged
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import RequestItem


def due(kabupaten: str, now: datetime, limit: int = 1000) -> Iterator[ServiceRequest]:
    """Open requests whose next SLA checkpoint is at or before `now`: one Query on the sparse GSI4,
    whose sort key is that checkpoint, so requests with nothing to do are never read; GSI4 holds only keys
    (a transition then writes no index entry), so the due requests are read by key (BatchGetItem)."""
    results = RequestItem.gsi4.query(keys.due_pk(kabupaten), RequestItem.GSI4SK <= keys.time_upper_bound(iso(now)),
                                     limit=limit)
    for item in full_items(list(results)):
        yield request_from_item(item)




def escalate(request: ServiceRequest, level: int, next_at: datetime | None, event: HistoryEntry | None,
             outbox: list[OutboxMessage]) -> str:
    """Record the level reached, its audit event and its outbox rows in one transaction.

    Returns "done"; "stale" when the request changed since it was read; "repaired" when an outbox row
    of this level already existed (a concurrent transition had overwritten the recorded level): the
    level is written again and nobody is told twice, because the rows' ids are deterministic.
    """
    from chalicelib.storage.unit_of_work import DynamoUnitOfWork

    uow = DynamoUnitOfWork()
    uow.add(RecordSlaLevel(request, level, next_at))
    if event is not None:
        uow.add(PutEvent(request.id, event))
    uow.add(*(PutOutbox(m) for m in outbox))
    try:
        uow.commit()
    except ConflictError as exc:
        if exc.code == "stale_version":
            return "stale"
        if exc.code not in ("duplicate_outbox", "duplicate_event"):
            raise
        set_level(request, level, next_at)
        return "repaired"
    return "done"


def set_level(request: ServiceRequest, level: int, next_at: datetime | None) -> bool:
    """Move the request's checkpoint without telling anyone (nothing new reached, or a repair)."""
    try:
        RequestItem(keys.request_pk(request.id), keys.META).update(
            actions=sla_level_actions(request, level, next_at), condition=unchanged(request))
        return True
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


def village_open_requests(village: str) -> Iterator[tuple[str, int]]:
    """(due_at, sla_hours) of the village's open requests: one Query per open status on its queue
    (GSI2 QUEUE#{desa}#{status}, keys only), the requests then read by key, only the two attributes the digest
    needs."""
    for status in OPEN_STATUSES:
        pk = keys.village_status_pk(village, status)
        for item in indexed_items(RequestItem.gsi2, pk, attributes=["due_at", "sla_hours"]):
            yield item.due_at, int(item.sla_hours)

"""Repository of the SLA sweep and the digest: due-checkpoint Query, escalation transaction, village counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.requests import OPEN_STATUSES, HistoryEntry, ServiceRequest
from chalicelib.storage import keys
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import EventItem, OutboxItem, RequestItem
from chalicelib.storage.requests import _event_item, _from_item


def due(kabupaten: str, now: datetime, limit: int = 1000) -> Iterator[ServiceRequest]:
    """Open requests whose next SLA checkpoint is at or before `now`: one Query on the sparse GSI4,
    whose sort key is that checkpoint, so requests with nothing to do are never read."""
    results = RequestItem.gsi4.query(keys.due_pk(kabupaten), RequestItem.GSI4SK <= keys.time_upper_bound(iso(now)),
                                     limit=limit)
    for item in results:
        yield _from_item(item)


def _sla_actions(request: ServiceRequest, level: int, next_at: datetime | None) -> list[Any]:
    actions: list[Any] = [RequestItem.sla.set({"for": request.due_at, "level": level})]
    if next_at is None:
        actions += [RequestItem.GSI4PK.remove(), RequestItem.GSI4SK.remove()]
    else:
        actions.append(RequestItem.GSI4SK.set(keys.due_sk(iso(next_at), request.id)))
    return actions


def _unchanged(request: ServiceRequest) -> Any:
    # Version and status as read: a transition meanwhile wins, and the next sweep looks again.
    return (RequestItem.version == request.version) & (RequestItem.status == request.status)


def escalate(request: ServiceRequest, level: int, next_at: datetime | None, event: HistoryEntry | None,
             outbox: list[OutboxItem]) -> str:
    """Record the level reached, its audit event and its outbox rows in one transaction.

    Returns "done"; "stale" when the request changed since it was read; "repaired" when an outbox row
    of this level already existed (a concurrent transition had overwritten the recorded level): the
    level is written again and nobody is told twice, because the rows' ids are deterministic.
    """
    request_item = RequestItem(keys.request_pk(request.id), keys.META)
    try:
        with TransactWrite(connection=transaction_connection()) as tw:
            tw.update(request_item, actions=_sla_actions(request, level, next_at), condition=_unchanged(request))
            if event is not None:
                tw.save(_event_item(request.id, event), condition=EventItem.SK.does_not_exist())
            for row in outbox:
                tw.save(row, condition=OutboxItem.PK.does_not_exist())
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in exc.cancellation_reasons]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return "stale"
        if "ConditionalCheckFailed" in reasons[1:]:
            set_level(request, level, next_at)
            return "repaired"
        raise translate_errors(exc) from exc
    return "done"


def set_level(request: ServiceRequest, level: int, next_at: datetime | None) -> bool:
    """Move the request's checkpoint without telling anyone (nothing new reached, or a repair)."""
    try:
        RequestItem(keys.request_pk(request.id), keys.META).update(
            actions=_sla_actions(request, level, next_at), condition=_unchanged(request))
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


def village_open_requests(village: str) -> Iterator[tuple[str, int]]:
    """(due_at, sla_hours) of the village's open requests: one Query per open status on its queue
    (GSI2 QUEUE#{desa}#{status}), reading only the two attributes the digest needs."""
    for status in OPEN_STATUSES:
        for item in RequestItem.gsi2.query(keys.village_status_pk(village, status),
                                           attributes_to_get=["due_at", "sla_hours"]):
            yield item.due_at, int(item.sla_hours)

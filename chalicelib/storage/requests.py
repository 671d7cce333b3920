"""Repository of service requests: atomic submission and transitions, queues, tracking."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.escalation import checkpoints, current_level, next_checkpoint, parse_iso
from chalicelib.domain.regions import kabupaten_of
from chalicelib.domain.requests import OPEN_STATUSES, HistoryEntry, ServiceRequest
from chalicelib.errors import ConflictError, ValidationError
from chalicelib.storage import keys
from chalicelib.storage.connection import query_partition, transaction_connection, translate_errors
from chalicelib.storage.models import (
    EventItem,
    IdempotencyItem,
    OutboxItem,
    RequestItem,
    TrackingItem,
)

# How long a new outbox row waits for the stream handler before the retry schedule sends it instead.
OUTBOX_GRACE = timedelta(minutes=2)

# Extra writes another feature adds to a transition's transaction (letter numbering, the letter).
ExtraOps = Callable[[TransactWrite], None]


class TrackingCodeTaken(Exception):
    """The random tracking code collided; the caller draws another."""


@dataclass(frozen=True)
class IdempotencyGuard:
    subject: str
    key: str
    payload_hash: str
    expires_at: datetime


class IdempotentReplay(Exception):
    """A submission with this Idempotency-Key already exists."""

    def __init__(self, request_id: str, payload_hash: str) -> None:
        super().__init__(request_id)
        self.request_id = request_id
        self.payload_hash = payload_hash


def _token() -> str:
    """One token per logical write: botocore's retry after a timeout resends it, and DynamoDB then
    answers success instead of applying the write twice (or failing it as a stale version)."""
    return uuid.uuid4().hex


def _to_item(r: ServiceRequest) -> RequestItem:
    item = RequestItem(
        keys.request_pk(r.id), keys.META, entity="request",
        id=r.id, village=r.village, kecamatan=r.kecamatan, kabupaten=r.kabupaten,
        letter_type=r.letter_type, letter_name=r.letter_name, status=r.status, version=r.version,
        tracking_code=r.tracking_code, nik_hash=r.nik_hash, contact_phone=r.contact_phone,
        signer_role=r.signer_role,
        fields=r.fields, applicant=r.applicant, sla_hours=r.sla_hours, created_at=r.created_at,
        updated_at=r.updated_at, due_at=r.due_at, letter=r.letter, issue_order=r.issue_order,
        attachments=r.attachments or None,
        identity_verified=r.identity_verified, identity_check=r.identity_check,
        GSI1PK=keys.village_queue_pk(r.village), GSI1SK=keys.queue_sk(r.created_at, r.id),
        GSI2PK=keys.village_status_pk(r.village, r.status), GSI2SK=keys.queue_sk(r.created_at, r.id),
        GSI3PK=keys.citizen_requests_pk(r.nik_hash), GSI3SK=keys.queue_sk(r.created_at, r.id),
    )
    level = current_level(r.sla, r.due_at)
    item.sla = {"for": r.due_at, "level": level}
    if r.status in OPEN_STATUSES:
        # Sparse index keyed by the *next* SLA checkpoint (reminder, due, twice due): the 15-minute sweep
        # Queries GSI4SK <= now and so reads only requests with something to do; once the admin has
        # been told there is nothing left to do and the request leaves the index.
        at = next_checkpoint(level, checkpoints(r.due_at, r.sla_hours, r.village))
        if at is not None:
            item.GSI4PK = keys.due_pk(r.kabupaten)
            item.GSI4SK = keys.due_sk(iso(at), r.id)
    return item


def _plain(value: Any) -> Any:
    """PynamoDB raw maps hold Decimals; turn them back into ints/floats for JSON."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value.__class__.__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


def _from_item(item: RequestItem) -> ServiceRequest:
    return ServiceRequest(
        id=item.id, village=item.village, kecamatan=item.kecamatan, kabupaten=item.kabupaten,
        letter_type=item.letter_type, letter_name=item.letter_name, status=item.status,
        version=int(item.version), tracking_code=item.tracking_code, nik_hash=item.nik_hash,
        fields=_plain(item.fields) or {}, applicant=_plain(item.applicant) or {},
        sla_hours=int(item.sla_hours), created_at=item.created_at, updated_at=item.updated_at,
        due_at=item.due_at, contact_phone=item.contact_phone, signer_role=item.signer_role or "kades",
        letter=_plain(item.letter) if item.letter is not None else None,
        sla=_plain(item.sla) if item.sla is not None else None,
        issue_order=_plain(item.issue_order) if item.issue_order is not None else None,
        attachments=_plain(item.attachments) or {} if item.attachments is not None else {},
        identity_verified=bool(item.identity_verified),
        identity_check=_plain(item.identity_check) if item.identity_check is not None else None,
    )


def _event_item(request_id: str, e: HistoryEntry, sk: str | None = None) -> EventItem:
    return EventItem(keys.request_pk(request_id), sk or keys.event_sk(e.at, e.version), entity="event",
                     at=e.at, actor=e.actor, actor_role=e.actor_role, action=e.action,
                     from_status=e.from_status, to_status=e.to_status, note=e.note, version=e.version,
                     details=e.details)


def append_event(request_id: str, entry: HistoryEntry, entry_id: str) -> None:
    """Add an audit event that changes nothing else (a letter download): its own key, never overwritten."""
    item = _event_item(request_id, entry, keys.download_event_sk(entry.at, entry.version, entry_id))
    try:
        item.save(condition=EventItem.SK.does_not_exist())
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def outbox_item(row: dict[str, Any], outbox_id: str, village: str, created_at: str) -> OutboxItem:
    return OutboxItem(
        keys.outbox_pk(outbox_id), keys.META, entity="outbox", id=outbox_id, event=row["event"],
        audience=row["audience"], village=village, request_id=row["payload"].get("request_id"),
        payload=row["payload"], status="pending", attempts=0, created_at=created_at,
        next_try_at=created_at, kabupaten=kabupaten_of(village),
        GSI2PK=keys.outbox_status_pk(village, "pending"), GSI2SK=f"{created_at}#{outbox_id}",
        # Safety net: if the stream handler has not sent the row after a grace period, the retry
        # schedule finds it here (workers/outbox.py); the stream normally sends within seconds.
        GSI3PK=keys.outbox_retry_pk(kabupaten_of(village)),
        GSI3SK=keys.outbox_retry_sk(iso(parse_iso(created_at) + OUTBOX_GRACE), outbox_id),
    )


def create(request: ServiceRequest, outbox: list[OutboxItem], guard: IdempotencyGuard | None) -> None:
    """Write the request, its first event, tracking code, outbox rows and idempotency guard atomically."""
    connection = transaction_connection()
    try:
        with TransactWrite(connection=connection, client_request_token=_token()) as tw:
            tw.save(_to_item(request), condition=RequestItem.PK.does_not_exist())
            for entry in request.history:
                tw.save(_event_item(request.id, entry))
            tw.save(TrackingItem(keys.tracking_pk(request.tracking_code), keys.META, entity="tracking",
                                 request_id=request.id), condition=TrackingItem.PK.does_not_exist())
            if guard is not None:
                tw.save(IdempotencyItem(keys.idempotency_pk(guard.subject, guard.key), keys.META,
                                        entity="idempotency", request_id=request.id,
                                        payload_hash=guard.payload_hash, expires_at=guard.expires_at),
                        condition=IdempotencyItem.PK.does_not_exist())
            for row in outbox:
                tw.save(row, condition=OutboxItem.PK.does_not_exist())
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in exc.cancellation_reasons]
        tracking_index = 1 + len(request.history)
        if guard is not None and len(reasons) > tracking_index + 1 and \
                reasons[tracking_index + 1] == "ConditionalCheckFailed":
            existing = get_idempotency(guard.subject, guard.key)
            if existing is not None:
                raise IdempotentReplay(existing[0], existing[1]) from exc
        if len(reasons) > tracking_index and reasons[tracking_index] == "ConditionalCheckFailed":
            raise TrackingCodeTaken() from exc
        raise translate_errors(exc) from exc


def get_idempotency(subject: str, key: str) -> tuple[str, str] | None:
    try:
        item = IdempotencyItem.get(keys.idempotency_pk(subject, key), keys.META, consistent_read=True)
    except DoesNotExist:
        return None
    return item.request_id, item.payload_hash


def get(request_id: str, consistent: bool = True) -> ServiceRequest | None:
    """The request with its history, in one Query of its partition."""
    request: ServiceRequest | None = None
    history: list[HistoryEntry] = []
    for raw in query_partition(keys.request_pk(request_id), consistent):
        sk = raw["SK"]["S"]
        if sk == keys.META:
            request = _from_item(RequestItem.from_raw_data(raw))
        elif sk.startswith("EVENT#"):
            ev = EventItem.from_raw_data(raw)
            history.append(HistoryEntry(ev.at, ev.actor, ev.actor_role, ev.action, ev.from_status,
                                        ev.to_status, ev.note, int(ev.version),
                                        _plain(ev.details) if ev.details is not None else None))
    if request is not None:
        request.history = history
    return request


def transition(before: ServiceRequest, after: ServiceRequest, event: HistoryEntry,
               outbox: list[OutboxItem], extra: ExtraOps | None = None) -> None:
    """Write the new state only if nobody changed it since `before` (version check), atomically
    with its audit event and outbox rows. Raises ConflictError(stale_version) otherwise."""
    connection = transaction_connection()
    item = _to_item(after)
    try:
        with TransactWrite(connection=connection, client_request_token=_token()) as tw:
            tw.save(item, condition=(RequestItem.version == before.version) & (RequestItem.status == before.status))
            tw.save(_event_item(after.id, event), condition=EventItem.SK.does_not_exist())
            for row in outbox:
                tw.save(row, condition=OutboxItem.PK.does_not_exist())
            if extra is not None:
                extra(tw)
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in exc.cancellation_reasons]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise ConflictError("Permohonan telah diubah oleh orang lain; muat ulang dan coba lagi.",
                                code="stale_version") from exc
        raise translate_errors(exc) from exc


@dataclass(frozen=True)
class Change:
    """One request's transition inside a multi-request transaction (transition_many)."""

    before: ServiceRequest
    after: ServiceRequest
    event: HistoryEntry
    outbox: list[OutboxItem]


def transition_many(changes: list[Change], extra: ExtraOps | None = None) -> None:
    """Several requests' transitions (each version-checked, with its event and outbox rows) and `extra` in one
    transaction: all or nothing. Raises ConflictError(stale_version) if any request or condition moved."""
    connection = transaction_connection()
    try:
        with TransactWrite(connection=connection, client_request_token=_token()) as tw:
            for c in changes:
                tw.save(_to_item(c.after), condition=(RequestItem.version == c.before.version)
                        & (RequestItem.status == c.before.status))
                tw.save(_event_item(c.after.id, c.event), condition=EventItem.SK.does_not_exist())
                for row in c.outbox:
                    tw.save(row, condition=OutboxItem.PK.does_not_exist())
            if extra is not None:
                extra(tw)
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in exc.cancellation_reasons]
        if "ConditionalCheckFailed" in reasons:
            raise ConflictError("Permohonan telah diubah oleh orang lain; muat ulang dan coba lagi.",
                                code="stale_version") from exc
        raise translate_errors(exc) from exc


def _encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


# The keys a page cursor of each index may hold: the index's keys and the table's (a LastEvaluatedKey).
_CURSOR_KEYS = {"GSI1PK": {"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI2PK": {"PK", "SK", "GSI2PK", "GSI2SK"},
                "GSI3PK": {"PK", "SK", "GSI3PK", "GSI3SK"}}


def _decode_cursor(cursor: str | None, expected_pk: str, pk_name: str) -> dict[str, Any] | None:
    """A cursor is handed back by the client, so it is checked like any input: the exact key names
    of its index, each a short string, and the partition of the list being read; else 400."""
    if not cursor:
        return None
    try:
        if len(cursor) > 1024 or not cursor.isascii():
            raise ValueError("cursor too long")
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(data, dict) or set(data) != _CURSOR_KEYS[pk_name]:
            raise ValueError("cursor of another index")
        for value in data.values():
            if (not isinstance(value, dict) or list(value) != ["S"] or not isinstance(value["S"], str)
                    or not 0 < len(value["S"]) <= 256):
                raise ValueError("cursor key is not a string")
        if data[pk_name]["S"] != expected_pk:
            raise ValueError("cursor of another list")
        return dict(data)
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ValidationError("Kursor halaman tidak valid.", code="invalid_cursor") from None


def _page(index: Any, pk_name: str, pk: str, limit: int, cursor: str | None) -> tuple[list[ServiceRequest], str | None]:
    results = index.query(pk, scan_index_forward=False, limit=limit,
                          last_evaluated_key=_decode_cursor(cursor, pk, pk_name))
    items = [_from_item(item) for item in results]
    return items, _encode_cursor(results.last_evaluated_key)


Page = tuple[list[ServiceRequest], str | None]


def list_village(village: str, status: str | None, limit: int, cursor: str | None) -> Page:
    if status:
        return _page(RequestItem.gsi2, "GSI2PK", keys.village_status_pk(village, status), limit, cursor)
    return _page(RequestItem.gsi1, "GSI1PK", keys.village_queue_pk(village), limit, cursor)


def list_citizen(nik_hash: str, limit: int, cursor: str | None) -> Page:
    return _page(RequestItem.gsi3, "GSI3PK", keys.citizen_requests_pk(nik_hash), limit, cursor)


def id_for_tracking_code(code: str) -> str | None:
    try:
        return TrackingItem.get(keys.tracking_pk(code), keys.META).request_id
    except DoesNotExist:
        return None


# Public names the other repositories use (complaints), until the shared storage codec module takes them over.
plain = _plain
encode_cursor = _encode_cursor
decode_cursor = _decode_cursor

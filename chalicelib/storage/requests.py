"""Repository of service requests: reads (with history), queues, tracking. Writes go through the unit of work
(storage/unit_of_work.py: CreateRequest, ChangeRequest, PutEvent, PutOutbox), except a lone audit event."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.storage import codec, keys
from chalicelib.storage.connection import query_partition, translate_errors
from chalicelib.storage.models import EventItem, IdempotencyItem, RequestItem, TrackingItem


def append_event(request_id: str, entry: HistoryEntry, entry_id: str) -> None:
    """Add an audit event that changes nothing else (a letter download): its own key, never overwritten."""
    item = codec.event_item(request_id, entry, keys.download_event_sk(entry.at, entry.version, entry_id))
    try:
        item.save(condition=EventItem.SK.does_not_exist())
    except PynamoDBException as exc:
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
            request = codec.request_from_item(RequestItem.from_raw_data(raw))
        elif sk.startswith("EVENT#"):
            history.append(codec.history_entry(EventItem.from_raw_data(raw)))
    if request is not None:
        request.history = history
    return request


Page = codec.Page[ServiceRequest]


def list_village(village: str, status: str | None, limit: int, cursor: str | None) -> Page:
    if status:
        return codec.page(RequestItem.gsi2, "GSI2PK", keys.village_status_pk(village, status), limit, cursor,
                          codec.request_from_item)
    return codec.page(RequestItem.gsi1, "GSI1PK", keys.village_queue_pk(village), limit, cursor,
                      codec.request_from_item)


def list_citizen(nik_hash: str, limit: int, cursor: str | None) -> Page:
    return codec.page(RequestItem.gsi3, "GSI3PK", keys.citizen_requests_pk(nik_hash), limit, cursor,
                      codec.request_from_item)


def citizen_has_any(nik_hash: str) -> bool:
    """True when the citizen has asked for a letter before: one Query of her keys-only index entries, limit 1."""
    try:
        return any(True for _ in RequestItem.gsi3.query(keys.citizen_requests_pk(nik_hash), limit=1))
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def id_for_tracking_code(code: str) -> str | None:
    try:
        return TrackingItem.get(keys.tracking_pk(code), keys.META).request_id
    except DoesNotExist:
        return None


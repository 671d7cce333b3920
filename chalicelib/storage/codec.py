"""Item encoding shared by the repositories: plain values, requests, audit events, page cursors and paging,
and the table stream's records as the workers receive them."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

from chalicelib.domain.attachments import attachment_file_key
from chalicelib.domain.clock import iso
from chalicelib.domain.escalation import checkpoints, current_level, next_checkpoint
from chalicelib.domain.regions import kabupaten_of, kecamatan_of
from chalicelib.domain.requests import OPEN_STATUSES, HistoryEntry, ServiceRequest
from chalicelib.errors import ValidationError
from chalicelib.storage import keys
from chalicelib.storage.models import EventItem, RequestItem

T = TypeVar("T")
Page = tuple[list[T], str | None]


def plain(value: Any) -> Any:
    """PynamoDB raw maps hold Decimals; turn them back into ints/floats for JSON."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value.__class__.__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


# ---------------------------------------------------------------------------------------------- requests


def request_item(r: ServiceRequest) -> RequestItem:
    """The request's META item with its queue, status, citizen and SLA-checkpoint index keys. What its key or
    its village's code already says (id, kecamatan, kabupaten) is left out: every transition rewrites the item,
    and the issued request is kept for good; items written before 2026-12 keep them and read the same."""
    item = RequestItem(
        keys.request_pk(r.id), keys.META, entity="request",
        village=r.village,
        kecamatan=None if r.kecamatan == kecamatan_of(r.village) else r.kecamatan,
        kabupaten=None if r.kabupaten == kabupaten_of(r.village) else r.kabupaten,
        letter_type=r.letter_type, letter_name=r.letter_name, status=r.status, version=r.version,
        tracking_code=r.tracking_code, nik_hash=r.nik_hash, contact_phone=r.contact_phone,
        signer_role=r.signer_role,
        fields=r.fields, applicant=r.applicant, sla_hours=r.sla_hours, created_at=r.created_at,
        updated_at=r.updated_at, due_at=r.due_at, letter=r.letter, issue_order=r.issue_order,
        attachments=_stored_attachments(r.village, r.attachments) or None,
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


def request_from_item(item: RequestItem) -> ServiceRequest:
    """The request (without its history, which lives in its event items)."""
    return ServiceRequest(
        id=item.id or keys.request_id_of(item.PK), village=item.village,
        kecamatan=item.kecamatan or kecamatan_of(item.village), kabupaten=item.kabupaten or kabupaten_of(item.village),
        letter_type=item.letter_type, letter_name=item.letter_name, status=item.status,
        version=int(item.version), tracking_code=item.tracking_code, nik_hash=item.nik_hash,
        fields=plain(item.fields) or {}, applicant=plain(item.applicant) or {},
        sla_hours=int(item.sla_hours), created_at=item.created_at, updated_at=item.updated_at,
        due_at=item.due_at, contact_phone=item.contact_phone, signer_role=item.signer_role or "kades",
        letter=plain(item.letter) if item.letter is not None else None,
        sla=plain(item.sla) if item.sla is not None else None,
        issue_order=plain(item.issue_order) if item.issue_order is not None else None,
        attachments=_read_attachments(item.village, plain(item.attachments) or {}),
        identity_verified=bool(item.identity_verified),
        identity_check=plain(item.identity_check) if item.identity_check is not None else None,
    )


def _stored_attachments(village: str, attachments: Mapping[str, Any]) -> dict[str, Any]:
    """The request's attachments as kept: without the name their key already is, and without the file's key
    when it is the one derived from the upload (every upload since uploads land at their final key; an older
    upload copied out of `uploads/` keeps its own). ~60 B less an attachment, rewritten by every transition."""
    stored: dict[str, Any] = {}
    for name, data in attachments.items():
        kept = {k: v for k, v in data.items() if not (k == "name" and v == name)}
        if kept.get("file_key") == attachment_file_key(village, str(kept.get("upload_id") or "")):
            del kept["file_key"]
        stored[name] = kept
    return stored


def _read_attachments(village: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The attachments as the domain knows them (Attachment.to_dict()), whichever shape they were stored in."""
    full: dict[str, Any] = {}
    for name, data in stored.items():
        entry = {"name": name, **data}
        entry.setdefault("file_key", attachment_file_key(village, str(data.get("upload_id") or "")))
        full[name] = entry
    return full


def sla_level_actions(request: ServiceRequest, level: int, next_at: datetime | None) -> list[Any]:
    """The update recording an SLA level reached; the request leaves the checkpoint index when nothing is left."""
    actions: list[Any] = [RequestItem.sla.set({"for": request.due_at, "level": level})]
    if next_at is None:
        actions += [RequestItem.GSI4PK.remove(), RequestItem.GSI4SK.remove()]
    else:
        actions.append(RequestItem.GSI4SK.set(keys.due_sk(iso(next_at), request.id)))
    return actions


def unchanged(request: ServiceRequest) -> Any:
    """Condition: the request is still at the version and status it was read with."""
    return (RequestItem.version == request.version) & (RequestItem.status == request.status)


# ---------------------------------------------------------------------------------------------- audit events


def event_item(request_id: str, e: HistoryEntry, sk: str | None = None) -> EventItem:
    """A request's audit event, keyed by time and version (or `sk`) in the request's partition."""
    return EventItem(keys.request_pk(request_id), sk or keys.event_sk(e.at, e.version), entity="event",
                     actor=e.actor, actor_role=e.actor_role, action=e.action,
                     from_status=e.from_status, to_status=e.to_status, note=e.note, details=e.details)


def history_entry(ev: EventItem) -> HistoryEntry:
    """An audit event as the history shows it; its time and version from its sort key (an event written before
    issue 14 also carries them as attributes: the same values)."""
    at, version = keys.event_time_and_version(ev.SK)
    return HistoryEntry(ev.at or at, ev.actor, ev.actor_role, ev.action, ev.from_status, ev.to_status, ev.note,
                        version, plain(ev.details) if ev.details is not None else None)


# ---------------------------------------------------------------------------------------------- page cursors


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


# The keys a page cursor of each index may hold: the index's keys and the table's (a LastEvaluatedKey).
CURSOR_KEYS = {"GSI1PK": {"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI2PK": {"PK", "SK", "GSI2PK", "GSI2SK"},
               "GSI3PK": {"PK", "SK", "GSI3PK", "GSI3SK"}}


# What encode_cursor() produces: URL-safe base64 with its padding and nothing else (base64 decoding would
# otherwise skip a trailing newline or stray characters and accept a look-alike).
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def decode_cursor(cursor: str | None, expected_pk: str, pk_name: str) -> dict[str, Any] | None:
    """A cursor is handed back by the client, so it is checked like any input: the exact key names
    of its index, each a short string, and the partition of the list being read; else 400."""
    if not cursor:
        return None
    try:
        if len(cursor) > 1024 or not _CURSOR_TEXT.fullmatch(cursor):
            raise ValueError("cursor too long or not URL-safe base64 (a newline, a space, another alphabet)")
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(data, dict) or set(data) != CURSOR_KEYS[pk_name]:
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


def page(index: Any, pk_name: str, pk: str, limit: int, cursor: str | None, decode: Callable[[Any], T], *,
         newest_first: bool = True) -> Page[T]:
    """One page of a GSI partition (a Query on a known key) and the cursor of the next page (None at the end).

    `index` is the model's GlobalSecondaryIndex whose hash key is `pk_name`; the client's cursor is checked
    (decode_cursor) before it reaches DynamoDB. From a KEYS_ONLY index the page's items are then read by their
    keys (one BatchGetItem), in the index's order, leaving out an item that has left the list since."""
    results = index.query(pk, scan_index_forward=not newest_first, limit=limit,
                          last_evaluated_key=decode_cursor(cursor, pk, pk_name))
    found = list(results)
    if keys_only(index):
        found = full_items(found, still_in=(pk_name, pk))
    return [decode(item) for item in found], encode_cursor(results.last_evaluated_key)


def indexed_items(index: Any, pk: str, *args: Any, attributes: list[str] | None = None, **kwargs: Any) -> list[Any]:
    """Every item a Query on `index` lists (same arguments as index.query), read by key from a KEYS_ONLY
    index (codec.full_items; only `attributes` when given), leaving out an item that has left the partition
    since the index was read."""
    found = list(index.query(pk, *args, **kwargs))
    if not keys_only(index):
        return found
    return full_items(found, still_in=(_hash_key_name(index), pk), attributes=attributes)


def indexed_chunks(index: Any, pk: str, *args: Any, size: int = 100, **kwargs: Any) -> Iterator[list[Any]]:
    """The items a Query on a KEYS_ONLY `index` lists, `size` keys at a time (at most 100, one BatchGetItem each),
    read by key as codec.full_items does: for walks that filter or stop early, where reading every item first
    would be waste."""
    chunk: list[Any] = []
    for entry in index.query(pk, *args, page_size=size, **kwargs):
        chunk.append(entry)
        if len(chunk) == size:
            yield full_items(chunk, still_in=(_hash_key_name(index), pk))
            chunk = []
    if chunk:
        yield full_items(chunk, still_in=(_hash_key_name(index), pk))


def _hash_key_name(index: Any) -> str:
    return str(index._hash_key_attribute().attr_name)


def keys_only(index: Any) -> bool:
    """True for an index that holds only the keys of its items (storage/table.py: every index)."""
    return bool(index.Meta.projection.projection_type == "KEYS_ONLY")


def full_items(entries: list[Any], still_in: tuple[str, str] | None = None,
               attributes: list[str] | None = None) -> list[Any]:
    """The items behind index entries that hold only their keys: BatchGetItem (100 keys a call, unprocessed
    keys retried by PynamoDB), returned in the entries' order; an item deleted since the index was read is left
    out, and with `still_in` (index hash key name, value) one whose index key has moved since (a request
    approved since its "submitted" page was read, a complaint hidden since the public list was read: the
    index lags the table by a moment, and the item read is the newer truth). Eventually consistent, like the
    index itself."""
    if not entries:
        return []
    model = type(entries[0])
    wanted = None if attributes is None else sorted({"PK", "SK", *attributes, *(still_in[:1] if still_in else ())})
    by_key = {(item.PK, item.SK): item
              for item in model.batch_get([(e.PK, e.SK) for e in entries], attributes_to_get=wanted)}
    found = [by_key[(e.PK, e.SK)] for e in entries if (e.PK, e.SK) in by_key]
    if still_in is not None:
        name, value = still_in
        found = [item for item in found if getattr(item, name, None) == value]
    return found


def stream_records(event: Any) -> list[Mapping[str, Any]]:
    """Raw stream records from a Chalice DynamoDBEvent, a Lambda event dict, or a list of records."""
    if hasattr(event, "to_dict"):
        event = event.to_dict()
    if isinstance(event, Mapping):
        return list(event.get("Records") or [])
    return list(event)

"""Repository of complaints (pengaduan): filing context, filing, read, transitions, lists, SLA sweep, categories.

Every write of a complaint is one TransactWriteItems of the complaint (version-checked), its audit event, its
outbox rows and the transparency counters it moves (storage.transaction: a cancellation is read by the identity
of the item refused, never by position).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, TransactGetError, TransactWriteError
from pynamodb.transactions import TransactGet

from chalicelib.domain.attachments import Upload
from chalicelib.domain.clock import iso
from chalicelib.domain.complaints import (
    ACTIVE_STATUSES,
    Category,
    Complaint,
    ComplaintConfig,
    Opd,
)
from chalicelib.domain.escalation import checkpoints, current_level, next_checkpoint
from chalicelib.domain.operations import IdempotencyGuard, UseUpload
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.regions import Region
from chalicelib.domain.requests import HistoryEntry
from chalicelib.errors import ConflictError, TooManyRequestsError
from chalicelib.storage import keys
from chalicelib.storage.codec import full_items, history_entry, page, plain
from chalicelib.storage.connection import aws_code, query_partition, transaction_connection, translate_errors
from chalicelib.storage.models import (
    CitizenItem,
    ComplaintConfigItem,
    ComplaintItem,
    EventItem,
    IdempotencyItem,
    OutboxItem,
    RegionItem,
    ThrottleItem,
    UploadItem,
)
from chalicelib.storage.outbox import outbox_item
from chalicelib.storage.people import Citizen, citizen_from_item
from chalicelib.storage.regions import from_item as region_from_item
from chalicelib.storage.stats import count_changes, image
from chalicelib.storage.transaction import Transaction, TransactionCancelled
from chalicelib.storage.uploads import add_use
from chalicelib.storage.uploads import from_item as upload_from_item

STALE_MESSAGE = "Pengaduan telah diubah oleh orang lain; muat ulang dan coba lagi."


# ---------------------------------------------------------------------------------------------- codec
def to_item(c: Complaint) -> ComplaintItem:
    item = ComplaintItem(
        keys.complaint_pk(c.id), keys.META, entity="complaint",
        id=c.id, village=c.village, kecamatan=c.kecamatan, kabupaten=c.kabupaten, village_name=c.village_name or None,
        kind=c.kind, category=c.category,
        category_name=c.category_name, title=c.title, text=c.text, lat=c.lat, lon=c.lon, photos=c.photos or None,
        public=c.public, status=c.status, unit=dict(c.unit), version=c.version, created_at=c.created_at,
        updated_at=c.updated_at, due_at=c.due_at, sla_hours=c.sla_hours, resolved_at=c.resolved_at,
        reopen_count=c.reopen_count, rating=c.rating, rating_comment=c.rating_comment, hidden=c.hidden,
        nik_hash=c.nik_hash, reporter=c.reporter or None, contact_phone=c.contact_phone,
        GSI1PK=keys.complaint_queue_pk(keys.complaint_unit_key(c.unit["type"], c.unit["code"], c.kabupaten),
                                       c.status),
        GSI1SK=keys.queue_sk(c.created_at, c.id),
        GSI3PK=keys.citizen_complaints_pk(c.nik_hash), GSI3SK=keys.queue_sk(c.created_at, c.id),
    )
    if c.public and not c.hidden:
        item.GSI2PK = keys.complaint_public_pk(c.village)
        item.GSI2SK = keys.queue_sk(c.created_at, c.id)
    level = current_level(c.sla, c.due_at)
    item.sla = {"for": c.due_at, "level": level}
    if c.status in ACTIVE_STATUSES:
        # Sparse: only complaints the unit must still act on, keyed by their next SLA checkpoint.
        at = next_checkpoint(level, checkpoints(c.due_at, c.sla_hours, c.village))
        if at is not None:
            item.GSI4PK = keys.complaint_due_pk(c.kabupaten)
            item.GSI4SK = keys.due_sk(iso(at), c.id)
    return item


def from_item(item: ComplaintItem) -> Complaint:
    return Complaint(
        id=item.id, village=item.village, kecamatan=item.kecamatan, kabupaten=item.kabupaten, kind=item.kind,
        category=item.category, category_name=item.category_name or item.category, title=item.title,
        text=item.text, public=bool(item.public), status=item.status, unit=plain(item.unit),
        version=int(item.version), created_at=item.created_at, updated_at=item.updated_at, due_at=item.due_at,
        sla_hours=int(item.sla_hours), nik_hash=item.nik_hash, village_name=item.village_name or "",
        lat=float(item.lat) if item.lat is not None else None, lon=float(item.lon) if item.lon is not None else None,
        photos=plain(item.photos) or [], resolved_at=item.resolved_at, reopen_count=int(item.reopen_count or 0),
        rating=int(item.rating) if item.rating is not None else None, rating_comment=item.rating_comment,
        hidden=bool(item.hidden), reporter=plain(item.reporter) or {}, contact_phone=item.contact_phone,
        sla=plain(item.sla) if item.sla is not None else None,
    )


def from_image(image: dict[str, Any]) -> Complaint:
    """A complaint from a stream record's NewImage (DynamoDB JSON): for the stream consumers."""
    return from_item(ComplaintItem.from_raw_data(image))


def event_item(complaint_id: str, e: HistoryEntry) -> EventItem:
    return EventItem(keys.complaint_pk(complaint_id), keys.event_sk(e.at, e.version), entity="complaint_event",
                     actor=e.actor, actor_role=e.actor_role, action=e.action, from_status=e.from_status,
                     to_status=e.to_status, note=e.note, details=e.details)


# ---------------------------------------------------------------------------------------------- filing
@dataclass
class FilingContext:
    village: Region | None
    config: ComplaintConfig | None
    citizen: Citizen | None
    uploads: dict[str, Upload] = field(default_factory=dict)


def load_filing_context(village_code: str, kabupaten: str, nik_hash: str,
                        upload_ids: tuple[str, ...] = ()) -> FilingContext:
    """The village, its kabupaten's categories, the citizen's profile and the named photo uploads: one
    TransactGetItems."""
    try:
        with TransactGet(connection=transaction_connection()) as tg:
            village_f = tg.get(RegionItem, keys.region_pk(village_code), keys.META)
            config_f = tg.get(ComplaintConfigItem, keys.complaint_config_pk(kabupaten), keys.META)
            citizen_f = tg.get(CitizenItem, keys.citizen_pk(nik_hash), keys.PROFILE)
            upload_fs = {uid: tg.get(UploadItem, keys.upload_pk(uid), keys.META) for uid in upload_ids}
    except TransactGetError as exc:
        raise translate_errors(exc) from exc
    context = FilingContext(None, None, None)
    try:
        context.village = region_from_item(village_f.get())
    except DoesNotExist:
        pass
    try:
        context.config = config_from_item(config_f.get())
    except DoesNotExist:
        pass
    try:
        context.citizen = citizen_from_item(citizen_f.get(), nik_hash)
    except DoesNotExist:
        pass
    for uid, future in upload_fs.items():
        try:
            context.uploads[uid] = upload_from_item(future.get())
        except DoesNotExist:
            continue
    return context


@dataclass(frozen=True)
class DailyLimit:
    """The citizen's counter for the local day: filing adds one if it is still below `limit`."""

    nik_hash: str
    local_date: str
    limit: int
    expires_at: datetime


def _add_event_and_outbox(tx: Transaction, complaint_id: str, event: HistoryEntry | None,
                          outbox: list[OutboxMessage]) -> None:
    """The audit event (never overwritten) and the outbox rows (new ids only) every complaint change writes."""
    if event is not None:
        tx.put(event_item(complaint_id, event), "event", EventItem.SK.does_not_exist())
    for message in outbox:
        tx.put(outbox_item(message), "outbox", OutboxItem.PK.does_not_exist())


class IdempotentReplay(Exception):
    """A filing with this Idempotency-Key exists already."""

    def __init__(self, complaint_id: str, payload_hash: str) -> None:
        super().__init__(complaint_id)
        self.complaint_id = complaint_id
        self.payload_hash = payload_hash


def create(complaint: Complaint, outbox: list[OutboxMessage], guard: IdempotencyGuard | None,
           daily: DailyLimit, uses: Sequence[UseUpload] = ()) -> None:
    """Write the complaint, its first event, the daily counter, the idempotency guard, the outbox rows and the marks
    on the photo uploads it uses in one transaction. Raises IdempotentReplay, TooManyRequestsError
    (complaint_daily_limit), ConflictError (upload_used: a photo already used or expired)."""
    tx = Transaction()
    item = to_item(complaint)
    tx.put(item, "complaint", ComplaintItem.PK.does_not_exist())
    count_changes(tx, [("complaint", None, image(item))])
    for entry in complaint.history:
        _add_event_and_outbox(tx, complaint.id, entry, [])
    counter = ThrottleItem(keys.complaint_daily_pk(daily.nik_hash, daily.local_date), keys.META)
    tx.update(counter, [ThrottleItem.hits.add(1), ThrottleItem.entity.set("throttle"),
                        ThrottleItem.expires_at.set(daily.expires_at)], "daily_limit",
              ThrottleItem.hits.does_not_exist() | (ThrottleItem.hits < daily.limit))
    if guard is not None:
        tx.put(IdempotencyItem(keys.complaint_idempotency_pk(guard.subject, guard.key), keys.META,
                               entity="idempotency", request_id=complaint.id, payload_hash=guard.payload_hash,
                               expires_at=guard.expires_at), "idempotency", IdempotencyItem.PK.does_not_exist())
    _add_event_and_outbox(tx, complaint.id, None, outbox)
    for use in uses:
        add_use(tx, use)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if guard is not None and exc.failed("idempotency"):
            existing = get_idempotency(guard.subject, guard.key)
            if existing is not None:
                raise IdempotentReplay(*existing) from exc
        if exc.failed("daily_limit"):
            raise TooManyRequestsError(
                f"Anda sudah mengirim {daily.limit} pengaduan hari ini; batas harian tercapai. Silakan coba lagi "
                "besok.", code="complaint_daily_limit", limit=daily.limit) from exc
        if exc.failed("upload"):
            raise ConflictError("Foto sudah dipakai atau sudah kedaluwarsa; unggah ulang fotonya.",
                                code="upload_used") from exc
        raise translate_errors(exc.cause) from exc
    except TransactWriteError as exc:
        raise translate_errors(exc) from exc


def get_idempotency(subject: str, key: str) -> tuple[str, str] | None:
    try:
        item = IdempotencyItem.get(keys.complaint_idempotency_pk(subject, key), keys.META, consistent_read=True)
    except DoesNotExist:
        return None
    return item.request_id, item.payload_hash


# ---------------------------------------------------------------------------------------------- read, change
def get(complaint_id: str, consistent: bool = True) -> Complaint | None:
    """The complaint with its history, in one Query of its partition."""
    complaint: Complaint | None = None
    history: list[HistoryEntry] = []
    for raw in query_partition(keys.complaint_pk(complaint_id), consistent):
        sk = raw["SK"]["S"]
        if sk == keys.META:
            complaint = from_item(ComplaintItem.from_raw_data(raw))
        elif sk.startswith("EVENT#"):
            history.append(history_entry(EventItem.from_raw_data(raw)))
    if complaint is not None:
        complaint.history = history
    return complaint


def transition(before: Complaint, after: Complaint, event: HistoryEntry, outbox: list[OutboxMessage]) -> None:
    """Write the new state only if nobody changed it since `before`, atomically with its audit event and outbox
    rows. Raises ConflictError(stale_version)."""
    tx = Transaction()
    item = to_item(after)
    tx.put(item, "complaint_version",
           (ComplaintItem.version == before.version) & (ComplaintItem.status == before.status))
    count_changes(tx, [("complaint", image(to_item(before)), image(item))])
    _add_event_and_outbox(tx, after.id, event, outbox)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed("complaint_version"):
            raise ConflictError(STALE_MESSAGE, code="stale_version") from exc
        raise translate_errors(exc.cause) from exc
    except TransactWriteError as exc:
        raise translate_errors(exc) from exc


Page = tuple[list[Complaint], str | None]


def _page(index: Any, pk_name: str, pk: str, limit: int, cursor: str | None) -> Page:
    try:
        return page(index, pk_name, pk, limit, cursor, from_item)
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def list_unit(unit_type: str, unit_code: str, kabupaten: str, status: str, limit: int, cursor: str | None) -> Page:
    """A unit's queue in one status, newest first: one Query per page."""
    pk = keys.complaint_queue_pk(keys.complaint_unit_key(unit_type, unit_code, kabupaten), status)
    return _page(ComplaintItem.gsi1, "GSI1PK", pk, limit, cursor)


def list_public(village: str, limit: int, cursor: str | None) -> Page:
    """A village's public, visible complaints, newest first: one Query per page."""
    return _page(ComplaintItem.gsi2, "GSI2PK", keys.complaint_public_pk(village), limit, cursor)


def list_citizen(nik_hash: str, limit: int, cursor: str | None) -> Page:
    return _page(ComplaintItem.gsi3, "GSI3PK", keys.citizen_complaints_pk(nik_hash), limit, cursor)


# ---------------------------------------------------------------------------------------------- SLA sweep
def due(kabupaten: str, now: datetime, limit: int = 1000) -> Iterator[Complaint]:
    """Active complaints whose next SLA checkpoint is at or before `now` (one Query on the sparse GSI4)."""
    results = ComplaintItem.gsi4.query(keys.complaint_due_pk(kabupaten),
                                       ComplaintItem.GSI4SK <= keys.time_upper_bound(iso(now)), limit=limit)
    for item in full_items(list(results)):  # GSI4 holds only keys
        yield from_item(item)


def _sla_actions(complaint: Complaint, level: int, next_at: datetime | None) -> list[Any]:
    actions: list[Any] = [ComplaintItem.sla.set({"for": complaint.due_at, "level": level})]
    if next_at is None:
        actions += [ComplaintItem.GSI4PK.remove(), ComplaintItem.GSI4SK.remove()]
    else:
        actions.append(ComplaintItem.GSI4SK.set(keys.due_sk(iso(next_at), complaint.id)))
    return actions


def _unchanged(complaint: Complaint) -> Any:
    return (ComplaintItem.version == complaint.version) & (ComplaintItem.status == complaint.status)


def escalate(complaint: Complaint, level: int, next_at: datetime | None, event: HistoryEntry,
             outbox: list[OutboxMessage]) -> str:
    """Record the SLA level reached, its audit event and its outbox rows in one transaction: "done"; "stale" when
    the complaint changed since it was read; "repaired" when this level's rows existed already (nobody is told
    twice: the rows' ids are deterministic)."""
    tx = Transaction()
    tx.update(ComplaintItem(keys.complaint_pk(complaint.id), keys.META), _sla_actions(complaint, level, next_at),
              "complaint_version", _unchanged(complaint))
    _add_event_and_outbox(tx, complaint.id, event, outbox)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed("complaint_version"):
            return "stale"
        if exc.failures:
            set_level(complaint, level, next_at)
            return "repaired"
        raise translate_errors(exc.cause) from exc
    except TransactWriteError as exc:
        raise translate_errors(exc) from exc
    return "done"


def set_level(complaint: Complaint, level: int, next_at: datetime | None) -> bool:
    """Move the complaint's checkpoint without telling anyone."""
    from pynamodb.exceptions import UpdateError

    try:
        ComplaintItem(keys.complaint_pk(complaint.id), keys.META).update(
            actions=_sla_actions(complaint, level, next_at), condition=_unchanged(complaint))
        return True
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


# ---------------------------------------------------------------------------------------------- categories
def config_from_item(item: ComplaintConfigItem) -> ComplaintConfig:
    opds = tuple(Opd(str(o["code"]), str(o["name"])) for o in plain(item.opds) or [])
    categories = tuple(Category(str(c["code"]), str(c["name"]), str(c["routes_to"]), int(c["sla_hours"]))
                       for c in plain(item.categories) or [])
    return ComplaintConfig(item.kabupaten, opds, categories, int(item.version or 1), item.updated_at)


def get_config(kabupaten: str, consistent: bool = False) -> ComplaintConfig | None:
    try:
        return config_from_item(ComplaintConfigItem.get(keys.complaint_config_pk(kabupaten), keys.META,
                                                        consistent_read=consistent))
    except DoesNotExist:
        return None


def put_config(config: ComplaintConfig, expected_version: int | None, actor: str) -> None:
    """Store a kabupaten's categories if the stored version is `expected_version` (None: only if absent).
    Raises ConflictError(stale_version)."""
    item = ComplaintConfigItem(
        keys.complaint_config_pk(config.kabupaten), keys.META, entity="complaint_config",
        kabupaten=config.kabupaten, opds=[o.to_dict() for o in config.opds],
        categories=[c.to_dict() for c in config.categories], version=config.version,
        updated_at=config.updated_at, updated_by=actor)
    condition = (ComplaintConfigItem.PK.does_not_exist() if expected_version is None
                 else ComplaintConfigItem.version == expected_version)
    try:
        item.save(condition=condition)
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise ConflictError("Pengaturan kategori telah diubah oleh orang lain; muat ulang dan coba lagi.",
                                code="stale_version") from exc
        raise translate_errors(exc) from exc

"""Open311 reads and partner keys: a village's public complaints in a time window (index pages, items by key), public
complaints by id (one BatchGetItem), and partner API keys (put, get by id, list per kabupaten, revoke)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    PynamoDBException,
    QueryError,
    TransactGetError,
    UpdateError,
)
from pynamodb.transactions import TransactGet

from chalicelib.domain.complaints import Complaint, ComplaintConfig
from chalicelib.domain.open311 import ApiKey
from chalicelib.domain.regions import Region
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.codec import indexed_chunks, indexed_items
from chalicelib.storage.complaints import config_from_item
from chalicelib.storage.complaints import from_item as complaint_from_item
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import ComplaintConfigItem, ComplaintItem, Open311KeyItem, RegionItem
from chalicelib.storage.regions import from_item as region_from_item


@dataclass(frozen=True)
class Place:
    """A village with its kecamatan and kabupaten (for the address) and the kabupaten's complaint categories."""

    village: Region | None
    kecamatan: Region | None
    kabupaten: Region | None
    config: ComplaintConfig | None


def place(village: str, kecamatan: str, kabupaten: str) -> Place:
    """The three regions and the categories in one TransactGetItems."""
    try:
        with TransactGet(connection=transaction_connection()) as tg:
            futures = [tg.get(RegionItem, keys.region_pk(code), keys.META) for code in (village, kecamatan, kabupaten)]
            config_f = tg.get(ComplaintConfigItem, keys.complaint_config_pk(kabupaten), keys.META)
    except TransactGetError as exc:
        raise translate_errors(exc) from exc
    regions: list[Region | None] = []
    for future in futures:
        try:
            regions.append(region_from_item(future.get()))
        except DoesNotExist:
            regions.append(None)
    try:
        config: ComplaintConfig | None = config_from_item(config_f.get())
    except DoesNotExist:
        config = None
    return Place(regions[0], regions[1], regions[2], config)


WINDOW_PAGE = 100  # keys per BatchGetItem (its maximum)


def public_window(village: str, start_iso: str, end_iso: str, statuses: frozenset[str], categories: frozenset[str],
                  limit: int) -> Iterator[Complaint]:
    """The village's public, visible complaints filed in [start, end], newest first, at most `limit`, from the
    sparse public index (GSI2 CPUBLIC#{desa}, sort key {created_at}#{id}, keys only): the index read a page of
    WINDOW_PAGE keys at a time, their items by key (one BatchGetItem), the status and category filters applied
    to the items (the index holds neither), an item no longer public (hidden since) left out."""
    if limit <= 0:
        return
    pk = keys.complaint_public_pk(village)
    # Without filters the first `limit` keys are the answer (barring one hidden since): read no more.
    size = WINDOW_PAGE if statuses or categories else max(1, min(WINDOW_PAGE, limit))
    try:
        left = limit
        for items in indexed_chunks(ComplaintItem.gsi2, pk,
                                    ComplaintItem.GSI2SK.between(start_iso, keys.time_upper_bound(end_iso)),
                                    size=size, scan_index_forward=False):
            for item in items:
                if (not statuses or item.status in statuses) and (not categories or item.category in categories):
                    yield complaint_from_item(item)
                    left -= 1
                    if left <= 0:
                        return
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def by_ids(ids: tuple[str, ...]) -> list[Complaint]:
    """The complaints with these ids that exist (one BatchGetItem of at most 100 keys), in the order asked."""
    found: dict[str, Complaint] = {}
    try:
        for item in ComplaintItem.batch_get([(keys.complaint_pk(i), keys.META) for i in ids]):
            complaint = complaint_from_item(item)
            found[complaint.id] = complaint
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc
    return [found[i] for i in ids if i in found]


def _from_item(item: Open311KeyItem) -> ApiKey:
    return ApiKey(key_id=item.key_id, kabupaten=item.kabupaten, partner=item.partner, key_hash=item.key_hash,
                  active=bool(item.active), created_at=item.created_at, created_by=item.created_by,
                  revoked_at=item.revoked_at, revoked_by=item.revoked_by)


def put(key: ApiKey) -> None:
    """Store a new key (its id is random: an existing one is a conflict, never overwritten)."""
    item = Open311KeyItem(keys.open311_key_pk(key.key_id), keys.META, entity="open311_key",
                          GSI1PK=keys.open311_keys_pk(key.kabupaten), GSI1SK=f"{key.created_at}#{key.key_id}",
                          key_id=key.key_id, kabupaten=key.kabupaten, partner=key.partner, key_hash=key.key_hash,
                          active=key.active, created_at=key.created_at, created_by=key.created_by)
    try:
        item.save(condition=Open311KeyItem.PK.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise ConflictError("Kunci API bentrok; silakan coba lagi.", code="key_conflict") from exc
        raise translate_errors(exc) from exc


def get(key_id: str) -> ApiKey | None:
    try:
        return _from_item(Open311KeyItem.get(keys.open311_key_pk(key_id), keys.META))
    except DoesNotExist:
        return None


def list_for(kabupaten: str, limit: int = 200) -> list[ApiKey]:
    """The kabupaten's keys, newest first (one Query: a kabupaten has a handful of partners)."""
    try:
        return [_from_item(i) for i in indexed_items(Open311KeyItem.gsi1, keys.open311_keys_pk(kabupaten),
                                                     scan_index_forward=False, limit=limit)]
    except QueryError as exc:
        raise translate_errors(exc) from exc


def revoke(key_id: str, at: str, by: str) -> ApiKey | None:
    """Mark the key revoked (once; revoking again changes nothing). None when there is no such key."""
    item = Open311KeyItem(keys.open311_key_pk(key_id), keys.META)
    try:
        item.update(actions=[Open311KeyItem.active.set(False), Open311KeyItem.revoked_at.set(at),
                             Open311KeyItem.revoked_by.set(by)],
                    condition=Open311KeyItem.PK.exists() & (Open311KeyItem.active == True))  # noqa: E712
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise translate_errors(exc) from exc
    return get(key_id)

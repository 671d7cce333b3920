"""Repository of regions and village settings."""

from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain.regions import Region
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.codec import indexed_items, plain
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import KabupatenRegistryItem, RegionItem


def from_item(item: RegionItem) -> Region:
    return Region(code=item.code, name=item.name, level=item.level, parent=item.parent,
                  active=bool(item.active), timezone=item.timezone or "Asia/Jakarta",
                  letter_types=plain(item.letter_types) or {}, settings=plain(item.settings) or {},
                  version=int(item.version or 1))


def to_item(region: Region) -> RegionItem:
    item = RegionItem(keys.region_pk(region.code), keys.META, entity="region", code=region.code,
                      name=region.name, level=region.level, parent=region.parent, active=region.active,
                      timezone=region.timezone, letter_types=region.letter_types or None,
                      settings=region.settings or None, version=region.version)
    if region.parent:
        item.GSI1PK = keys.region_children_pk(region.parent)
        item.GSI1SK = region.code
    return item


def get(code: str, consistent: bool = False) -> Region | None:
    try:
        return from_item(RegionItem.get(keys.region_pk(code), keys.META, consistent_read=consistent))
    except DoesNotExist:
        return None


def children(code: str) -> list[Region]:
    return [from_item(i) for i in indexed_items(RegionItem.gsi1, keys.region_children_pk(code))]


def put_many(regions: Iterable[Region], overwrite: bool = False) -> int:
    """Import regions in batches; existing ones keep their settings unless `overwrite`."""
    count = 0
    with RegionItem.batch_write() as batch:
        for region in regions:
            if not overwrite and get(region.code) is not None:
                continue
            batch.save(to_item(region))
            count += 1
    return count


def save(region: Region, expected_version: int) -> Region:
    """Write a region's changed settings if nobody else changed it meanwhile (409 otherwise)."""
    item = to_item(region)
    item.version = expected_version + 1
    try:
        item.save(condition=RegionItem.version == expected_version)
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise ConflictError("Pengaturan telah diubah oleh orang lain; muat ulang dan coba lagi.",
                                code="stale_version") from exc
        raise translate_errors(exc) from exc
    region.version = expected_version + 1
    return region


def set_active(code: str, active: bool) -> None:
    try:
        RegionItem(keys.region_pk(code), keys.META).update(
            actions=[RegionItem.active.set(active), RegionItem.version.add(1)],
            condition=RegionItem.PK.exists())
    except UpdateError as exc:
        raise translate_errors(exc) from exc


def register_kabupaten(code: str, at: str) -> None:
    """Add a kabupaten to the registry of imported kabupaten (idempotent: a string-set ADD)."""
    item = KabupatenRegistryItem(keys.KABUPATEN_REGISTRY_PK, keys.META)
    try:
        item.update(actions=[KabupatenRegistryItem.codes.add({code}), KabupatenRegistryItem.updated_at.set(at),
                             KabupatenRegistryItem.entity.set("kabupaten_registry")])
    except UpdateError as exc:
        raise translate_errors(exc) from exc


def registered_kabupaten() -> tuple[str, ...]:
    """Every kabupaten imported into this table, sorted (one GetItem; empty before the first import)."""
    try:
        item = KabupatenRegistryItem.get(keys.KABUPATEN_REGISTRY_PK, keys.META, consistent_read=True)
    except DoesNotExist:
        return ()
    return tuple(sorted(item.codes or ()))

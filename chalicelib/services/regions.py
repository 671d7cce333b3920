"""Region use cases: public region tree, staged activation of villages, village letter catalogue."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import catalog
from chalicelib.domain.regions import ZONE_LABELS, Region, is_village, validate_code, within
from chalicelib.domain.requests import Principal
from chalicelib.errors import ForbiddenError, NotFoundError, UnauthorizedError, ValidationError
from chalicelib.observability import logger
from chalicelib.storage import regions as repo

# Who may decide who signs a village's letters (a letter type's signer_role).
SIGNER_DECIDERS = ("kades", "admin")


def _public(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "level": region.level, "active": region.active}


def get_region(code: str, siblings: bool = False) -> dict[str, Any]:
    """A region with its children; with `siblings`, also its parent's other children (the portal's form needs the
    kabupaten's kecamatan and the villages of the citizen's own kecamatan: one answer, not two). Raises
    NotFoundError."""
    validate_code(code)
    region = repo.get(code)
    if region is None:
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    answer = {**_public(region), "parent": region.parent, "timezone": region.timezone,
              "timezone_label": ZONE_LABELS.get(region.timezone, ""),
              "children": [_public(c) for c in repo.children(code)]}
    if siblings:
        answer["siblings"] = [_public(c) for c in repo.children(region.parent)] if region.parent else [_public(region)]
    return answer


def village_or_404(code: str) -> Region:
    validate_code(code)
    region = repo.get(code) if is_village(code) else None
    if region is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    return region


def letter_types(code: str, principal: Principal | None = None, include_disabled: bool = False) -> dict[str, Any]:
    """The letter types a village offers (enabled ones), with their field schemas, and the village's settings
    version (what an adjustment must name). With include_disabled, the disabled ones too: only for the staff
    who may adjust them (raises UnauthorizedError without a token, ForbiddenError/NotFoundError otherwise)."""
    if include_disabled:
        if principal is None:
            raise UnauthorizedError("Token wajib ada.", code="missing_token")
        ensure_manager(principal, code)
    village = village_or_404(code)
    items = [lt.to_dict() for lt in catalog.village_catalog(village.letter_types) if lt.enabled or include_disabled]
    return {"village": village.code, "active": village.active, "version": village.version, "items": items}


def ensure_manager(principal: Principal, village: str) -> None:
    """Village staff manage their own village; the kabupaten admin manages every village."""
    if principal.role not in ("operator", "kades", "admin"):
        raise ForbiddenError("Peran Anda tidak boleh mengubah pengaturan desa.", code="forbidden_role")
    if not within(principal.region, village):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")


def adjust_letter_type(principal: Principal, village_code: str, type_code: str, changes: dict[str, Any],
                       version: int) -> dict[str, Any]:
    """Enable, disable or adjust one letter type for one village (optimistic version check)."""
    ensure_manager(principal, village_code)
    if "signer_role" in changes and principal.role not in SIGNER_DECIDERS:
        # Who signs is the kades' (or the admin's) decision: an operator must not make themselves the signer.
        raise ForbiddenError("Hanya kepala desa/lurah atau admin kabupaten yang dapat menentukan penanda tangan.",
                             code="forbidden_signer_change")
    village = village_or_404(village_code)
    cleaned = catalog.validate_adjustment(type_code, changes)
    if not cleaned:
        raise ValidationError("Tidak ada perubahan.", code="no_changes")
    letter_types_ = dict(village.letter_types)
    letter_types_[type_code] = {**dict(letter_types_.get(type_code) or {}), **cleaned}
    village.letter_types = letter_types_
    repo.save(village, expected_version=version)
    logger.info("letter type adjusted", extra={"village": village_code, "letter_type": type_code,
                                                "changes": sorted(cleaned)})
    lt = catalog.effective_type(type_code, village.letter_types)
    assert lt is not None
    return {**lt.to_dict(with_template=True), "village_version": village.version}


def set_village_active(principal: Principal, code: str, active: bool) -> dict[str, Any]:
    """Staged roll-out: the kabupaten admin switches villages on and off."""
    if principal.role != "admin":
        raise ForbiddenError("Hanya admin kabupaten yang dapat mengaktifkan desa.", code="forbidden_role")
    if not within(principal.region, code):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    village_or_404(code)
    repo.set_active(code, active)
    logger.info("village activation", extra={"village": code, "active": active})
    return get_region(code)


def served_kabupaten() -> tuple[str, ...]:
    """The kabupaten the scheduled work (SLA sweep, outbox retries, digests) walks.

    BALAI_KABUPATEN, when a deployment sets it, restricts the work to those codes; otherwise every kabupaten
    imported into the table (the registry `import-regions` keeps: one GetItem), so a Jember stage needs no
    extra setting. An empty table logs a warning instead of silently doing nothing.
    """
    from chalicelib.config import get_settings

    configured = get_settings().kabupaten
    served = configured or repo.registered_kabupaten()
    if not served:
        logger.warning("no kabupaten imported: scheduled work has nothing to walk (run import-regions)")
    return served

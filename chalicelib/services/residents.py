"""Resident register use cases: list, read, add and edit residents, import an OpenSID export; all audited."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from chalicelib.config import get_secrets
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id
from chalicelib.domain.nik import mask_nik, nik_hash, parse_nik
from chalicelib.domain.paging import page_limit
from chalicelib.domain.regions import is_village, validate_code, within
from chalicelib.domain.requests import VILLAGE_STAFF, Principal
from chalicelib.domain.residents import (
    FIELD_COLUMNS,
    FIELDS,
    KNOWN_COLUMNS,
    ParsedRow,
    Resident,
    RowError,
    changes,
    creation_changes,
    mask_changes,
    masked_view,
    missing_for_new,
    nik_conflicts,
    normalize_field,
    parse_row,
    register_nik,
)
from chalicelib.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError
from chalicelib.observability import logger
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import residents as repo
from chalicelib.storage.residents import WRITES_PER_TRANSACTION, AuditEntry, ResidentWrite

WRITERS = ("operator", "kades", "admin")
READERS = ("operator", "kades", "camat", "admin")
MAX_REPORTED_ERRORS = 200
_RESIDENT_ID = re.compile(r"[0-9a-f]{40}")


def _scope(principal: Principal, village: str, write: bool) -> None:
    """The village's operator and kades, and the admin of its kabupaten, keep the register; the camat reads it.
    Another region's register looks missing (404)."""
    if principal.role not in READERS:
        raise ForbiddenError("Peran Anda tidak boleh melihat data penduduk.", code="forbidden_role")
    validate_code(village)
    if not is_village(village) or not within(principal.region, village) or regions_repo.get(village) is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    if write and principal.role not in WRITERS:
        raise ForbiddenError("Peran Anda tidak boleh mengubah data penduduk.", code="forbidden_role")


def sees_in_full(principal: Principal, village: str) -> bool:
    """The village's own staff see NIK, KK number and phone in full; camat and admin see them masked."""
    return principal.role in VILLAGE_STAFF and principal.region == village


def _view(principal: Principal, r: Resident) -> dict[str, Any]:
    return {"id": r.nik_hash, "village": r.village, **masked_view(r.data, r.nik, sees_in_full(principal, r.village)),
            "version": r.version, "created_at": r.created_at, "updated_at": r.updated_at, "updated_by": r.updated_by}


def _audit_view(principal: Principal, village: str, a: AuditEntry) -> dict[str, Any]:
    return {**a.to_dict(), "changes": mask_changes(a.changes, sees_in_full(principal, village))}


def list_residents(principal: Principal, village: str, limit: int | None, cursor: str | None) -> dict[str, Any]:
    """A village's residents by name, paginated. Raises ForbiddenError, NotFoundError, ValidationError."""
    _scope(principal, village, write=False)
    items, next_cursor = repo.list_by_name(village, page_limit(limit), cursor)
    return {"items": [_view(principal, r) for r in items], "next": next_cursor}


def _existing(village: str, resident_id: str) -> Resident:
    resident = repo.get(village, resident_id) if _RESIDENT_ID.fullmatch(resident_id) else None
    if resident is None:
        raise NotFoundError("Penduduk tidak ditemukan.", code="resident_not_found")
    return resident


def get_resident(principal: Principal, village: str, resident_id: str) -> dict[str, Any]:
    """One resident with its audit history (oldest first)."""
    _scope(principal, village, write=False)
    resident = _existing(village, resident_id)
    entries = repo.audit_of(village, resident.nik_hash)
    for i, entry in enumerate(entries):
        if entry.action == "create" and not entry.changes:  # stored without its values: rebuilt (_audit)
            entries[i] = replace(entry, changes=creation_changes(resident.data, [e.changes for e in entries[i + 1:]]))
    history = [_audit_view(principal, village, a) for a in entries]
    return {**_view(principal, resident), "history": history}


def _normalize(data: dict[str, Any]) -> dict[str, Any]:
    """Balai's form of each given field, or ValidationError(invalid_resident) listing every wrong one."""
    cleaned, errors = {}, []
    for name in FIELDS:
        value = data.get(name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        try:
            cleaned[name] = normalize_field(name, value)
        except ValueError as exc:
            errors.append({"field": name, "message": str(exc)})
    if errors:
        raise ValidationError("Data penduduk tidak valid.", code="invalid_resident", fields=errors)
    return cleaned


def _audit(principal: Principal, action: str, source: str, diff: dict[str, Any], version: int, nik: str,
           at: str) -> AuditEntry:
    """The audit entry of a write. A creation keeps no values: they are the resident's first version, rebuilt
    when read (domain.residents.creation_changes); storing them would double every register's bytes."""
    return AuditEntry(entry_id=new_id(), at=at, actor=principal.subject, actor_role=principal.role, action=action,
                      source=source, changes={} if action == "create" else diff, version=version,
                      nik_masked=mask_nik(nik))


def add_resident(principal: Principal, village: str, data: dict[str, Any]) -> dict[str, Any]:
    """Add one resident. Raises ValidationError(invalid_nik, invalid_resident, profile_mismatch_nik),
    ConflictError(resident_exists), ForbiddenError, NotFoundError."""
    _scope(principal, village, write=True)
    info = parse_nik(register_nik(data.get("nik")))
    cleaned = _normalize(data)
    _check_against_nik(info.nik, cleaned)
    missing = missing_for_new(cleaned)
    if missing:
        raise ValidationError("Nama dan nomor KK wajib diisi.", code="missing_field",
                              fields=[{"field": f, "message": "wajib diisi"} for f in missing])
    h = nik_hash(info.nik, get_secrets().nik_hash_key)
    at = iso(utcnow())
    resident = Resident(village=village, nik_hash=h, nik=info.nik, data=cleaned, version=1, created_at=at,
                        updated_at=at, updated_by=principal.subject)
    try:
        repo.write([ResidentWrite(resident, None, _audit(principal, "create", "manual", changes({}, cleaned), 1,
                                                         info.nik, at))])
    except ConflictError as exc:
        raise ConflictError("NIK ini sudah terdaftar di data penduduk desa ini.", code="resident_exists") from exc
    logger.info("resident added", extra={"village": village, "nik": mask_nik(info.nik)})
    return get_resident(principal, village, h)


def _check_against_nik(nik: str, data: dict[str, Any]) -> None:
    conflicts = nik_conflicts(nik, data)
    if conflicts:
        raise ValidationError("Data tidak sesuai dengan NIK.", code="profile_mismatch_nik",
                              fields=[{"field": f, "message": m} for f, m in conflicts])


def update_resident(principal: Principal, village: str, resident_id: str, data: dict[str, Any],
                    version: int) -> dict[str, Any]:
    """Change the given fields of one resident if `version` is current (null clears a field but the name and
    KK number). Raises ValidationError, ConflictError(stale_version), ForbiddenError, NotFoundError."""
    _scope(principal, village, write=True)
    before = _existing(village, resident_id)
    if version != before.version:
        raise ConflictError("Data penduduk telah diubah oleh orang lain; muat ulang dan coba lagi.",
                            code="stale_version")
    cleared = [k for k, v in data.items() if v is None and k in FIELDS]
    merged = {**before.data, **_normalize(data)}
    for k in cleared:
        merged.pop(k, None)
    _check_against_nik(before.nik, merged)
    missing = missing_for_new(merged)
    if missing:
        raise ValidationError("Nama dan nomor KK tidak boleh dikosongkan.", code="missing_field",
                              fields=[{"field": f, "message": "wajib diisi"} for f in missing])
    diff = changes(before.data, merged)
    if not diff:
        return get_resident(principal, village, resident_id)
    at = iso(utcnow())
    after = Resident(village=village, nik_hash=before.nik_hash, nik=before.nik, data=merged,
                     version=before.version + 1, created_at=before.created_at, updated_at=at,
                     updated_by=principal.subject)
    repo.write([ResidentWrite(after, before.version, _audit(principal, "update", "manual", diff, after.version,
                                                            before.nik, at))])
    logger.info("resident changed", extra={"village": village, "nik": mask_nik(before.nik), "fields": sorted(diff)})
    return get_resident(principal, village, resident_id)


# ---------------------------------------------------------------------------------------------- import


def import_file(principal: Principal, village: str, content: bytes, content_type: str | None,
                dry_run: bool = False) -> dict[str, Any]:
    """Import residents from an OpenSID export (XLSX) or a CSV with the same column names.

    All rows are checked first: if any is wrong, nothing is written and every error is reported with its row
    number, column and reason (422 import_invalid). Otherwise new residents are added and changed ones updated
    (empty cells never erase); unchanged rows write nothing, so running the same file again changes nothing.
    Residents without a NIK yet (OpenSID's `0`) are skipped and listed.
    """
    from chalicelib.adapters.spreadsheets import detect_format, read_table

    _scope(principal, village, write=True)
    fmt = detect_format(content_type, content)
    table = read_table(content, fmt)
    unknown = [c for c in table.header if c and c not in KNOWN_COLUMNS]
    if unknown:
        raise UnprocessableError(f"Kolom tidak dikenal: {', '.join(unknown[:10])}. Gunakan nama kolom ekspor OpenSID "
                                 "(nik, nama, no_kk, …).", code="unknown_column", columns=unknown[:20])
    if "nik" not in table.header:
        raise UnprocessableError("Kolom nik wajib ada.", code="missing_column", columns=["nik"])
    today = utcnow().date()
    key = get_secrets().nik_hash_key
    errors: list[RowError] = []
    skipped: list[dict[str, Any]] = []
    planned: list[tuple[ParsedRow, str, Resident | None, dict[str, Any]]] = []
    first_row_of: dict[str, int] = {}
    parsed_rows: list[ParsedRow] = []
    for number, cells in table.rows:
        raw_nik = cells.get("nik")
        if raw_nik is not None and str(raw_nik).strip().lstrip("'") == "0":
            skipped.append({"row": number, "column": "nik",
                            "reason": "penduduk tanpa NIK (0) dilewati: Balai mengenali warga dari NIK"})
            continue
        parsed = parse_row(number, cells, today)
        errors += parsed.errors
        if parsed.errors:
            continue
        if parsed.nik in first_row_of:
            errors.append(RowError(number, "nik", f"NIK sama dengan baris {first_row_of[parsed.nik]}"))
            continue
        first_row_of[parsed.nik] = number
        parsed_rows.append(parsed)
    hashes = {p.nik: nik_hash(p.nik, key) for p in parsed_rows}
    existing = repo.get_many(village, list(hashes.values())) if hashes else {}
    for parsed in parsed_rows:
        h = hashes[parsed.nik]
        before = existing.get(h)
        merged = {**(before.data if before else {}), **parsed.data}
        for f in missing_for_new(merged):
            errors.append(RowError(parsed.row, FIELD_COLUMNS[f], "wajib diisi untuk penduduk baru"))
        planned.append((parsed, h, before, merged))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise UnprocessableError(
            f"Impor dibatalkan: {len(errors)} kesalahan pada berkas; tidak ada data yang disimpan.",
            code="import_invalid", errors=[e.to_dict() for e in errors[:MAX_REPORTED_ERRORS]],
            error_count=len(errors))
    at = iso(utcnow())
    writes: list[ResidentWrite] = []
    unchanged = 0
    for parsed, h, before, merged in planned:
        diff = changes(before.data if before else {}, merged)
        if not diff:
            unchanged += 1
            continue
        version = before.version + 1 if before else 1
        resident = Resident(village=village, nik_hash=h, nik=parsed.nik, data=merged, version=version,
                            created_at=before.created_at if before else at, updated_at=at,
                            updated_by=principal.subject)
        writes.append(ResidentWrite(resident, before.version if before else None,
                                    _audit(principal, "update" if before else "create", "import", diff, version,
                                           parsed.nik, at)))
    created = sum(1 for w in writes if w.expected_version is None)
    report: dict[str, Any] = {"village": village, "format": fmt, "dry_run": dry_run, "rows": len(table.rows),
                              "created": created, "updated": len(writes) - created, "unchanged": unchanged,
                              "skipped": skipped, "failed": []}
    if dry_run:
        return report
    rows_of = {w.resident.nik_hash: first_row_of[w.resident.nik] for w in writes}
    lost: list[ResidentWrite] = []
    for start in range(0, len(writes), WRITES_PER_TRANSACTION):
        chunk = writes[start:start + WRITES_PER_TRANSACTION]
        try:
            repo.write(chunk)
        except ConflictError:
            # Someone edited one of these residents meanwhile: apply the rest one by one, report the losers.
            for w in chunk:
                try:
                    repo.write([w])
                except ConflictError:
                    lost.append(w)
    report["failed"] = [{"row": rows_of[w.resident.nik_hash], "column": "nik",
                         "reason": "diubah petugas lain saat impor berjalan; impor ulang berkas"} for w in lost]
    report["created"] -= sum(1 for w in lost if w.expected_version is None)
    report["updated"] -= sum(1 for w in lost if w.expected_version is not None)
    logger.info("residents imported", extra={"village": village, **{f"residents_{k}": report[k] for k in
                                                                     ("rows", "created", "updated", "unchanged")},
                                             "residents_failed": len(report["failed"])})
    return report


# ---------------------------------------------------------------------------------------------- citizens


def register_record(nik_hash_: str, village: str | None = None) -> Resident | None:
    """The register row of a citizen: in `village`, or the most recently changed one of any village."""
    if village is not None:
        return repo.get(village, nik_hash_)
    found = repo.registered_in(nik_hash_)
    return found[0] if found else None


def login_phones(nik_hash_: str) -> set[str]:
    """The phones the registers hold for this NIK (E.164); empty when none is known."""
    return {str(r.data["phone"]) for r in repo.registered_in(nik_hash_) if r.data.get("phone")}

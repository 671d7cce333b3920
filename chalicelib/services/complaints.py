"""Complaint use cases: file, read, list, move through the state machine, moderate; the kabupaten's categories."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.config import get_settings
from chalicelib.domain import complaints as rules
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.complaints import Complaint, ComplaintConfig
from chalicelib.domain.ids import new_id
from chalicelib.domain.nik import mask_nik
from chalicelib.domain.operations import IdempotencyGuard
from chalicelib.domain.outbox import OutboxMessage, transition_outbox
from chalicelib.domain.regions import is_village, kabupaten_of, kecamatan_of, level_of, timezone_for, validate_code
from chalicelib.domain.requests import HistoryEntry, Principal
from chalicelib.domain.sla import add_working_hours, calendar_for
from chalicelib.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError
from chalicelib.observability import logger
from chalicelib.services import attachments
from chalicelib.storage import complaints as repo

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_PAGE = 100
_NOT_FOUND = "Pengaduan tidak ditemukan."


def _not_found() -> NotFoundError:
    return NotFoundError(_NOT_FOUND, code="complaint_not_found")


def _outbox(complaint: Complaint, action: str, note: str | None, at: str) -> list[OutboxMessage]:
    rows = rules.announcements(action, complaint, note, complaint.village_name, complaint.unit.get("name", ""))
    return transition_outbox(rows, new_id(), complaint.village, at)


def _payload_hash(village: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"village": village, **body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _unit(unit: dict[str, str], config: ComplaintConfig | None, village_name: str) -> dict[str, str]:
    return {**unit, "name": rules.unit_label(unit, config, village_name)}


def _check_idempotency_key(key: str | None) -> None:
    if key is not None and not (1 <= len(key) <= 64 and key.isascii() and key.isprintable()):
        raise ValidationError("Idempotency-Key harus 1 sampai 64 karakter ASCII.", code="invalid_idempotency_key")


def _check_photo_ids(photos: Any) -> list[str]:
    if photos is None:
        return []
    if not isinstance(photos, list) or not all(
            isinstance(p, str) and 0 < len(p) <= 64 and p.isascii() and p.isalnum() for p in photos):
        raise ValidationError("photos harus berupa daftar id unggahan.", code="invalid_photo")
    if len(photos) > rules.MAX_PHOTOS:
        raise ValidationError(f"Paling banyak {rules.MAX_PHOTOS} foto.", code="too_many_photos",
                              max_photos=rules.MAX_PHOTOS)
    if len(set(photos)) != len(photos):
        raise ValidationError("Foto yang sama disebut dua kali.", code="invalid_photo")
    return list(photos)


# ---------------------------------------------------------------------------------------------- filing
def file(principal: Principal, village_code: str, body: dict[str, Any],
         idempotency_key: str | None = None) -> tuple[Complaint, bool]:
    """File a complaint or aspiration for the citizen; returns (complaint, created). A repeated Idempotency-Key
    returns the first complaint with created=False. Everything is checked before anything is written: one read
    (village, categories, profile, photo uploads) and one transaction (complaint, event, daily counter, guard,
    outbox rows). Raises ValidationError, ForbiddenError, NotFoundError, UnprocessableError,
    TooManyRequestsError(complaint_daily_limit), ConflictError."""
    if not principal.is_citizen:
        raise ForbiddenError("Hanya warga yang dapat mengajukan pengaduan.", code="forbidden_role")
    if not is_village(village_code):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    _check_idempotency_key(idempotency_key)
    kind = body.get("kind")
    if kind not in rules.KINDS:
        raise ValidationError("kind harus complaint atau aspiration.", code="invalid_kind")
    title = rules.clean_title(body.get("title"))
    text = rules.clean_text(body.get("text"))
    lat, lon = rules.check_location(body.get("lat"), body.get("lon"))
    photo_ids = _check_photo_ids(body.get("photos"))
    public = body.get("public", False)
    if not isinstance(public, bool):
        raise ValidationError("public harus true atau false.", code="invalid_public")
    category_code = body.get("category")
    if not isinstance(category_code, str):
        raise ValidationError("category wajib diisi.", code="invalid_category")
    payload_hash = _payload_hash(village_code, {"kind": kind, "category": category_code, "title": title,
                                                "text": text, "lat": lat, "lon": lon, "photos": photo_ids,
                                                "public": public})

    kabupaten = kabupaten_of(village_code)
    context = repo.load_filing_context(village_code, kabupaten, principal.subject, tuple(sorted(photo_ids)))
    village, config = context.village, context.config
    if village is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    if not village.active:
        raise UnprocessableError(f"Layanan daring belum aktif di {village.name}.", code="village_inactive")
    if config is None:
        raise UnprocessableError("Kabupaten ini belum mengatur kategori pengaduan.", code="complaints_not_configured")
    category = config.category(category_code)
    if category is None:
        raise UnprocessableError("Kategori pengaduan tidak dikenal.", code="unknown_category",
                                 allowed=[c.code for c in config.categories])
    photos, used = attachments.resolve_photos(principal, village.code, photo_ids, context.uploads)

    settings = get_settings()
    now = utcnow()
    at = iso(now)
    profile = context.citizen.profile if context.citizen else {}
    nik = context.citizen.nik if context.citizen else ""
    complaint = Complaint(
        id=new_id(), village=village.code, kecamatan=kecamatan_of(village.code), kabupaten=kabupaten, kind=kind,
        category=category.code, category_name=category.name, title=title, text=text, public=public, status="open",
        unit=_unit(category.unit(village.code), config, village.name), version=1, created_at=at, updated_at=at,
        due_at=iso(add_working_hours(now, category.sla_hours, calendar_for(village.code))),
        sla_hours=category.sla_hours,
        nik_hash=principal.subject, village_name=village.name, lat=lat, lon=lon, photos=photos,
        reporter={"name": str(profile.get("name") or ""), "nik": mask_nik(nik) if nik else ""},
        contact_phone=context.citizen.phone if context.citizen else None,
    )
    complaint.history = [HistoryEntry(at, "warga", "citizen", "file", None, "open", None, 1)]
    guard = (IdempotencyGuard(principal.subject, idempotency_key, payload_hash, now + IDEMPOTENCY_TTL)
             if idempotency_key else None)
    local_day = now.astimezone(ZoneInfo(timezone_for(kabupaten))).date().isoformat()
    daily = repo.DailyLimit(principal.subject, local_day, settings.complaint_daily_limit, now + timedelta(days=2))
    try:
        repo.create(complaint, _outbox(complaint, "file", None, at), guard, daily,
                    attachments.use_operations(principal, used, complaint.id))
    except repo.IdempotentReplay as replay:
        if replay.payload_hash != payload_hash:
            raise UnprocessableError("Idempotency-Key ini sudah dipakai untuk pengaduan lain.",
                                     code="idempotency_key_reused") from None
        first = repo.get(replay.complaint_id)
        if first is None or not rules.is_owner(principal, first):
            raise _not_found() from None
        return first, False
    logger.info("complaint filed", extra={"complaint_id": complaint.id, "village": village.code,
                                          "category": category.code, "unit": complaint.unit_key,
                                          "photos": len(photos), "public": public})
    return complaint, True


# ---------------------------------------------------------------------------------------------- reading
def get(principal: Principal | None, complaint_id: str) -> Complaint:
    """The complaint if the caller may see it in some view (owner, staff in scope, or public and not hidden)."""
    complaint = repo.get(complaint_id)
    if complaint is None or not rules.can_read(principal, complaint):
        raise _not_found()
    return complaint


def _limit(limit: int | None) -> int:
    if limit is None:
        return 20
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit harus 1 sampai {MAX_PAGE}.", code="invalid_limit")
    return limit


def _status(status: str | None) -> str:
    if status is None:
        return "open"
    if status not in rules.STATUSES:
        raise ValidationError("Status tidak dikenal.", code="invalid_status", allowed=list(rules.STATUSES))
    return status


def list_mine(principal: Principal, limit: int | None, cursor: str | None) -> repo.Page:
    if not principal.is_citizen:
        raise ForbiddenError("Hanya untuk warga.", code="forbidden_role")
    return repo.list_citizen(principal.subject, _limit(limit), cursor)


def list_village(principal: Principal, village: str, status: str | None, limit: int | None,
                 cursor: str | None) -> repo.Page:
    """The complaints the village handles, in one status: its operator/kades, the camat and the admin above it."""
    from chalicelib.domain.regions import within

    if principal.role not in ("operator", "kades", "camat", "admin"):
        raise ForbiddenError("Peran Anda tidak boleh melihat antrean ini.", code="forbidden_role")
    if not within(principal.region, village):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    return repo.list_unit("village", village, kabupaten_of(village), _status(status), _limit(limit), cursor)


def list_opd(principal: Principal, kabupaten: str, opd: str, status: str | None, limit: int | None,
             cursor: str | None) -> repo.Page:
    """An OPD's complaints in one status: its own officers and the kabupaten's admin."""
    if principal.role == "opd":
        if principal.region != kabupaten or principal.unit != opd:
            raise NotFoundError("OPD tidak ditemukan.", code="opd_not_found")
    elif principal.role == "admin":
        if principal.region != kabupaten:
            raise NotFoundError("OPD tidak ditemukan.", code="opd_not_found")
    else:
        raise ForbiddenError("Peran Anda tidak boleh melihat antrean ini.", code="forbidden_role")
    return repo.list_unit("opd", opd, kabupaten, _status(status), _limit(limit), cursor)


def list_public(village: str, limit: int | None, cursor: str | None) -> repo.Page:
    """The village's public, visible complaints, newest first (one Query per page)."""
    return repo.list_public(village, _limit(limit), cursor)


# ---------------------------------------------------------------------------------------------- changes
def transition(principal: Principal, complaint_id: str, action: str, version: Any, note: Any = None,
               rating: Any = None, unit: Any = None, target: Any = None) -> Complaint:
    """Apply one action if `version` is current: one transaction of the new state, its audit event and its outbox
    rows. Raises ValidationError, ForbiddenError, NotFoundError, ConflictError (invalid_transition, stale_version,
    reopen_window_closed, already_rated, same_unit, not_public), UnprocessableError(unknown_opd)."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError("version harus bilangan bulat ≥ 1.", code="invalid_version")
    if not isinstance(action, str):
        raise ValidationError("Aksi tidak dikenal.", code="unknown_action")
    for name, value, allowed_for in (("rating", rating, "rate"), ("unit", unit, "reroute"),
                                     ("target", target, "redact")):
        if value is not None and action != allowed_for:
            raise ValidationError(f"{name} hanya untuk aksi {allowed_for}.", code="invalid_field")
    before = repo.get(complaint_id)
    if before is None:
        raise _not_found()
    t = rules.authorize(principal, before, action)
    if version != before.version:
        raise ConflictError(repo.STALE_MESSAGE, code="stale_version")
    note = rules.check_note(note, t.note_required)
    now = utcnow()
    at = iso(now)
    target_status = t.target or before.status
    after = replace(before, status=target_status, version=rules.next_version(before.version), updated_at=at,
                    history=list(before.history), unit=dict(before.unit), photos=[dict(p) for p in before.photos])
    details: dict[str, Any] | None = None
    if action == "resolve":
        after.resolved_at = at
    elif action == "reopen":
        rules.check_reopen_window(before, now, get_settings().complaint_reopen_days)
        after.reopen_count = before.reopen_count + 1
        after.rating, after.rating_comment = None, None
        after.due_at = iso(add_working_hours(now, before.sla_hours, calendar_for(before.village)))
    elif action == "rate":
        after.rating, after.rating_comment = rules.check_rating(rating, note, before)
        details = {"rating": after.rating}
    elif action == "reroute":
        config = repo.get_config(before.kabupaten)
        if config is None:
            raise UnprocessableError("Kabupaten ini belum mengatur kategori pengaduan.",
                                     code="complaints_not_configured")
        after.unit = _unit(rules.check_reroute(before, unit, config), config, before.village_name)
        after.due_at = iso(add_working_hours(now, before.sla_hours, calendar_for(before.village)))
        details = {"from_unit": before.unit, "to_unit": after.unit}
    elif action == "hide":
        if not before.public or before.hidden:
            raise ConflictError("Hanya pengaduan publik yang tampil yang dapat disembunyikan.", code="not_public")
        after.hidden = True
    elif action == "redact":
        details = _redact(before, after, target, note or "")
    event = HistoryEntry(at, "warga" if principal.is_citizen else principal.name or principal.subject,
                         principal.role, action, before.status, target_status, note, after.version, details)
    repo.transition(before, after, event, _outbox(after, action, note, at))
    after.history.append(event)
    logger.info("complaint transition", extra={"complaint_id": complaint_id, "action": action,
                                               "from": before.status, "to": target_status,
                                               "version": after.version, "by_role": principal.role})
    return after


def _redact(before: Complaint, after: Complaint, target: Any, reason: str) -> dict[str, Any]:
    """Replace the text or title, or withhold a photo; the original goes into the event's details (staff only)."""
    what = rules.redaction_target(before, target)
    if what in ("text", "title"):
        original = getattr(before, what)
        replacement = rules.REDACTED_TEXT.format(reason=reason)
        if what == "title":
            replacement = replacement[:rules.MAX_TITLE]
        setattr(after, what, replacement)
        return {"target": what, "original": original}
    photo_id = what.split(":", 1)[1]
    for photo in after.photos:
        if photo["id"] == photo_id:
            if photo.get("hidden"):
                raise ConflictError("Foto ini sudah disembunyikan.", code="already_redacted")
            photo["hidden"] = True
    return {"target": what}


def photo_link(principal: Principal | None, complaint_id: str, photo_id: str) -> dict[str, Any]:
    """A short-lived link to a photo: for the owner and staff in scope, and for anyone when the complaint is public
    and the photo not withheld."""
    complaint = get(principal, complaint_id)
    photo = next((p for p in complaint.photos if p.get("id") == photo_id), None)
    full = principal is not None and (rules.is_owner(principal, complaint)
                                      or rules.is_staff_reader(principal, complaint))
    if photo is None or (photo.get("hidden") and not full):
        raise NotFoundError("Foto tidak ditemukan.", code="photo_not_found")
    return attachments.photo_link(complaint.village, photo)


# ---------------------------------------------------------------------------------------------- categories
def _kabupaten(code: str) -> str:
    validate_code(code)
    if level_of(code) != "kabupaten":
        raise NotFoundError("Kabupaten tidak ditemukan.", code="region_not_found")
    return code


def get_config(code: str) -> ComplaintConfig:
    config = repo.get_config(_kabupaten(code))
    if config is None:
        raise NotFoundError("Kabupaten ini belum mengatur kategori pengaduan.", code="complaints_not_configured")
    return config


def put_config(principal: Principal, code: str, opds: Any, categories: Any, version: Any) -> ComplaintConfig:
    """The kabupaten's admin replaces its OPDs and categories (version 0 creates them). Raises ForbiddenError,
    NotFoundError, ValidationError(invalid_config), ConflictError(stale_version)."""
    kabupaten = _kabupaten(code)
    if principal.role != "admin":
        raise ForbiddenError("Hanya admin kabupaten yang mengatur kategori pengaduan.", code="forbidden_role")
    if principal.region != kabupaten:
        raise NotFoundError("Kabupaten tidak ditemukan.", code="region_not_found")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValidationError("version harus bilangan bulat ≥ 0.", code="invalid_version")
    at = iso(utcnow())
    config = rules.validate_config(kabupaten, opds, categories, version + 1, at)
    repo.put_config(config, version or None, principal.subject)
    logger.info("complaint categories changed", extra={"kabupaten": kabupaten, "by": principal.subject,
                                                       "categories": len(config.categories),
                                                       "opds": len(config.opds), "version": config.version})
    return config


# ---------------------------------------------------------------------------------------------- views
def _history(complaint: Complaint, full: bool, owner: bool) -> list[dict[str, Any]]:
    entries = []
    for h in complaint.history:
        entry = h.to_dict()
        if not full:
            # Moderation originals and internal SLA steps are for staff; the owner reads the notes, the public
            # only the status changes.
            entry.pop("details", None)
            if h.actor_role != "citizen":
                entry["actor"] = "petugas" if h.actor_role != "system" else entry["actor"]
            if h.action.startswith("sla_"):
                continue
            if not owner:
                if h.from_status == h.to_status and h.action != "file":
                    continue
                entry.pop("note", None)
                entry.pop("actor", None)
        entries.append(entry)
    return entries


def to_view(complaint: Complaint, viewer: Principal | None) -> dict[str, Any]:
    """The complaint as the caller may see it: staff in scope the full record; the owner theirs without the
    moderation originals; anyone else the public view (no name, NIK, version or notes; withheld photos left out)."""
    full = viewer is not None and rules.is_staff_reader(viewer, complaint)
    owner = viewer is not None and rules.is_owner(viewer, complaint)
    photos = [{"id": p["id"], "content_type": p["content_type"], "size": p["size"],
               **({"hidden": bool(p.get("hidden"))} if full or owner else {})}
              for p in complaint.photos if full or owner or not p.get("hidden")]
    body: dict[str, Any] = {
        "id": complaint.id, "reference": complaint.id[-8:], "village": complaint.village,
        "village_name": complaint.village_name, "kecamatan": complaint.kecamatan, "kabupaten": complaint.kabupaten,
        "kind": complaint.kind, "category": complaint.category, "category_name": complaint.category_name,
        "title": complaint.title, "text": complaint.text, "lat": complaint.lat, "lon": complaint.lon,
        "photos": photos, "status": complaint.status, "unit": complaint.unit, "created_at": complaint.created_at,
        "updated_at": complaint.updated_at, "resolved_at": complaint.resolved_at,
        "reopen_count": complaint.reopen_count, "rating": complaint.rating,
        "history": _history(complaint, full, owner),
    }
    if full or owner:
        body.update({"public": complaint.public, "hidden": complaint.hidden, "version": complaint.version,
                     "due_at": complaint.due_at, "sla_hours": complaint.sla_hours,
                     "rating_comment": complaint.rating_comment})
    if full:
        body["reporter"] = complaint.reporter
    return body

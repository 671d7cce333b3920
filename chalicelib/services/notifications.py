"""Notification use cases for staff: the village's outbox by status, resend, own notification preferences."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.notifications import (
    CHANNELS,
    LISTED_STATUSES,
    listed_status,
    validate_email,
    validate_preferences,
)
from chalicelib.domain.paging import page_limit
from chalicelib.domain.phones import mask_phone, normalize_phone
from chalicelib.domain.regions import ZONE_LABELS, timezone_for, within
from chalicelib.domain.requests import READERS, STAFF_ROLES, Principal
from chalicelib.errors import ForbiddenError, NotFoundError, ValidationError
from chalicelib.observability import logger

RESENDERS = ("operator", "kades", "admin")


def _audience(audience: dict[str, Any]) -> dict[str, Any]:
    shown = dict(audience)
    if shown.get("phone"):
        shown["phone"] = mask_phone(str(shown["phone"]))
    shown.pop("nik_hash", None)
    return shown


def _public(row: Any) -> dict[str, Any]:
    """A row as staff see it: `messages` lists each of its parts; `event` and `audience` stay the first part's,
    as they were before a row held more than one message."""
    messages = [{"event": part.event, "audience": _audience(part.audience)} for part in row.parts]
    return {
        "id": row.id, "event": row.event, "status": row.status, "list_status": listed_status(row.status),
        "attempts": row.attempts, "next_try_at": row.next_try_at if row.status == "pending" else None,
        "last_error": row.last_error, "created_at": row.created_at, "updated_at": row.updated_at,
        "sent_at": row.sent_at, "village": row.village, "request_id": row.request_id,
        "tracking_code": row.payload.get("tracking_code"), "audience": messages[0]["audience"],
        "messages": messages, "delivered": sorted(row.delivered),
    }


def list_village(principal: Principal, village: str, status: str | None, limit: int | None,
                 cursor: str | None) -> dict[str, Any]:
    """A village's notifications in one status, newest first (staff of the village or above it)."""
    from chalicelib.storage import outbox

    if principal.role not in READERS:
        raise ForbiddenError("Peran Anda tidak boleh melihat notifikasi ini.", code="forbidden_role")
    if not within(principal.region, village):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    status = status or "failed"
    if status not in LISTED_STATUSES:
        raise ValidationError("Status harus failed, pending atau sent.", code="invalid_status")
    rows, next_cursor = outbox.list_village(village, status, page_limit(limit), cursor)
    return {"items": [_public(r) for r in rows], "next": next_cursor}


def resend(principal: Principal, outbox_id: str) -> dict[str, Any]:
    """Put a failed notification back in the queue (the stream handler sends it at once).
    Raises NotFoundError (also for another region's), ForbiddenError, ConflictError (not failed)."""
    from chalicelib.storage import outbox

    if principal.role not in RESENDERS:
        raise ForbiddenError("Peran Anda tidak boleh mengirim ulang notifikasi.", code="forbidden_role")
    row = outbox.get(outbox_id)
    if row is None or not within(principal.region, row.village) or \
            (principal.role != "admin" and principal.region != row.village):
        raise NotFoundError("Notifikasi tidak ditemukan.", code="notification_not_found")
    updated = outbox.resend(outbox_id, utcnow())
    logger.info("notification resend", extra={"outbox_id": outbox_id, "by": principal.subject})
    return _public(updated)


def _staff(principal: Principal) -> Any:
    from chalicelib.storage.people import get_staff

    if principal.role not in STAFF_ROLES:
        raise ForbiddenError("Hanya untuk petugas.", code="forbidden_role")
    staff = get_staff(principal.subject)
    if staff is None:
        raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found")
    return staff


def _preferences(staff: Any) -> dict[str, Any]:
    prefs = staff.preferences or {}
    from chalicelib import channels

    contacts = {"phone": staff.phone, "email": staff.email}
    default = [c for c in CHANNELS if contacts.get(channels.get(c).contact)]
    zone = timezone_for(staff.region)
    return {"channels": prefs.get("channels") or default, "quiet_hours": prefs.get("quiet_hours"),
            "mode": prefs.get("mode") or "each",
            "phone": staff.phone, "email": staff.email, "timezone": zone,
            "timezone_label": ZONE_LABELS.get(zone, "")}


def get_preferences(principal: Principal) -> dict[str, Any]:
    return _preferences(_staff(principal))


def put_preferences(principal: Principal, channels: list[str], quiet_hours: dict[str, str] | None,
                    phone: str | None, email: str | None, mode: str | None = None) -> dict[str, Any]:
    """Replace the staff member's channels, quiet hours (local time of the kabupaten) and contacts.
    Raises ValidationError (invalid_phone, invalid_email, invalid_channels, phone_required, ...)."""
    from chalicelib.storage.people import save_contact_preferences

    staff = _staff(principal)
    phone_e164 = normalize_phone(phone) if phone else None
    email_clean = validate_email(email) if email else None
    prefs = validate_preferences(channels, quiet_hours, phone_e164, email_clean, mode)
    saved = save_contact_preferences(staff.username, phone_e164, email_clean, prefs)
    logger.info("notification preferences", extra={"username": staff.username, "channels": prefs["channels"],
                                                   "at": iso(utcnow())})
    return _preferences(saved)

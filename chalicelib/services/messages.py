"""Message use cases: the citizen's inbox, Web Push subscriptions and e-mail, a kabupaten's message policy,
and a village's message bill."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.message_policy import policy_from_overrides, validate_overrides
from chalicelib.domain.notifications import validate_email
from chalicelib.domain.regions import kabupaten_of, level_of, within
from chalicelib.domain.requests import Principal
from chalicelib.errors import ForbiddenError, NotFoundError, ValidationError
from chalicelib.observability import logger

MAX_PAGE = 50
MAX_PUSH_SUBSCRIPTIONS = 5
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
BILL_READERS = ("admin", "camat", "kades", "operator")


def _citizen(principal: Principal) -> str:
    if principal.role != "citizen":
        raise ForbiddenError("Hanya untuk warga yang masuk dengan NIK.", code="forbidden_role")
    return principal.subject


# ---- inbox -------------------------------------------------------------------------------------------
def _public_message(m: Any) -> dict[str, Any]:
    return {"id": m.id, "event": m.event, "title": m.title, "text": m.text, "created_at": m.created_at,
            "read": m.read_at is not None, "read_at": m.read_at, "request_id": m.request_id,
            "tracking_code": m.tracking_code}


def inbox(principal: Principal, limit: int | None, cursor: str | None) -> dict[str, Any]:
    """The citizen's messages, newest first, with the unread count. Raises ForbiddenError, ValidationError."""
    from chalicelib.storage import inbox as repo

    nik_hash = _citizen(principal)
    limit = 20 if limit is None else limit
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit harus 1 sampai {MAX_PAGE}.", code="invalid_limit")
    if cursor is not None and not repo.MESSAGE_ID.fullmatch(cursor):
        raise ValidationError("Kursor halaman tidak valid.", code="invalid_cursor")
    items, next_cursor = repo.page(nik_hash, limit, cursor)
    return {"items": [_public_message(m) for m in items], "next": next_cursor, "unread": repo.unread(nik_hash)}


def mark_read(principal: Principal, message_id: str) -> dict[str, Any]:
    """Mark one message read (again: no change). NotFoundError for an id not in this citizen's inbox."""
    from chalicelib.storage import inbox as repo

    nik_hash = _citizen(principal)
    if not repo.MESSAGE_ID.fullmatch(message_id):
        raise NotFoundError("Pesan tidak ditemukan.", code="message_not_found")
    message = repo.mark_read(nik_hash, message_id, iso(utcnow()))
    if message is None:
        raise NotFoundError("Pesan tidak ditemukan.", code="message_not_found")
    return {**_public_message(message), "unread": repo.unread(nik_hash)}


# ---- contact and push --------------------------------------------------------------------------------
EMAIL_CODE_TTL = timedelta(minutes=30)  # read at leisure: an inbox is slower than an SMS
EMAIL_CODE_RESEND = timedelta(seconds=60)


def put_contact(principal: Principal, email: str | None) -> dict[str, Any]:
    """The citizen's e-mail for status messages (None removes it). A new address gets a six-digit code by
    e-mail; typing it (confirm_email) lets later login codes go there instead of by SMS. The same confirmed
    address again changes nothing. Raises ValidationError, NotFoundError, TooManyRequestsError (codes per
    address per hour/day, one a minute), ExternalServiceError (the e-mail could not be sent)."""
    from chalicelib import auth as tokens
    from chalicelib.config import get_settings
    from chalicelib.services.auth import count_sends, send_code_by_email
    from chalicelib.storage import people

    nik_hash = _citizen(principal)
    clean = validate_email(email) if email else None
    citizen = people.get_citizen(nik_hash)
    if citizen is None:
        raise NotFoundError("Data warga tidak ditemukan.", code="citizen_not_found")
    if clean and clean == citizen.email and citizen.email_verified:
        return {"email": clean, "email_verified": True, "confirmation_sent": False}
    now = utcnow()
    code = tokens.new_otp_code()
    if clean:
        settings = get_settings()
        # Checked before anything is stored: a refused request writes no address and no code.
        count_sends("email-code", clean, (("hour", 3600, settings.otp_per_phone_hour),
                                          ("day", 86400, settings.otp_per_phone_day)), now)
        people.put_email_code(nik_hash, tokens.hash_otp(code, nik_hash), clean, iso(now), now + EMAIL_CODE_TTL,
                              iso(now - EMAIL_CODE_RESEND))
    if not people.save_citizen_email(nik_hash, clean, iso(now)):
        raise NotFoundError("Data warga tidak ditemukan.", code="citizen_not_found")
    if clean:
        send_code_by_email(clean, code, int(EMAIL_CODE_TTL.total_seconds()) // 60, principal.region, "confirm-email")
    return {"email": clean, "email_verified": False, "confirmation_sent": bool(clean)}


def confirm_email(principal: Principal, code: str) -> dict[str, Any]:
    """Confirm the citizen's e-mail with the code sent to it. Raises ValidationError (format, wrong or expired
    code), TooManyRequestsError (5 tries per code)."""
    import hmac

    from chalicelib import auth as tokens
    from chalicelib.config import get_settings
    from chalicelib.domain.inputs import ascii_digits
    from chalicelib.storage import people

    nik_hash = _citizen(principal)
    if not ascii_digits(code, 6):
        raise ValidationError("Kode harus 6 angka.", code="invalid_otp_format")
    now = utcnow()
    challenge = people.get_email_code(nik_hash)
    citizen = people.get_citizen(nik_hash)
    expires = challenge.expires_at if challenge is not None else None
    if (challenge is None or citizen is None or citizen.email != challenge.email or expires is None
            or (expires if expires.tzinfo else expires.replace(tzinfo=now.tzinfo)) <= now):
        raise ValidationError("Kode sudah kedaluwarsa atau belum diminta; simpan email Anda lagi untuk kode baru.",
                              code="email_code_expired")
    people.count_email_code_attempt(nik_hash, get_settings().otp_max_attempts)
    if not hmac.compare_digest(challenge.code_hash, tokens.hash_otp(code, nik_hash)):
        raise ValidationError("Kode salah.", code="email_code_invalid")
    if not people.confirm_citizen_email(nik_hash, challenge.email, iso(now)):
        raise ValidationError("Email Anda berubah; simpan email Anda lagi untuk kode baru.", code="email_code_expired")
    people.delete_email_code(nik_hash)
    logger.info("citizen e-mail confirmed")
    return {"email": challenge.email, "email_verified": True, "confirmation_sent": False}


def get_contact(principal: Principal) -> dict[str, Any]:
    from chalicelib.storage import push_subscriptions
    from chalicelib.storage.people import get_citizen

    nik_hash = _citizen(principal)
    citizen = get_citizen(nik_hash)
    return {"email": citizen.email if citizen else None,
            "email_verified": bool(citizen and citizen.email_verified),
            "push_subscriptions": len(push_subscriptions.list_for(nik_hash))}


def vapid_public_key() -> dict[str, Any]:
    from chalicelib.adapters.webpush import load_vapid_keys
    from chalicelib.config import get_settings

    return {"public_key": load_vapid_keys(get_settings()).public_key_b64}


def _key(value: str, name: str, size: int) -> str:
    from chalicelib.adapters.webpush import b64url_decode

    if not _B64URL.fullmatch(value) or len(value) > 200:
        raise ValidationError(f"Kunci {name} tidak valid.", code="invalid_push_key")
    raw = b64url_decode(value.rstrip("="))
    if len(raw) != size or (name == "p256dh" and raw[0] != 4):
        raise ValidationError(f"Kunci {name} tidak valid.", code="invalid_push_key")
    return value.rstrip("=")


def _endpoint(value: str) -> str:
    from chalicelib.config import get_settings

    parts = urlsplit(value)
    secure_only = get_settings().is_cloud
    if (len(value) > 1024 or not value.isascii() or any(c.isspace() for c in value) or not parts.hostname
            or parts.scheme not in (("https",) if secure_only else ("https", "http")) or parts.username
            or parts.password):
        raise ValidationError("Alamat layanan notifikasi tidak valid.", code="invalid_push_endpoint")
    if secure_only and _internal_host(parts.hostname):
        # The sender posts to this URL from inside AWS: never to an address of its own network.
        raise ValidationError("Alamat layanan notifikasi tidak valid.", code="invalid_push_endpoint")
    return value


def _internal_host(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith((".localhost", ".internal", ".local")) or "." not in host:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True  # push services are named hosts; an IP literal is refused outright


def subscribe(principal: Principal, endpoint: str, p256dh: str, auth: str) -> dict[str, Any]:
    """Keep the portal's push subscription (the same endpoint again replaces it); at most 5 per citizen."""
    from chalicelib.storage import push_subscriptions

    nik_hash = _citizen(principal)
    endpoint = _endpoint(endpoint)
    p256dh, auth = _key(p256dh, "p256dh", 65), _key(auth, "auth", 16)
    existing = push_subscriptions.list_for(nik_hash)
    sid = push_subscriptions.subscription_id(endpoint)
    if len(existing) >= MAX_PUSH_SUBSCRIPTIONS and all(s.id != sid for s in existing):
        raise ValidationError(f"Paling banyak {MAX_PUSH_SUBSCRIPTIONS} perangkat menerima notifikasi.",
                              code="too_many_push_subscriptions")
    saved = push_subscriptions.save(nik_hash, endpoint, p256dh, auth, iso(utcnow()))
    logger.info("push subscribed", extra={"subscription": saved.id})
    return {"id": saved.id, "created_at": saved.created_at}


def unsubscribe(principal: Principal, endpoint: str) -> dict[str, Any]:
    from chalicelib.storage import push_subscriptions

    nik_hash = _citizen(principal)
    sid = push_subscriptions.subscription_id(_endpoint(endpoint))
    if all(s.id != sid for s in push_subscriptions.list_for(nik_hash)):
        raise NotFoundError("Langganan notifikasi tidak ditemukan.", code="push_subscription_not_found")
    push_subscriptions.remove(nik_hash, sid)
    return {"removed": True}


# ---- policy ------------------------------------------------------------------------------------------
def _admin_of(principal: Principal, kabupaten: str) -> None:
    if principal.role != "admin":
        raise ForbiddenError("Hanya admin kabupaten.", code="forbidden_role")
    if level_of(kabupaten) != "kabupaten" or not within(principal.region, kabupaten):
        raise NotFoundError("Kabupaten tidak ditemukan.", code="region_not_found")


def get_policy(principal: Principal, kabupaten: str) -> dict[str, Any]:
    from chalicelib.storage import message_policy

    _admin_of(principal, kabupaten)
    return {"kabupaten": kabupaten, **policy_from_overrides(message_policy.get_overrides(kabupaten)).to_dict()}


def put_policy(principal: Principal, kabupaten: str, body: Any) -> dict[str, Any]:
    """Replace the kabupaten's overrides (validated against the rules no override may break)."""
    from chalicelib.storage import message_policy

    _admin_of(principal, kabupaten)
    policy = validate_overrides(body)
    message_policy.save_overrides(kabupaten, policy.overrides, principal.subject, iso(utcnow()))
    logger.info("message policy", extra={"kabupaten": kabupaten, "by": principal.subject,
                                         "events": sorted(policy.overrides)})
    return {"kabupaten": kabupaten, **policy.to_dict()}


# ---- bill --------------------------------------------------------------------------------------------
def _bill_line(region: str, name: str, figures: dict[str, dict[str, int]]) -> dict[str, Any]:
    channels = {c: {"count": f["count"], "units": f["units"], "cost_usd": round(f["cost_micros"] / 1e6, 4)}
                for c, f in sorted(figures.items())}
    return {"region": region, "name": name, "channels": channels,
            "total_usd": round(sum(f["cost_micros"] for f in figures.values()) / 1e6, 4)}


def bill(principal: Principal, region: str, month: str | None) -> dict[str, Any]:
    """A region's message bill for a month: one line per village (and, for login codes, which are sent
    before a village is known, one per kecamatan). Admin: any region of the kabupaten; camat: their
    kecamatan; kades/operator: their village. One GetItem per line, villages from the region tree."""
    from chalicelib.config import get_settings
    from chalicelib.storage import bill as repo
    from chalicelib.storage.regions import children
    from chalicelib.storage.regions import get as get_region

    if principal.role not in BILL_READERS:
        raise ForbiddenError("Peran Anda tidak boleh melihat tagihan pesan.", code="forbidden_role")
    month = month or iso(utcnow())[:7]
    if not _MONTH.fullmatch(month):
        raise ValidationError("Bulan harus berformat TTTT-BB, contoh 2026-12.", code="invalid_month")
    if not within(principal.region, region):
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    found = get_region(region)
    if found is None:
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    level = level_of(region)
    named: list[tuple[str, str]] = []
    if level in ("desa", "kelurahan"):
        named.append((region, found.name))
    else:
        kecamatan = [found] if level == "kecamatan" else children(region)
        for kec in kecamatan:
            named.append((kec.code, f"{kec.name} (kode masuk)"))
            named += [(village.code, village.name) for village in children(kec.code)]
    figures = repo.get_many([code for code, _ in named], month)
    lines = [_bill_line(code, name, figures.get(code, {})) for code, name in named]
    settings = get_settings()
    totals: dict[str, dict[str, float]] = {}
    for line in lines:
        for channel, f in line["channels"].items():
            t = totals.setdefault(channel, {"count": 0, "units": 0, "cost_usd": 0.0})
            t["count"] += f["count"]
            t["units"] += f["units"]
            t["cost_usd"] = round(t["cost_usd"] + f["cost_usd"], 4)
    return {"region": region, "month": month, "kabupaten": kabupaten_of(region),
            "prices_usd": {"sms": settings.sms_price_usd, "email": settings.email_price_usd,
                           "push": settings.push_price_usd, "inbox": 0.0},
            "lines": lines, "totals": totals,
            "total_usd": round(sum(line["total_usd"] for line in lines), 4)}

"""Login use cases: staff by password, citizens by NIK + phone + a one-time code sent by SMS."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from chalicelib import auth
from chalicelib.config import get_secrets, get_settings
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id
from chalicelib.domain.nik import mask_nik, nik_hash, parse_nik
from chalicelib.domain.phones import mask_phone, normalize_phone
from chalicelib.domain.requests import Principal
from chalicelib.errors import ExternalServiceError, ForbiddenError, UnauthorizedError, ValidationError
from chalicelib.observability import logger
from chalicelib.storage import people

OTP_RESEND_INTERVAL = timedelta(seconds=60)


def _token_response(principal: Principal) -> dict[str, Any]:
    token, ttl = auth.issue_token(principal)
    return {"token": token, "expires_in": ttl, "role": principal.role, "region": principal.region}


def staff_login(username: str, password: str) -> dict[str, Any]:
    """Check a staff password; the same error for unknown user and wrong password."""
    staff = people.get_staff(username.strip().lower())
    ok = auth.verify_password(password, staff.password_hash if staff else auth.DUMMY_PASSWORD_HASH)
    if staff is None or not ok or not staff.active:
        logger.info("staff login refused", extra={"username": username[:64]})
        raise UnauthorizedError("Nama pengguna atau kata sandi salah.", code="invalid_credentials")
    logger.info("staff login", extra={"username": staff.username, "role": staff.role, "region": staff.region})
    return _token_response(Principal(role=staff.role, region=staff.region, subject=staff.username,
                                     name=staff.name, session_version=staff.session_version))


def request_otp(nik: str, phone: str) -> dict[str, Any]:
    """Send a six-digit code to the phone. The first verified phone is bound to the NIK; another
    phone is refused, so knowing someone's NIK is not enough to act as them."""
    info = parse_nik(nik)
    phone_e164 = normalize_phone(phone)
    settings = get_settings()
    h = nik_hash(info.nik, get_secrets().nik_hash_key)
    register_phones = _register_phones(h, phone_e164)
    citizen = people.get_citizen(h)
    if not register_phones and citizen is not None and citizen.phone and citizen.phone != phone_e164:
        raise ForbiddenError("Nomor HP tidak sesuai dengan yang terdaftar untuk NIK ini. Hubungi kantor desa.",
                             code="phone_mismatch")
    now = utcnow()
    code = auth.new_otp_code()
    people.put_otp(h, auth.hash_otp(code, h), phone_e164, iso(now),
                   now + timedelta(seconds=settings.otp_ttl_seconds),
                   iso(now - OTP_RESEND_INTERVAL))
    _send_otp_sms(phone_e164, code, settings.otp_ttl_seconds // 60)
    logger.info("otp sent", extra={"nik": mask_nik(info.nik), "phone": mask_phone(phone_e164)})
    return {"sent": True, "expires_in": settings.otp_ttl_seconds, "phone": mask_phone(phone_e164)}


def _register_phones(nik_hash_: str, phone_e164: str) -> set[str]:
    """A phone the village register holds for this NIK is the only one it can log in with (issue 8.2); it takes
    precedence over an earlier binding. Raises ForbiddenError(phone_mismatch) for any other phone."""
    from chalicelib.services.residents import login_phones

    phones = login_phones(nik_hash_)
    if phones and phone_e164 not in phones:
        raise ForbiddenError("Nomor HP tidak sesuai dengan data penduduk desa untuk NIK ini. Hubungi kantor desa.",
                             code="phone_mismatch")
    return phones


def _send_otp_sms(phone: str, code: str, minutes: int) -> None:
    """OTPs are sent at once, not through the outbox: a late code is useless, and a failure is
    reported to the citizen (502) so nothing is silently lost."""
    from chalicelib.adapters.messaging import SendError
    from chalicelib.adapters.sms import get_sms_sender
    from chalicelib.templates.messages import render_message

    text = render_message("otp", "sms", {"code": code, "minutes": minutes}).text
    try:
        get_sms_sender().send(phone, text, message_id=new_id())
    except SendError as exc:
        logger.warning("otp sms failed", extra={"phone": mask_phone(phone), "error": type(exc).__name__})
        raise ExternalServiceError("SMS kode masuk gagal dikirim; silakan coba lagi.", code="sms_failed") from exc


def verify_otp(nik: str, phone: str, code: str) -> dict[str, Any]:
    """Trade a valid code for a citizen token; wrong, expired and over-tried codes are 401/429."""
    info = parse_nik(nik)
    phone_e164 = normalize_phone(phone)
    if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
        raise ValidationError("Kode harus 6 angka.", code="invalid_otp_format")
    settings = get_settings()
    h = nik_hash(info.nik, get_secrets().nik_hash_key)
    challenge = people.get_otp(h)
    now = utcnow()
    # Expired items stay readable until DynamoDB's TTL sweep, so expiry is checked here.
    if challenge is None or challenge.phone != phone_e164 or challenge.expires_at <= now:
        raise UnauthorizedError("Kode sudah kedaluwarsa atau belum diminta; minta kode baru.", code="otp_expired")
    people.count_otp_attempt(h, settings.otp_max_attempts)
    if not hmac.compare_digest(challenge.code_hash, auth.hash_otp(code, h)):
        logger.info("otp wrong", extra={"nik": mask_nik(info.nik)})
        raise UnauthorizedError("Kode salah.", code="otp_invalid")
    register_phones = _register_phones(h, phone_e164)
    people.delete_otp(h)
    people.bind_citizen(h, info.nik, phone_e164, iso(now), rebind=bool(register_phones))
    logger.info("citizen login", extra={"nik": mask_nik(info.nik)})
    return _token_response(Principal(role="citizen", region=info.kecamatan_code, subject=h, name=""))

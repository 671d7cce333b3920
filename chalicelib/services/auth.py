"""Login use cases: staff by password, citizens by NIK + phone + a one-time code sent by SMS."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from chalicelib import auth
from chalicelib.config import get_secrets, get_settings
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id
from chalicelib.domain.inputs import ascii_digits
from chalicelib.domain.nik import mask_nik, nik_hash, parse_nik
from chalicelib.domain.phones import mask_phone, normalize_phone
from chalicelib.domain.requests import Principal
from chalicelib.domain.staff import normalize_username
from chalicelib.errors import (
    ExternalServiceError,
    ForbiddenError,
    TooManyRequestsError,
    UnauthorizedError,
    ValidationError,
)
from chalicelib.observability import count_metric, logger
from chalicelib.storage import people, throttle
from chalicelib.storage import regions as regions_repo

OTP_RESEND_INTERVAL = timedelta(seconds=60)
# A login counter restarts after an hour without attempts; a lock can outlast it (see reserve()).
LOGIN_WINDOW_SECONDS = 3600
LOGIN_USER, LOGIN_CLIENT = "login-user", "login-ip"
OTP_FAIL = "otp-fail"
UNKNOWN_CLIENT = "unknown"


def login_delay(attempt: int, free_attempts: int, max_delay: int) -> int:
    """Seconds to wait after attempt number `attempt`: none for the first `free_attempts`, then 2, 4,
    8, 16 s, and from the fifth attempt past the free ones a lockout of `max_delay`."""
    extra = attempt - free_attempts
    if extra <= 0:
        return 0
    if extra >= 5:
        return max_delay
    return min(2**extra, max_delay)


def _token_response(principal: Principal) -> dict[str, Any]:
    token, ttl = auth.issue_token(principal)
    return {"token": token, "expires_in": ttl, "role": principal.role, "region": principal.region}


def _login_throttled(username: str, client: str, now: Any, retry_after: int, which: str) -> TooManyRequestsError:
    throttle.record_login(username, "throttled", client, now)
    # No custom metric: no alarm or dashboard reads one (docs/operations.md, 7); Logs Insights counts these.
    logger.warning("staff login throttled", extra={"username": username, "client_ip": client, "by": which,
                                                    "retry_after": retry_after})
    return TooManyRequestsError(
        f"Terlalu banyak percobaan masuk. Coba lagi dalam {retry_after} detik.", code="login_throttled",
        retry_after=retry_after)


def staff_login(username: str, password: str, client_ip: str | None = None) -> dict[str, Any]:
    """Check a staff password; the same error for unknown user and wrong password.

    Throttled per username and per client address: a few free attempts, then a growing delay and a
    temporary lockout (429 login_throttled with Retry-After), enforced before the password is
    checked. Every attempt is audited (LOGIN_AUDIT#{username}) and failures are counted in the
    StaffLoginFailed metric that the failed-logins alarm watches. Raises ValidationError,
    UnauthorizedError, TooManyRequestsError."""
    name = normalize_username(username)
    client = client_ip or UNKNOWN_CLIENT
    settings = get_settings()
    now = utcnow()
    try:
        throttle.reserve(LOGIN_USER, name, LOGIN_WINDOW_SECONDS, now, lambda n: login_delay(
            n, settings.login_free_attempts_user, settings.login_max_delay_seconds))
    except throttle.LockedError as exc:
        raise _login_throttled(name, client, now, exc.retry_after, "username") from None
    try:
        throttle.reserve(LOGIN_CLIENT, client, LOGIN_WINDOW_SECONDS, now, lambda n: login_delay(
            n, settings.login_free_attempts_client, settings.login_max_delay_seconds))
    except throttle.LockedError as exc:
        throttle.give_back(LOGIN_USER, name)  # this attempt was never checked
        raise _login_throttled(name, client, now, exc.retry_after, "client") from None
    staff = people.get_staff(name)
    ok = auth.verify_password(password, staff.password_hash if staff else auth.DUMMY_PASSWORD_HASH)
    if staff is None or not ok or not staff.active:
        throttle.record_login(name, "failure", client, now)
        count_metric("StaffLoginFailed")
        logger.info("staff login refused", extra={"username": name, "client_ip": client})
        raise UnauthorizedError("Nama pengguna atau kata sandi salah.", code="invalid_credentials")
    throttle.forget(LOGIN_USER, name)
    throttle.give_back(LOGIN_CLIENT, client)
    throttle.record_login(name, "success", client, now)
    logger.info("staff login", extra={"username": staff.username, "role": staff.role, "region": staff.region})
    answer = _token_response(Principal(role=staff.role, region=staff.region, subject=staff.username,
                                       name=staff.name, session_version=staff.session_version, unit=staff.opd or ""))
    # The console heads every page with the account's region (name, level, time zone): it comes with the login
    # (one GetItem a login) rather than with a GET /v1/regions call on every queue view (issue 14).
    region = regions_repo.get(staff.region)
    if region is not None:
        answer["region_info"] = {"code": region.code, "name": region.name, "level": region.level,
                                 "timezone": region.timezone}
    return answer


def _otp_locked(retry_after: int) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"Terlalu banyak kode salah untuk NIK ini. Coba lagi dalam {_duration(retry_after)}.",
        code="otp_locked", retry_after=retry_after)


def _duration(seconds: int) -> str:
    if seconds >= 3600:
        return f"{-(-seconds // 3600)} jam"
    if seconds >= 60:
        return f"{-(-seconds // 60)} menit"
    return f"{max(seconds, 1)} detik"


def check_nik_lock(h: str, now: Any) -> None:
    """Refuse codes and guesses for a NIK that reached the wrong-guess limit in its window."""
    counter = throttle.peek(OTP_FAIL, h, now)
    if counter is not None and counter.count >= get_settings().otp_fail_limit:
        raise _otp_locked(counter.window_ends - int(now.timestamp()))


def count_sends(kind: str, subject: str, limits: tuple[tuple[str, int, int], ...], now: Any) -> None:
    """Count one code for `subject` in each (window name, seconds, limit); 429 once any is exceeded."""
    for window, seconds, limit in limits:
        counter = throttle.hit(f"{kind}-{window}", subject, seconds, now)
        if counter.count > limit:
            retry_after = counter.window_ends - int(now.timestamp())
            logger.warning("otp rate limited", extra={"by": f"{kind}-{window}", "retry_after": retry_after})
            raise TooManyRequestsError(
                f"Terlalu banyak permintaan kode. Coba lagi dalam {_duration(retry_after)}.",
                code="otp_rate_limited", retry_after=retry_after)


def request_otp(nik: str, phone: str, client_ip: str | None = None, via: str | None = None) -> dict[str, Any]:
    """Send a six-digit code to the phone. The first verified phone is bound to the NIK; another
    phone is refused, so knowing someone's NIK is not enough to act as them.

    A returning citizen (this phone already proven and bound to the NIK) who confirmed an e-mail gets the code
    by e-mail instead, which costs no SMS, unless they ask `via="sms"`. The first login, and any login with a
    phone not yet proven, always goes by SMS (issue 8).

    Limits (429, with Retry-After): a NIK locked by too many wrong codes gets no new code; codes are
    counted per client address and per phone, per hour and per day; one code a minute per NIK."""
    info = parse_nik(nik)
    phone_e164 = normalize_phone(phone)
    settings = get_settings()
    h = nik_hash(info.nik, get_secrets().nik_hash_key)
    now = utcnow()
    check_nik_lock(h, now)
    count_sends("otp-client", client_ip or UNKNOWN_CLIENT,
                 (("hour", 3600, settings.otp_per_client_hour), ("day", 86400, settings.otp_per_client_day)), now)
    register_phones = _register_phones(h, phone_e164)
    citizen = people.get_citizen(h)
    if not register_phones and citizen is not None and citizen.phone and citizen.phone != phone_e164:
        raise ForbiddenError("Nomor HP tidak sesuai dengan yang terdaftar untuk NIK ini. Hubungi kantor desa.",
                             code="phone_mismatch")
    code = auth.new_otp_code()
    people.put_otp(h, auth.hash_otp(code, h), phone_e164, iso(now),
                   now + timedelta(seconds=settings.otp_ttl_seconds),
                   iso(now - OTP_RESEND_INTERVAL))
    try:
        # Counted once the code is stored, so a request refused by the one-a-minute rule costs nothing.
        count_sends("otp-phone", phone_e164,
                     (("hour", 3600, settings.otp_per_phone_hour), ("day", 86400, settings.otp_per_phone_day)), now)
    except TooManyRequestsError:
        people.delete_otp(h)
        raise
    answer: dict[str, Any] = {"sent": True, "expires_in": settings.otp_ttl_seconds, "phone": mask_phone(phone_e164)}
    email = (citizen.email if citizen is not None and citizen.email_verified and citizen.phone == phone_e164
             and via != "sms" else None)
    if email:
        _send_otp_email(email, code, settings.otp_ttl_seconds // 60, info.kecamatan_code)
        answer.update(via="email", email=mask_email(email))
    else:
        _send_otp_sms(phone_e164, code, settings.otp_ttl_seconds // 60, info.kecamatan_code)
        answer["via"] = "sms"
    logger.info("otp sent", extra={"nik": mask_nik(info.nik), "phone": mask_phone(phone_e164), "via": answer["via"]})
    return answer


def mask_email(email: str) -> str:
    """w***@contoh.id: enough for the citizen to recognise their address, not enough to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def send_code_by_email(email: str, code: str, minutes: int, kecamatan: str | None, purpose: str) -> None:
    """A login or confirmation code by e-mail, sent at once like an SMS code (a failure is a 502, never lost);
    billed to the citizen's kecamatan."""
    from chalicelib.adapters.email import get_email_sender
    from chalicelib.adapters.messaging import SendError
    from chalicelib.templates.messages import render_message

    message = render_message("otp", "email", {"code": code, "minutes": minutes})
    try:
        get_email_sender().send(email, message.subject or "Balai", message.text, message.html,
                                message_id=f"{purpose}:{new_id()}")
    except SendError as exc:
        logger.warning("code e-mail failed", extra={"purpose": purpose, "error": type(exc).__name__})
        raise ExternalServiceError("Email kode gagal dikirim; silakan coba lagi.", code="email_failed") from exc
    if kecamatan:
        from chalicelib.storage import bill

        price = get_settings().email_price_usd
        bill.record(kecamatan, iso(utcnow())[:7],
                    {"email": bill.Usage(count=1, units=1, cost_micros=round(price * 1_000_000))})


def _send_otp_email(email: str, code: str, minutes: int, kecamatan: str) -> None:
    send_code_by_email(email, code, minutes, kecamatan, "login")


def _register_phones(nik_hash_: str, phone_e164: str) -> set[str]:
    """A phone the village register holds for this NIK is the only one it can log in with (issue 8.2); it takes
    precedence over an earlier binding. Raises ForbiddenError(phone_mismatch) for any other phone."""
    from chalicelib.services.residents import login_phones

    phones = login_phones(nik_hash_)
    if phones and phone_e164 not in phones:
        raise ForbiddenError("Nomor HP tidak sesuai dengan data penduduk desa untuk NIK ini. Hubungi kantor desa.",
                             code="phone_mismatch")
    return phones


def _send_otp_sms(phone: str, code: str, minutes: int, kecamatan: str | None = None) -> None:
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
    if kecamatan:
        _bill_login_code(kecamatan, text)


def _bill_login_code(kecamatan: str, text: str) -> None:
    """Login codes are sent before any village is known: they are billed to the citizen's kecamatan (the NIK's)."""
    from chalicelib.storage import bill
    from chalicelib.templates.messages import sms_segments

    parts = sms_segments(text)
    price = get_settings().sms_price_usd
    bill.record(kecamatan, iso(utcnow())[:7],
                {"sms": bill.Usage(count=1, units=parts, cost_micros=round(parts * price * 1_000_000))})


def verify_otp(nik: str, phone: str, code: str, *, remember: bool = False,
               device: str | None = None) -> dict[str, Any]:
    """Trade a valid code for a citizen token (and with `remember` a refresh token for this device: see
    services/sessions.py); wrong, expired and over-tried codes are 401/429."""
    info = parse_nik(nik)
    phone_e164 = normalize_phone(phone)
    if not ascii_digits(code, 6):
        raise ValidationError("Kode harus 6 angka.", code="invalid_otp_format")
    settings = get_settings()
    h = nik_hash(info.nik, get_secrets().nik_hash_key)
    now = utcnow()
    check_nik_lock(h, now)
    challenge = people.get_otp(h)
    # Expired items stay readable until DynamoDB's TTL sweep, so expiry is checked here.
    if challenge is None or challenge.phone != phone_e164 or challenge.expires_at <= now:
        raise UnauthorizedError("Kode sudah kedaluwarsa atau belum diminta; minta kode baru.", code="otp_expired")
    people.count_otp_attempt(h, settings.otp_max_attempts)
    if not hmac.compare_digest(challenge.code_hash, auth.hash_otp(code, h)):
        logger.info("otp wrong", extra={"nik": mask_nik(info.nik)})
        # Wrong guesses are counted per NIK across codes: a new code does not reset them.
        failures = throttle.hit(OTP_FAIL, h, settings.otp_fail_window_seconds, now)
        if failures.count >= settings.otp_fail_limit:
            people.delete_otp(h)
            logger.warning("otp locked", extra={"nik": mask_nik(info.nik)})
            raise _otp_locked(failures.window_ends - int(now.timestamp()))
        raise UnauthorizedError("Kode salah.", code="otp_invalid")
    register_phones = _register_phones(h, phone_e164)
    people.delete_otp(h)
    throttle.forget(OTP_FAIL, h)
    logger.info("citizen login", extra={"nik": mask_nik(info.nik)})
    return citizen_login(h, info.nik, phone_e164, bool(register_phones), remember=remember, device=device)


def check_login_phone(nik_hash_: str, phone_e164: str) -> bool:
    """The phone a citizen proved may log in to this NIK: the village register's phone when it names any (True:
    it overrides an earlier binding), else the phone bound at the first login, if any. Raises
    ForbiddenError(phone_mismatch)."""
    register_phones = _register_phones(nik_hash_, phone_e164)
    if not register_phones:
        citizen = people.get_citizen(nik_hash_)
        if citizen is not None and citizen.phone and citizen.phone != phone_e164:
            raise ForbiddenError("Nomor HP tidak sesuai dengan yang terdaftar untuk NIK ini. Hubungi kantor desa.",
                                 code="phone_mismatch")
    return bool(register_phones)


def citizen_login(nik_hash_: str, nik: str, phone_e164: str, rebind: bool, *, remember: bool,
                  device: str | None) -> dict[str, Any]:
    """The answer of a login that proved `phone_e164` (by SMS code or WhatsApp message): bind the phone, issue the
    access token and, with `remember`, a 30-day refresh session; with the profile flags the portal needs."""
    settings = get_settings()
    kecamatan = parse_nik(nik).kecamatan_code
    people.bind_citizen(nik_hash_, nik, phone_e164, iso(utcnow()), rebind=rebind)
    h = nik_hash_
    citizen = Principal(role="citizen", region=kecamatan, subject=h, name="")
    answer = _token_response(citizen)
    # Whether the applicant data every letter needs is complete, and whether she has asked for a letter before:
    # the portal's "Ajukan surat" needs no profile read when it is complete (region is the NIK's kecamatan, which
    # the form preselects), and a first-time applicant goes straight to it instead of an empty list.
    from chalicelib.services import profile
    from chalicelib.storage import requests as requests_repo

    answer["profile_complete"] = bool(profile.get_profile(citizen)["complete"])
    answer["has_requests"] = requests_repo.citizen_has_any(h)
    if remember:
        from chalicelib.services import sessions

        answer["refresh_token"] = sessions.start(h, kecamatan, device)
        answer["refresh_expires_in"] = settings.refresh_ttl_days * 86400
    return answer

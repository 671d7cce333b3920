"""Citizen login by a WhatsApp message the citizen sends (reverse OTP): a login that costs no SMS.

1. start(): the portal asks for a pending login for a NIK (and the phone the citizen typed, if any); the answer is
   an eight-character code, the wa.me link that opens WhatsApp with "Kode masuk Balai: K7QX-3M9P" typed, and a
   login id only the browser holds (`wa1.{code}.{secret}`). One item, PK=WA_LOGIN#{hmac of the code}.
2. handle_delivery(): Meta's webhook posts the message; its X-Hub-Signature-256 is checked, the code is found in
   the text and the login is proven for the sender's number (`from`, which WhatsApp proved when the account was
   registered), once. A sender other than the phone typed at start refuses the login for everyone.
3. verify(): the browser polls with its login id: pending (202) until proven, then the same tokens as an SMS-code
   login (services/auth.citizen_login), exactly once.
Why this proves the phone, and its limits: docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from chalicelib.config import get_secrets, get_settings
from chalicelib.domain import whatsapp_login as wa
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.inputs import JsonLimits, parse_json
from chalicelib.domain.nik import mask_nik, nik_hash, parse_nik
from chalicelib.domain.phones import mask_phone, normalize_phone
from chalicelib.errors import (
    AppError,
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from chalicelib.observability import logger
from chalicelib.services.auth import check_login_phone, check_nik_lock, citizen_login, count_sends
from chalicelib.storage import throttle
from chalicelib.storage import whatsapp_logins as repo

UNKNOWN_CLIENT = "unknown"
UNKNOWN_CODES = "wa-unknown"  # messages from one sender that proved nothing, per hour
_CREATE_TRIES = 5


class WebhookLimits(JsonLimits):
    """Meta batches deliveries (up to 1,000 updates); a text is at most 4,096 characters."""

    max_bytes = 512 * 1024
    max_depth = 12
    max_nodes = 50_000


def _code_hash(code: str) -> str:
    return hmac.new(get_secrets().jwt_key.encode(), f"wa-login:{code}".encode(), hashlib.sha256).hexdigest()


def _secret_hash(secret: str) -> str:
    return hmac.new(get_secrets().jwt_key.encode(), f"wa-login-id:{secret}".encode(), hashlib.sha256).hexdigest()


def _unavailable() -> NotFoundError:
    return NotFoundError("Masuk lewat WhatsApp belum tersedia di kabupaten ini. Masuk dengan kode SMS.",
                         code="whatsapp_login_unavailable")


def _configured() -> bool:
    secrets_ = get_secrets()
    return bool(get_settings().whatsapp_numbers and secrets_.whatsapp_app_secret and secrets_.whatsapp_verify_token)


def availability() -> dict[str, Any]:
    """Whether the portal should offer WhatsApp login (a number is configured for some kabupaten and the webhook's
    secrets are set); start() still answers 404 for a NIK whose kabupaten has no number."""
    return {"available": _configured()}


def start(nik: str, phone: str | None, client_ip: str | None = None) -> dict[str, Any]:
    """Create a pending login for the NIK; answer its code, the wa.me link, the login id and the expiry.

    Throttled like the SMS code (429 otp_rate_limited): per client address and, when a phone is given, per phone,
    per hour and per day; a NIK locked by wrong SMS codes is refused too (otp_locked). Raises ValidationError
    (NIK, phone), NotFoundError (whatsapp_login_unavailable), ForbiddenError (phone_mismatch: the typed phone is
    not the one the register or an earlier login holds), TooManyRequestsError."""
    info = parse_nik(nik)
    phone_e164 = normalize_phone(phone) if phone is not None else None
    settings = get_settings()
    kabupaten = info.kecamatan_code.rsplit(".", 1)[0]
    number = wa.number_for(settings.whatsapp_number_map, kabupaten) if _configured() else None
    if number is None:
        raise _unavailable()
    h = nik_hash(info.nik, get_secrets().nik_hash_key)
    now = utcnow()
    check_nik_lock(h, now)
    count_sends("wa-client", client_ip or UNKNOWN_CLIENT,
                (("hour", 3600, settings.otp_per_client_hour), ("day", 86400, settings.otp_per_client_day)), now)
    if phone_e164 is not None:
        check_login_phone(h, phone_e164)  # a typed phone that cannot log in is refused now, not after the message
        count_sends("wa-phone", phone_e164,
                    (("hour", 3600, settings.otp_per_phone_hour), ("day", 86400, settings.otp_per_phone_day)), now)
    ttl = settings.whatsapp_login_ttl_seconds
    for _ in range(_CREATE_TRIES):
        code = wa.new_code()
        login_id, secret = wa.new_login_id(code)
        try:
            repo.create(_code_hash(code), _secret_hash(secret), h, info.nik, kabupaten, number, phone_e164, iso(now),
                        now + timedelta(seconds=ttl))
            break
        except repo.CodeTakenError:
            continue  # another pending login drew this code: draw again
    else:
        raise AppError("Gagal membuat kode masuk; silakan coba lagi.", code="internal_error").with_status(500)
    logger.info("whatsapp login started", extra={"nik": mask_nik(info.nik), "kabupaten": kabupaten})
    return {"login_id": login_id, "code": wa.shown(code), "text": wa.prefilled_text(code),
            "link": wa.wa_link(number, code), "number": f"+{number}", "expires_in": ttl,
            "expires_at": iso(now + timedelta(seconds=ttl))}


def verify(login_id: Any, *, remember: bool = True, device: str | None = None) -> tuple[int, dict[str, Any]]:
    """(202, pending) until the citizen's message arrived; then (200, the SMS-code login's answer with
    `phone` masked), once. Raises ValidationError (malformed id), UnauthorizedError (whatsapp_login_invalid),
    GoneError (whatsapp_login_expired), ForbiddenError (whatsapp_sender_mismatch, phone_mismatch),
    ConflictError (whatsapp_login_used)."""
    parsed = wa.parse_login_id(login_id)
    if parsed is None:
        raise ValidationError("ID masuk WhatsApp tidak valid.", code="invalid_login_id")
    code, secret = parsed
    code_hash = _code_hash(code)
    login = repo.get(code_hash)
    if login is None or not hmac.compare_digest(login.secret_hash, _secret_hash(secret)):
        raise UnauthorizedError("Permintaan masuk lewat WhatsApp tidak dikenal. Mulai lagi.",
                                code="whatsapp_login_invalid")
    if login.used_at is not None:
        raise ConflictError("Permintaan masuk ini sudah dipakai. Mulai lagi bila perlu masuk.",
                            code="whatsapp_login_used")
    if login.refused is not None:
        raise ForbiddenError("Pesan WhatsApp dikirim dari nomor lain, bukan nomor HP yang Anda isi. Mulai lagi dan "
                             "kirim dari WhatsApp di nomor HP Anda.", code="whatsapp_sender_mismatch")
    now = utcnow()
    # Expired items stay readable until DynamoDB's TTL sweep: a proven login is collected before it expires too.
    if login.expires_at <= now:
        raise GoneError("Waktu masuk lewat WhatsApp sudah habis. Mulai lagi.", code="whatsapp_login_expired")
    if login.proven_phone is None:
        return 202, {"status": "pending", "expires_in": max(0, int((login.expires_at - now).total_seconds()))}
    rebind = check_login_phone(login.nik_hash, login.proven_phone)
    if not repo.use(code_hash, iso(now)):
        raise ConflictError("Permintaan masuk ini sudah dipakai. Mulai lagi bila perlu masuk.",
                            code="whatsapp_login_used")
    logger.info("citizen login by whatsapp", extra={"nik": mask_nik(login.nik)})
    answer = citizen_login(login.nik_hash, login.nik, login.proven_phone, rebind, remember=remember, device=device)
    answer["phone"] = mask_phone(login.proven_phone)
    return 200, answer


# ---- the webhook ------------------------------------------------------------------------------------------
def handshake(mode: str | None, token: str | None, challenge: str | None) -> str:
    """Meta's subscription check: `hub.mode=subscribe` with our verify token gets `hub.challenge` back.
    Raises ForbiddenError (wrong token or mode), NotFoundError (not configured)."""
    expected = get_secrets().whatsapp_verify_token
    if not expected or not get_settings().whatsapp_numbers:
        raise NotFoundError("WhatsApp tidak dikonfigurasi.", code="whatsapp_not_configured")
    if mode != "subscribe" or not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8", "replace"), expected.encode()):
        raise ForbiddenError("Token verifikasi salah.", code="invalid_verify_token")
    if not isinstance(challenge, str) or not challenge or len(challenge) > 200 or not challenge.isascii() \
            or not challenge.isprintable():
        raise ValidationError("hub.challenge tidak valid.", code="invalid_challenge")
    return challenge


def handle_delivery(raw: bytes | None, signature: str | None) -> dict[str, Any]:
    """Check Meta's signature on the raw body, then prove each pending login whose code a text message carries.
    Unknown and expired codes, duplicates, statuses and other message types change nothing (answered 200, so
    Meta does not retry them). Raises UnauthorizedError (signature missing), ForbiddenError (signature wrong),
    ValidationError (413 too large, 400 malformed or too deep: nothing is written)."""
    app_secret = get_secrets().whatsapp_app_secret
    if not app_secret or not get_settings().whatsapp_numbers:
        raise NotFoundError("WhatsApp tidak dikonfigurasi.", code="whatsapp_not_configured")
    body = raw or b""
    if len(body) > WebhookLimits.max_bytes:
        raise ValidationError("Isi permintaan terlalu besar.", code="body_too_large").with_status(413)
    if not signature:
        raise UnauthorizedError("Tanda tangan X-Hub-Signature-256 wajib ada.", code="missing_signature")
    if not wa.signature_valid(app_secret, body, signature):
        logger.warning("whatsapp webhook: bad signature")
        raise ForbiddenError("Tanda tangan X-Hub-Signature-256 salah.", code="invalid_signature")
    payload = parse_json(body)
    _check_shape(payload)
    proven = 0
    messages = wa.inbound_texts(payload)
    for message in messages:
        proven += _prove_from(message)
    return {"received": len(messages), "proven": proven}


def _check_shape(payload: Any) -> None:
    """Depth and node count of the parsed payload, walked without recursion. Strings are not checked here: a
    citizen's message may carry any character (find_codes reads only clean texts), and one odd message must not
    make Meta retry the whole batch."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > WebhookLimits.max_nodes:
            raise ValidationError("Isi permintaan memuat terlalu banyak isian.", code="body_too_complex")
        if isinstance(value, (dict, list)):
            if depth > WebhookLimits.max_depth:
                raise ValidationError("Isi permintaan terlalu dalam bersarang.", code="body_too_deep")
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))


def _prove_from(message: wa.InboundText) -> int:
    """Prove the pending login a message's code names, if any; 1 when this message proved one."""
    settings = get_settings()
    now = utcnow()
    try:
        sender = normalize_phone(message.sender)
    except ValidationError:
        logger.info("whatsapp login: sender not an Indonesian mobile", extra={"message": message.message_id[:40]})
        return 0
    counter = throttle.peek(UNKNOWN_CODES, sender, now)
    if counter is not None and counter.count >= settings.whatsapp_unknown_per_sender_hour:
        logger.warning("whatsapp login: sender over the unknown-code limit", extra={"phone": mask_phone(sender)})
        return 0
    for code in wa.find_codes(message.text):
        code_hash = _code_hash(code)
        login = repo.get(code_hash)
        if login is None or login.number != message.to_number:
            continue  # unknown, or another kabupaten's number: its logins are proven only through their own
        if login.proven_at is not None or login.refused is not None:
            return 0  # a retried delivery or a second message: settled once
        if login.expires_at <= now:
            logger.info("whatsapp login: code expired", extra={"phone": mask_phone(sender)})
            return 0
        if login.phone is not None and login.phone != sender:
            repo.refuse(code_hash, "sender_mismatch")
            logger.warning("whatsapp login refused: sender differs from the phone typed",
                           extra={"phone": mask_phone(sender), "nik": mask_nik(login.nik)})
            return 0
        if repo.prove(code_hash, sender, iso(now)):
            logger.info("whatsapp login proven", extra={"phone": mask_phone(sender), "nik": mask_nik(login.nik)})
            return 1
        return 0
    throttle.hit(UNKNOWN_CODES, sender, 3600, now)
    logger.info("whatsapp message without a live code", extra={"phone": mask_phone(sender)})
    return 0

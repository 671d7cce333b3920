"""One-time sign-in links in a citizen's status SMS: the return visit for the letter costs no login code.

The SMS that says a letter is issued (or needs revision) carries `{portal}/#masuk/{secret}`. Opening it on the
phone signs the citizen in: holding the SMS proves possession of the phone exactly as a six-digit code does.
The link is single use (a conditional update), expires after `BALAI_SIGNIN_LINK_TTL_HOURS` (72), is bound to the
citizen, the phone the SMS went to (a phone bound since ends it) and the request it announced (the portal opens
it), and only an HMAC of its 128-bit secret is stored. Unknown or spent links are counted per client address;
past `BALAI_SIGNIN_LINK_FAIL_PER_CLIENT_HOUR` the address is refused for the rest of the hour (429).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from chalicelib import auth
from chalicelib.config import get_secrets, get_settings
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.nik import parse_nik
from chalicelib.domain.requests import Principal
from chalicelib.errors import TooManyRequestsError, UnauthorizedError, ValidationError
from chalicelib.observability import logger
from chalicelib.storage import signin_links as repo
from chalicelib.storage import throttle

# Events whose SMS carries a sign-in link: the citizen comes back to download or to revise. A rejection asks
# nothing of the portal, so its SMS carries none.
LINK_EVENTS = ("issued", "needs_revision")
SECRET = re.compile(r"^[A-Za-z0-9_-]{22}$")  # 16 random bytes, base64url
SIGNIN_FAIL = "signin-fail"
UNKNOWN_CLIENT = "unknown"
ROUTE = "#masuk/"


def _hash(secret: str) -> str:
    return hmac.new(get_secrets().jwt_key.encode(), f"signin:{secret}".encode(), hashlib.sha256).hexdigest()


def link_for(nik_hash: str, phone: str, request_id: str, event: str) -> str:
    """Create a link for the citizen's SMS about `request_id` and return its URL (the secret is only in it)."""
    secret = secrets.token_urlsafe(16)
    now = utcnow()
    settings = get_settings()
    repo.create(_hash(secret), nik_hash, phone, request_id, event, iso(now),
                now + timedelta(hours=settings.signin_link_ttl_hours))
    return f"{settings.web_base_url.rstrip('/')}/{ROUTE}{secret}"


def _refused(client: str, now: Any, message: str, code: str) -> UnauthorizedError:
    throttle.hit(SIGNIN_FAIL, client, 3600, now)
    return UnauthorizedError(message, code=code)


def redeem(secret: Any, client_ip: str | None = None, *, remember: bool = True,
           device: str | None = None) -> dict[str, Any]:
    """Trade a link's secret for a citizen token (and with `remember` a refresh session on this device), with the
    id of the request the SMS was about. Raises ValidationError (malformed), UnauthorizedError
    (signin_link_invalid, signin_link_used, signin_link_expired), TooManyRequestsError (signin_link_throttled)."""
    if not isinstance(secret, str) or not SECRET.fullmatch(secret):
        raise ValidationError("Tautan masuk tidak valid.", code="invalid_signin_link")
    settings = get_settings()
    client = client_ip or UNKNOWN_CLIENT
    now = utcnow()
    counter = throttle.peek(SIGNIN_FAIL, client, now)
    if counter is not None and counter.count >= settings.signin_link_fail_per_client_hour:
        retry_after = max(1, counter.window_ends - int(now.timestamp()))
        raise TooManyRequestsError("Terlalu banyak tautan masuk yang salah. Coba lagi nanti atau masuk dengan "
                                   "kode SMS.", code="signin_link_throttled", retry_after=retry_after)
    secret_hash = _hash(secret)
    link = repo.get(secret_hash)
    if link is None:
        raise _refused(client, now, "Tautan masuk tidak dikenal. Masuk dengan NIK dan kode SMS.",
                       "signin_link_invalid")
    if link.used_at is not None:
        raise _refused(client, now, "Tautan masuk ini sudah dipakai. Masuk dengan NIK dan kode SMS.",
                       "signin_link_used")
    if link.expires_at <= now:
        raise UnauthorizedError("Tautan masuk sudah kedaluwarsa. Masuk dengan NIK dan kode SMS.",
                                code="signin_link_expired")
    from chalicelib.storage.people import get_citizen

    citizen = get_citizen(link.nik_hash)
    if citizen is None or citizen.phone != link.phone:
        # The citizen's phone changed since the SMS: the link no longer proves the phone they log in with.
        raise _refused(client, now, "Tautan masuk tidak berlaku lagi. Masuk dengan NIK dan kode SMS.",
                       "signin_link_invalid")
    if not repo.use(secret_hash, iso(now)):
        raise _refused(client, now, "Tautan masuk ini sudah dipakai. Masuk dengan NIK dan kode SMS.",
                       "signin_link_used")
    region = parse_nik(citizen.nik).kecamatan_code
    token, ttl = auth.issue_token(Principal(role="citizen", region=region, subject=link.nik_hash, name=""))
    answer: dict[str, Any] = {"token": token, "expires_in": ttl, "role": "citizen", "region": region,
                              "request_id": link.request_id}
    if remember:
        from chalicelib.services import sessions

        answer["refresh_token"] = sessions.start(link.nik_hash, region, device)
        answer["refresh_expires_in"] = settings.refresh_ttl_days * 86400
    logger.info("citizen login by sms link", extra={"request_id": link.request_id, "event": link.event})
    return answer

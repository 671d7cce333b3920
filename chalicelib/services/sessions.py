"""Citizen refresh sessions: stay logged in on one's own device for 30 days without a new SMS code.

A refresh token `rt1.{family}.{secret}` is given at OTP login; only an HMAC of its secret is stored. Each use
rotates it (the old one stops working); presenting an old one again means it was copied, so the whole family
is revoked (RFC 6819 5.2.2.3 / OAuth 2.0 Security BCP 4.14). Logout and the devices list revoke a family. Staff
have no refresh tokens: their sessions stay password logins (session_version checks them on every request).
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
from chalicelib.domain.requests import Principal
from chalicelib.errors import ForbiddenError, NotFoundError, UnauthorizedError
from chalicelib.observability import logger
from chalicelib.storage import sessions as repo

TOKEN = re.compile(r"^rt1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$")
_DEVICE_CHARS = re.compile(r"[^\x20-\x7e]")


def _hash(secret: str) -> str:
    return hmac.new(get_secrets().jwt_key.encode(), f"refresh:{secret}".encode(), hashlib.sha256).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)  # 43 characters


def device_label(user_agent: str | None) -> str | None:
    """A short, printable description of the device from its User-Agent (shown in the devices list)."""
    if not user_agent:
        return None
    text = _DEVICE_CHARS.sub("", user_agent).strip()
    browser = next((b for b in ("Edg", "OPR", "SamsungBrowser", "Firefox", "Chrome", "Safari") if b in text), None)
    system = next((s for s in ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux") if s in text), None)
    if browser or system:
        names = {"Edg": "Edge", "OPR": "Opera", "SamsungBrowser": "Samsung Internet"}
        return " di ".join(x for x in (names.get(browser or "", browser), system) if x)
    return text[:60] or None


def start(nik_hash: str, region: str, user_agent: str | None) -> str:
    """A new session family for a citizen who just proved their phone; returns its first refresh token."""
    family, secret = secrets.token_urlsafe(16), _new_secret()
    now = utcnow()
    repo.create(family, nik_hash, region, _hash(secret), device_label(user_agent), iso(now),
                now + timedelta(days=get_settings().refresh_ttl_days))
    return f"rt1.{family}.{secret}"


def _parse(token: Any) -> tuple[str, str]:
    match = TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise UnauthorizedError("Sesi tidak valid; silakan masuk kembali.", code="invalid_refresh_token")
    return match.group(1), match.group(2)


def refresh(token: str) -> dict[str, Any]:
    """Trade a refresh token for a new access token and the next refresh token.
    Raises UnauthorizedError: invalid_refresh_token, refresh_expired, refresh_revoked, refresh_reused."""
    family, secret = _parse(token)
    session = repo.get(family)
    now = utcnow()
    if session is None:
        raise UnauthorizedError("Sesi tidak valid; silakan masuk kembali.", code="invalid_refresh_token")
    if session.revoked:
        raise UnauthorizedError("Sesi ini sudah diakhiri; silakan masuk kembali.", code="refresh_revoked")
    if session.expires_at <= now:
        raise UnauthorizedError("Sesi Anda sudah berakhir; silakan masuk kembali.", code="refresh_expired")
    presented = _hash(secret)
    new_secret = _new_secret()
    if not hmac.compare_digest(presented, session.token_hash) or not repo.rotate(
            family, presented, _hash(new_secret), iso(now), now + timedelta(days=get_settings().refresh_ttl_days)):
        # An old token again (or two uses of one at once): someone holds a copy. End every token of the family.
        repo.revoke(family, "reuse", iso(now))
        # A log line, not a custom metric: no alarm reads one (issue 14); Logs Insights counts these.
        logger.warning("refresh token reused", extra={"session": family[:6], "generation": session.generation})
        raise UnauthorizedError("Sesi ini dipakai di tempat lain dan telah diakhiri demi keamanan; silakan masuk "
                                "kembali.", code="refresh_reused")
    access, ttl = auth.issue_token(Principal(role="citizen", region=session.region, subject=session.nik_hash,
                                             name=""))
    return {"token": access, "expires_in": ttl, "role": "citizen", "region": session.region,
            "refresh_token": f"rt1.{family}.{new_secret}",
            "refresh_expires_in": get_settings().refresh_ttl_days * 86400}


def logout(token: str) -> dict[str, Any]:
    """End the session family the token belongs to (its device is logged out)."""
    family, _ = _parse(token)
    if not repo.revoke(family, "logout", iso(utcnow())):
        raise UnauthorizedError("Sesi tidak valid.", code="invalid_refresh_token")
    return {"logged_out": True}


def _citizen(principal: Principal) -> str:
    if principal.role != "citizen":
        raise ForbiddenError("Hanya untuk warga yang masuk dengan NIK.", code="forbidden_role")
    return principal.subject


def devices(principal: Principal) -> dict[str, Any]:
    """The citizen's sessions (devices that stay logged in), newest first."""
    nik_hash = _citizen(principal)
    now = utcnow()
    items = [{"id": s.family, "device": s.device or "Perangkat tidak dikenal", "created_at": s.created_at,
              "last_used_at": s.last_used_at, "expires_at": iso(s.expires_at),
              "active": not s.revoked and s.expires_at > now, "revoked_reason": s.revoked_reason}
             for s in repo.list_for(nik_hash)]
    return {"items": items, "next": None}


def revoke_device(principal: Principal, family: str) -> dict[str, Any]:
    """Log one device out; another citizen's session is not found."""
    nik_hash = _citizen(principal)
    session = repo.get(family)
    if session is None or session.nik_hash != nik_hash:
        raise NotFoundError("Perangkat tidak ditemukan.", code="device_not_found")
    repo.revoke(family, "device_removed", iso(utcnow()))
    return {"id": family, "active": False}

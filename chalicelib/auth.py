"""Tokens, password hashes and one-time codes; who the caller is comes from here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from chalicelib.config import get_secrets, get_settings
from chalicelib.domain.requests import ROLES, Principal
from chalicelib.errors import ForbiddenError, UnauthorizedError

_ISSUER = "balai"
# scrypt cost: ~50 ms per hash on a Lambda vCPU; stored with the hash so it can be raised later.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
                            dklen=len(digest_hex) // 2)
    return hmac.compare_digest(digest.hex(), digest_hex)


# A hash to compare against when the username does not exist, so timing does not reveal accounts.
DUMMY_PASSWORD_HASH = (
    "scrypt$16384$8$1$00000000000000000000000000000000$"
    "0000000000000000000000000000000000000000000000000000000000000000"
)


def new_otp_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_otp(code: str, nik_hash: str) -> str:
    key = get_secrets().jwt_key.encode()
    return hmac.new(key, f"{nik_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def audience() -> str:
    """Tokens name the stage they were issued for (`aud`), so one stage refuses another's tokens even if
    the two ever shared a signing key."""
    return f"balai:{get_settings().stage}"


def issue_token(principal: Principal) -> tuple[str, int]:
    """A short-lived HS256 JWT carrying role and region scope, the stage (`aud`) and, for staff, the
    account's session version (`sv`): deactivation and password changes raise it, ending the token."""
    import jwt  # PyJWT is imported on first use to keep it off the cold-start path.

    ttl = get_settings().token_ttl_seconds
    now = int(time.time())
    claims: dict[str, Any] = {"iss": _ISSUER, "aud": audience(), "sub": principal.subject, "role": principal.role,
                              "region": principal.region, "name": principal.name, "iat": now, "exp": now + ttl}
    if principal.role != "citizen":
        claims["sv"] = principal.session_version
    if principal.role == "opd":
        claims["opd"] = principal.unit
    return jwt.encode(claims, get_secrets().jwt_key, algorithm="HS256"), ttl


def principal_from_header(authorization: str | None) -> Principal:
    """Parse `Authorization: Bearer <jwt>`; raise UnauthorizedError if missing, expired or forged."""
    import jwt

    if not authorization or not authorization.startswith("Bearer "):
        raise UnauthorizedError("Silakan masuk terlebih dahulu.", code="missing_token")
    token = authorization[len("Bearer "):].strip()
    try:
        claims = jwt.decode(token, get_secrets().jwt_key, algorithms=["HS256"], issuer=_ISSUER,
                            audience=audience(), options={"require": ["exp", "iat", "sub", "role", "region", "aud"]})
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("Sesi Anda telah berakhir, silakan masuk kembali.", code="token_expired") from None
    except jwt.PyJWTError:
        raise UnauthorizedError("Token tidak valid.", code="invalid_token") from None
    # A signed token with a claim of the wrong type (a list as role) is still not a valid token.
    if (not all(isinstance(claims.get(name), str) for name in ("sub", "role", "region"))
            or not isinstance(claims.get("name", ""), str) or claims["role"] not in ROLES):
        raise UnauthorizedError("Token tidak valid.", code="invalid_token")
    session_version = claims.get("sv", 0)
    if claims["role"] != "citizen" and (type(session_version) is not int or session_version < 1):
        raise UnauthorizedError("Token tidak valid.", code="invalid_token")
    name = claims.get("name", "")
    unit = claims.get("opd", "") if claims["role"] == "opd" else ""
    if claims["role"] == "opd" and (not isinstance(unit, str) or not unit):
        raise UnauthorizedError("Token tidak valid.", code="invalid_token")
    return Principal(role=claims["role"], region=claims["region"], subject=claims["sub"], name=name,
                     session_version=session_version if claims["role"] != "citizen" else 0, unit=unit)


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise ForbiddenError("Peran Anda tidak boleh melakukan aksi ini.", code="forbidden_role")

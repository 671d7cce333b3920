"""Web Push (RFC 8030) with an encrypted payload (RFC 8291, aes128gcm via http-ece) and VAPID (RFC 8292,
via py-vapid); a local JSONL file in local mode. The VAPID key pair lives in the secrets store."""

from __future__ import annotations

import base64
import json
import os
import secrets as pysecrets
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from chalicelib.adapters.messaging import PermanentSendError, TransientSendError, write_local
from chalicelib.domain.clock import iso, utcnow

if TYPE_CHECKING:
    from chalicelib.config import Settings

__all__ = ["GoneError", "PushSender", "VapidKeys", "WebPushSender", "get_push_sender", "load_vapid_keys"]

PUSH_TTL_SECONDS = 24 * 3600  # a status message a day old is still worth showing
VAPID_FILE = "vapid.json"


class GoneError(PermanentSendError):
    """The push service no longer knows the subscription (404/410): remove it."""


class PushSender(Protocol):
    def send(self, endpoint: str, p256dh: str, auth: str, payload: bytes, *, message_id: str) -> str:
        """Encrypt `payload` for the subscription and post it to its push service.
        Raises GoneError (subscription gone), TransientSendError, PermanentSendError."""
        ...


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidKeys:
    """The application server's P-256 key pair (private key as raw 32 bytes, base64url)."""

    def __init__(self, private_key_b64: str, subject: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        raw = b64url_decode(private_key_b64)
        if len(raw) != 32:
            raise ValueError("a VAPID private key is 32 bytes")
        self.private_key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        self.private_key_b64 = private_key_b64
        self.subject = subject

    @property
    def public_key_b64(self) -> str:
        from cryptography.hazmat.primitives import serialization

        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint)
        return b64url(point)

    def authorization(self, endpoint: str, now: int | None = None) -> str:
        """The `Authorization: vapid t=<JWT>, k=<public key>` header for a push service (RFC 8292)."""
        from py_vapid import Vapid02

        parts = urlsplit(endpoint)
        claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": (now or int(time.time())) + 12 * 3600,
                  "sub": self.subject}
        vapid = Vapid02.from_raw(self.private_key_b64.encode("ascii"))
        return str(vapid.sign(claims)["Authorization"])


def generate_vapid_private_key() -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class WebPushSender:
    """POSTs the aes128gcm-encrypted payload to the subscription's endpoint with a VAPID header."""

    def __init__(self, keys: VapidKeys, *, timeout: float = 10.0) -> None:
        self.keys = keys
        self.timeout = timeout

    def send(self, endpoint: str, p256dh: str, auth: str, payload: bytes, *, message_id: str) -> str:
        import urllib.error
        import urllib.request

        import http_ece
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            body = http_ece.encrypt(payload, private_key=ec.generate_private_key(ec.SECP256R1()),
                                    dh=b64url_decode(p256dh), auth_secret=b64url_decode(auth),
                                    version="aes128gcm")
        except Exception as exc:  # a malformed key slipped past validation: retrying will not help
            raise PermanentSendError(f"push encryption failed: {type(exc).__name__}") from exc
        request = urllib.request.Request(endpoint, data=body, method="POST", headers={
            "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
            "TTL": str(PUSH_TTL_SECONDS), "Urgency": "normal",
            "Authorization": self.keys.authorization(endpoint)})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (https checked)
                return str(response.headers.get("Location") or message_id)
        except urllib.error.HTTPError as exc:
            code = exc.code
            if code in (404, 410):
                raise GoneError(f"push subscription gone ({code})", provider_code=str(code)) from exc
            if code == 429 or code >= 500:
                raise TransientSendError(f"push service {code}", provider_code=str(code)) from exc
            raise PermanentSendError(f"push service {code}", provider_code=str(code)) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TransientSendError(f"push service unreachable: {type(exc).__name__}") from exc


class LocalFilePushSender:
    """Local mode: appends each push (in clear) to .balai/outbox/push.jsonl instead of a push service."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def send(self, endpoint: str, p256dh: str, auth: str, payload: bytes, *, message_id: str) -> str:
        record = {"message_id": message_id, "endpoint": endpoint, "payload": json.loads(payload),
                  "sent_at": iso(utcnow())}
        return write_local(self.path, record, message_id)


def _read_local(path: Path) -> dict[str, Any] | None:
    return dict(json.loads(path.read_text())) if path.exists() else None


def write_local_vapid(path: Path, private_key_b64: str) -> None:
    """Write the key file owner-only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{pysecrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"vapid_private_key": private_key_b64}))
    tmp.replace(path)


@lru_cache(maxsize=4)
def load_vapid_keys(settings: Settings) -> VapidKeys:
    """The VAPID keys: `vapid_private_key` of the app secret in the cloud (one store for every secret, read by
    config.get_secrets; written by `python -m chalicelib.ops vapid-keys`), .balai/vapid.json (0600) locally,
    generated on first use."""
    if settings.is_cloud or settings.secrets_arn:
        from chalicelib.config import get_secrets

        private = get_secrets().vapid_private_key
        if not private:
            raise PermanentSendError("VAPID keys not set: run `python -m chalicelib.ops vapid-keys`")
        return VapidKeys(private, settings.vapid_subject)
    path = settings.data_dir / VAPID_FILE
    stored = _read_local(path)
    if not stored:
        write_local_vapid(path, generate_vapid_private_key())
        stored = _read_local(path) or {}
    return VapidKeys(str(stored["vapid_private_key"]), settings.vapid_subject)


def get_push_sender(settings: Settings) -> PushSender:
    if settings.push_channel == "local":
        return LocalFilePushSender(settings.outbox_dir / "push.jsonl")
    if settings.push_channel == "webpush":
        return WebPushSender(load_vapid_keys(settings))
    raise ValueError(f"unknown push_channel {settings.push_channel!r}")

"""Letter file storage: S3 in the cloud, a directory with signed expiring links locally; one Protocol."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Protocol

from chalicelib.errors import ExternalServiceError, NotFoundError

PRESIGN_SECONDS = 300
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,500}$")


class FileStore(Protocol):
    """Where generated files live. put/exists raise ExternalServiceError when the store is unreachable."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""

    def exists(self, key: str) -> bool:
        """True when an object is stored under `key`."""

    def read(self, key: str) -> bytes:
        """The object's bytes; NotFoundError(file_not_found) when there is none."""

    def link(self, key: str, filename: str, expires_in: int = PRESIGN_SECONDS) -> str:
        """A URL that downloads the object for `expires_in` seconds, with no other credentials."""


def check_key(key: str) -> str:
    # Keys are built by the services, but a '..' here would escape the local directory.
    if not _KEY_RE.match(key) or ".." in key.split("/"):
        raise ValueError(f"bad file key: {key!r}")
    return key


class S3FileStore:
    """S3 objects with server-side encryption, handed out by presigned GET URLs."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type,
                                   ServerSideEncryption="AES256")
        except (BotoCoreError, ClientError) as exc:
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc
        except BotoCoreError as exc:
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc

    def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise NotFoundError("Berkas tidak ditemukan.", code="file_not_found") from exc
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc
        except BotoCoreError as exc:
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc

    def link(self, key: str, filename: str, expires_in: int = PRESIGN_SECONDS) -> str:
        # Presigning is local computation (no call to S3), so it cannot fail on the network.
        return str(self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": check_key(key),
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                    "ResponseContentType": "application/pdf"},
            ExpiresIn=expires_in))


class LocalFileStore:
    """Files under a directory; links are HMAC-signed, expiring tokens served by GET /v1/files/{token}."""

    def __init__(self, root: Path, base_url: str, secret: bytes) -> None:
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.secret = secret

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a PDF, even with two writers of the same key.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError("Berkas tidak ditemukan.", code="file_not_found") from None

    def link(self, key: str, filename: str, expires_in: int = PRESIGN_SECONDS) -> str:
        return f"{self.base_url}/v1/files/{self.sign(key, filename, expires_in)}"

    def sign(self, key: str, filename: str, expires_in: int, now: float | None = None) -> str:
        payload = {"k": check_key(key), "f": filename, "e": int((now or time.time()) + expires_in)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def open_token(self, token: str, now: float | None = None) -> tuple[str, str]:
        """(key, filename) of a valid, unexpired link token; NotFoundError otherwise (no hint why)."""
        missing = NotFoundError("Tautan berkas tidak valid atau sudah kedaluwarsa.", code="file_link_invalid")
        try:
            body, mac = token.split(".")
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                raise missing
            payload = json.loads(_unb64(body))
            key, filename, expires = str(payload["k"]), str(payload["f"]), int(payload["e"])
        except (ValueError, KeyError, TypeError):
            raise missing from None
        if expires < (now or time.time()):
            raise missing
        return check_key(key), filename

    def _mac(self, body: str) -> bytes:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

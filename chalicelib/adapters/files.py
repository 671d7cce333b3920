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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chalicelib.errors import AppError, ExternalServiceError, NotFoundError

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

    def link(self, key: str, filename: str, expires_in: int = PRESIGN_SECONDS,
             content_type: str = "application/pdf", version: str = "") -> str:
        """A URL that downloads the object for `expires_in` seconds, with no other credentials; with `version` (an
        S3 version id from probe) exactly that version, whatever was written to the key since."""

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str]]:
        """(url, form fields) of a browser upload straight to the store: a multipart/form-data POST with
        every field and then `file`, accepted only for this key, this Content-Type, 1..max_bytes bytes,
        before it expires. No call to the store is made."""

    def probe(self, key: str, head_bytes: int = 16) -> StoredObject | None:
        """Size, stored Content-Type, first bytes and version of an object; None when there is none."""

    def copy(self, source: str, target: str) -> None:
        """Copy an object inside the store (server-side in S3)."""

    def delete(self, key: str) -> None:
        """Delete the object (S3 bills no DELETE request); nothing when there is no such object."""


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    head: bytes
    version: str = ""  # S3's VersionId of what was read ("" in an unversioned store)
    etag: str = ""


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

    @staticmethod
    def _call(call: Any, missing_ok: bool = False) -> Any:
        """Run one S3 call; a missing object is None when `missing_ok`, any other failure a 502."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as exc:
            if missing_ok and exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc
        except BotoCoreError as exc:
            raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.",
                                       code="file_store_error") from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call(lambda: self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data,
                                                  ContentType=content_type, ServerSideEncryption="AES256"))

    def exists(self, key: str) -> bool:
        return self._call(lambda: self.client.head_object(Bucket=self.bucket, Key=check_key(key)),
                          missing_ok=True) is not None

    def read(self, key: str) -> bytes:
        answer = self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=check_key(key)), missing_ok=True)
        if answer is None:
            raise NotFoundError("Berkas tidak ditemukan.", code="file_not_found")
        return bytes(answer["Body"].read())

    def link(self, key: str, filename: str, expires_in: int = PRESIGN_SECONDS,
             content_type: str = "application/pdf", version: str = "") -> str:
        # Presigning is local computation (no call to S3), so it cannot fail on the network.
        disposition = f'inline; filename="{filename}"'
        if version:
            return self._version_link(key, disposition, expires_in, content_type, version)
        return str(self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": check_key(key), "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type},
            ExpiresIn=expires_in))

    def _version_link(self, key: str, disposition: str, expires_in: int, content_type: str, version: str) -> str:
        # One version of an attachment, the one checked at submission: a later write to the key (the citizen's
        # presigned POST is valid for minutes) does not change what the request shows. Needs s3:GetObjectVersion.
        return str(self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": check_key(key), "VersionId": version,
                    "ResponseContentDisposition": disposition, "ResponseContentType": content_type},
            ExpiresIn=expires_in))

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str]]:
        # S3 enforces the policy: exact key, exact Content-Type, content-length-range, expiry.
        post = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=check_key(key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in)
        return str(post["url"]), {k: str(v) for k, v in post["fields"].items()}

    def probe(self, key: str, head_bytes: int = 16) -> StoredObject | None:
        answer = self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=check_key(key),
                                                           Range=f"bytes=0-{head_bytes - 1}"), missing_ok=True)
        if answer is None:
            return None
        head = answer["Body"].read()
        # "bytes 0-15/12345": the total size follows the slash (ContentLength is the range's length).
        total = str(answer.get("ContentRange", "")).rpartition("/")[2]
        size = int(total) if total.isdigit() else int(answer.get("ContentLength", len(head)))
        version = str(answer.get("VersionId") or "")
        return StoredObject(size, str(answer.get("ContentType", "")), head,
                            "" if version == "null" else version, str(answer.get("ETag") or "").strip('"'))

    def copy(self, source: str, target: str) -> None:
        self._call(lambda: self.client.copy_object(
            Bucket=self.bucket, Key=check_key(target), CopySource={"Bucket": self.bucket, "Key": check_key(source)},
            ServerSideEncryption="AES256"))

    def delete(self, key: str) -> None:
        # S3 answers 204 for a key that is not there; in the versioned bucket this adds a delete marker and the
        # bucket's noncurrent-version rule removes the data later.
        self._call(lambda: self.client.delete_object(Bucket=self.bucket, Key=check_key(key)), missing_ok=True)


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
        # Letters print full NIKs: directories 0700 and files 0600, whatever the process umask.
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write then rename: a reader never sees half a PDF, even with two writers of the same key.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.replace(target)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError("Berkas tidak ditemukan.", code="file_not_found") from None

    def link(self, key: str, filename: str, expires_in: int = PRESIGN_SECONDS,
             content_type: str = "application/pdf", version: str = "") -> str:
        # No versions here: an attachment's key is written once (accept_post), so the key is the version.
        return f"{self.base_url}/v1/files/{self.sign(key, filename, expires_in, content_type=content_type)}"

    def sign(self, key: str, filename: str, expires_in: int, now: float | None = None,
             content_type: str = "application/pdf") -> str:
        payload = {"k": check_key(key), "f": filename, "e": int((now or time.time()) + expires_in)}
        if content_type != "application/pdf":
            payload["t"] = content_type
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def open_token(self, token: str, now: float | None = None) -> tuple[str, str]:
        """(key, filename) of a valid, unexpired link token; NotFoundError otherwise (no hint why)."""
        key, filename, _ = self.open_link(token, now)
        return key, filename

    def open_link(self, token: str, now: float | None = None) -> tuple[str, str, str]:
        """(key, filename, content type) of a valid, unexpired link token; NotFoundError otherwise."""
        missing = NotFoundError("Tautan berkas tidak valid atau sudah kedaluwarsa.", code="file_link_invalid")
        try:
            body, mac = token.split(".")
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                raise missing
            payload = json.loads(_unb64(body))
            key, filename, expires = str(payload["k"]), str(payload["f"]), int(payload["e"])
            content_type = str(payload.get("t", "application/pdf"))
        except (ValueError, KeyError, TypeError):
            raise missing from None
        if expires < (now or time.time()):
            raise missing
        return check_key(key), filename, content_type

    # -- browser uploads, with the same policy S3 enforces on a presigned POST (local and test stages)
    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int,
                     now: float | None = None) -> tuple[str, dict[str, str]]:
        policy = {"key": check_key(key), "content_type": content_type, "max": int(max_bytes),
                  "e": int((now or time.time()) + expires_in)}
        body = _b64(json.dumps(policy, separators=(",", ":")).encode())
        fields = {"key": key, "Content-Type": content_type, "policy": body,
                  "x-balai-signature": _b64(self._mac("upload." + body))}
        return f"{self.base_url}/v1/local-uploads", fields

    def accept_post(self, fields: dict[str, str], data: bytes, now: float | None = None) -> str:
        """Store an upload posted with presign_post's fields, enforcing its policy like S3 does.
        Raises AppError: 403 upload_policy_invalid (signature, expiry, key, type), 400 upload_too_large /
        upload_empty, 409 upload_exists (a key is written once: S3 keeps every version and a request's links name the
        one checked at submission; this store has no versions, so a second post to a key is refused). Returns the
        key."""
        refused = AppError("Izin unggah tidak valid atau sudah kedaluwarsa.",
                           code="upload_policy_invalid").with_status(403)
        try:
            body = fields["policy"]
            if not hmac.compare_digest(_unb64(fields["x-balai-signature"]), self._mac("upload." + body)):
                raise refused
            policy = json.loads(_unb64(body))
            key, content_type, max_bytes, expires = (str(policy["key"]), str(policy["content_type"]),
                                                     int(policy["max"]), int(policy["e"]))
        except (ValueError, KeyError, TypeError):
            raise refused from None
        if expires < (now or time.time()) or fields.get("key") != key or fields.get("Content-Type") != content_type:
            raise refused
        if not data:
            raise AppError("Berkas kosong.", code="upload_empty")
        if len(data) > max_bytes:
            raise AppError(f"Berkas lebih besar dari {max_bytes // 1024} KB.", code="upload_too_large")
        if self.exists(key):
            raise AppError("Berkas ini sudah diunggah; minta formulir unggah yang baru.",
                           code="upload_exists").with_status(409)
        self.put(key, data, content_type)
        self._type_path(key).write_text(content_type)
        return key

    def _type_path(self, key: str) -> Path:
        target = self.path(key)
        return target.with_name(f".{target.name}.content-type")

    def probe(self, key: str, head_bytes: int = 16) -> StoredObject | None:
        target = self.path(key)
        try:
            with target.open("rb") as f:
                head = f.read(head_bytes)
            size = target.stat().st_size
        except (FileNotFoundError, IsADirectoryError):
            return None
        type_path = self._type_path(key)
        return StoredObject(size, type_path.read_text() if type_path.exists() else "", head)

    def copy(self, source: str, target: str) -> None:
        data = self.read(source)
        self.put(target, data, "")
        type_path = self._type_path(source)
        if type_path.exists():
            self._type_path(target).write_text(type_path.read_text())

    def delete(self, key: str) -> None:
        # The file and its content-type note beside it.
        self.path(key).unlink(missing_ok=True)
        self._type_path(key).unlink(missing_ok=True)

    def _mac(self, body: str) -> bytes:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


MAX_FORM_FIELDS = 20


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes]:
    """(text fields, file bytes) of a multipart/form-data body whose last part is `file`, as a browser
    sends a presigned-POST form. The standard library's MIME parser does the parsing; ValidationError
    (malformed_upload) for anything else."""
    from email import policy
    from email.parser import BytesParser

    from chalicelib.errors import ValidationError

    bad = ValidationError("Formulir unggahan tidak valid (multipart/form-data dengan bagian file).",
                          code="malformed_upload")
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise bad
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise bad
    fields: dict[str, str] = {}
    data: bytes | None = None
    for index, part in enumerate(message.iter_parts()):
        if index >= MAX_FORM_FIELDS or data is not None:
            raise bad  # S3 ignores fields after the file; here they are simply refused
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise bad
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise bad
        if name == "file":
            data = payload
        elif name in fields:
            raise bad
        else:
            try:
                fields[name] = payload.decode("utf-8")
            except UnicodeDecodeError:
                raise bad from None
    if data is None:
        raise bad
    return fields, data

"""Attachments (lampiran): allowed file types and their magic bytes, file names, where the files live."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.errors import ValidationError

# What a citizen may upload, and how each type's file really starts (the browser's word is not enough). WebP
# is what the portal sends photos as where the browser can encode it (web/assets/lib.js shrinkPhoto): half a
# JPEG's bytes at the same quality, and every photo is stored and opened by staff (issue 14).
MAGIC: dict[str, tuple[re.Pattern[bytes], ...]] = {
    "image/jpeg": (re.compile(re.escape(b"\xff\xd8\xff")),),
    "image/png": (re.compile(re.escape(b"\x89PNG\r\n\x1a\n")),),
    "image/webp": (re.compile(b"RIFF....WEBP", re.DOTALL),),  # a RIFF container, its size, then its form type
    "application/pdf": (re.compile(re.escape(b"%PDF-")),),
}
ALLOWED_TYPES = tuple(MAGIC)
HEAD_BYTES = 16
UPLOAD_SECONDS = 600  # how long a presigned upload form stays valid
LINK_SECONDS = 300  # how long a staff member's view link stays valid
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._ ()-]+")


def matches_type(content_type: str, head: bytes) -> bool:
    """True when the file's first bytes are those of its declared type."""
    return any(magic.match(head) for magic in MAGIC.get(content_type, ()))


def clean_filename(name: str) -> str:
    """A safe display/download name: the last path part, ASCII letters, digits and a few marks, ≤ 100
    characters. Raises ValidationError(invalid_filename) for names with control characters or nothing left."""
    if not isinstance(name, str) or any(unicodedata.category(c) == "Cc" for c in name):
        raise ValidationError("Nama berkas tidak valid.", code="invalid_filename")
    base = re.split(r"[\\/]", name)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _NAME_CHARS.sub("-", ascii_name).strip(" .-")[:100]
    if not cleaned:
        raise ValidationError("Nama berkas tidak valid.", code="invalid_filename")
    return cleaned


_ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def uploaded_at(upload_id: str) -> datetime | None:
    """When an upload was presigned: the millisecond time in its ULID's first 10 characters; None when the id
    is not a ULID (attachments from before ids were ULIDs)."""
    head = upload_id[:10]
    if len(upload_id) != 26 or any(c not in _ULID_CHARS for c in head):
        return None
    ms = 0
    for c in head:
        ms = ms * 32 + _ULID_CHARS.index(c)
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def attachment_expires_at(upload_id: str, closed_at: datetime | None, retention_days: int) -> datetime | None:
    """When an attachment of a request is deleted under the retention rule: never while the request is open
    (closed_at None); else once the file is `retention_days` old counted from its upload, and not before the
    request closed (S3's lifecycle counts an object's age from its creation, and only tagged objects expire).
    None: kept."""
    uploaded = uploaded_at(upload_id)
    if closed_at is None or uploaded is None:
        return None
    return max(uploaded + timedelta(days=retention_days), closed_at)


def files_delete_at(upload_ids: list[str], closed_at: datetime, retention_days: int) -> datetime | None:
    """When the files of a request closed at `closed_at` are deleted together: once the newest of them is
    `retention_days` old (none goes before its own time). None when an id carries no upload time (kept)."""
    times = [attachment_expires_at(u, closed_at, retention_days) for u in upload_ids]
    if not times or any(t is None for t in times):
        return None
    return max(t for t in times if t is not None)


STAGING_PREFIX = "uploads/"  # where uploads presigned before direct uploads landed (the bucket's lifecycle empties it)


def upload_file_key(village: str, upload_id: str) -> str:
    """Where a browser upload lands: straight at the attachment's final key (no copy at submission). An upload no
    submission uses is deleted when DynamoDB's TTL removes its upload item (a day later, by the stream handler)."""
    return attachment_file_key(village, upload_id)


def staging_file_key(village: str, upload_id: str) -> str:
    """Where an upload presigned before direct uploads landed: a staging prefix the bucket's lifecycle empties after a
    day; a submission still copies such a file to its attachment key."""
    return f"uploads/{village}/{upload_id}"


def is_staging(file_key: str) -> bool:
    """True for an upload of the old layout (its file must be copied out of the staging prefix at submission)."""
    return file_key.startswith(STAGING_PREFIX)


def attachment_file_key(village: str, upload_id: str) -> str:
    """Where an attachment lives (deterministic: the upload's own key; a legacy staging upload is copied here)."""
    return f"attachments/{village}/{upload_id}"


@dataclass(frozen=True)
class Upload:
    """A presigned upload a citizen asked for: whose, for which village, letter type and attachment."""

    id: str
    owner: str
    village: str
    letter_type: str
    attachment: str
    filename: str
    content_type: str
    size: int
    file_key: str
    created_at: str
    expires_at: str
    used_by: str = ""  # the request or complaint whose submission used it ("" while unused)
    stored_version: str = ""  # the file's S3 version and ETag as that submission checked them
    stored_etag: str = ""


@dataclass(frozen=True)
class Attachment:
    """An attachment of a request, as stored on the request."""

    name: str
    label: str
    filename: str
    content_type: str
    size: int
    file_key: str
    upload_id: str
    version: str = ""  # the S3 object version checked at submission: links serve exactly it ("" unversioned)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "label": self.label, "filename": self.filename,
                                "content_type": self.content_type, "size": self.size, "file_key": self.file_key,
                                "upload_id": self.upload_id}
        if self.version:
            data["version"] = self.version
        return data

    def to_public(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "filename": self.filename,
                "content_type": self.content_type, "size": self.size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attachment:
        return cls(name=str(data["name"]), label=str(data.get("label", "")), filename=str(data["filename"]),
                   content_type=str(data["content_type"]), size=int(data["size"]),
                   file_key=str(data["file_key"]), upload_id=str(data.get("upload_id", "")),
                   version=str(data.get("version") or ""))

"""Attachment use cases: presigned uploads straight to storage (at the attachment's final key), checking uploads at
submit and resubmit and marking them used in the submission's transaction, deleting the uploads nobody used,
short-lived view links for the request's owner and staff."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.files import StoredObject
from chalicelib.config import get_settings
from chalicelib.domain import catalog
from chalicelib.domain.attachments import (
    ALLOWED_TYPES,
    HEAD_BYTES,
    LINK_SECONDS,
    UPLOAD_SECONDS,
    Attachment,
    Upload,
    attachment_expires_at,
    attachment_file_key,
    clean_filename,
    files_delete_at,
    is_staging,
    matches_type,
    upload_file_key,
)
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id
from chalicelib.domain.operations import UseUpload
from chalicelib.domain.regions import Region, is_village
from chalicelib.domain.requests import FINAL_STATUSES, Principal, ServiceRequest
from chalicelib.errors import ForbiddenError, GoneError, NotFoundError, UnprocessableError, ValidationError
from chalicelib.observability import logger
from chalicelib.services import wiring
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import retention as retention_repo
from chalicelib.storage import uploads as repo

MAX_ATTACHMENTS = 10


def create_upload(principal: Principal, village_code: str, letter_type_code: str, attachment: str,
                  filename: str, content_type: str, size: int) -> dict[str, Any]:
    """Record an upload and presign a size- and type-limited browser POST straight to storage.

    Raises ForbiddenError (not a citizen), NotFoundError (village), UnprocessableError (inactive village,
    unknown or disabled letter type, attachment the type does not ask for, file type, size)."""
    name, village = _upload_request(principal, village_code, filename, content_type, size, ALLOWED_TYPES,
                                    "Jenis berkas harus JPG, PNG, WebP atau PDF.")
    letter_type = catalog.effective_type(letter_type_code, village.letter_types)
    if letter_type is None or not letter_type.enabled:
        raise UnprocessableError("Jenis surat tidak dikenal.", code="unknown_letter_type")
    if attachment not in {a.name for a in letter_type.attachments}:
        raise UnprocessableError(f"{letter_type.name} tidak meminta lampiran {attachment!r}.",
                                 code="unknown_attachment")
    return _presign(principal, village.code, letter_type.code, attachment, name, content_type, size)


def _upload_request(principal: Principal, village_code: str, filename: str, content_type: str, size: int,
                    allowed: tuple[str, ...], type_message: str) -> tuple[str, Region]:
    """What every upload request must be: a citizen's, for an active village, of an allowed type and size, with a
    usable file name. Returns (clean file name, village)."""
    if not principal.is_citizen:
        raise ForbiddenError("Hanya warga yang dapat mengunggah berkas.", code="forbidden_role")
    if not is_village(village_code):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    settings = get_settings()
    if content_type not in allowed:
        raise UnprocessableError(type_message, code="unsupported_file_type", allowed=list(allowed))
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= settings.max_upload_bytes:
        raise UnprocessableError(f"Ukuran berkas harus 1 bita sampai {settings.max_upload_bytes // (1024 * 1024)} MB.",
                                 code="file_too_large", max_bytes=settings.max_upload_bytes)
    name = clean_filename(filename)
    village = regions_repo.get(village_code)
    if village is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    if not village.active:
        raise UnprocessableError(f"Layanan daring belum aktif di {village.name}.", code="village_inactive")
    return name, village


def _presign(principal: Principal, village: str, letter_type: str, attachment: str, name: str, content_type: str,
             size: int) -> dict[str, Any]:
    """Record the upload (who, where, what for) and presign the size- and type-limited POST to storage."""
    settings = get_settings()
    now = utcnow()
    upload_id = new_id()
    expires = now + timedelta(seconds=settings.upload_ttl_seconds)
    upload = Upload(id=upload_id, owner=principal.subject, village=village, letter_type=letter_type,
                    attachment=attachment, filename=name, content_type=content_type, size=size,
                    file_key=upload_file_key(village, upload_id), created_at=iso(now), expires_at=iso(expires))
    repo.create(upload, expires)
    url, fields = wiring.file_store().presign_post(upload.file_key, content_type, settings.max_upload_bytes,
                                                  UPLOAD_SECONDS)
    logger.info("upload presigned", extra={"upload_id": upload_id, "village": village,
                                           "attachment": attachment, "content_type": content_type})
    return {"upload_id": upload_id, "method": "POST", "url": url, "fields": fields, "expires_in": UPLOAD_SECONDS,
            "max_bytes": settings.max_upload_bytes}


def parse_refs(value: Any) -> dict[str, str]:
    """`{"<attachment name>": "<upload id>"}` from a request body; ValidationError for anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ATTACHMENTS or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 64 and v.isascii() and v.isalnum()
            for k, v in value.items()):
        raise ValidationError("attachments harus berupa objek {nama lampiran: id unggahan}.",
                              code="invalid_attachment")
    return dict(value)


def _invalid(label: str, why: str) -> UnprocessableError:
    return UnprocessableError(f"Lampiran {label} {why}", code="invalid_attachment", attachment=label)


@dataclass(frozen=True)
class Checked:
    """An upload a submission uses, as checked: the file's size, version and ETag, and whether it is in the old
    staging prefix (then copied to its attachment key, and its upload item is not marked)."""

    upload_id: str
    size: int
    version: str
    etag: str
    staging: bool


def use_operations(principal: Principal, checked: list[Checked], used_by: str) -> list[UseUpload]:
    """The submission's marks on the uploads it uses (one UseUpload each, in its transaction; none for a legacy
    staging upload, which was copied): a refused submission marks nothing, and its uploads' TTL removal deletes
    their files."""
    now = utcnow()
    return [UseUpload(c.upload_id, principal.subject, used_by, c.size, c.version, c.etag, now)
            for c in checked if not c.staging]


def _check_one(principal: Principal, request_village: str, letter_type: catalog.LetterType, name: str,
               upload: Upload | None) -> tuple[Attachment, Checked]:
    """One named upload, checked against its record and the stored file (size, real type)."""
    spec = next((a for a in letter_type.attachments if a.name == name), None)
    if spec is None:
        raise UnprocessableError(f"{letter_type.name} tidak meminta lampiran {name!r}.", code="invalid_attachment",
                                 attachment=name)
    if upload is None or upload.owner != principal.subject or upload.village != request_village \
            or upload.letter_type != letter_type.code or upload.attachment != name \
            or upload.expires_at <= iso(utcnow()):
        # Another citizen's upload looks exactly like an unknown one.
        raise _invalid(spec.label, "tidak ditemukan; unggah ulang berkasnya.")
    stored = _stored(upload, lambda why: _invalid(spec.label, why))
    checked = _checked(upload, stored)
    return Attachment(name=name, label=spec.label, filename=upload.filename, content_type=upload.content_type,
                      size=stored.size, file_key=attachment_file_key(request_village, upload.id), upload_id=upload.id,
                      version=checked.version), checked


def _checked(upload: Upload, stored: StoredObject) -> Checked:
    # A legacy upload's version is that of its staging copy, not of the attachment copied from it: not pinned.
    staging = is_staging(upload.file_key)
    return Checked(upload.id, stored.size, "" if staging else stored.version, stored.etag, staging)


def _stored(upload: Upload, invalid: Any) -> StoredObject:
    """The stored file once it is there, within the size limit and of its declared type (its first bytes), and, for an
    upload a submission already used (a resubmission naming it again, a retried submission), still the file that
    submission checked; else `invalid(why)` is raised. Its version (S3) is what the request's links will serve."""
    stored = wiring.file_store().probe(upload.file_key, HEAD_BYTES)
    if stored is None:
        raise invalid("belum selesai diunggah.")
    if upload.used_by and ((upload.stored_version and stored.version != upload.stored_version)
                           or (upload.stored_etag and stored.etag != upload.stored_etag)):
        # Posted again with its still-valid form after it was submitted: not the file that was checked.
        logger.info("upload rewritten after use", extra={"upload_id": upload.id})
        raise invalid("berubah setelah diajukan; unggah ulang berkasnya.")
    if stored.size > get_settings().max_upload_bytes or stored.size < 1:
        raise invalid("terlalu besar.")
    if not matches_type(upload.content_type, stored.head):
        logger.info("attachment type mismatch", extra={"upload_id": upload.id, "declared": upload.content_type})
        raise invalid("bukan berkas JPG, PNG, WebP atau PDF yang sah.")
    return stored


def resolve(principal: Principal, village: str, letter_type: catalog.LetterType, refs: dict[str, str],
            uploads: dict[str, Upload], existing: dict[str, dict[str, Any]] | None = None
            ) -> tuple[dict[str, dict[str, Any]], list[Checked]]:
    """The request's attachments after this submit/resubmit: `refs` checked, merged over `existing`; every required
    attachment present. Returns (attachments, the uploads used: `use_operations` marks them in the submission's
    transaction). Raises UnprocessableError(missing_attachment, invalid_attachment)."""
    merged = dict(existing or {})
    present = set(merged) | set(refs)
    missing = [a for a in letter_type.attachments if a.required and a.name not in present]
    if missing:
        raise UnprocessableError("Lampiran wajib belum ada: " + ", ".join(a.label for a in missing) + ".",
                                 code="missing_attachment", missing=[a.name for a in missing])
    used: list[Checked] = []
    if refs:
        items = sorted(refs.items())
        # Every file is checked (one ranged GET each, in parallel). A file is already at its final key (the
        # presigned POST wrote it there): nothing is copied, the submission's transaction marks its upload used.
        # Only an upload from before that (in the old staging prefix) is copied, after every file was checked,
        # so a refused submission leaves nothing behind.
        results = _each(lambda kv: _check_one(principal, village, letter_type, kv[0], uploads.get(kv[1])), items)
        _copy_staging(uploads, [(a.upload_id, a.file_key) for a, c in results if c.staging])
        for attachment, checked in results:
            merged[attachment.name] = attachment.to_dict()
            used.append(checked)
    return merged, used


def _copy_staging(uploads: dict[str, Upload], targets: list[tuple[str, str]]) -> None:
    """Copy legacy uploads (presigned to the staging prefix before direct uploads) to their attachment keys."""
    if targets:
        store = wiring.file_store()
        _each(lambda t: store.copy(uploads[t[0]].file_key, t[1]), targets)


def _each(work: Any, items: list[Any]) -> list[Any]:
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(work, items))


def public_order(request: ServiceRequest, letter_type: catalog.LetterType | None = None) -> list[dict[str, Any]]:
    """The request's stored attachments in the letter type's order."""
    order = [a.name for a in (letter_type or catalog.DEFAULT_CATALOG.get(request.letter_type) or
                              catalog.DEFAULT_CATALOG["SKD"]).attachments]
    items = sorted((request.attachments or {}).items(),
                   key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))
    return [data for _, data in items]


def public_list(request: ServiceRequest, letter_type: catalog.LetterType | None = None) -> list[dict[str, Any]]:
    """The request's attachments as the API shows them, in the letter type's order."""
    return [Attachment.from_dict(data).to_public() for data in public_order(request, letter_type)]


def link(principal: Principal, request_id: str, name: str) -> dict[str, Any]:
    """A short-lived link to one attachment: its owner, or staff who may read the request. Raises NotFoundError
    (request, attachment), GoneError(attachment_expired) past the retention."""
    from chalicelib.services import requests as requests_service

    request = requests_service.get(principal, request_id)  # 404 for anyone else
    data = (request.attachments or {}).get(name)
    if data is None:
        raise NotFoundError("Lampiran tidak ditemukan.", code="attachment_not_found")
    attachment = Attachment.from_dict(data)
    gone_at = _gone_at(request, attachment)
    if gone_at is not None:
        raise GoneError(_gone_message(attachment.label or name), code="attachment_expired", deleted_at=iso(gone_at))
    _audit_view(principal, request, [name])
    return _handout(attachment)


def links(principal: Principal, request_id: str) -> dict[str, Any]:
    """Short-lived links to every attachment of a request, in one answer (a page showing them all needs one
    call, not one per file); a file past its retention is listed `expired`. Staff viewing them leave one audit
    event naming them. Raises NotFoundError (request), GoneError(attachment_expired) when every file is gone."""
    from chalicelib.services import requests as requests_service

    request = requests_service.get(principal, request_id)  # 404 for anyone else
    items: list[dict[str, Any]] = []
    for data in public_order(request):
        attachment = Attachment.from_dict(data)
        gone_at = _gone_at(request, attachment)
        items.append({"name": attachment.name, "label": attachment.label, "expired": True,
                      "deleted_at": iso(gone_at), "message": _gone_message(attachment.label or attachment.name)}
                     if gone_at is not None else {**_handout(attachment), "label": attachment.label})
    shown = [i["name"] for i in items if not i.get("expired")]
    if items and not shown:
        raise GoneError(_gone_message("permohonan ini"), code="attachment_expired")
    if shown:
        _audit_view(principal, request, shown)
    return {"items": items, "expires_in": LINK_SECONDS}


def _gone_at(request: ServiceRequest, attachment: Attachment) -> datetime | None:
    gone_at = attachment_expires_at(attachment.upload_id, closed_at(request), get_settings().attachment_retention_days)
    return gone_at if gone_at is not None and gone_at <= utcnow() else None


def _gone_message(label: str) -> str:
    return (f"Lampiran {label} sudah dihapus: lampiran disimpan {get_settings().attachment_retention_days} hari "
            "setelah diunggah dan dihapus setelah permohonan selesai. Surat dan riwayat permohonan tetap tersimpan.")


def _audit_view(principal: Principal, request: ServiceRequest, names: list[str]) -> None:
    if principal.is_citizen and principal.subject == request.nik_hash:
        return
    # A KTP or KK photo shows the full NIK: like a letter download, staff viewing it leave an audit entry
    # (written before the link is handed out).
    from chalicelib.domain.requests import HistoryEntry
    from chalicelib.storage import requests as requests_repo

    details: dict[str, Any] = {"attachment": names[0], "username": principal.subject}
    if len(names) > 1:
        details["attachments"] = names
    entry = HistoryEntry(iso(utcnow()), principal.name or principal.subject, principal.role, "view_attachment",
                         request.status, request.status, None, request.version, details)
    requests_repo.append_event(request.id, entry, new_id())


def _handout(attachment: Attachment) -> dict[str, Any]:
    url = wiring.file_store().link(attachment.file_key, attachment.filename, LINK_SECONDS, attachment.content_type,
                                   attachment.version)
    return {"url": url, "expires_in": LINK_SECONDS, "name": attachment.name, "filename": attachment.filename,
            "content_type": attachment.content_type}


def closed_at(request: ServiceRequest) -> datetime | None:
    """When the request reached its final state (issued, rejected, cancelled); None while it is open."""
    if request.status not in FINAL_STATUSES:
        return None
    entry = next((e for e in reversed(request.history) if e.to_status == request.status
                  and e.from_status not in FINAL_STATUSES), None)
    return datetime.fromisoformat(entry.at if entry else request.updated_at)


def release(requests: list[ServiceRequest]) -> None:
    """Schedule the deletion of the attachments of requests that reached a final state: one retention item per
    request whose TTL expiry is when its newest file is BALAI_ATTACHMENT_RETENTION_DAYS old (and not before it
    closed); DynamoDB's TTL removes it then and the stream handler deletes the files (delete_expired). One
    DynamoDB write per request instead of an S3 tag request per file. A failure is logged and leaves the files
    kept (never deleted early); the request's change stands."""
    days = get_settings().attachment_retention_days
    for request in requests:
        if request.status not in FINAL_STATUSES or not request.attachments:
            continue
        files = [Attachment.from_dict(data) for data in request.attachments.values()]
        delete_at = files_delete_at([a.upload_id for a in files], closed_at(request) or utcnow(), days)
        if delete_at is None:
            continue  # files from before upload ids carried their time: kept
        try:
            retention_repo.schedule(request.id, request.village, [a.file_key for a in files], delete_at)
        except Exception:
            logger.exception("attachments not scheduled for deletion; they are kept",
                             extra={"request_id": request.id})


def delete_expired(file_keys: list[str]) -> None:
    """Delete the files whose retention ran out (the stream handler, on DynamoDB's TTL removal of their retention
    item), in parallel. Raises ExternalServiceError: the stream then delivers the record again."""
    store = wiring.file_store()
    _each(store.delete, file_keys)
    logger.info("attachments deleted after retention", extra={"files": len(file_keys)})


def delete_unused(file_keys: list[str]) -> None:
    """Delete the files of uploads no submission used (the stream handler, on DynamoDB's TTL removal of their
    upload items, a day after they were presigned), in parallel. Raises ExternalServiceError: the stream then
    delivers the record again."""
    store = wiring.file_store()
    _each(store.delete, file_keys)
    logger.info("unused uploads deleted", extra={"files": len(file_keys)})


def accept_local_post(content_type: str, body: bytes) -> None:
    """The local stand-in for S3's presigned POST: parse the form, enforce the policy, store the file.

    Raises ValidationError(malformed_upload), AppError 403 upload_policy_invalid / 400 upload_too_large."""
    from chalicelib.adapters.files import LocalFileStore, parse_form

    store = wiring.file_store()
    if not isinstance(store, LocalFileStore):
        raise NotFoundError("Tidak ditemukan.", code="not_found")
    fields, data = parse_form(content_type, body)
    key = store.accept_post(fields, data)
    logger.info("local upload stored", extra={"key": key, "bytes": len(data)})


# ---- complaint photos (issue 12.1): the same presigned, size- and type-limited upload, photos only ----------
PHOTO_PURPOSE = "COMPLAINT"  # recorded as the upload's letter type: a photo upload never fits a letter
PHOTO_ATTACHMENT = "photo"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def create_photo_upload(principal: Principal, village_code: str, filename: str, content_type: str,
                        size: int) -> dict[str, Any]:
    """Presign one complaint photo upload (JPEG/PNG/WebP, the upload size limit) for an active village.

    Raises ForbiddenError, NotFoundError, UnprocessableError(unsupported_file_type, file_too_large, village_inactive),
    ValidationError(invalid_filename)."""
    name, village = _upload_request(principal, village_code, filename, content_type, size, PHOTO_TYPES,
                                    "Foto harus berupa JPG, PNG atau WebP.")
    return _presign(principal, village.code, PHOTO_PURPOSE, PHOTO_ATTACHMENT, name, content_type, size)


def resolve_photos(principal: Principal, village: str, upload_ids: list[str],
                   uploads: dict[str, Upload]) -> tuple[list[dict[str, Any]], list[Checked]]:
    """Check the named photo uploads (the citizen's own, this village's, finished, JPEG/PNG/WebP by their first bytes,
    within the size limit); only a legacy upload (old staging prefix) is copied. Returns the complaint's photos
    [{id, content_type, size, hidden, version?}] and the uploads used (`use_operations`: marked in the filing's
    transaction); a filed photo lives where request attachments do (the upload id is its key, inside the storage
    prefixes the functions may write). Raises UnprocessableError(invalid_photo)."""

    def check(upload_id: str) -> tuple[dict[str, Any], Checked]:
        upload = uploads.get(upload_id)

        def invalid(why: str) -> UnprocessableError:
            return UnprocessableError(f"Foto {upload_id[-6:]} {why}", code="invalid_photo", photo=upload_id)

        if upload is None or upload.owner != principal.subject or upload.village != village \
                or upload.letter_type != PHOTO_PURPOSE or upload.expires_at <= iso(utcnow()):
            raise invalid("tidak ditemukan; unggah ulang fotonya.")
        stored = _stored(upload, invalid)
        checked = _checked(upload, stored)
        photo = {"id": upload.id, "content_type": upload.content_type, "size": stored.size, "hidden": False}
        if checked.version:
            photo["version"] = checked.version
        return photo, checked

    results = _each(check, list(upload_ids))
    _copy_staging(uploads, [(c.upload_id, attachment_file_key(village, c.upload_id)) for _, c in results if c.staging])
    return [p for p, _ in results], [c for _, c in results]


def photo_link(village: str, photo: dict[str, Any]) -> dict[str, Any]:
    """A short-lived link to one complaint photo."""
    extension = {"image/png": "png", "image/webp": "webp"}.get(photo["content_type"], "jpg")
    url = wiring.file_store().link(attachment_file_key(village, photo["id"]), f"foto-{photo['id']}.{extension}",
                                   LINK_SECONDS, photo["content_type"], str(photo.get("version") or ""))
    return {"url": url, "expires_in": LINK_SECONDS, "content_type": photo["content_type"]}

"""Repository of attachment uploads: the presigned-upload record, the lookup a submit makes, the submission's mark
that it used one, and which TTL removals leave a file nobody used."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactGetError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactGet

from chalicelib.domain.attachments import Upload, is_staging
from chalicelib.domain.clock import iso
from chalicelib.domain.operations import UseUpload
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import UploadItem
from chalicelib.storage.transaction import Transaction

ENTITY = "upload"
UNUSED, USED = "unused", "used"
# The part of a file key an unused upload's TTL removal may delete: final keys only (the old staging prefix is
# emptied by the bucket's lifecycle, and the functions may not delete there).
DELETABLE_PREFIX = "attachments/"


def _to_item(upload: Upload, expires: datetime) -> UploadItem:
    return UploadItem(keys.upload_pk(upload.id), keys.META, entity=ENTITY, id=upload.id, owner=upload.owner,
                      village=upload.village, letter_type=upload.letter_type, attachment=upload.attachment,
                      filename=upload.filename, content_type=upload.content_type, size=upload.size,
                      file_key=upload.file_key, created_at=upload.created_at, expires_at=expires,
                      state=None if is_staging(upload.file_key) else UNUSED)


def from_item(item: UploadItem) -> Upload:
    return Upload(id=item.id, owner=item.owner, village=item.village, letter_type=item.letter_type,
                  attachment=item.attachment, filename=item.filename, content_type=item.content_type,
                  size=int(item.size), file_key=item.file_key, created_at=item.created_at,
                  expires_at=iso(item.expires_at), used_by=item.used_by or "",
                  stored_version=item.stored_version or "", stored_etag=item.stored_etag or "")


def create(upload: Upload, expires: datetime) -> None:
    """Record a new upload (ids are fresh ULIDs; a clash is a 409, never an overwrite)."""
    try:
        _to_item(upload, expires).save(condition=UploadItem.PK.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise ConflictError("Coba lagi.", code="upload_conflict") from exc
        raise translate_errors(exc) from exc


def get_many(upload_ids: list[str]) -> dict[str, Upload]:
    """The uploads that exist among `upload_ids`, by id, in one TransactGetItems."""
    if not upload_ids:
        return {}
    try:
        with TransactGet(connection=transaction_connection()) as tg:
            futures = {uid: tg.get(UploadItem, keys.upload_pk(uid), keys.META) for uid in upload_ids}
    except TransactGetError as exc:
        raise translate_errors(exc) from exc
    found: dict[str, Upload] = {}
    for uid, future in futures.items():
        try:
            found[uid] = from_item(future.get())
        except DoesNotExist:
            continue
    return found


def add_use(tx: Transaction, op: UseUpload) -> None:
    """Mark the upload used by `op.used_by` in the submission's transaction, only if it is still the owner's,
    unexpired, and unused or already this request's (a resubmission naming it again) (purpose "upload"): a refused
    submission leaves it unused, so its TTL removal deletes the file; an upload serves one request only (two would
    share one file, which the first to close would delete), and never after its expiry (its TTL removal may then be
    under way: the item must not be written again)."""
    item = UploadItem(keys.upload_pk(op.upload_id), keys.META)
    actions: list[Action] = [UploadItem.state.set(USED), UploadItem.used_by.set(op.used_by),
               UploadItem.stored_size.set(op.size)]
    if op.version:
        actions.append(UploadItem.stored_version.set(op.version))
    if op.etag:
        actions.append(UploadItem.stored_etag.set(op.etag))
    tx.update(item, actions, "upload",
              ((UploadItem.state == UNUSED) | (UploadItem.used_by == op.used_by)) & (UploadItem.owner == op.owner)
              & (UploadItem.expires_at > op.now))


def unused_expired_file(record: Mapping[str, Any]) -> str | None:
    """The file key of a stream record that is DynamoDB's TTL removing an upload no submission used; None for any
    other record (a used upload, an upload of the old staging layout, a removal by anyone else)."""
    identity = record.get("userIdentity") or {}
    if record.get("eventName") != "REMOVE" or identity.get("principalId") != "dynamodb.amazonaws.com" \
            or identity.get("type") != "Service":
        return None
    old = (record.get("dynamodb") or {}).get("OldImage") or {}
    if (old.get("entity") or {}).get("S") != ENTITY or (old.get("state") or {}).get("S") != UNUSED:
        return None
    key = str((old.get("file_key") or {}).get("S") or "")
    return key if key.startswith(DELETABLE_PREFIX) else None

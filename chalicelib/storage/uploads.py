"""Repository of attachment uploads: the presigned-upload record and the lookup a submit makes."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, TransactGetError
from pynamodb.transactions import TransactGet

from chalicelib.domain.attachments import Upload
from chalicelib.domain.clock import iso
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import UploadItem


def _to_item(upload: Upload, expires: datetime) -> UploadItem:
    return UploadItem(keys.upload_pk(upload.id), keys.META, entity="upload", id=upload.id, owner=upload.owner,
                      village=upload.village, letter_type=upload.letter_type, attachment=upload.attachment,
                      filename=upload.filename, content_type=upload.content_type, size=upload.size,
                      file_key=upload.file_key, created_at=upload.created_at, expires_at=expires)


def from_item(item: UploadItem) -> Upload:
    return Upload(id=item.id, owner=item.owner, village=item.village, letter_type=item.letter_type,
                  attachment=item.attachment, filename=item.filename, content_type=item.content_type,
                  size=int(item.size), file_key=item.file_key, created_at=item.created_at,
                  expires_at=iso(item.expires_at))


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

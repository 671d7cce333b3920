"""Repository of attachment retention items: which files of a closed request go, and when (the table's TTL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException

from chalicelib.domain.clock import iso
from chalicelib.storage import keys
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import RetentionItem

ENTITY = "attachment_retention"


def schedule(request_id: str, village: str, file_keys: list[str], delete_at: datetime) -> None:
    """Record that `file_keys` are deleted at `delete_at` (DynamoDB's TTL removes the item at or after it, usually
    within a day or two). Writing it again replaces it: a retried close schedules the same deletion once."""
    item = RetentionItem(keys.retention_pk(request_id), keys.META, entity=ENTITY, request_id=request_id,
                         village=village, file_keys=sorted(file_keys), delete_at=iso(delete_at),
                         expires_at=delete_at)
    try:
        item.save()
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def expired_files(record: Mapping[str, Any]) -> list[str]:
    """The file keys of a stream record that is DynamoDB's TTL removing a retention item; [] for any other record
    (a removal by anyone else never deletes files: it may come before their time)."""
    identity = record.get("userIdentity") or {}
    if record.get("eventName") != "REMOVE" or identity.get("principalId") != "dynamodb.amazonaws.com" \
            or identity.get("type") != "Service":
        return []
    old = (record.get("dynamodb") or {}).get("OldImage") or {}
    if (old.get("entity") or {}).get("S") != ENTITY:
        return []
    return [str(v.get("S")) for v in (old.get("file_keys") or {}).get("L") or [] if v.get("S")]

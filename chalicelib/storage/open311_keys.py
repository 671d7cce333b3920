"""Repository of Open311 partner API keys: put, get by id, list per kabupaten, revoke (conditional update)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, QueryError, UpdateError

from chalicelib.domain.open311 import ApiKey
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import Open311KeyItem


def _from_item(item: Open311KeyItem) -> ApiKey:
    return ApiKey(key_id=item.key_id, kabupaten=item.kabupaten, partner=item.partner, key_hash=item.key_hash,
                  active=bool(item.active), created_at=item.created_at, created_by=item.created_by,
                  revoked_at=item.revoked_at, revoked_by=item.revoked_by)


def put(key: ApiKey) -> None:
    """Store a new key (its id is random: an existing one is a conflict, never overwritten)."""
    item = Open311KeyItem(keys.open311_key_pk(key.key_id), keys.META, entity="open311_key",
                          GSI1PK=keys.open311_keys_pk(key.kabupaten), GSI1SK=f"{key.created_at}#{key.key_id}",
                          key_id=key.key_id, kabupaten=key.kabupaten, partner=key.partner, key_hash=key.key_hash,
                          active=key.active, created_at=key.created_at, created_by=key.created_by)
    try:
        item.save(condition=Open311KeyItem.PK.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise ConflictError("Kunci API bentrok; silakan coba lagi.", code="key_conflict") from exc
        raise translate_errors(exc) from exc


def get(key_id: str) -> ApiKey | None:
    try:
        return _from_item(Open311KeyItem.get(keys.open311_key_pk(key_id), keys.META))
    except DoesNotExist:
        return None


def list_for(kabupaten: str, limit: int = 200) -> list[ApiKey]:
    """The kabupaten's keys, newest first (one Query: a kabupaten has a handful of partners)."""
    try:
        return [_from_item(i) for i in Open311KeyItem.gsi1.query(keys.open311_keys_pk(kabupaten),
                                                                 scan_index_forward=False, limit=limit)]
    except QueryError as exc:
        raise translate_errors(exc) from exc


def revoke(key_id: str, at: str, by: str) -> ApiKey | None:
    """Mark the key revoked (once; revoking again changes nothing). None when there is no such key."""
    item = Open311KeyItem(keys.open311_key_pk(key_id), keys.META)
    try:
        item.update(actions=[Open311KeyItem.active.set(False), Open311KeyItem.revoked_at.set(at),
                             Open311KeyItem.revoked_by.set(by)],
                    condition=Open311KeyItem.PK.exists() & (Open311KeyItem.active == True))  # noqa: E712
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise translate_errors(exc) from exc
    return get(key_id)

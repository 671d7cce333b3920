"""Repository of citizens' refresh sessions: one item per session family (PK=SESSION#{family}) holding only
the hash of its current refresh token; a citizen's sessions listed on GSI1 (SESSIONS_OF#{nik hash})."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, GetError, PutError, QueryError, UpdateError

from chalicelib.storage import keys
from chalicelib.storage.codec import indexed_items
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import SessionItem


@dataclass
class Session:
    family: str
    nik_hash: str
    region: str
    token_hash: str
    generation: int
    device: str | None
    created_at: str
    last_used_at: str
    expires_at: datetime
    revoked_at: str | None
    revoked_reason: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _from_item(item: SessionItem) -> Session:
    expires = item.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return Session(family=item.family, nik_hash=item.nik_hash, region=item.region, token_hash=item.token_hash,
                   generation=int(item.generation or 1), device=item.device, created_at=item.created_at,
                   last_used_at=item.last_used_at, expires_at=expires, revoked_at=item.revoked_at,
                   revoked_reason=item.revoked_reason)


def create(family: str, nik_hash: str, region: str, token_hash: str, device: str | None, now_iso: str,
           expires_at: datetime) -> None:
    item = SessionItem(keys.session_pk(family), keys.META, entity="session", family=family, nik_hash=nik_hash,
                       region=region, token_hash=token_hash, generation=1, device=device, created_at=now_iso,
                       last_used_at=now_iso, expires_at=expires_at, GSI1PK=keys.citizen_sessions_pk(nik_hash),
                       GSI1SK=f"{now_iso}#{family}")
    try:
        item.save(condition=SessionItem.PK.does_not_exist())
    except PutError as exc:
        raise translate_errors(exc) from exc


def get(family: str) -> Session | None:
    try:
        return _from_item(SessionItem.get(keys.session_pk(family), keys.META, consistent_read=True))
    except DoesNotExist:
        return None
    except GetError as exc:
        raise translate_errors(exc) from exc


def rotate(family: str, old_hash: str, new_hash: str, now_iso: str, expires_at: datetime) -> bool:
    """Swap the current token for the next one: a compare-and-set only the holder of the current token wins
    (False when another use got there first, or the session was revoked meanwhile)."""
    try:
        SessionItem(keys.session_pk(family), keys.META).update(
            actions=[SessionItem.token_hash.set(new_hash), SessionItem.generation.add(1),
                     SessionItem.last_used_at.set(now_iso), SessionItem.expires_at.set(expires_at)],
            condition=(SessionItem.token_hash == old_hash) & SessionItem.revoked_at.does_not_exist())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc
    return True


def revoke(family: str, reason: str, now_iso: str) -> bool:
    """End the session family (first revocation wins; its reason is kept). False when it does not exist."""
    try:
        SessionItem(keys.session_pk(family), keys.META).update(
            actions=[SessionItem.revoked_at.set(now_iso), SessionItem.revoked_reason.set(reason)],
            condition=SessionItem.PK.exists() & SessionItem.revoked_at.does_not_exist())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return get(family) is not None
        raise translate_errors(exc) from exc
    return True


def list_for(nik_hash: str, limit: int = 50) -> list[Session]:
    """The citizen's sessions, newest first (one Query on GSI1)."""
    try:
        return [_from_item(i) for i in indexed_items(SessionItem.gsi1, keys.citizen_sessions_pk(nik_hash),
                                                     scan_index_forward=False, limit=limit)]
    except QueryError as exc:
        raise translate_errors(exc) from exc

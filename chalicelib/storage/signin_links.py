"""Repository of one-time sign-in links sent in citizens' status SMS: one item per link (PK=SIGNIN_LINK#{hmac of
its secret}), created when the SMS is sent, used once (a conditional update), swept by TTL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, GetError, PutError, UpdateError

from chalicelib.storage import keys
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import SigninLinkItem


@dataclass(frozen=True)
class SigninLink:
    nik_hash: str
    phone: str
    request_id: str
    event: str
    created_at: str
    expires_at: datetime
    used_at: str | None


def create(secret_hash: str, nik_hash: str, phone: str, request_id: str, event: str, now_iso: str,
           expires_at: datetime) -> None:
    item = SigninLinkItem(keys.signin_link_pk(secret_hash), keys.META, entity="signin_link", nik_hash=nik_hash,
                          phone=phone, request_id=request_id, event=event, created_at=now_iso,
                          expires_at=expires_at)
    try:
        item.save(condition=SigninLinkItem.PK.does_not_exist())
    except PutError as exc:
        raise translate_errors(exc) from exc


def get(secret_hash: str) -> SigninLink | None:
    try:
        item = SigninLinkItem.get(keys.signin_link_pk(secret_hash), keys.META, consistent_read=True)
    except DoesNotExist:
        return None
    except GetError as exc:
        raise translate_errors(exc) from exc
    expires = item.expires_at if item.expires_at.tzinfo else item.expires_at.replace(tzinfo=UTC)
    return SigninLink(nik_hash=item.nik_hash, phone=item.phone, request_id=item.request_id, event=item.event,
                      created_at=item.created_at, expires_at=expires, used_at=item.used_at)


def use(secret_hash: str, now_iso: str) -> bool:
    """Mark the link used: True for the one caller that wins, False when it was used already (or is gone)."""
    try:
        SigninLinkItem._get_connection().update_item(
            keys.signin_link_pk(secret_hash), keys.META, actions=[SigninLinkItem.used_at.set(now_iso)],
            condition=SigninLinkItem.PK.exists() & SigninLinkItem.used_at.does_not_exist())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc
    return True

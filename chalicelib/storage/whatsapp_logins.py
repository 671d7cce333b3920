"""Repository of pending WhatsApp logins: one item per login (PK=WA_LOGIN#{hmac of its code}), created at start,
proven or refused once by the webhook, used once by the browser's verify (conditional updates), swept by TTL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, GetError, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.storage import keys
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import WhatsappLoginItem


class CodeTakenError(Exception):
    """Another pending login holds this code (the caller draws a new one)."""


@dataclass(frozen=True)
class WhatsappLogin:
    secret_hash: str
    nik_hash: str
    nik: str
    kabupaten: str
    number: str
    phone: str | None
    created_at: str
    expires_at: datetime
    proven_phone: str | None
    proven_at: str | None
    refused: str | None
    used_at: str | None


def create(code_hash: str, secret_hash: str, nik_hash: str, nik: str, kabupaten: str, number: str,
           phone: str | None, now_iso: str, expires_at: datetime) -> None:
    """Store a new pending login. Raises CodeTakenError when its code's item exists (a live or unswept login)."""
    item = WhatsappLoginItem(keys.whatsapp_login_pk(code_hash), keys.META, entity="whatsapp_login",
                             secret_hash=secret_hash, nik_hash=nik_hash, nik=nik, kabupaten=kabupaten,
                             number=number, phone=phone, created_at=now_iso, expires_at=expires_at)
    try:
        item.save(condition=WhatsappLoginItem.PK.does_not_exist())
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise CodeTakenError from exc
        raise translate_errors(exc) from exc


def get(code_hash: str) -> WhatsappLogin | None:
    try:
        item = WhatsappLoginItem.get(keys.whatsapp_login_pk(code_hash), keys.META, consistent_read=True)
    except DoesNotExist:
        return None
    except GetError as exc:
        raise translate_errors(exc) from exc
    expires = item.expires_at if item.expires_at.tzinfo else item.expires_at.replace(tzinfo=UTC)
    return WhatsappLogin(secret_hash=item.secret_hash, nik_hash=item.nik_hash, nik=item.nik,
                         kabupaten=item.kabupaten, number=item.number, phone=item.phone, created_at=item.created_at,
                         expires_at=expires, proven_phone=item.proven_phone, proven_at=item.proven_at,
                         refused=item.refused, used_at=item.used_at)


def _settle(code_hash: str, actions: list[Action]) -> bool:
    """Apply the webhook's one outcome (proven or refused) unless the login already has one."""
    try:
        WhatsappLoginItem._get_connection().update_item(
            keys.whatsapp_login_pk(code_hash), keys.META, actions=actions,
            condition=WhatsappLoginItem.PK.exists() & WhatsappLoginItem.proven_at.does_not_exist()
            & WhatsappLoginItem.refused.does_not_exist())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc
    return True


def prove(code_hash: str, phone: str, now_iso: str) -> bool:
    """Mark the login proven for `phone`: True for the one delivery that wins; False when it was settled already
    (a retried delivery, a second message) or is gone."""
    return _settle(code_hash, [WhatsappLoginItem.proven_phone.set(phone), WhatsappLoginItem.proven_at.set(now_iso)])


def refuse(code_hash: str, reason: str) -> bool:
    """Mark the login refused (it can no longer be proven by anyone): True when this call settled it."""
    return _settle(code_hash, [WhatsappLoginItem.refused.set(reason)])


def use(code_hash: str, now_iso: str) -> bool:
    """Mark a proven login used: True for the one verify that wins, False when it was used already (or is gone)."""
    try:
        WhatsappLoginItem._get_connection().update_item(
            keys.whatsapp_login_pk(code_hash), keys.META, actions=[WhatsappLoginItem.used_at.set(now_iso)],
            condition=WhatsappLoginItem.PK.exists() & WhatsappLoginItem.proven_at.exists()
            & WhatsappLoginItem.used_at.does_not_exist())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc
    return True

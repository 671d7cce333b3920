"""Repository of citizens' Web Push subscriptions (PK=CITIZEN#{hash}, SK=PUSH#{id}); id = hash of the endpoint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pynamodb.exceptions import DeleteError, PutError, QueryError

from chalicelib.storage import keys
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import PushSubscriptionItem


@dataclass
class PushSubscription:
    id: str
    endpoint: str
    p256dh: str
    auth: str
    created_at: str


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:24]


def list_for(nik_hash: str) -> list[PushSubscription]:
    """One Query on the citizen's partition."""
    try:
        return [PushSubscription(i.id, i.endpoint, i.p256dh, i.auth, i.created_at)
                for i in PushSubscriptionItem.query(keys.citizen_pk(nik_hash),
                                                    PushSubscriptionItem.SK.startswith(keys.PUSH_PREFIX))]
    except QueryError as exc:
        raise translate_errors(exc) from exc


def save(nik_hash: str, endpoint: str, p256dh: str, auth: str, at_iso: str) -> PushSubscription:
    """Put (or replace: the same endpoint subscribing again) one subscription."""
    sid = subscription_id(endpoint)
    item = PushSubscriptionItem(keys.citizen_pk(nik_hash), keys.push_subscription_sk(sid), entity="push_subscription",
                                id=sid, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=at_iso)
    try:
        item.save()
    except PutError as exc:
        raise translate_errors(exc) from exc
    return PushSubscription(sid, endpoint, p256dh, auth, at_iso)


def remove(nik_hash: str, sid: str) -> None:
    try:
        PushSubscriptionItem(keys.citizen_pk(nik_hash), keys.push_subscription_sk(sid)).delete()
    except DeleteError as exc:
        raise translate_errors(exc) from exc

"""Repository of a kabupaten's message policy overrides (PK=MESSAGE_POLICY#{kabupaten}, SK=META)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pynamodb.exceptions import DoesNotExist, GetError, PutError

from chalicelib.storage import keys
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import MessagePolicyItem


def get_overrides(kabupaten: str) -> dict[str, Any] | None:
    try:
        item = MessagePolicyItem.get(keys.message_policy_pk(kabupaten), keys.META)
    except DoesNotExist:
        return None
    except GetError as exc:
        raise translate_errors(exc) from exc
    return dict(json.loads(item.events_json or "{}"))


def save_overrides(kabupaten: str, events: Mapping[str, Any], by: str, at_iso: str) -> None:
    item = MessagePolicyItem(keys.message_policy_pk(kabupaten), keys.META, entity="message_policy",
                             events_json=json.dumps(dict(events), sort_keys=True), updated_at=at_iso, updated_by=by)
    try:
        item.save()
    except PutError as exc:
        raise translate_errors(exc) from exc

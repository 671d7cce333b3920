"""Repository of citizens' portal inboxes: deliver (idempotent), list newest first, mark read, unread count.

A message's id is `{UTC time, compact}-{outbox id}`: time-ordered, so one Query on the citizen's partition
lists the inbox newest first, and derived from the outbox row, so a retried delivery writes nothing twice.
A message expires (TTL) BALAI_INBOX_RETENTION_DAYS after it was sent, which also bounds the partition the
unread count reads. Unread messages are those without `read_at`, counted when the inbox is read (a Query of the
citizen's partition with Select=COUNT): a small partition read instead of a counter item kept by ADD in a
transaction with every message (four write units per message instead of one), and a count that cannot drift
from the messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError

from chalicelib.config import get_settings
from chalicelib.domain.escalation import parse_iso
from chalicelib.storage import keys
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import InboxMessageItem

MESSAGE_ID = re.compile(r"^\d{8}T\d{6}Z-[A-Za-z0-9_-]{1,64}$")


@dataclass
class InboxMessage:
    id: str
    event: str
    title: str
    text: str
    created_at: str
    read_at: str | None
    request_id: str | None
    tracking_code: str | None


def _from_item(item: InboxMessageItem) -> InboxMessage:
    return InboxMessage(id=item.id, event=item.event, title=item.title, text=item.text,
                        created_at=item.created_at, read_at=item.read_at, request_id=item.request_id,
                        tracking_code=item.tracking_code)


def message_id(outbox_id: str, at_iso: str) -> str:
    compact = re.sub(r"[^0-9T]", "", at_iso[:19]) + "Z"
    return f"{compact}-{outbox_id}"


def deliver(nik_hash: str, outbox_id: str, created_at: str, *, event: str, title: str, text: str,
            request_id: str | None, tracking_code: str | None) -> bool:
    """Write the message of one outbox row (its id from the row's id and creation time), unread, with one
    conditional put; False when it was already written (a retry after a lost outcome write)."""
    mid = message_id(outbox_id, created_at)
    message = InboxMessageItem(keys.inbox_pk(nik_hash), keys.inbox_sk(mid), entity="inbox", id=mid, event=event,
                               title=title[:200], text=text[:2000], request_id=request_id,
                               tracking_code=tracking_code, created_at=created_at,
                               expires_at=parse_iso(created_at) + timedelta(days=get_settings().inbox_retention_days))
    try:
        message.save(condition=InboxMessageItem.PK.does_not_exist())
        return True
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


def page(nik_hash: str, limit: int, before: str | None) -> tuple[list[InboxMessage], str | None]:
    """Newest first, one Query; `before` is the last id of the previous page (checked by the service)."""
    condition: Any
    if before is None:
        condition = InboxMessageItem.SK.startswith("MSG#")
    else:
        condition = InboxMessageItem.SK.between("MSG#", keys.inbox_sk(before))
    results = InboxMessageItem.query(keys.inbox_pk(nik_hash), condition, scan_index_forward=False,
                                     limit=limit + 2)
    items = [_from_item(i) for i in results if i.id != before][:limit + 1]
    more = len(items) > limit
    items = items[:limit]
    return items, (items[-1].id if more and items else None)


def unread(nik_hash: str) -> int:
    """The citizen's messages without `read_at`: one Query (Select=COUNT) over their inbox partition."""
    try:
        return int(InboxMessageItem.count(keys.inbox_pk(nik_hash), InboxMessageItem.SK.startswith("MSG#"),
                                          filter_condition=InboxMessageItem.read_at.does_not_exist()))
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def mark_read(nik_hash: str, mid: str, at_iso: str) -> InboxMessage | None:
    """Set read_at once (a second call changes nothing); None when there is no such message."""
    pk, sk = keys.inbox_pk(nik_hash), keys.inbox_sk(mid)
    item = InboxMessageItem(pk, sk)
    try:
        # The update answers the whole item (ReturnValues ALL_NEW): no read after it.
        item.update(actions=[InboxMessageItem.read_at.set(at_iso)],
                    condition=InboxMessageItem.PK.exists() & InboxMessageItem.read_at.does_not_exist())
        return _from_item(item)
    except UpdateError as exc:
        if aws_code(exc) != "ConditionalCheckFailedException":
            raise translate_errors(exc) from exc
    try:
        return _from_item(InboxMessageItem.get(pk, sk, consistent_read=True))
    except DoesNotExist:
        return None

"""Repository of outbox rows: claim and finish (conditional updates), retry index, staff list, resend."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain.clock import iso
from chalicelib.domain.escalation import parse_iso
from chalicelib.domain.notifications import FAILED, PENDING, SENDING, SENT
from chalicelib.domain.outbox import MessagePart, OutboxMessage, OutboxRow
from chalicelib.errors import ConflictError
from chalicelib.observability import logger
from chalicelib.storage import bill, keys
from chalicelib.storage.bill import Usage
from chalicelib.storage.codec import indexed_chunks, page, plain
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import OutboxItem

__all__ = ["OUTBOX_GRACE", "FINISHED", "OutboxRow", "finished_row_expiry", "outbox_item", "outbox_list_sk", "from_item",
           "from_image", "get", "put_new", "claim", "finish", "due_for_retry", "list_village", "resend",
           "finished_without_expiry", "set_expiry", "more_parts", "parts_from"]

# How long a new outbox row waits for the stream handler before the retry schedule sends it instead.
OUTBOX_GRACE = timedelta(minutes=2)
# The states a row leaves only by a staff resend: they get a TTL (BALAI_OUTBOX_RETENTION_DAYS).
FINISHED = (SENT, FAILED)


def finished_row_expiry(now: datetime) -> datetime:
    """When DynamoDB's TTL deletes a row finished at `now` (sent or failed): the staff list shows it until then."""
    from chalicelib.config import get_settings

    return now + timedelta(days=get_settings().outbox_retention_days)


def outbox_item(message: OutboxMessage) -> OutboxItem:
    """The stored row of a new message: pending and in the retry index. It enters its village's status list
    (GSI2) with its first outcome (finish): a row there is rewritten with every change, and a new row's claim
    and outcome follow within a second, so listing it from its creation would cost three more index writes per
    message for a list that shows it a moment later anyway."""
    return OutboxItem(
        keys.outbox_pk(message.id), keys.META, entity="outbox", id=message.id, event=message.event,
        audience=message.audience, village=message.village, request_id=message.request_id,
        payload=message.payload, more=more_parts(message), status="pending", attempts=0, created_at=message.created_at,
        next_try_at=message.created_at, kabupaten=message.kabupaten,
        # Safety net: if the stream handler has not sent the row after a grace period, the retry
        # schedule finds it here (workers/outbox.py); the stream normally sends within seconds.
        GSI3PK=keys.outbox_retry_pk(message.kabupaten),
        GSI3SK=keys.outbox_retry_sk(iso(parse_iso(message.created_at) + OUTBOX_GRACE), message.id),
    )


def outbox_list_sk(created_at: str, outbox_id: str) -> str:
    """A row's sort key in its village's status list: newest first by creation."""
    return f"{created_at}#{outbox_id}"


def more_parts(message: OutboxMessage) -> list[dict[str, Any]] | None:
    """The stored form of a row's later parts. A transition's messages share most of their payload (the
    request's tracking code, letter, village), so a later part keeps only what differs from the first's: the
    row stays under 1 KB, one write unit for each of its writes."""
    if not message.more:
        return None
    first = message.payload
    stored = []
    for part in message.more:
        entry: dict[str, Any] = {"event": part.event, "audience": part.audience}
        differs = {k: v for k, v in part.payload.items() if k not in first or first[k] != v}
        if differs:
            entry["payload"] = differs
        omit = sorted(k for k in first if k not in part.payload)
        if omit:
            entry["omit"] = omit
        stored.append(entry)
    return stored


def parts_from(first_payload: Mapping[str, Any], stored: list[Any] | None) -> tuple[MessagePart, ...]:
    """The later parts of a stored row (none on a row written before parts existed: a one-part row)."""
    parts = []
    for entry in stored or ():
        omit = set(entry.get("omit") or ())
        payload = {**{k: v for k, v in first_payload.items() if k not in omit}, **(entry.get("payload") or {})}
        parts.append(MessagePart(event=str(entry["event"]), audience=dict(entry.get("audience") or {}),
                                 payload=payload))
    return tuple(parts)


def from_item(item: OutboxItem) -> OutboxRow:
    payload = plain(item.payload) or {}
    return OutboxRow(
        id=item.id, event=item.event, audience=plain(item.audience) or {}, village=item.village,
        payload=payload, more=parts_from(payload, plain(item.more)), status=item.status,
        attempts=int(item.attempts or 0),
        created_at=item.created_at, next_try_at=item.next_try_at, last_error=item.last_error,
        updated_at=item.updated_at, sent_at=item.sent_at, claim=item.claim,
        delivered=set(item.delivered or ()),
    )


def from_image(image: dict[str, Any]) -> OutboxRow:
    """A row from a stream record's NewImage (DynamoDB JSON)."""
    return from_item(OutboxItem.from_raw_data(image))


def get(outbox_id: str) -> OutboxRow | None:
    try:
        return from_item(OutboxItem.get(keys.outbox_pk(outbox_id), keys.META, consistent_read=True))
    except DoesNotExist:
        return None


def put_new(message: OutboxMessage) -> bool:
    """Write a message unless its (deterministic) id exists: False when it was written before."""
    try:
        outbox_item(message).save(condition=OutboxItem.PK.does_not_exist())
        return True
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


def claim(outbox_id: str, now: datetime, lease_until: datetime) -> OutboxRow | None:
    """Take the row for sending: a compare-and-set that exactly one sender wins.

    Wins when the row is pending and due, or when a previous sender's lease ran out (it crashed
    mid-send). A sent or failed row, a row another sender holds, or one waiting for its retry time is
    not claimed: that is what makes a replayed stream batch send nothing twice. Returns the row as it
    is now (the stream image may be stale) or None.
    """
    now_iso, lease_iso = iso(now), iso(lease_until)
    item = OutboxItem(keys.outbox_pk(outbox_id), keys.META)
    token = secrets.token_hex(8)
    condition = (((OutboxItem.status == PENDING) & (OutboxItem.next_try_at <= now_iso))
                 | ((OutboxItem.status == SENDING) & (OutboxItem.lease_until < now_iso)))
    try:
        item.update(
            # The row stays in the retry index at the time it had (its grace period or retry time, both
            # past or near): a sender that dies mid-send leaves it there, and the retry schedule claims it
            # once the lease has ended (this condition refuses it before). Moving the index key here would
            # cost two index writes per message for a crash that almost never happens.
            actions=[OutboxItem.status.set(SENDING), OutboxItem.claim.set(token),
                     OutboxItem.lease_until.set(lease_iso), OutboxItem.updated_at.set(now_iso)],
            condition=OutboxItem.PK.exists() & condition)
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return None
        raise translate_errors(exc) from exc
    return from_item(item)


def finish(row: OutboxRow, now: datetime, *, status: str, attempts: int, delivered: set[str],
           next_try_at: datetime | None = None, last_error: str | None = None,
           usage: Mapping[str, Usage] | None = None) -> bool:
    """Record the outcome of a claim; only the claim's holder may (False if it lost the lease).

    `usage` (what the deliveries of this claim made cost, per channel) is first added to the village's bill
    for the month (one UpdateItem ADD), then the outcome is written. Two plain writes instead of one
    transaction (which bills each item twice): the bill counts what was sent, and a send happened whether or
    not this claim still holds the row. A sender that dies between the two leaves the row to be sent again
    after its lease, and that second send is billed too, as the provider bills it. A bill that cannot be
    written is logged and the outcome still recorded: an unbilled message is better than a second one."""
    now_iso = iso(now)
    actions: list[Any] = [
        OutboxItem.status.set(status), OutboxItem.attempts.set(attempts), OutboxItem.updated_at.set(now_iso),
        OutboxItem.claim.remove(), OutboxItem.lease_until.remove(),
        OutboxItem.GSI2PK.set(keys.outbox_status_pk(row.village, status if status != SENDING else PENDING)),
        OutboxItem.GSI2SK.set(outbox_list_sk(row.created_at, row.id)),
    ]
    if delivered:
        actions.append(OutboxItem.delivered.add(delivered))
    if last_error is not None:
        actions.append(OutboxItem.last_error.set(last_error[:500]))
    if status == PENDING and next_try_at is not None:
        at = iso(next_try_at)
        actions += [OutboxItem.next_try_at.set(at), OutboxItem.GSI3SK.set(keys.outbox_retry_sk(at, row.id))]
    else:
        # Final (sent/failed): out of the retry index, so the retry schedule never reads it again.
        actions += [OutboxItem.GSI3PK.remove(), OutboxItem.GSI3SK.remove(), OutboxItem.next_try_at.remove()]
    if status == SENT:
        actions.append(OutboxItem.sent_at.set(now_iso))
    if status in FINISHED:
        # Finished rows expire: nothing reads an old row but the staff list (the bill is its own item).
        actions.append(OutboxItem.expires_at.set(finished_row_expiry(now)))
    condition = (OutboxItem.status == SENDING) & (OutboxItem.claim == row.claim)
    if usage:
        _bill(row, now_iso[:7], usage)
    try:
        # Low-level call without ReturnValues: Model.update always asks for the whole item back.
        OutboxItem._get_connection().update_item(
            keys.outbox_pk(row.id), keys.META, actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


def _bill(row: OutboxRow, month: str, usage: Mapping[str, Usage]) -> None:
    try:
        bill.record(row.village, month, usage)
    except Exception:
        logger.exception("message bill not recorded", extra={
            "outbox_id": row.id, "village": row.village, "month": month,
            "usage": {channel: u.count for channel, u in sorted(usage.items())}})


def due_for_retry(kabupaten: str, now: datetime, limit: int = 500) -> Iterator[str]:
    """The ids of unfinished rows whose retry time, deferral or grace period has come (Query on the sparse
    retry index, which holds only keys: the sender claims each row, and the claim returns it whole)."""
    results = OutboxItem.gsi3.query(keys.outbox_retry_pk(kabupaten),
                                    OutboxItem.GSI3SK <= keys.time_upper_bound(iso(now)), limit=limit)
    for item in results:
        yield keys.outbox_id(item.PK)


def list_village(village: str, status: str, limit: int, cursor: str | None) -> tuple[list[OutboxRow], str | None]:
    return page(OutboxItem.gsi2, "GSI2PK", keys.outbox_status_pk(village, status), limit, cursor, from_item)


def resend(outbox_id: str, now: datetime) -> OutboxRow:
    """Put a failed row back to pending with a fresh retry budget; deliveries already made are kept,
    so only the recipients who did not get it are sent to. ConflictError unless the row is failed."""
    row = get(outbox_id)
    if row is None:
        raise DoesNotExist()
    now_iso = iso(now)
    item = OutboxItem(keys.outbox_pk(outbox_id), keys.META)
    try:
        item.update(actions=[
            OutboxItem.status.set(PENDING), OutboxItem.attempts.set(0), OutboxItem.next_try_at.set(now_iso),
            OutboxItem.updated_at.set(now_iso), OutboxItem.last_error.remove(),
            OutboxItem.expires_at.remove(),  # pending again: it must not expire before it is sent
            OutboxItem.GSI2PK.set(keys.outbox_status_pk(row.village, PENDING)),
            OutboxItem.GSI2SK.set(outbox_list_sk(row.created_at, outbox_id)),
            OutboxItem.GSI3PK.set(keys.outbox_retry_pk(row.kabupaten)),
            OutboxItem.GSI3SK.set(keys.outbox_retry_sk(iso(now + OUTBOX_GRACE), outbox_id)),
        ], condition=OutboxItem.status == FAILED)
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise ConflictError("Hanya notifikasi yang gagal yang dapat dikirim ulang.",
                                code="notification_not_failed") from exc
        raise translate_errors(exc) from exc
    return from_item(item)


def finished_without_expiry(village: str, status: str) -> Iterator[tuple[str, datetime]]:
    """(id, finished at) of the village's rows in a finished status that carry no TTL (rows finished before
    the retention existed): its status list (GSI2 OUTBOX_IN#{desa}#{status}, keys only) a page at a time, the
    rows read by key (an ops command's walk, not a request path)."""
    for items in indexed_chunks(OutboxItem.gsi2, keys.outbox_status_pk(village, status)):
        for item in items:
            if item.expires_at is None:
                yield item.id, parse_iso(item.updated_at or item.created_at)


def set_expiry(outbox_id: str, status: str, expires: datetime) -> bool:
    """Give a finished row its TTL, if it is still in `status` and has none (False otherwise: a resend or a
    newer outcome came first)."""
    try:
        OutboxItem._get_connection().update_item(
            keys.outbox_pk(outbox_id), keys.META, actions=[OutboxItem.expires_at.set(expires)],
            condition=(OutboxItem.status == status) & OutboxItem.expires_at.does_not_exist())
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc

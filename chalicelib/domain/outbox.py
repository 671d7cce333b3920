"""Outbox records: the messages of one change, written with it, and their delivery state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.regions import kabupaten_of


@dataclass(frozen=True)
class MessagePart:
    """One message of an outbox row: what happened (`event`), to whom (`audience`), the template's facts."""

    event: str
    audience: dict[str, Any]
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxMessage:
    """A new notification row: its first message (`event`, `audience`, `payload`) and the further messages of
    the same change (`more`: a submission tells the citizen and the operators), sent and billed as one row.

    One row per change rather than per audience: each row costs its put, claim, finish, index entries and a
    stream invocation, whatever it holds. Rows written before `more` existed are one-part rows. Written once,
    in the same transaction as the change that caused it; its id may be deterministic (an SLA level, a daily
    digest) so that the same message can never be queued twice."""

    id: str
    event: str
    audience: dict[str, Any]
    village: str
    payload: dict[str, Any]
    created_at: str
    more: tuple[MessagePart, ...] = ()

    @property
    def parts(self) -> tuple[MessagePart, ...]:
        return (MessagePart(self.event, self.audience, self.payload), *self.more)

    @property
    def request_id(self) -> str | None:
        value = self.payload.get("request_id")
        return str(value) if value is not None else None

    @property
    def kabupaten(self) -> str:
        return kabupaten_of(self.village)


def _part(row: Mapping[str, Any]) -> MessagePart:
    return MessagePart(event=row["event"], audience=row["audience"], payload=row["payload"])


def outbox_message(row: Mapping[str, Any], outbox_id: str, village: str, created_at: str) -> OutboxMessage:
    """A message from an announcement row ({"event", "audience", "payload"}, see domain.requests.announcements)."""
    return OutboxMessage(id=outbox_id, event=row["event"], audience=row["audience"], village=village,
                         payload=row["payload"], created_at=created_at)


def transition_outbox(rows: Sequence[Mapping[str, Any]], outbox_id: str, village: str,
                      created_at: str) -> list[OutboxMessage]:
    """The outbox rows of a change: one holding all its announcements, or none when it announces nothing."""
    if not rows:
        return []
    return [replace(outbox_message(rows[0], outbox_id, village, created_at), more=tuple(_part(r) for r in rows[1:]))]


def part_key(index: int, key: str) -> str:
    """A delivery's key in the row's `delivered` set: the first part's as before parts existed (so a row
    written by the release before keeps its deliveries), a later part's prefixed by its position."""
    return key if index == 0 else f"{index}/{key}"


def part_of(key: str) -> int:
    """The position of the part a `delivered` key belongs to (see part_key)."""
    head, slash, _ = key.partition("/")
    return int(head) if slash else 0


def part_message_id(outbox_id: str, index: int) -> str:
    """The id a part's messages carry (the inbox derives its message id from it, so each part gets its own)."""
    return outbox_id if index == 0 else f"{outbox_id}-{index}"


@dataclass(frozen=True)
class OutboxRow(OutboxMessage):
    """A stored outbox row with its delivery state (pending, sending, sent, failed)."""

    status: str = "pending"
    attempts: int = 0
    next_try_at: str | None = None
    last_error: str | None = None
    updated_at: str | None = None
    sent_at: str | None = None
    claim: str | None = None
    delivered: set[str] = field(default_factory=set)

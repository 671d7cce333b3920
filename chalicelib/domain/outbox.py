"""Outbox records: a message to send, written with the change that caused it, and its delivery state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.regions import kabupaten_of


@dataclass(frozen=True)
class OutboxMessage:
    """A new notification: what happened (`event`), to whom (`audience`) and the facts the template needs.

    Written once, in the same transaction as the change that caused it; its id may be deterministic (an
    SLA level, a daily digest) so that the same message can never be queued twice."""

    id: str
    event: str
    audience: dict[str, Any]
    village: str
    payload: dict[str, Any]
    created_at: str

    @property
    def request_id(self) -> str | None:
        value = self.payload.get("request_id")
        return str(value) if value is not None else None

    @property
    def kabupaten(self) -> str:
        return kabupaten_of(self.village)


def outbox_message(row: dict[str, Any], outbox_id: str, village: str, created_at: str) -> OutboxMessage:
    """A message from an announcement row ({"event", "audience", "payload"}, see domain.requests.announcements)."""
    return OutboxMessage(id=outbox_id, event=row["event"], audience=row["audience"], village=village,
                         payload=row["payload"], created_at=created_at)


@dataclass(frozen=True)
class OutboxRow(OutboxMessage):
    """A stored outbox message with its delivery state (pending, sending, sent, failed)."""

    status: str = "pending"
    attempts: int = 0
    next_try_at: str | None = None
    last_error: str | None = None
    updated_at: str | None = None
    sent_at: str | None = None
    claim: str | None = None
    delivered: set[str] = field(default_factory=set)

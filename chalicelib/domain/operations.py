"""Domain operations: what one atomic change writes, as records a unit of work turns into one transaction.

A use case collects operations (`uow.add(ChangeRequest(...), PutEvent(...), PutOutbox(...))`) and commits
them together: all are written or none. Each operation carries its own condition (a new item must not exist,
a changed request must still be at the version read, a counter must still hold the number read); when one
fails, the unit of work names the operation (not its position) and raises the matching error:

| operation fails                  | error raised                                   |
|----------------------------------|------------------------------------------------|
| CreateRequest's idempotency guard | IdempotentReplay (the first request's id)       |
| CreateRequest's tracking code     | TrackingCodeTaken                              |
| ChangeRequest / RecordSlaLevel    | ConflictError(stale_version)                   |
| NumberLetters                     | ConflictError(number_conflict)                 |
| StoreLetter, CreateRequest        | ConflictError(letter_exists / request_exists)  |
| PutEvent                          | ConflictError(duplicate_event)                 |
| PutOutbox                         | ConflictError(duplicate_outbox)                |
| UseUpload                         | ConflictError(upload_used)                     |
When several fail at once, the first row of this table wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain.letters import Letter
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.errors import ConflictError


class TrackingCodeTaken(Exception):
    """The random tracking code collided; the caller draws another."""


class IdempotentReplay(Exception):
    """A submission with this Idempotency-Key already exists."""

    def __init__(self, request_id: str, payload_hash: str) -> None:
        super().__init__(request_id)
        self.request_id = request_id
        self.payload_hash = payload_hash


@dataclass(frozen=True)
class IdempotencyGuard:
    """The citizen's Idempotency-Key for one submission, kept until `expires_at`."""

    subject: str
    key: str
    payload_hash: str
    expires_at: datetime


class Operation:
    """One thing an atomic change writes. A feature adds its own (a complaint, an aggregate counter) as a frozen
    dataclass subclass, and the storage items it stands for with `storage.unit_of_work.writes`."""

    __slots__ = ()


@dataclass(frozen=True)
class CreateRequest(Operation):
    """A new request with its first audit events, its tracking code and (optionally) its idempotency guard."""

    request: ServiceRequest
    guard: IdempotencyGuard | None = None


@dataclass(frozen=True)
class ChangeRequest(Operation):
    """The request becomes `after`, only if it is still at `before`'s version and status."""

    before: ServiceRequest
    after: ServiceRequest


@dataclass(frozen=True)
class RecordSlaLevel(Operation):
    """The SLA level reached and the next checkpoint (None: nothing left), if the request did not move."""

    request: ServiceRequest
    level: int
    next_at: datetime | None


@dataclass(frozen=True)
class PutEvent(Operation):
    """An audit event on a request (its key must be new)."""

    request_id: str
    entry: HistoryEntry


@dataclass(frozen=True)
class PutOutbox(Operation):
    """A message to send, written with the change that caused it (its id must be new)."""

    message: OutboxMessage


@dataclass(frozen=True)
class NumberLetters(Operation):
    """Counter (village, scope, year) moves from `expected_last` to `expected_last + count`, only if it still
    holds `expected_last` (absent when 0): no number is ever given twice."""

    village: str
    scope: str
    year: int
    expected_last: int
    count: int
    last_letter_id: str
    at: str


@dataclass(frozen=True)
class StoreLetter(Operation):
    """An issued letter (a new id)."""

    letter: Letter


@dataclass(frozen=True)
class UseUpload(Operation):
    """A submission uses an upload whose file is at its final key: the upload item is marked used by `used_by` (so
    its TTL removal deletes nothing), only if it is still the owner's, unused and unexpired at `now`. It records the
    stored file's size, version and ETag as checked."""

    upload_id: str
    owner: str
    used_by: str
    size: int
    version: str
    etag: str
    now: datetime


def number_letters(letters: list[Letter], expected_last: dict[tuple[str, int], int], at: str) -> list[NumberLetters]:
    """One NumberLetters per counter (scope, year) of consecutive letters of one village: each letter must take
    the numbers after its counter's last one, in order. Raises ValueError otherwise."""
    if not letters or len({x.village for x in letters}) != 1:
        raise ValueError("one village's letters, at least one")
    by_counter: dict[tuple[str, int], list[Letter]] = {}
    for letter in letters:
        by_counter.setdefault((letter.counter_scope, letter.year), []).append(letter)
    operations = []
    for (scope, year), group in by_counter.items():
        last = expected_last[(scope, year)]
        if [x.seq for x in group] != list(range(last + 1, last + 1 + len(group))):
            raise ValueError("letters take the numbers after their counter's last one, in order")
        operations.append(NumberLetters(group[0].village, scope, year, last, len(group), group[-1].id, at))
    return operations


# The purposes an operation's items are written for, and what a refused one means, in precedence order.
# A unit of work reports the refused items of a cancelled commit as {purpose: operation} (by item identity).
STALE_MESSAGE = "Permohonan telah diubah oleh orang lain; muat ulang dan coba lagi."
UPLOAD_USED_MESSAGE = "Berkas unggahan sudah dipakai atau sudah kedaluwarsa; unggah ulang berkasnya."
# A feature whose items carry conditions of their own appends its rows here.
REFUSALS: list[tuple[str, str, str]] = [
    # (purpose, error code, message); idempotency and tracking_code raise their own exceptions
    ("idempotency", "idempotent_replay", ""),
    ("tracking_code", "tracking_code_taken", ""),
    ("request_version", "stale_version", STALE_MESSAGE),
    ("letter_counter", "number_conflict", "Nomor surat sudah dipakai; penerbitan diulang."),
    ("letter", "letter_exists", "Surat dengan id ini sudah ada."),
    ("request_new", "request_exists", "Permohonan dengan id ini sudah ada."),
    ("event", "duplicate_event", STALE_MESSAGE),
    ("outbox", "duplicate_outbox", "Notifikasi ini sudah tercatat."),
    # after the idempotency guard: a retried submission finds its uploads used by its first request
    ("upload", "upload_used", UPLOAD_USED_MESSAGE),
]


def refusal(refused: Mapping[str, Operation],
            idempotency: Callable[[IdempotencyGuard], tuple[str, str] | None]) -> Exception | None:
    """The error a cancelled commit raises, from its refused items {purpose: operation}; None if no purpose
    is known. `idempotency` reads the stored guard (request id, payload hash) for a replay."""
    for purpose, code, message in REFUSALS:
        op = refused.get(purpose)
        if op is None:
            continue
        if purpose == "idempotency" and isinstance(op, CreateRequest) and op.guard is not None:
            existing = idempotency(op.guard)
            if existing is None:  # the guard expired between the write and this read: a plain conflict
                return ConflictError(STALE_MESSAGE, code="write_conflict")
            return IdempotentReplay(existing[0], existing[1])
        if purpose == "tracking_code":
            return TrackingCodeTaken()
        return ConflictError(message, code=code)
    return None


class RequestReader(Protocol):
    def get(self, request_id: str, consistent: bool = True) -> ServiceRequest | None:
        """The request with its history, or None."""
        ...


class CounterReader(Protocol):
    def last_number(self, village: str, scope: str, year: int) -> int:
        """The last number given in this counter (0 before the first letter of the year)."""
        ...

"""Fakes for outside services that record what they were asked to send (prefer fakes over mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.messaging import PermanentSendError, SendError, TransientSendError


@dataclass(frozen=True)
class SentSms:
    message_id: str
    to: str
    text: str


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    to: str
    subject: str
    text: str
    html: str | None


@dataclass
class _Failing:
    """Fail the first `fail_times` calls (or every call with `fail_always`) with `error`."""

    fail_times: int = 0
    fail_always: bool = False
    error: type[SendError] = TransientSendError
    attempts: int = 0

    def _maybe_fail(self) -> None:
        self.attempts += 1
        if self.fail_always or self.attempts <= self.fail_times:
            raise self.error(f"fake failure {self.attempts}", provider_code="FakeFailure")


@dataclass
class RecordingSmsSender(_Failing):
    sent: list[SentSms] = field(default_factory=list)

    def send(self, phone_e164: str, text: str, *, message_id: str) -> str:
        self._maybe_fail()
        self.sent.append(SentSms(message_id, phone_e164, text))
        return f"fake-sms-{len(self.sent)}"

    def texts_to(self, phone_e164: str) -> list[str]:
        return [m.text for m in self.sent if m.to == phone_e164]


@dataclass
class RecordingEmailSender(_Failing):
    sent: list[SentEmail] = field(default_factory=list)

    def send(self, to: str, subject: str, text: str, html: str | None, *, message_id: str) -> str:
        self._maybe_fail()
        self.sent.append(SentEmail(message_id, to, subject, text, html))
        return f"fake-email-{len(self.sent)}"

    def subjects_to(self, to: str) -> list[str]:
        return [m.subject for m in self.sent if m.to == to]


__all__ = [
    "PermanentSendError",
    "RecordingEmailSender",
    "RecordingSmsSender",
    "SentEmail",
    "SentSms",
    "TransientSendError",
]


# ---------------------------------------------------------------------------------------------- storage


@dataclass
class FakeStore:
    """In-memory stand-in for the table, shared by every FakeUnitOfWork made from it: what a use case wrote
    is what the next one reads. `commits` counts committed transactions, `refused` the cancelled ones."""

    requests: dict[str, Any] = field(default_factory=dict)  # id -> ServiceRequest (without history)
    events: dict[tuple[str, str, int], Any] = field(default_factory=dict)  # (request id, at, version) -> entry
    tracking: dict[str, str] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    outbox: dict[str, Any] = field(default_factory=dict)  # id -> OutboxMessage
    counters: dict[tuple[str, str, int], int] = field(default_factory=dict)
    letters: dict[str, Any] = field(default_factory=dict)  # id -> Letter
    regions: dict[str, Any] = field(default_factory=dict)
    staff: dict[str, Any] = field(default_factory=dict)
    commits: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def outbox_events(self, request_id: str) -> list[str]:
        """The events of the request's outbox messages, over every part of each row."""
        return sorted(p.event for m in self.outbox.values() if m.request_id == request_id for p in m.parts)


class _Reader:
    def __init__(self, get: Any) -> None:
        self._get = get

    def get(self, key: str, consistent: bool = True) -> Any:
        return self._get(key)

    def get_staff(self, username: str) -> Any:
        return self._get(username)


class FakeUnitOfWork:
    """The unit of work on a FakeStore: the same operations, conditions and errors as DynamoDB's
    (chalicelib/storage/unit_of_work.py), all or nothing, with no database."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.operations: list[Any] = []
        self.requests = _Reader(self._request)
        self.letters = self
        self.regions = _Reader(store.regions.get)
        self.staff = _Reader(store.staff.get)

    def _request(self, request_id: str) -> Any:
        import copy

        stored = self.store.requests.get(request_id)
        if stored is None:
            return None
        request = copy.deepcopy(stored)
        request.history = [copy.deepcopy(e) for (rid, _, _), e in sorted(self.store.events.items())
                           if rid == request_id]
        return request

    def last_number(self, village: str, scope: str, year: int) -> int:
        return self.store.counters.get((village, scope, year), 0)

    def add(self, *operations: Any) -> None:
        self.operations.extend(operations)

    def commit(self) -> None:
        import copy

        from chalicelib.domain import operations as ops

        operations, self.operations = self.operations, []
        s = self.store
        refused: dict[str, Any] = {}

        def stale(before: Any) -> bool:
            now = s.requests.get(before.id)
            return now is None or (now.version, now.status) != (before.version, before.status)

        for op in operations:
            if isinstance(op, ops.CreateRequest):
                if op.request.id in s.requests:
                    refused.setdefault("request_new", op)
                if op.request.tracking_code in s.tracking:
                    refused.setdefault("tracking_code", op)
                if op.guard is not None and (op.guard.subject, op.guard.key) in s.idempotency:
                    refused.setdefault("idempotency", op)
            elif isinstance(op, ops.ChangeRequest) and stale(op.before):
                refused.setdefault("request_version", op)
            elif isinstance(op, ops.RecordSlaLevel) and stale(op.request):
                refused.setdefault("request_version", op)
            elif isinstance(op, ops.PutEvent) and (op.request_id, op.entry.at, op.entry.version) in s.events:
                refused.setdefault("event", op)
            elif isinstance(op, ops.PutOutbox) and op.message.id in s.outbox:
                refused.setdefault("outbox", op)
            elif isinstance(op, ops.NumberLetters) and \
                    s.counters.get((op.village, op.scope, op.year), 0) != op.expected_last:
                refused.setdefault("letter_counter", op)
            elif isinstance(op, ops.StoreLetter) and op.letter.id in s.letters:
                refused.setdefault("letter", op)
        if refused:
            s.refused.append(refused)
            error = ops.refusal(refused, lambda g: s.idempotency.get((g.subject, g.key)))
            raise error or RuntimeError(f"refused: {sorted(refused)}")
        for op in operations:
            if isinstance(op, ops.CreateRequest):
                r = copy.deepcopy(op.request)
                for entry in r.history:
                    s.events[(r.id, entry.at, entry.version)] = copy.deepcopy(entry)
                r.history = []
                s.requests[r.id] = r
                s.tracking[r.tracking_code] = r.id
                if op.guard is not None:
                    s.idempotency[(op.guard.subject, op.guard.key)] = (r.id, op.guard.payload_hash)
            elif isinstance(op, ops.ChangeRequest):
                s.requests[op.after.id] = copy.deepcopy(op.after)
                s.requests[op.after.id].history = []
            elif isinstance(op, ops.RecordSlaLevel):
                s.requests[op.request.id].sla = {"for": op.request.due_at, "level": op.level}
            elif isinstance(op, ops.PutEvent):
                s.events[(op.request_id, op.entry.at, op.entry.version)] = copy.deepcopy(op.entry)
            elif isinstance(op, ops.PutOutbox):
                s.outbox[op.message.id] = op.message
            elif isinstance(op, ops.NumberLetters):
                s.counters[(op.village, op.scope, op.year)] = op.expected_last + op.count
            elif isinstance(op, ops.StoreLetter):
                s.letters[op.letter.id] = copy.deepcopy(op.letter)
        s.commits += 1


@dataclass
class RecordingIssueQueue:
    """The issuing queue's fake: records each message (group = village) instead of sending it."""

    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def send(self, *, group: str, dedup_id: str, body: dict[str, Any]) -> None:
        self.sent.append((group, dedup_id, body))


@dataclass
class MemoryFileStore:
    """Files by key in memory (the letters' PDFs)."""

    files: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.files[key] = data

    def exists(self, key: str) -> bool:
        return key in self.files

    def read(self, key: str) -> bytes:
        return self.files[key]

"""Rate counters and locks in the table (login throttle, OTP limits), and the staff login audit.

Counters are single items changed atomically: a fixed-window `ADD hits 1` for limits per hour or
day, and a read-then-conditional-put for the login throttle, so concurrent attempts are serialised
and none slips past a lock. Every item carries a TTL; a window that has ended but is not yet swept
counts as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chalicelib.domain.clock import iso
from chalicelib.domain.ids import new_id
from chalicelib.storage import keys
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import LoginAuditItem, ThrottleItem

AUDIT_RETENTION_SECONDS = 90 * 24 * 3600
_RESERVE_TRIES = 5


@dataclass(frozen=True)
class Counter:
    count: int
    window_ends: int  # epoch seconds
    locked_until: int | None = None


class LockedError(Exception):
    """The subject is locked (or too many attempts raced for it); retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = max(1, retry_after)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _expiry(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _conditional_failed(exc: PutError | UpdateError | DeleteError) -> bool:
    return aws_code(exc) == "ConditionalCheckFailedException"


def _get(kind: str, subject: str) -> ThrottleItem | None:
    try:
        return ThrottleItem.get(keys.throttle_pk(kind, subject), keys.META, consistent_read=True)
    except DoesNotExist:
        return None


def peek(kind: str, subject: str, now: datetime) -> Counter | None:
    """The counter of an open window, or None when there is none (or it has ended)."""
    item = _get(kind, subject)
    if item is None or int(item.window_ends or 0) <= _epoch(now):
        return None
    locked = int(item.locked_until) if item.locked_until is not None else None
    return Counter(int(item.hits or 0), int(item.window_ends), locked)


def hit(kind: str, subject: str, window_seconds: int, now: datetime) -> Counter:
    """Count one event in a fixed window that starts with its first event; returns the new count."""
    t = _epoch(now)
    for _ in range(3):
        item = ThrottleItem(keys.throttle_pk(kind, subject), keys.META)
        try:
            item.update(actions=[ThrottleItem.hits.add(1)],
                        condition=ThrottleItem.window_ends > t)
            return Counter(int(item.hits), int(item.window_ends))
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise translate_errors(exc) from exc
        # No open window: start one, unless another request just did (then count in it).
        ends = t + window_seconds
        fresh = ThrottleItem(keys.throttle_pk(kind, subject), keys.META, entity="throttle", hits=1,
                             window_ends=ends, expires_at=_expiry(ends))
        try:
            fresh.save(condition=ThrottleItem.PK.does_not_exist() | (ThrottleItem.window_ends <= t))
            return Counter(1, ends)
        except PutError as exc:
            if not _conditional_failed(exc):
                raise translate_errors(exc) from exc
    raise LockedError(1)


def reserve(kind: str, subject: str, window_seconds: int, now: datetime,
            delay_for: Callable[[int], int]) -> Counter:
    """Take attempt number n for the subject, unless it is locked (LockedError).

    The window slides: it ends `window_seconds` after the latest attempt. When `delay_for(n)` is
    positive the subject is locked for that long from now, before the attempt is even checked, so
    a burst of parallel attempts cannot get past the lock: each attempt is a conditional put on the
    count it read, and a loser re-reads and finds the lock."""
    t = _epoch(now)
    for _ in range(_RESERVE_TRIES):
        item = _get(kind, subject)
        open_window = item is not None and int(item.window_ends or 0) > t
        seen = int(item.hits or 0) if item is not None and open_window else 0
        locked = int(item.locked_until) if item is not None and open_window and item.locked_until else 0
        if locked > t:
            raise LockedError(locked - t)
        count = seen + 1
        delay = delay_for(count)
        lock = t + delay if delay > 0 else None
        ends = max(t + window_seconds, lock or 0)
        new = ThrottleItem(keys.throttle_pk(kind, subject), keys.META, entity="throttle", hits=count,
                           window_ends=ends, locked_until=lock, expires_at=_expiry(ends))
        if item is None:
            condition = ThrottleItem.PK.does_not_exist()
        else:
            condition = ((ThrottleItem.hits == int(item.hits or 0))
                         & (ThrottleItem.window_ends == int(item.window_ends or 0)))
        try:
            new.save(condition=condition)
            return Counter(count, ends, lock)
        except PutError as exc:
            if not _conditional_failed(exc):
                raise translate_errors(exc) from exc
    raise LockedError(1)


def forget(kind: str, subject: str) -> None:
    """Drop the counter (a successful login clears the username's failures)."""
    ThrottleItem(keys.throttle_pk(kind, subject), keys.META).delete()


def give_back(kind: str, subject: str) -> None:
    """Uncount one attempt (a successful login from a client does not count against it)."""
    try:
        ThrottleItem(keys.throttle_pk(kind, subject), keys.META).update(
            actions=[ThrottleItem.hits.add(-1)], condition=ThrottleItem.hits > 0)
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise translate_errors(exc) from exc


def record_login(username: str, outcome: str, client_ip: str | None, at: datetime) -> None:
    """Audit one staff login attempt (success, failure or throttled)."""
    at_iso = iso(at)
    LoginAuditItem(keys.login_audit_pk(username), keys.login_audit_sk(at_iso, new_id()), entity="login_audit",
                   username=username, outcome=outcome, client_ip=client_ip, at=at_iso,
                   expires_at=_expiry(_epoch(at) + AUDIT_RETENTION_SECONDS)).save()


def login_history(username: str, limit: int = 50) -> list[dict[str, str | None]]:
    """The latest login attempts of a username, newest first."""
    items = LoginAuditItem.query(keys.login_audit_pk(username), scan_index_forward=False, limit=limit)
    return [{"at": i.at, "outcome": i.outcome, "client_ip": i.client_ip} for i in items]

"""The one place that reads the time, so tests can fix it."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with offset, millisecond precision: sorts as text."""
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds")

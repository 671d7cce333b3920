"""The one place that reads the time, so tests can fix it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with offset, millisecond precision: sorts as text."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")

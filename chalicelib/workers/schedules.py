"""The scheduled jobs, declared once: app.py registers them with Lambda, local mode's scheduler runs them."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Schedule:
    """One scheduled job: its Lambda function name (app.py's handler), how often it runs, what it calls.

    `at_minute` pins the run to that minute of every hour (a cron expression in the cloud) instead of a
    rate counted from deployment; local mode runs every job on its period from start either way.
    """

    name: str
    every_minutes: int
    target: str  # "package.module:function", imported when the job runs (keeps it off the cold-start path)
    at_minute: int | None = None

    def __post_init__(self) -> None:
        if self.every_minutes < 1:
            raise ValueError(f"{self.name}: a schedule runs at most once a minute")
        if self.at_minute is not None and self.every_minutes != 60:
            raise ValueError(f"{self.name}: a fixed minute is for hourly jobs only")

    @property
    def expression(self) -> str:
        """The EventBridge schedule expression, e.g. "rate(15 minutes)" or "cron(0 * * * ? *)"."""
        if self.at_minute is not None:
            return f"cron({self.at_minute} * * * ? *)"
        unit = "minute" if self.every_minutes == 1 else "minutes"
        return f"rate({self.every_minutes} {unit})"

    @property
    def every_seconds(self) -> int:
        return self.every_minutes * 60

    def run(self) -> Any:
        module, function = self.target.split(":")
        return getattr(importlib.import_module(module), function)()


SCHEDULES: Mapping[str, Schedule] = {s.name: s for s in (
    # Retry notifications whose backoff, quiet hours or lease has ended.
    Schedule("outbox_retry", 1, "chalicelib.workers.outbox:retry_due"),
    # Remind near the SLA, escalate past it (camat) and past twice (admin kabupaten).
    Schedule("sla_escalation", 15, "chalicelib.workers.sla:run"),
    # Hourly on the hour; queues each village's digest once its kabupaten's clock reads 07:00 (WIB/WITA/WIT).
    Schedule("daily_digest", 60, "chalicelib.workers.digest:run", at_minute=0),
)}

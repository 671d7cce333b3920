"""SLA sweep (every 15 minutes): reminders near the SLA, escalation to the camat past it, to the admin past twice."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.escalation import (
    LEVEL_ACTIONS,
    LEVEL_NOTES,
    OVERDUE,
    REMINDER,
    audience,
    checkpoints,
    current_level,
    local_label,
    next_checkpoint,
    overdue_working_hours,
)
from chalicelib.domain.outbox import OutboxMessage, outbox_message
from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.observability import logger
from chalicelib.storage import sla as repo

SYSTEM_ACTOR = "Sistem Balai"


@dataclass
class SweepResult:
    read: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    notified: list[tuple[str, int]] = field(default_factory=list)  # (request id, level)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def outbox_id(request: ServiceRequest, level: int) -> str:
    """Deterministic per request, due time and level: the same escalation can never be queued twice."""
    return f"SLA-{request.id}-{re.sub(r'[^0-9]', '', request.due_at)[:14]}-{level}"


def _rows(request: ServiceRequest, levels: range, now: datetime, at: str) -> list[OutboxMessage]:
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    base = {"tracking_code": request.tracking_code, "letter_name": request.letter_name,
            "request_id": request.id, "village": request.village,
            "village_name": str(request.applicant.get("desa") or request.village)}
    rows = []
    for level in levels:
        extra: dict[str, Any]
        if level == REMINDER:
            event, extra = "sla_reminder", {"due_at": local_label(points.due_at, request.village)}
        else:
            event = "sla_escalation"
            extra = {"overdue_hours": overdue_working_hours(now, points, request.village), "level": level}
        row = {"event": event, "audience": audience(level, request.village), "payload": {**base, **extra}}
        rows.append(outbox_message(row, outbox_id(request, level), request.village, at))
    return rows


def sweep_request(request: ServiceRequest, now: datetime) -> tuple[str, int]:
    """Bring one due request to the level `now` calls for, telling each level's audience once.

    A sweep that was down catches up: every level passed since the last one is queued at once, with one
    audit event naming the highest."""
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    current = current_level(request.sla, request.due_at)
    target = max(points.level_at(now), current)
    next_at = next_checkpoint(target, points)
    if target == current:  # the index key was behind (e.g. an old item): move it, tell nobody
        repo.set_level(request, current, next_at)
        return "moved", current
    at = iso(now)
    event = HistoryEntry(at, SYSTEM_ACTOR, "system", LEVEL_ACTIONS[target], request.status, request.status,
                         LEVEL_NOTES[target], request.version)
    outcome = repo.escalate(request, target, next_at, event, _rows(request, range(current + 1, target + 1), now, at))
    logger.info("sla checkpoint", extra={"request_id": request.id, "village": request.village,
                                         "level": target, "outcome": outcome,
                                         "escalated": target >= OVERDUE})
    return outcome, target


def run(*, now: datetime | None = None, kabupaten: Iterable[str] | None = None) -> SweepResult:
    """The scheduled handler's logic: per kabupaten one Query of what is due, then one transaction each."""
    from chalicelib.services.regions import served_kabupaten
    from chalicelib.workers import complaint_sla

    now = now or utcnow()
    result = SweepResult()
    for kab in kabupaten or served_kabupaten():
        for request in list(repo.due(kab, now)):
            result.read += 1
            try:
                outcome, level = sweep_request(request, now)
            except Exception:
                # One bad request must not stop the sweep; it stays due and is tried again next run.
                logger.exception("sla sweep error", extra={"request_id": request.id})
                outcome, level = "error", 0
            result.add(outcome)
            if outcome == "done":
                result.notified.append((request.id, level))
        complaint_sla.sweep(kab, now, lambda cid, outcome, level: _count(result, cid, outcome, level))
    logger.info("sla sweep", extra={"read": result.read, **result.outcomes})
    return result


def _count(result: SweepResult, item_id: str, outcome: str, level: int) -> None:
    result.read += 1
    result.add(outcome)
    if outcome == "done":
        result.notified.append((item_id, level))

"""SLA sweep of complaints (part of the 15-minute sweep): remind the handling unit near the SLA, tell the camat (or,
for an OPD, the admin kabupaten) past it, the admin kabupaten past twice; once each."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.complaints import Complaint, escalation_audience
from chalicelib.domain.escalation import (
    LEVEL_ACTIONS,
    OVERDUE,
    OVERDUE_TWICE,
    REMINDER,
    checkpoints,
    current_level,
    local_label,
    next_checkpoint,
    overdue_working_hours,
)
from chalicelib.domain.outbox import OutboxMessage, outbox_message
from chalicelib.domain.requests import SYSTEM_ACTOR, HistoryEntry
from chalicelib.observability import logger
from chalicelib.storage import complaints as repo

NOTES = {
    REMINDER: "Pengaduan hampir melewati batas waktu layanan; unit penanganan diingatkan.",
    OVERDUE: "Batas waktu layanan terlewati; pengaduan dieskalasi.",
    OVERDUE_TWICE: "Lewat dua kali batas waktu layanan; admin kabupaten diberi tahu.",
}


def outbox_id(complaint: Complaint, level: int) -> str:
    """Deterministic per complaint, due time and level: the same step can never be queued twice."""
    return f"CSLA-{complaint.id}-{re.sub(r'[^0-9]', '', complaint.due_at)[:14]}-{level}"


def _rows(complaint: Complaint, levels: range, now: datetime, at: str) -> list[OutboxMessage]:
    points = checkpoints(complaint.due_at, complaint.sla_hours, complaint.village)
    base = {"complaint_id": complaint.id, "reference": complaint.id[-8:], "title": complaint.title,
            "village": complaint.village, "village_name": complaint.village_name or complaint.village,
            "unit_name": complaint.unit.get("name") or complaint.unit["code"]}
    rows = []
    for level in levels:
        extra: dict[str, Any]
        if level == REMINDER:
            event, extra = "complaint_sla_reminder", {"due_at": local_label(points.due_at, complaint.village)}
        else:
            event = "complaint_sla_escalation"
            extra = {"overdue_hours": overdue_working_hours(now, points, complaint.village), "level": level}
        row = {"event": event, "audience": escalation_audience(level, complaint), "payload": {**base, **extra}}
        rows.append(outbox_message(row, outbox_id(complaint, level), complaint.village, at))
    return rows


def sweep_complaint(complaint: Complaint, now: datetime) -> tuple[str, int]:
    """Bring one due complaint to the level `now` calls for, telling each level's audience once; a sweep that was
    down catches up with one audit event naming the highest level."""
    points = checkpoints(complaint.due_at, complaint.sla_hours, complaint.village)
    current = current_level(complaint.sla, complaint.due_at)
    target = max(points.level_at(now), current)
    next_at = next_checkpoint(target, points)
    if target == current:
        repo.set_level(complaint, current, next_at)
        return "moved", current
    at = iso(now)
    event = HistoryEntry(at, SYSTEM_ACTOR, "system", LEVEL_ACTIONS[target], complaint.status, complaint.status,
                         NOTES[target], complaint.version)
    outcome = repo.escalate(complaint, target, next_at, event,
                            _rows(complaint, range(current + 1, target + 1), now, at))
    logger.info("complaint sla checkpoint", extra={"complaint_id": complaint.id, "village": complaint.village,
                                                   "level": target, "outcome": outcome})
    return outcome, target


def sweep(kabupaten: str, now: datetime, record: Any) -> None:
    """One Query of the kabupaten's due complaints, then one transaction each; `record(id, outcome, level)`."""
    for complaint in list(repo.due(kabupaten, now)):
        try:
            outcome, level = sweep_complaint(complaint, now)
        except Exception:
            # One bad complaint must not stop the sweep; it stays due and is tried again next run.
            logger.exception("complaint sla sweep error", extra={"complaint_id": complaint.id})
            outcome, level = "error", 0
        record(complaint.id, outcome, level)

"""SLA checkpoints of a request (reminder, escalation to camat, to admin) and which one a request has reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.regions import kabupaten_of, kecamatan_of, timezone_for
from chalicelib.domain.sla import add_working_hours, calendar_for, subtract_working_hours, working_hours_between

NEAR_FRACTION = 0.8  # the operator is reminded once 80 % of the SLA's working time is used

# Level reached -> (outbox event, who is told). Level 0 means nothing was sent yet.
REMINDER, OVERDUE, OVERDUE_TWICE = 1, 2, 3
LEVEL_ACTIONS = {REMINDER: "sla_reminder", OVERDUE: "sla_escalation_kecamatan",
                 OVERDUE_TWICE: "sla_escalation_kabupaten"}
LEVEL_NOTES = {
    REMINDER: "Permohonan hampir melewati batas waktu layanan; operator desa diingatkan.",
    OVERDUE: "Batas waktu layanan terlewati; camat diberi tahu.",
    OVERDUE_TWICE: "Lewat dua kali batas waktu layanan; admin kabupaten diberi tahu.",
}


@dataclass(frozen=True)
class Checkpoints:
    """When a request becomes near (reminder), overdue (camat) and twice overdue (admin)."""

    near_at: datetime
    due_at: datetime
    twice_at: datetime

    def at(self, level: int) -> datetime | None:
        """The instant the given level is reached; None past the last level."""
        return {REMINDER: self.near_at, OVERDUE: self.due_at, OVERDUE_TWICE: self.twice_at}.get(level)

    def level_at(self, now: datetime) -> int:
        """The highest level reached at `now`."""
        if now >= self.twice_at:
            return OVERDUE_TWICE
        if now >= self.due_at:
            return OVERDUE
        if now >= self.near_at:
            return REMINDER
        return 0


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def checkpoints(due_at_iso: str, sla_hours: float, region_code: str) -> Checkpoints:
    """Derived from the due time alone, so a resubmission (which moves due_at) restarts them, and the
    item needs no extra start time: near = due - 20 % of the SLA, twice = due + the SLA (working time)."""
    cal = calendar_for(region_code)
    due = parse_iso(due_at_iso)
    return Checkpoints(near_at=subtract_working_hours(due, sla_hours * (1 - NEAR_FRACTION), cal), due_at=due,
                       twice_at=add_working_hours(due, sla_hours, cal))


def current_level(sla: dict[str, Any] | None, due_at_iso: str) -> int:
    """The level already acted on; a level recorded for an earlier due time (before a resubmission) is void."""
    if not sla or sla.get("for") != due_at_iso:
        return 0
    return int(sla.get("level") or 0)


def next_checkpoint(level: int, points: Checkpoints) -> datetime | None:
    """When the SLA sweep should next look at the request; None once the admin has been told."""
    return points.at(level + 1)


def audience(level: int, village: str) -> dict[str, str]:
    """Desa -> kecamatan -> kabupaten: the operators, then the camat, then the admin kabupaten."""
    if level == REMINDER:
        return {"kind": "staff", "region": village, "role": "operator"}
    if level == OVERDUE:
        return {"kind": "staff", "region": kecamatan_of(village), "role": "camat"}
    return {"kind": "staff", "region": kabupaten_of(village), "role": "admin"}


def overdue_working_hours(now: datetime, points: Checkpoints, region_code: str) -> float:
    return round(working_hours_between(points.due_at, now, calendar_for(region_code)), 1)


def local_label(at: datetime, region_code: str) -> str:
    """"18/08 14.00 WITA": how the templates show a time to staff of the kabupaten."""
    from chalicelib.domain.regions import ZONE_LABELS

    zone = timezone_for(region_code)
    local = at.astimezone(calendar_for(region_code).tz)
    return f"{local:%d/%m %H.%M} {ZONE_LABELS.get(zone, '')}".strip()

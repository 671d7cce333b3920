"""Daily digest at 07:00 local time: each active village's operators get counts waiting, near SLA, overdue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.escalation import checkpoints
from chalicelib.domain.regions import Region, is_village
from chalicelib.domain.sla import calendar_for
from chalicelib.observability import logger

# The schedule runs hourly; a village's digest goes out on the first run from 07:00 local time on
# (later runs that morning catch up a missed hour). The outbox id carries the local date, so a
# village is told at most once a day however often the schedule fires.
DIGEST_FROM, DIGEST_UNTIL = time(7, 0), time(10, 0)


@dataclass
class DigestResult:
    queued: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


@dataclass(frozen=True)
class VillageCounts:
    waiting: int
    near_sla: int
    overdue: int


def village_counts(village: str, now: datetime) -> VillageCounts:
    """Open requests (submitted, in review, approved), those past 80 % of their SLA and those past it."""
    from chalicelib.storage.sla import village_open_requests

    waiting = near = overdue = 0
    for due_at, sla_hours in village_open_requests(village):
        waiting += 1
        points = checkpoints(due_at, sla_hours, village)
        if now >= points.due_at:
            overdue += 1
        elif now >= points.near_at:
            near += 1
    return VillageCounts(waiting, near, overdue)


def active_villages(kabupaten: str) -> list[Region]:
    """The kabupaten's active desa/kelurahan: children Queries on GSI1 (kabupaten, then each kecamatan)."""
    from chalicelib.storage import regions

    villages: list[Region] = []
    for kecamatan in regions.children(kabupaten):
        villages += [v for v in regions.children(kecamatan.code) if is_village(v.code) and v.active]
    return villages


def digest_id(village: str, local_day: str) -> str:
    return f"DIGEST-{village}-{local_day}"


def run(*, now: datetime | None = None, kabupaten: Iterable[str] | None = None, force: bool = False) -> DigestResult:
    """Queue today's digest for every active village with work waiting (a digest of zeros is noise and
    costs an SMS per operator). `force` ignores the local-time window (ops and tests)."""
    from chalicelib.domain.outbox import outbox_message
    from chalicelib.services.regions import served_kabupaten
    from chalicelib.storage.outbox import put_new

    now = now or utcnow()
    result = DigestResult()
    for kab in kabupaten or served_kabupaten():
        cal = calendar_for(kab)
        local = now.astimezone(cal.tz)
        if not force and not (DIGEST_FROM <= local.time() < DIGEST_UNTIL and cal.is_working_day(local.date())):
            result.skip("outside_window")
            continue
        for village in active_villages(kab):
            counts = village_counts(village.code, now)
            if counts.waiting == 0:
                result.skip("nothing_waiting")
                continue
            row = {"event": "daily_digest",
                   "audience": {"kind": "staff", "region": village.code, "role": "operator"},
                   "payload": {"village": village.code, "village_name": village.name, "date": local.date().isoformat(),
                               "waiting": counts.waiting, "near_sla": counts.near_sla, "overdue": counts.overdue}}
            message = outbox_message(row, digest_id(village.code, local.date().isoformat()), village.code, iso(now))
            if put_new(message):
                result.queued.append(village.code)
            else:
                result.skip("already_sent_today")
    logger.info("daily digest", extra={"queued": len(result.queued), **result.skipped})
    return result


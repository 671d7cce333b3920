"""Working-hours arithmetic for SLAs: office hours, weekends and Indonesian holidays in a local time zone."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from chalicelib.domain.regions import kabupaten_of, timezone_for

SlaState = Literal["ok", "near", "overdue", "overdue_twice"]

OfficeHours = tuple[time, time] | None
"""Opening and closing local time of one ISO weekday, or None when the office is closed."""

# Jam kerja instansi pemerintah (5 hari kerja): Senin–Kamis 07.30–16.00, Jumat 07.30–16.30.
GOVERNMENT_OFFICE_HOURS: Mapping[int, OfficeHours] = {
    1: (time(7, 30), time(16, 0)),
    2: (time(7, 30), time(16, 0)),
    3: (time(7, 30), time(16, 0)),
    4: (time(7, 30), time(16, 0)),
    5: (time(7, 30), time(16, 30)),
    6: None,
    7: None,
}

# A calendar without a single working day would make the working-hours walk loop for ever; stop after ten years.
_MAX_DAYS = 3660


@lru_cache(maxsize=64)
def national_holidays(year: int, country: str = "ID", include_cuti_bersama: bool = True) -> frozenset[date]:
    """Public holidays (and, for Indonesia, cuti bersama: the "government" category) of one year, cached."""
    # Imported here: `holidays` costs ~75 ms to import and more to build a year; only SLA code needs it.
    import holidays

    categories: tuple[str, ...] = ("public",)
    if include_cuti_bersama:
        supported = getattr(holidays.country_holidays(country), "supported_categories", ())
        if "government" in supported:
            categories = ("public", "government")
    return frozenset(holidays.country_holidays(country, years=year, categories=categories).keys())


def _normalise_hours(hours: Mapping[int, OfficeHours]) -> tuple[OfficeHours, ...]:
    result: list[OfficeHours] = []
    for weekday in range(1, 8):
        window = hours.get(weekday)
        if window is not None:
            opens, closes = window
            if closes <= opens:
                raise ValueError(f"office hours of ISO weekday {weekday} close before they open")
        result.append(window)
    return tuple(result)


@dataclass(frozen=True)
class WorkCalendar:
    """When a kabupaten's offices work: its time zone, office hours per ISO weekday and its holidays.

    Holidays are the country's national holidays (with cuti bersama unless `include_cuti_bersama` is False)
    plus `extra_holidays` from config, e.g. a regional holiday or a cuti bersama the package lacks.
    """

    tz_name: str = "Asia/Jakarta"
    office_hours: tuple[OfficeHours, ...] = field(default_factory=lambda: _normalise_hours(GOVERNMENT_OFFICE_HOURS))
    extra_holidays: frozenset[date] = frozenset()
    country: str = "ID"
    include_cuti_bersama: bool = True

    def __post_init__(self) -> None:
        if len(self.office_hours) != 7:
            raise ValueError("office_hours needs one entry per ISO weekday (Monday first)")
        ZoneInfo(self.tz_name)  # fail on a misspelt zone when the calendar is built, not in a scheduled job

    @classmethod
    def create(
        cls,
        tz_name: str,
        *,
        office_hours: Mapping[int, OfficeHours] | None = None,
        extra_holidays: Iterable[date | str] = (),
        country: str = "ID",
        include_cuti_bersama: bool = True,
    ) -> WorkCalendar:
        """Build a calendar from config values: office hours keyed by ISO weekday, holidays as dates or ISO strings."""
        return cls(
            tz_name=tz_name,
            office_hours=_normalise_hours(office_hours if office_hours is not None else GOVERNMENT_OFFICE_HOURS),
            extra_holidays=frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in extra_holidays),
            country=country,
            include_cuti_bersama=include_cuti_bersama,
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def is_holiday(self, day: date) -> bool:
        return day in self.extra_holidays or day in national_holidays(day.year, self.country, self.include_cuti_bersama)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The office's open interval on a local date as aware local datetimes, or None if closed all day."""
        hours = self.office_hours[day.isoweekday() - 1]
        if hours is None or self.is_holiday(day):
            return None
        tz = self.tz
        return datetime.combine(day, hours[0], tzinfo=tz), datetime.combine(day, hours[1], tzinfo=tz)

    def is_working_day(self, day: date) -> bool:
        return self.window(day) is not None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


def add_working_hours(start_utc: datetime, hours: float, cal: WorkCalendar) -> datetime:
    """The UTC instant when `hours` working hours have passed since `start_utc` on the calendar.

    Time outside office hours does not count: a request made on Friday evening starts on Monday morning.
    A deadline that is exactly reached at closing time stays at closing time.
    """
    return _walk_working_hours(start_utc, hours, cal, forward=True)


def subtract_working_hours(end_utc: datetime, hours: float, cal: WorkCalendar) -> datetime:
    """The UTC instant `hours` working hours before `end_utc` (the inverse of add_working_hours)."""
    return _walk_working_hours(end_utc, hours, cal, forward=False)


def _walk_working_hours(from_utc: datetime, hours: float, cal: WorkCalendar, *, forward: bool) -> datetime:
    """Walk office windows day by day from `from_utc`, forwards or backwards, until `hours` of them are used."""
    _require_aware(from_utc, "from_utc")
    if hours < 0 or math.isnan(hours):
        raise ValueError("hours must be >= 0")
    origin = from_utc.astimezone(UTC)
    remaining = timedelta(hours=hours)
    if remaining == timedelta(0):
        return origin
    day = origin.astimezone(cal.tz).date()
    step = timedelta(days=1 if forward else -1)
    for _ in range(_MAX_DAYS):
        window = cal.window(day)
        if window is not None:
            opens, closes = (w.astimezone(UTC) for w in window)
            # The part of today's window on the walk's side of the origin.
            begin, end = (max(origin, opens), closes) if forward else (opens, min(origin, closes))
            if begin < end:
                available = end - begin
                if remaining <= available:
                    return begin + remaining if forward else end - remaining
                remaining -= available
        day += step
    raise ValueError("the work calendar has no working time within ten years")


def working_hours_between(a_utc: datetime, b_utc: datetime, cal: WorkCalendar) -> float:
    """Working hours from `a_utc` to `b_utc` (0.0 when b is not after a)."""
    _require_aware(a_utc, "a_utc")
    _require_aware(b_utc, "b_utc")
    a, b = a_utc.astimezone(UTC), b_utc.astimezone(UTC)
    if b <= a:
        return 0.0
    tz = cal.tz
    day, last = a.astimezone(tz).date(), b.astimezone(tz).date()
    total = timedelta(0)
    while day <= last:
        window = cal.window(day)
        if window is not None:
            opens, closes = (w.astimezone(UTC) for w in window)
            overlap = min(b, closes) - max(a, opens)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total / timedelta(hours=1)


def sla_state(
    now_utc: datetime,
    created_utc: datetime,
    due_utc: datetime,
    cal: WorkCalendar,
    near_fraction: float = 0.8,
) -> SlaState:
    """Where a request stands against its SLA, all measured in working time.

    "near": at least `near_fraction` of the SLA's working time is used; "overdue": past the due time;
    "overdue_twice": twice the SLA's working time used (the escalation goes one level higher).
    """
    if not 0 < near_fraction <= 1:
        raise ValueError("near_fraction must be in (0, 1]")
    _require_aware(now_utc, "now_utc")
    _require_aware(due_utc, "due_utc")
    sla_hours = working_hours_between(created_utc, due_utc, cal)
    used = working_hours_between(created_utc, now_utc, cal)
    if now_utc > due_utc:
        return "overdue_twice" if used >= 2 * sla_hours else "overdue"
    if used >= near_fraction * sla_hours:
        return "near"
    return "ok"


@lru_cache(maxsize=64)
def _kabupaten_calendar(kabupaten: str) -> WorkCalendar:
    return WorkCalendar.create(timezone_for(kabupaten))


def calendar_for(region_code: str) -> WorkCalendar:
    """The working calendar of the region's kabupaten (its zone, government office hours, holidays): the one
    calendar every SLA (due times, reminders, escalations, digests) is counted on."""
    return _kabupaten_calendar(kabupaten_of(region_code))


@dataclass(frozen=True)
class SlaThresholds:
    """The instants when a request becomes near, overdue and overdue twice: what a due-time index stores."""

    near_at: datetime
    due_at: datetime
    twice_at: datetime


def sla_thresholds(
    created_utc: datetime, sla_hours: float, cal: WorkCalendar, near_fraction: float = 0.8
) -> SlaThresholds:
    """Precompute the SLA's checkpoints so a scheduler can Query by time instead of evaluating every request."""
    if not 0 < near_fraction <= 1:
        raise ValueError("near_fraction must be in (0, 1]")
    return SlaThresholds(
        near_at=add_working_hours(created_utc, sla_hours * near_fraction, cal),
        due_at=add_working_hours(created_utc, sla_hours, cal),
        twice_at=add_working_hours(created_utc, 2 * sla_hours, cal),
    )


def next_local_time(
    now_utc: datetime,
    tz: str | ZoneInfo,
    hour: int = 7,
    minute: int = 0,
    *,
    cal: WorkCalendar | None = None,
) -> datetime:
    """The next instant (strictly after `now_utc`, in UTC) when the local clock in `tz` reads hour:minute.

    With `cal`, days that are not working days are skipped (no digest on Sundays and holidays).
    """
    _require_aware(now_utc, "now_utc")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local_now = now_utc.astimezone(zone)
    day = local_now.date()
    for _ in range(_MAX_DAYS):
        candidate = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if candidate > local_now and (cal is None or cal.is_working_day(day)):
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError("no working day in the next ten years")

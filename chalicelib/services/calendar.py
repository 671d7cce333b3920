"""The working calendar of a region's kabupaten (time zone, office hours, holidays) for SLAs."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from chalicelib.domain.regions import kabupaten_of, timezone_for
from chalicelib.domain.sla import WorkCalendar, add_working_hours


class KabupatenCalendar:
    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar

    def add_hours(self, start_utc: datetime, hours: float) -> datetime:
        return add_working_hours(start_utc, hours, self.calendar)


@lru_cache(maxsize=64)
def _for_kabupaten(kabupaten: str) -> KabupatenCalendar:
    return KabupatenCalendar(WorkCalendar.create(timezone_for(kabupaten)))


def calendar_for(region_code: str) -> KabupatenCalendar:
    return _for_kabupaten(kabupaten_of(region_code))

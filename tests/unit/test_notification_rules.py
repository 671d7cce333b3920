"""Notification rules: quiet hours, backoff, recipients, and SLA checkpoints across weekends and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.domain.escalation import Checkpoints, checkpoints
from chalicelib.domain.notifications import (
    citizen_recipient,
    deliveries,
    quiet_until,
    retry_delay,
    staff_recipient,
)
from chalicelib.domain.sla import WorkCalendar, add_working_hours, subtract_working_hours, working_hours_between

WITA, WIB = "Asia/Makassar", "Asia/Jakarta"


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(20, 60) == timedelta(hours=1)


@pytest.mark.parametrize(("utc", "until"), [
    (datetime(2026, 11, 24, 13, 0, tzinfo=UTC), None),  # 21:00 WITA minus 8 h... 21:00 local is 13:00 UTC
    (datetime(2026, 11, 24, 12, 59, tzinfo=UTC), None),  # 20:59 WITA
    (datetime(2026, 11, 24, 21, 59, tzinfo=UTC), datetime(2026, 11, 24, 22, 0, tzinfo=UTC)),  # 05:59 WITA
    (datetime(2026, 11, 24, 22, 0, tzinfo=UTC), None),  # 06:00 WITA
])
def test_quiet_hours_across_midnight(utc: datetime, until: datetime | None) -> None:
    quiet = (time(21, 0), time(6, 0))
    expected = until
    if utc == datetime(2026, 11, 24, 13, 0, tzinfo=UTC):
        expected = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 21:00 starts the quiet period
    assert quiet_until(utc, quiet, WITA) == expected


def test_quiet_hours_within_a_day() -> None:
    quiet = (time(12, 0), time(13, 0))
    noon = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)  # 12:30 WIB
    assert quiet_until(noon, quiet, WIB) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert quiet_until(datetime(2026, 11, 24, 6, 0, tzinfo=UTC), quiet, WIB) is None


def test_staff_channels_follow_preferences_and_contacts() -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    both = staff_recipient("op", "+6281", "op@x.id", None)
    sms_only = staff_recipient("kd", "+6282", "kd@x.id", {"channels": ["sms"]})
    no_email = staff_recipient("ca", "+6283", None, {"channels": ["email"]})
    contact_of = {"sms": "phone", "email": "email", "inbox": "citizen", "push": "citizen"}
    keys = [d.key for d in deliveries([both, sms_only, no_email], now, WITA, "new_request", contact_of)]
    assert keys == ["email:op", "sms:op", "sms:kd"]
    # A phone-only citizen: the inbox, and SMS as their only channel that arrives by itself
    citizen = citizen_recipient("+6284", "nikhash")
    assert [d.key for d in deliveries([citizen], now, WITA, "issued", contact_of)] == ["inbox:citizen", "sms:citizen"]
    assert [d.key for d in deliveries([citizen], now, WITA, "approved", contact_of)] == ["inbox:citizen"]
    assert deliveries([citizen_recipient(None)], now, WITA, "issued", contact_of) == []


@pytest.mark.parametrize("tz", [WITA, WIB])
def test_checkpoints_skip_a_weekend_and_a_holiday(tz: str) -> None:
    # Given Christmas (Friday 25 Dec 2026, a national holiday) and the weekend after it
    cal = WorkCalendar.create(tz)
    assert not cal.is_working_day(date(2026, 12, 25))
    created = datetime.combine(date(2026, 12, 24), time(14, 0), tzinfo=cal.tz).astimezone(UTC)
    due = add_working_hours(created, 8, cal)
    # When the checkpoints of an 8-working-hour SLA are derived from the due time alone
    region = "73.07" if tz == WITA else "32.04"
    points = checkpoints(due.isoformat(), 8, region)
    # Then near is 80 % of the SLA after the start, and twice is 16 working hours after it, in working time
    assert working_hours_between(created, points.near_at, cal) == pytest.approx(6.4)
    assert working_hours_between(created, points.twice_at, cal) == pytest.approx(16)
    # And none falls on the holiday or the weekend
    for at in (points.near_at, points.due_at, points.twice_at):
        assert cal.is_working_day(at.astimezone(cal.tz).date())
    # 24 Dec is cuti bersama, 25 Dec Christmas, then the weekend: all 8 hours are worked on Monday 28 Dec
    assert points.due_at.astimezone(cal.tz) == datetime(2026, 12, 28, 15, 30, tzinfo=cal.tz)


def test_subtract_is_the_inverse_of_add() -> None:
    cal = WorkCalendar.create(WITA)
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # Friday 09:00 WITA
    for hours in (0.5, 3, 8, 17.25):
        end = add_working_hours(start, hours, cal)
        assert subtract_working_hours(end, hours, cal) == start or \
            working_hours_between(subtract_working_hours(end, hours, cal), start, cal) == 0


def test_levels_by_time() -> None:
    t = datetime(2026, 1, 5, tzinfo=UTC)
    points = Checkpoints(t, t + timedelta(hours=2), t + timedelta(hours=10))
    assert [points.level_at(t + timedelta(hours=h)) for h in (-1, 0, 2, 10)] == [0, 1, 2, 3]

"""SLA working-hours arithmetic across weekends, national holidays and cuti bersama in WIB and WITA."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from chalicelib.domain.sla import (
    WorkCalendar,
    add_working_hours,
    national_holidays,
    next_local_time,
    sla_state,
    sla_thresholds,
    working_hours_between,
)

WITA = ZoneInfo("Asia/Makassar")
WIB = ZoneInfo("Asia/Jakarta")


def local(tz: ZoneInfo, y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


@pytest.fixture
def sinjai() -> WorkCalendar:
    return WorkCalendar("Asia/Makassar")


@pytest.fixture
def jakarta() -> WorkCalendar:
    return WorkCalendar.create("Asia/Jakarta")


def test_the_packaged_2026_calendar_has_the_holidays_these_tests_rely_on() -> None:
    days = national_holidays(2026)
    assert {date(2026, 8, 17), date(2026, 5, 14), date(2026, 3, 19), date(2026, 3, 21)} <= days
    assert date(2026, 5, 15) in days  # cuti bersama Kenaikan
    assert date(2026, 5, 15) not in national_holidays(2026, include_cuti_bersama=False)


def test_friday_afternoon_request_continues_after_the_weekend_in_wita(sinjai: WorkCalendar) -> None:
    # Given a request at Friday 15:00 WITA (Friday closes 16:30) with an 8-working-hour SLA
    created = local(WITA, 2026, 2, 6, 15).astimezone(UTC)
    # When the due time is computed
    due = add_working_hours(created, 8, sinjai)
    # Then 1.5 h count on Friday and 6.5 h on Monday from 07:30: Monday 14:00 WITA, returned in UTC
    assert due.tzinfo == UTC
    assert due == local(WITA, 2026, 2, 9, 14).astimezone(UTC)
    assert due == datetime(2026, 2, 9, 6, 0, tzinfo=UTC)


def test_friday_request_skips_the_weekend_and_independence_day_in_wita(sinjai: WorkCalendar) -> None:
    # Given a request on Friday 14 August 2026, 15:00 WITA; Monday 17 August is Independence Day
    created = local(WITA, 2026, 8, 14, 15).astimezone(UTC)
    # When 8 working hours are added
    due = add_working_hours(created, 8, sinjai)
    # Then the deadline is Tuesday 18 August 14:00 WITA
    assert due.astimezone(WITA) == local(WITA, 2026, 8, 18, 14)
    assert working_hours_between(created, due, sinjai) == pytest.approx(8)


def test_request_before_ascension_day_skips_the_holiday_and_cuti_bersama_in_wib(jakarta: WorkCalendar) -> None:
    # Given Wednesday 13 May 2026, 14:00 WIB; Thursday is Ascension Day and Friday cuti bersama
    created = local(WIB, 2026, 5, 13, 14)
    # When 8 working hours are added
    due = add_working_hours(created, 8, jakarta)
    # Then 2 h count on Wednesday and 6 h on Monday 18 May: 13:30 WIB
    assert due.astimezone(WIB) == local(WIB, 2026, 5, 18, 13, 30)


def test_cuti_bersama_can_be_left_out_of_the_calendar() -> None:
    # Given a kabupaten whose offices open on cuti bersama days
    cal = WorkCalendar("Asia/Jakarta", include_cuti_bersama=False)
    # When the same Wednesday request gets 8 working hours
    due = add_working_hours(local(WIB, 2026, 5, 13, 14), 8, cal)
    # Then Friday 15 May counts: 07:30 + 6 h
    assert due.astimezone(WIB) == local(WIB, 2026, 5, 15, 13, 30)


def test_nyepi_and_idul_fitri_week_is_skipped_entirely_in_wib(jakarta: WorkCalendar) -> None:
    # Given Tuesday 17 March 2026, 14:00 WIB, right before cuti bersama, Nyepi and the Idul Fitri holidays
    created = local(WIB, 2026, 3, 17, 14)
    # When 8 working hours are added
    due = add_working_hours(created, 8, jakarta)
    # Then work resumes on Wednesday 25 March: 07:30 + 6 h
    assert due.astimezone(WIB) == local(WIB, 2026, 3, 25, 13, 30)
    assert working_hours_between(created, due, jakarta) == pytest.approx(8)


def test_extra_holidays_from_config_are_skipped() -> None:
    # Given a regional holiday on Monday 9 February configured for the kabupaten
    cal = WorkCalendar.create("Asia/Makassar", extra_holidays=["2026-02-09"])
    # When the Friday request gets 8 working hours
    due = add_working_hours(local(WITA, 2026, 2, 6, 15), 8, cal)
    # Then Tuesday takes Monday's place
    assert due.astimezone(WITA) == local(WITA, 2026, 2, 10, 14)


def test_time_outside_office_hours_does_not_count(sinjai: WorkCalendar) -> None:
    # A Saturday request starts on Monday at opening time
    assert add_working_hours(local(WITA, 2026, 2, 7, 10), 1, sinjai).astimezone(WITA) == local(WITA, 2026, 2, 9, 8, 30)
    # An early-morning request starts at 07:30
    assert add_working_hours(local(WITA, 2026, 2, 9, 6), 1, sinjai).astimezone(WITA) == local(WITA, 2026, 2, 9, 8, 30)
    # An evening request starts the next morning
    assert add_working_hours(local(WITA, 2026, 2, 9, 19), 1, sinjai).astimezone(WITA) == local(WITA, 2026, 2, 10, 8, 30)


def test_a_deadline_reached_at_closing_time_stays_at_closing_time(sinjai: WorkCalendar) -> None:
    due = add_working_hours(local(WITA, 2026, 2, 9, 7, 30), 8.5, sinjai)
    assert due.astimezone(WITA) == local(WITA, 2026, 2, 9, 16)


def test_zero_hours_returns_the_start(sinjai: WorkCalendar) -> None:
    start = local(WITA, 2026, 2, 7, 10).astimezone(UTC)
    assert add_working_hours(start, 0, sinjai) == start


@pytest.mark.parametrize("hours", [0.25, 1, 7.5, 8, 8.5, 24, 40, 120])
@pytest.mark.parametrize("start_hour", [0, 7, 12, 16, 23])
def test_working_hours_between_inverts_add_working_hours(sinjai: WorkCalendar, hours: float, start_hour: int) -> None:
    start = local(WITA, 2026, 8, 12, start_hour)
    due = add_working_hours(start, hours, sinjai)
    assert working_hours_between(start, due, sinjai) == pytest.approx(hours)


def test_working_hours_between_is_zero_when_the_end_is_not_after_the_start(sinjai: WorkCalendar) -> None:
    a = local(WITA, 2026, 2, 9, 10)
    assert working_hours_between(a, a, sinjai) == 0.0
    assert working_hours_between(a, a - timedelta(hours=3), sinjai) == 0.0
    # A whole weekend is worth nothing
    assert working_hours_between(local(WITA, 2026, 2, 6, 17), local(WITA, 2026, 2, 9, 7), sinjai) == 0.0


def test_custom_office_hours_per_weekday() -> None:
    # Given a kantor desa that also opens Saturday mornings
    hours = {d: (time(8), time(15)) for d in range(1, 6)} | {6: (time(8), time(12)), 7: None}
    cal = WorkCalendar.create("Asia/Makassar", office_hours=hours)
    # When a Friday 14:00 request gets 3 hours
    due = add_working_hours(local(WITA, 2026, 2, 6, 14), 3, cal)
    # Then Saturday counts
    assert due.astimezone(WITA) == local(WITA, 2026, 2, 7, 10)


def test_bad_input_is_a_programming_error(sinjai: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        add_working_hours(datetime(2026, 2, 9, 8), 1, sinjai)  # naive
    with pytest.raises(ValueError):
        add_working_hours(local(WITA, 2026, 2, 9, 8), -1, sinjai)
    with pytest.raises(ValueError):
        WorkCalendar.create("Asia/Makassar", office_hours={1: (time(16), time(8))})
    with pytest.raises(ZoneInfoNotFoundError):
        WorkCalendar("Asia/Ujung_Pandang_Typo")
    closed = WorkCalendar.create("Asia/Makassar", office_hours={})
    with pytest.raises(ValueError):
        add_working_hours(local(WITA, 2026, 2, 9, 8), 1, closed)


class TestSlaState:
    """A 10-working-hour SLA created Monday 9 Feb 2026 07:30 WITA: due Tuesday 09:00, near at 8 h used."""

    created = local(WITA, 2026, 2, 9, 7, 30).astimezone(UTC)

    @pytest.fixture
    def due(self, sinjai: WorkCalendar) -> datetime:
        return add_working_hours(self.created, 10, sinjai)

    def state(self, now: datetime, due: datetime, cal: WorkCalendar) -> str:
        return sla_state(now.astimezone(UTC), self.created, due, cal)

    def test_due_time(self, due: datetime) -> None:
        assert due.astimezone(WITA) == local(WITA, 2026, 2, 10, 9)

    def test_ok_before_eighty_percent(self, due: datetime, sinjai: WorkCalendar) -> None:
        assert self.state(local(WITA, 2026, 2, 9, 15, 29), due, sinjai) == "ok"

    def test_near_from_eighty_percent_until_due(self, due: datetime, sinjai: WorkCalendar) -> None:
        assert self.state(local(WITA, 2026, 2, 9, 15, 30), due, sinjai) == "near"
        # The night does not use working time: still near, not overdue
        assert self.state(local(WITA, 2026, 2, 10, 6), due, sinjai) == "near"
        assert self.state(local(WITA, 2026, 2, 10, 9), due, sinjai) == "near"

    def test_overdue_after_due(self, due: datetime, sinjai: WorkCalendar) -> None:
        assert self.state(local(WITA, 2026, 2, 10, 9, 1), due, sinjai) == "overdue"
        assert self.state(local(WITA, 2026, 2, 11, 10, 29), due, sinjai) == "overdue"

    def test_overdue_twice_after_twice_the_working_time(self, due: datetime, sinjai: WorkCalendar) -> None:
        # 20 h: Monday 8.5 + Tuesday 8.5 + Wednesday 3 -> Wednesday 10:30
        assert self.state(local(WITA, 2026, 2, 11, 10, 30), due, sinjai) == "overdue_twice"
        assert self.state(local(WITA, 2026, 2, 20, 10), due, sinjai) == "overdue_twice"

    def test_near_fraction_is_configurable(self, due: datetime, sinjai: WorkCalendar) -> None:
        now = local(WITA, 2026, 2, 9, 14).astimezone(UTC)  # 6.5 of 10 h used
        assert sla_state(now, self.created, due, sinjai, near_fraction=0.6) == "near"
        assert sla_state(now, self.created, due, sinjai, near_fraction=0.7) == "ok"
        with pytest.raises(ValueError):
            sla_state(now, self.created, due, sinjai, near_fraction=0)

    def test_thresholds_match_the_states(self, due: datetime, sinjai: WorkCalendar) -> None:
        t = sla_thresholds(self.created, 10, sinjai)
        assert t.due_at == due
        assert t.near_at.astimezone(WITA) == local(WITA, 2026, 2, 9, 15, 30)
        assert t.twice_at.astimezone(WITA) == local(WITA, 2026, 2, 11, 10, 30)
        minute = timedelta(minutes=1)
        assert sla_state(t.near_at - minute, self.created, due, sinjai) == "ok"
        assert sla_state(t.near_at, self.created, due, sinjai) == "near"
        assert sla_state(t.twice_at - minute, self.created, due, sinjai) == "overdue"
        assert sla_state(t.twice_at, self.created, due, sinjai) == "overdue_twice"


class TestNextLocalTime:
    def test_later_the_same_day_when_before_seven(self) -> None:
        now = local(WITA, 2026, 2, 9, 6, 59).astimezone(UTC)
        assert next_local_time(now, "Asia/Makassar") == local(WITA, 2026, 2, 9, 7).astimezone(UTC)

    def test_strictly_after_now(self) -> None:
        now = local(WITA, 2026, 2, 9, 7).astimezone(UTC)
        assert next_local_time(now, "Asia/Makassar") == local(WITA, 2026, 2, 10, 7).astimezone(UTC)

    def test_zones_differ_by_their_offset(self) -> None:
        now = datetime(2026, 2, 8, 12, 0, tzinfo=UTC)
        assert next_local_time(now, "Asia/Makassar") == datetime(2026, 2, 8, 23, 0, tzinfo=UTC)
        assert next_local_time(now, "Asia/Jakarta") == datetime(2026, 2, 9, 0, 0, tzinfo=UTC)
        assert next_local_time(now, ZoneInfo("Asia/Jayapura"), hour=7, minute=30) == datetime(
            2026, 2, 8, 22, 30, tzinfo=UTC
        )

    def test_with_a_calendar_weekends_and_holidays_are_skipped(self, sinjai: WorkCalendar) -> None:
        # Saturday 15 August 2026 07:05 WITA: Sunday, then Independence Day Monday, are skipped
        now = local(WITA, 2026, 8, 15, 7, 5).astimezone(UTC)
        assert next_local_time(now, "Asia/Makassar", cal=sinjai) == local(WITA, 2026, 8, 18, 7).astimezone(UTC)


# ---- one walk for both directions, one calendar per kabupaten (issue 11, item 7) ----------------------------


@pytest.mark.parametrize("hours", [0.25, 1, 4.5, 8, 8.5, 40, 123.75])
@pytest.mark.parametrize("start_local", [
    datetime(2026, 12, 23, 7, 30),   # Wednesday at opening, before cuti bersama and Christmas
    datetime(2026, 12, 24, 11, 0),   # on cuti bersama (closed)
    datetime(2026, 11, 20, 16, 30),  # Friday at closing
    datetime(2026, 11, 21, 10, 0),   # Saturday
    datetime(2026, 11, 23, 12, 15),  # Monday midday
])
def test_subtracting_walks_back_exactly_what_adding_walked_forward(start_local: datetime, hours: float) -> None:
    # Given a start in WITA on a working or a closed day
    from chalicelib.domain.sla import subtract_working_hours

    cal = WorkCalendar.create("Asia/Makassar")
    start = start_local.replace(tzinfo=cal.tz).astimezone(UTC)
    # When the hours are added, then subtracted again
    due = add_working_hours(start, hours, cal)
    back = subtract_working_hours(due, hours, cal)
    # Then exactly `hours` of working time lie between, and nothing of working time lies between start and back
    assert working_hours_between(back, due, cal) == pytest.approx(hours)
    assert working_hours_between(min(start, back), max(start, back), cal) == 0


def test_subtracting_refuses_what_adding_refuses() -> None:
    from chalicelib.domain.sla import subtract_working_hours

    cal = WorkCalendar.create("Asia/Jakarta")
    end = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        subtract_working_hours(end, -1, cal)
    with pytest.raises(ValueError):
        subtract_working_hours(end.replace(tzinfo=None), 1, cal)
    closed = WorkCalendar(tz_name="Asia/Jakarta", office_hours=(None,) * 7)
    with pytest.raises(ValueError, match="no working time"):
        subtract_working_hours(end, 1, closed)
    assert subtract_working_hours(end, 0, cal) == end


def test_one_calendar_per_kabupaten_for_every_region_under_it() -> None:
    from chalicelib.domain.sla import calendar_for

    # Sinjai (WITA): the kabupaten, a kecamatan and a village share one calendar
    sinjai = calendar_for("73.07")
    assert calendar_for("73.07.03") is sinjai and calendar_for("73.07.03.1001") is sinjai
    assert sinjai.tz_name == "Asia/Makassar"
    # Jember (WIB) has its own
    assert calendar_for("35.09.01.2001").tz_name == "Asia/Jakarta"

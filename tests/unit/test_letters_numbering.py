"""Letter numbers: format, Roman months, per-village or per-type counters, yearly reset in local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.letters import (
    DEFAULT_NUMBER_FORMAT,
    counter_scope,
    counter_year,
    format_number,
    roman_month,
    to_local,
    validate_number_format,
    village_number_code,
)
from chalicelib.errors import ValidationError


def test_default_format_matches_the_issue_example() -> None:
    # Given the default format and the 12th letter of November 2026 in Desa Pulau Harapan
    # When it is numbered
    number = format_number(
        DEFAULT_NUMBER_FORMAT,
        classification="470",
        seq=12,
        village_code=village_number_code("73.07.09.2001"),
        issued_local=datetime(2026, 11, 23, 10, 0),
    )
    # Then it reads like the archive numbers offices already use
    assert number == "470/012/DS-2001/XI/2026"


def test_custom_format_with_every_placeholder() -> None:
    fmt = "{letter_type}-{seq:04}/{classification}/{village_code}/{month:02}.{roman_month}/{year}"
    number = format_number(
        fmt,
        classification="474.1",
        seq=7,
        village_code="KL-1001",
        issued_local=datetime(2026, 3, 1),
        letter_type="SKTM",
    )
    assert number == "SKTM-0007/474.1/KL-1001/03.III/2026"


def test_sequence_wider_than_its_padding_is_not_truncated() -> None:
    number = format_number(
        DEFAULT_NUMBER_FORMAT,
        classification="470",
        seq=1234,
        village_code="DS-2001",
        issued_local=datetime(2026, 1, 5),
    )
    assert number == "470/1234/DS-2001/I/2026"


@pytest.mark.parametrize(
    ("month", "roman"),
    [(1, "I"), (4, "IV"), (6, "VI"), (9, "IX"), (10, "X"), (11, "XI"), (12, "XII")],
)
def test_roman_months(month: int, roman: str) -> None:
    assert roman_month(month) == roman


@pytest.mark.parametrize("month", [0, 13])
def test_roman_month_out_of_range(month: int) -> None:
    with pytest.raises(ValueError):
        roman_month(month)


@pytest.mark.parametrize(
    "fmt",
    [
        "{classification}/{village_code}/{year}",  # no {seq}: every letter would get the same number
        "{classification}/{seq}/{kode_desa}",  # unknown placeholder
        "{seq.real}/{year}",  # attribute access
        "{seq[0]}/{year}",  # index access
        "{seq!r}/{year}",  # conversion
        "{seq:zz}/{year}",  # bad format spec
        "{classification:>5}/{seq}",  # padding text fields would hide typos
        "{seq}/{year",  # unbalanced
        "",
        "{seq:0>50000000}/{year}",  # a 50 MB number: every later issue would fail
        "{seq:0>9}/{year}",  # alignment is not part of the grammar either
        "{seq:c}/{year}",  # the number as a character: control characters in a signed number
        "{seq:x}/{year}",  # hexadecimal
        "{seq:10}/{year}",  # wider than 9
        "{seq:03}/{year}\n",  # control character in the literal text
        "{seq:03}/\u202e{year}",  # bidi override in the literal text
        "{seq:\uff10\uff13}/{year}",  # fullwidth digits as the width
    ],
)
def test_invalid_formats_are_rejected(fmt: str) -> None:
    # Given a format a village admin typed wrongly
    # When it is validated
    with pytest.raises(ValidationError) as info:
        validate_number_format(fmt)
    # Then the error says which kind of problem it is
    assert info.value.code == "invalid_number_format"


def test_valid_format_passes() -> None:
    validate_number_format(DEFAULT_NUMBER_FORMAT)


@pytest.mark.parametrize("fmt", ["{seq}/{year}", "{seq:4}-{month:02}-{year}", "470/{seq:09}/DS_2001/{year}"])
def test_the_safe_grammar_still_allows_widths_and_zero_padding(fmt: str) -> None:
    validate_number_format(fmt)


def test_counter_year_follows_the_kabupaten_zone_not_utc() -> None:
    # Given a letter issued at 2026-12-31T16:30Z, which is 00:30 on 1 January 2027 in Sinjai (WITA, UTC+8)
    issued = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    # Then it counts in 2027 in Asia/Makassar, but still in 2026 in Asia/Jakarta (23:30 WIB)
    assert counter_year(issued, "Asia/Makassar") == 2027
    assert counter_year(issued, "Asia/Jakarta") == 2026
    assert counter_year(issued, "Asia/Jayapura") == 2027


def test_counter_year_just_before_local_midnight() -> None:
    issued = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 WITA
    assert counter_year(issued, "Asia/Makassar") == 2026


def test_naive_datetimes_are_treated_as_utc() -> None:
    assert counter_year(datetime(2026, 12, 31, 16, 30), "Asia/Makassar") == 2027


def test_roman_month_uses_the_local_month_too() -> None:
    # Given 30 November 17:00 UTC = 1 December 01:00 WITA
    local = to_local(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "Asia/Makassar")
    number = format_number(
        DEFAULT_NUMBER_FORMAT,
        classification="470",
        seq=1,
        village_code="DS-2001",
        issued_local=local,
    )
    assert number.endswith("/XII/2026")


def test_unknown_timezone_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        counter_year(datetime(2026, 1, 1, tzinfo=UTC), "Asia/Atlantis")


def test_counter_scope_one_sequence_for_the_village() -> None:
    assert counter_scope("village", "SKD") == counter_scope("village", "SKTM") == "ALL"


def test_counter_scope_per_letter_type() -> None:
    assert counter_scope("per_type", "skd") == "SKD"
    assert counter_scope("per_type", "SKD") != counter_scope("per_type", "SKTM")


def test_counter_scope_rejects_unknown_modes() -> None:
    with pytest.raises(ValidationError) as info:
        counter_scope("monthly", "SKD")
    assert info.value.code == "invalid_sequence_mode"


def test_village_number_code() -> None:
    assert village_number_code("73.07.09.2001") == "DS-2001"
    assert village_number_code("73.07.03.1001") == "KL-1001"
    with pytest.raises(ValueError):
        village_number_code("73.07.09")

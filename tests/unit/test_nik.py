"""NIK validation: structure, embedded birth date (women: day + 40), masking and hashing."""

from datetime import date

import pytest

from chalicelib.domain.nik import mask_nik, nik_hash, parse_nik
from chalicelib.errors import ValidationError

TODAY = date(2026, 11, 23)


def test_valid_nik_of_a_man_gives_kecamatan_birth_date_and_sex():
    info = parse_nik("7307031708900001", TODAY)
    assert info.kecamatan_code == "73.07.03"
    assert info.birth_date == date(1990, 8, 17)
    assert info.sex == "L"


def test_womans_birth_day_is_stored_plus_40():
    info = parse_nik("7307035708900002", TODAY)
    assert info.birth_date == date(1990, 8, 17)
    assert info.sex == "P"


def test_two_digit_year_not_in_the_future_is_this_century():
    assert parse_nik("7307030101100003", TODAY).birth_date == date(2010, 1, 1)
    assert parse_nik("7307030101300003", TODAY).birth_date == date(1930, 1, 1)


@pytest.mark.parametrize("nik", [
    "730703170890000",     # 15 digits
    "73070317089000011",   # 17 digits
    "73070317089O0001",    # a letter O
    "7307033208900001",    # day 32
    "7307037208900001",    # woman's day 32 (72)
    "7307031713900001",    # month 13
    "7307033002900001",    # 30 February
    "7307031708900000",    # serial 0000
    "0007031708900001",    # province 00
    "7300031708900001",    # kabupaten 00
    "7307001708900001",    # kecamatan 00
    "",
])
def test_invalid_niks_are_rejected_with_invalid_nik(nik):
    with pytest.raises(ValidationError) as err:
        parse_nik(nik, TODAY)
    assert err.value.code == "invalid_nik"


def test_non_string_is_rejected():
    with pytest.raises(ValidationError):
        parse_nik(7307031708900001, TODAY)  # type: ignore[arg-type]


def test_29_february_only_in_leap_years():
    assert parse_nik("7307032902000001", TODAY).birth_date == date(2000, 2, 29)
    with pytest.raises(ValidationError):
        parse_nik("7307032902010001", TODAY)


def test_mask_keeps_only_last_four_digits():
    assert mask_nik("7307031708900001") == "************0001"
    assert mask_nik(None) == ""


def test_hash_is_keyed_and_stable():
    a = nik_hash("7307031708900001", "key-1")
    assert a == nik_hash("7307031708900001", "key-1")
    assert a != nik_hash("7307031708900001", "key-2")
    assert "7307031708900001" not in a

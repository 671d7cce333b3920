"""Canonical identifiers and free-text rules (chalicelib/domain/inputs.py), without HTTP."""

import pytest

from chalicelib.domain.inputs import (
    ascii_digits,
    canonical_tracking_code,
    check_json_shape,
    find_forbidden_char,
    is_person_name,
)
from chalicelib.domain.nik import parse_nik
from chalicelib.errors import ValidationError


@pytest.mark.parametrize("value", ["7307035708900002\n", "\uff17" * 16, "\u0667" * 16, "\u09e7" * 16,
                                   "7307035708900002 ", "730703570890000", 7307035708900002])
def test_only_sixteen_ascii_digits_are_a_nik(value):
    assert not ascii_digits(value, 16)
    with pytest.raises(ValidationError):
        parse_nik(value)  # type: ignore[arg-type]


def test_the_canonical_nik_parses():
    assert parse_nik("7307035708900002").sex == "P"


@pytest.mark.parametrize("typed,canonical", [("abcd-efgh", "ABCD-EFGH"), ("abcdefgh", "ABCD-EFGH"),
                                             ("K7QX 3M9P", "K7QX-3M9P"), ("O1IL-0000", "0111-0000")])
def test_tracking_codes_as_people_type_them(typed, canonical):
    assert canonical_tracking_code(typed) == canonical


@pytest.mark.parametrize("typed", ["ABCD-EFGH\n", "\uff21BCD-EFGH", "ABCD--EFGH", "ABCD-EFG", "ABCD-EFGU"])
def test_tracking_code_look_alikes_are_none(typed):
    assert canonical_tracking_code(typed) is None


def test_usernames_fold_case_and_strip_nothing():
    from chalicelib.domain.staff import normalize_username as canonical_username

    assert canonical_username("Operator.73.07.03.1001") == "operator.73.07.03.1001"
    for bad in ("admin ", "adm\u0130n", "", "-admin", "a" * 65):
        with pytest.raises(ValidationError):
            canonical_username(bad)


@pytest.mark.parametrize("ch", ["\x00", "\x1b", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028", "\ue000",
                                "\U000e0001"])
def test_control_format_and_private_characters_are_found(ch):
    assert find_forbidden_char(f"a{ch}b") == ch


def test_line_breaks_are_free_text_but_not_one_line_text():
    assert find_forbidden_char("a\nb\tc") is None
    assert find_forbidden_char("a\nb", multiline=False) == "\n"
    assert find_forbidden_char("keluarga \U0001f468\u200d\U0001f469\u200d\U0001f467") is None


@pytest.mark.parametrize("name,ok", [("Nurhaedah", True), ("Andi Muh. Nur'aini, S.Pd.", True), ("\u00c9mile-Zo\u00eb", True),
                                     ("", False), (" Andi", False), ("Andi\U0001f600", False), ("R2D2", False),
                                     ("\u0410\u043d\u0434\u0438", False), ("...", False)])
def test_ktp_names(name, ok):
    assert is_person_name(name) is ok


def test_json_shape_is_walked_without_recursion():
    deep: dict = {}
    node = deep
    for _ in range(100_000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(ValidationError) as info:
        check_json_shape(deep)
    assert info.value.code == "body_too_deep"
    with pytest.raises(ValidationError) as info:
        check_json_shape({"k": list(range(10_000))})
    assert info.value.code == "body_too_complex"
    with pytest.raises(ValidationError) as info:
        check_json_shape({"a\u202e": 1})
    assert info.value.code == "invalid_character"

"""Phone normalisation to E.164 and masking for logs."""

from __future__ import annotations

import pytest

from chalicelib.domain.phones import mask_phone, normalize_phone
from chalicelib.errors import ValidationError


@pytest.mark.parametrize(
    "raw",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "(0812) 3456.7890",
        "6281234567890",
        "+6281234567890",
        "+62 812-3456-7890",
        "006281234567890",
        "81234567890",
        "  +62 812 3456 7890  ",
    ],
)
def test_indonesian_mobile_numbers_are_normalised_to_e164(raw: str) -> None:
    # Given a mobile number written the ways people write it
    # When it is normalised
    result = normalize_phone(raw)
    # Then it is the single E.164 form
    assert result == "+6281234567890"


def test_other_operators_prefixes_are_mobile_too() -> None:
    assert normalize_phone("0852-9876-5432") == "+6285298765432"  # Telkomsel
    assert normalize_phone("0878 1234 5678") == "+6287812345678"  # XL


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "0812", "08123456789012345", "+14155552671", "+6581234567", "0812-ABCD-EFGH", "++62812345678"],
)
def test_invalid_or_foreign_numbers_are_rejected_with_a_clear_error(raw: str) -> None:
    # Given something that is not an Indonesian mobile number
    # When it is normalised
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw)
    # Then the error has a stable code and a message in Bahasa Indonesia
    assert info.value.code == "invalid_phone"
    assert info.value.status == 400
    assert "Nomor HP" in info.value.message


@pytest.mark.parametrize("raw", ["021-1234567", "(0411) 123456", "+62 21 1234 5678"])
def test_fixed_lines_are_rejected_because_they_cannot_receive_sms(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw)
    assert info.value.code == "invalid_phone"
    assert "seluler" in info.value.message


def test_non_string_input_is_rejected() -> None:
    with pytest.raises(ValidationError):
        normalize_phone(81234567890)  # type: ignore[arg-type]


def test_mask_phone_keeps_only_country_code_and_last_four_digits() -> None:
    assert mask_phone("+6281234567890") == "+62******7890"
    assert mask_phone("+62812345678") == "+62******5678"
    assert "3456" not in mask_phone("+6281234567890")


def test_mask_phone_handles_short_and_empty_values() -> None:
    assert mask_phone("") == ""
    assert mask_phone("12345") == "*****"

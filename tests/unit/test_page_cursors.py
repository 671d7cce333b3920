"""Page cursors are client input: only the exact cursor of the list being read is accepted."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.domain.paging import page_limit
from chalicelib.errors import ValidationError
from chalicelib.storage.codec import decode_cursor, encode_cursor

QUEUE = "QUEUE#73.07.03.1001"
LAST_KEY = {"PK": {"S": "REQ#1"}, "SK": {"S": "META"}, "GSI1PK": {"S": QUEUE}, "GSI1SK": {"S": "2026#1"}}


def test_a_cursor_round_trips_for_its_own_list() -> None:
    cursor = encode_cursor(LAST_KEY)
    assert cursor is not None and decode_cursor(cursor, QUEUE, "GSI1PK") == LAST_KEY


def test_the_last_page_has_no_cursor_and_no_cursor_reads_the_first_page() -> None:
    assert encode_cursor(None) is None and encode_cursor({}) is None
    assert decode_cursor(None, QUEUE, "GSI1PK") is None and decode_cursor("", QUEUE, "GSI1PK") is None


@pytest.mark.parametrize("tamper", [
    lambda c: c + "\n",  # a trailing newline base64 decoding would skip
    lambda c: " " + c,
    lambda c: c.replace("e", "\u0435", 1),  # a Cyrillic look-alike
    lambda c: c + "A" * 1100,  # oversized
    lambda c: base64.urlsafe_b64encode(json.dumps({**LAST_KEY, "x": {"S": "y"}}).encode()).decode(),  # extra key
    lambda c: base64.urlsafe_b64encode(json.dumps({**LAST_KEY, "SK": {"N": "1"}}).encode()).decode(),  # not a string
    lambda c: base64.urlsafe_b64encode(json.dumps([[[[]]]]).encode()).decode(),  # nested, not a key
    lambda c: "not-base64-json",
])
def test_a_tampered_cursor_is_a_400(tamper) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(tamper(encode_cursor(LAST_KEY)), QUEUE, "GSI1PK")
    assert caught.value.code == "invalid_cursor"


def test_a_cursor_of_another_list_or_index_is_a_400() -> None:
    cursor = encode_cursor(LAST_KEY)
    for pk, index in (("QUEUE#73.07.09.2001", "GSI1PK"), (QUEUE, "GSI2PK")):
        with pytest.raises(ValidationError):
            decode_cursor(cursor, pk, index)


@pytest.mark.parametrize("limit,expected", [(None, 20), (1, 1), (100, 100)])
def test_page_size_defaults_to_20_and_allows_1_to_100(limit, expected) -> None:
    assert page_limit(limit) == expected


@pytest.mark.parametrize("limit", [0, 101, -1, True])
def test_a_page_size_outside_1_to_100_is_a_400(limit) -> None:
    with pytest.raises(ValidationError) as caught:
        page_limit(limit)
    assert caught.value.code == "invalid_limit"

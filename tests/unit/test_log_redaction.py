"""Logs never carry a full NIK or phone number, whatever the caller puts in them."""

import io
import json
import logging

from chalicelib.observability import logger, redact


def test_redact_masks_nik_and_phones():
    text = "nik 7307031708900001 hp 081234567890 intl +6281234567890 id 01M841ARPG8KGKQMS3S6WVED9Q"
    out = redact(text)
    assert "7307031708900001" not in out and "************0001" in out
    assert "081234567890" not in out and "6281234567890" not in out
    assert out.endswith("01M841ARPG8KGKQMS3S6WVED9Q")


def test_logger_output_is_redacted_even_in_extra_keys():
    handler = logger.registered_handler
    original, handler.stream = handler.stream, io.StringIO()
    try:
        logger.info("login for 7307031708900001",
                    extra={"phone": "+6281234567890", "nested": {"nik": "7307035708900002"}})
        line = handler.stream.getvalue().strip().splitlines()[-1]
    finally:
        handler.stream = original
    record = json.loads(line)
    assert "7307031708900001" not in line and "7307035708900002" not in line and "81234567890" not in line
    assert record["message"].endswith("0001")


def test_logger_is_powertools_json():
    assert isinstance(logger._logger, logging.Logger)


def test_floats_and_long_numbers_are_not_mangled():
    # Given timings and figures whose digits happen to form 16- or 12-digit runs
    text = '{"store_ms": 4.0000000000005535, "ratio": 0.081234567890, "big": 7307031708900001.5, "id": 1}'
    # When the line is redacted
    out = redact(text)
    # Then the numbers are left as they are
    assert out == text


def test_a_nik_next_to_a_full_stop_in_a_sentence_is_still_masked():
    # Given a NIK at the end of a sentence and a phone in parentheses
    out = redact("NIK 7307031708900001. HP (081234567890).")
    # Then both are masked
    assert "7307031708900001" not in out and "081234567890" not in out
    assert "************0001." in out

"""Letter-key rotation reaches a warm process: new letters carry the new key id within the documented time
(Secrets Manager: LETTER_KEYS_MAX_AGE_S; local file: at once), and letters signed with either key verify."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from chalicelib import config
from chalicelib.adapters.signing import parse_token
from chalicelib.ops.__main__ import main
from chalicelib.services import letters as letters_service
from chalicelib.services import wiring
from tests.letters_support import BIRORO, KALOLING, approved, issue


def _kid(request) -> str:
    return parse_token(request.letter["verify_url"].rsplit("/", 1)[1]).kid


def _verify(request) -> str:
    return str(letters_service.verify(request.letter["verify_url"].rsplit("/", 1)[1])["status"])


class _Later:
    """Moves the clock Powertools' parameter cache reads forward (its expiry is datetime.now() + max_age)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from aws_lambda_powertools.utilities.parameters import base

        self.offset = timedelta()
        outer = self

        class Clock(datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
                return datetime.now(tz) + outer.offset

        monkeypatch.setattr(base, "datetime", Clock)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture()
def keys_in_ssm_parameter(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from aws_lambda_powertools.utilities import parameters

    arn = "arn:aws:ssm:ap-southeast-3:123456789012:parameter/balai/test/rotation-letter-keys"
    monkeypatch.setenv("BALAI_LETTER_KEYS_ARN", arn)
    config.reset_caches()
    wiring.reset()
    parameters.clear_caches()
    assert main(["init-letter-keys"]) == 0
    yield arn
    monkeypatch.delenv("BALAI_LETTER_KEYS_ARN")
    config.reset_caches()
    wiring.reset()
    parameters.clear_caches()


def test_rotation_in_the_ssm_parameter_reaches_a_warm_process_within_the_cache_time(
        citizen, monkeypatch, keys_in_ssm_parameter):
    # Given a warm process that has issued a letter with the first key
    clock = _Later(monkeypatch)
    first = issue(approved(citizen, BIRORO))
    old_kid = _kid(first)
    # When the operator rotates the keys
    assert main(["rotate-letter-keys"]) == 0
    # Then, once the documented cache time has passed, new letters carry the new key id
    clock.advance(wiring.LETTER_KEYS_MAX_AGE_S + 1)
    second = issue(approved(citizen, BIRORO))
    assert _kid(second) != old_kid
    # and letters signed with either key verify as valid in the same process
    assert _verify(first) == "valid" and _verify(second) == "valid"
    published = {k["kid"] for k in letters_service.public_keys()["keys"]}
    assert {old_kid, _kid(second)} <= published


def test_rotation_of_the_local_keyring_file_is_seen_at_once(citizen):
    # Given local mode's keyring file and a letter signed with it
    wiring.reset()
    first = issue(approved(citizen, KALOLING))
    # When the keys are rotated with the ops CLI (it writes the same file)
    assert main(["rotate-letter-keys"]) == 0
    # Then the next letter carries the new key id, and both verify
    second = issue(approved(citizen, KALOLING))
    assert _kid(second) != _kid(first)
    assert _verify(first) == "valid" and _verify(second) == "valid"

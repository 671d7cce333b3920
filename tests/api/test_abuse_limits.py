"""Abuse limits (issue 8 items 4 and 5): staff password throttle, OTP guesses per NIK, codes per phone/client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from chalicelib.config import reset_caches
from chalicelib.services import auth as auth_service
from chalicelib.storage import throttle
from tests.conftest import PASSWORD, SAMATARING, e164, otp_code, post, random_nik, random_phone


class Clock:
    """A clock the test moves by hand (the service reads utcnow()). Each test starts days after the
    previous one, so the counters earlier tests left (same table, same client address) have ended."""

    started = 0

    def __init__(self) -> None:
        Clock.started += 1
        self.now = datetime.now(auth_service.utcnow().tzinfo) + timedelta(days=3 * Clock.started)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(auth_service, "utcnow", c)
    return c


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set BALAI_* limits for one test; the parsed settings are forgotten before and after."""
    yield monkeypatch
    monkeypatch.undo()
    reset_caches()


def login(client, username: str, password: str):
    return post(client, "/v1/auth/login", {"username": username, "password": password})


def emf_metrics(out: str) -> list[str]:
    names = []
    for line in out.splitlines():
        if '"_aws"' in line:
            names += [m["Name"] for m in json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return names


# ---- item 4: staff password brute force -----------------------------------------------------------
def test_guessing_a_password_is_slowed_then_locked_and_the_right_password_waits_too(client, clock, capsys):
    user = f"operator.{SAMATARING}"
    # Given five wrong passwords (the free attempts): each a plain 401
    for _ in range(5):
        assert login(client, user, "salah-lagi").status_code == 401
    # When the sixth is wrong too, the next try right away is refused without checking the password
    assert login(client, user, "salah-lagi").status_code == 401
    refused = login(client, user, PASSWORD)
    # Then it is a 429 with Retry-After, even with the right password
    assert refused.status_code == 429
    assert refused.json_body["code"] == "login_throttled"
    assert int(refused.headers["Retry-After"]) == refused.json_body["details"]["retry_after"] == 2
    # And the delay grows with each further wrong password, up to a lockout
    delays = []
    for _ in range(5):
        clock.advance(int(login(client, user, PASSWORD).headers.get("Retry-After", "0")))
        assert login(client, user, "salah-lagi").status_code == 401
        delays.append(int(login(client, user, PASSWORD).headers["Retry-After"]))
    assert delays == [4, 8, 16, 900, 900]
    # And after the lockout the right password works and clears the username's counter
    clock.advance(900)
    assert login(client, user, PASSWORD).status_code == 200
    assert throttle.peek("login-user", user, clock()) is None
    # And every attempt was audited, and failures counted in the metric the alarm watches
    outcomes = [h["outcome"] for h in throttle.login_history(user, limit=100)]
    assert outcomes[0] == "success" and outcomes.count("failure") == 11 and "throttled" in outcomes
    names = emf_metrics(capsys.readouterr().out)
    assert names.count("StaffLoginFailed") == 11
    # And only the metric an alarm reads is published (a custom metric costs per month it exists)
    assert set(names) == {"StaffLoginFailed"}


def test_the_username_is_locked_for_every_client_and_unknown_names_are_throttled_alike(client, clock):
    # Given a username that does not exist, guessed past the free attempts
    for _ in range(6):
        assert login(client, "tidak.ada", "apa-saja").status_code == 401
    # Then it is throttled exactly like a real one (no account oracle)
    assert login(client, "tidak.ada", "apa-saja").status_code == 429
    # And a look-alike spelling of it is not a way around the counter: it is not a username at all
    assert login(client, "tidak.ada\n", "apa-saja").json_body["code"] == "invalid_username"
    assert login(client, "TIDAK.ADA", "apa-saja").status_code == 429  # case-folded to the same name


def test_one_client_guessing_many_usernames_is_throttled(client, clock):
    # Given 20 wrong passwords from one client, each for another username (so no username locks)
    for i in range(20):
        assert login(client, f"user{i}", "salah").status_code == 401
    # When it tries a 21st and a 22nd username
    assert login(client, "user20", "salah").status_code == 401
    response = login(client, "admin", PASSWORD)
    # Then the client is throttled, whatever the username
    assert response.status_code == 429 and response.json_body["code"] == "login_throttled"
    # And successful logins from a client do not use up its budget (another client is unaffected)
    clock.advance(3600 + 900)
    for _ in range(25):
        assert login(client, "admin", PASSWORD).status_code == 200


def test_parallel_guesses_cannot_slip_past_the_lock(client, clock):
    # Given a username already at its free attempts
    user = f"kades.{SAMATARING}"
    for _ in range(5):
        login(client, user, "salah")
    # When many attempts race for it at once
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.errors import TooManyRequestsError, UnauthorizedError

    def attempt(_: int) -> str:
        try:
            auth_service.staff_login(user, "salah", "10.0.0.9")
        except TooManyRequestsError:
            return "429"
        except UnauthorizedError:
            return "401"
        return "200"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    # Then exactly one of them had its password checked; the others met the lock
    assert results.count("401") == 1 and results.count("429") == 7


# ---- item 5: OTP limits ----------------------------------------------------------------------------
def _request_code(client, nik: str, phone: str):
    return post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})


def _verify(client, nik: str, phone: str, code: str):
    return post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_wrong_codes_are_counted_per_nik_across_new_codes_then_the_nik_is_locked(client, clock):
    nik, phone = random_nik(), random_phone()
    # Given a citizen (or attacker) who guesses 4 wrong codes per code, asking a new code each time
    guesses = 0
    for _ in range(3):
        assert _request_code(client, nik, phone).status_code == 202
        code = otp_code(phone)
        for _ in range(4):
            response = _verify(client, nik, phone, _wrong(code))
            guesses += 1
            if guesses < 10:
                assert response.json_body["code"] == "otp_invalid"
        clock.advance(61)
    # Then the 10th wrong guess locked the NIK for the rest of the day (a new code did not reset it)
    assert response.status_code == 429 and response.json_body["code"] == "otp_locked"
    assert 86000 < int(response.headers["Retry-After"]) <= 86400
    # And while locked, neither the right code nor a new code is accepted
    assert _verify(client, nik, phone, code).status_code == 429
    again = _request_code(client, nik, phone)
    assert again.status_code == 429 and again.json_body["code"] == "otp_locked"
    # And after the window the citizen can log in again
    clock.advance(86400)
    assert _request_code(client, nik, phone).status_code == 202
    assert _verify(client, nik, phone, otp_code(phone)).status_code == 200


def test_codes_per_phone_are_limited_per_hour_even_for_different_niks(client, clock):
    phone = random_phone()
    # Given five codes sent to one phone for five different NIKs in an hour
    for _ in range(5):
        assert _request_code(client, random_nik(), phone).status_code == 202
    sent = otp_code(phone)
    # When a sixth NIK asks for a code to the same phone
    response = _request_code(client, random_nik(), phone)
    # Then it is refused with Retry-After and no SMS goes out
    assert response.status_code == 429 and response.json_body["code"] == "otp_rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert otp_code(phone) == sent
    # And an hour later the phone may receive codes again, up to its daily limit of 10
    for hour in range(1, 3):
        clock.advance(3600)
        results = [_request_code(client, random_nik(), phone).status_code for _ in range(5)]
        assert results == ([202] * 5 if hour == 1 else [429] * 5)


def test_codes_per_client_are_limited(client, clock, settings_env):
    # Given the real per-client limit lowered to 3 an hour for this test
    settings_env.setenv("BALAI_OTP_PER_CLIENT_HOUR", "3")
    reset_caches()
    # When one client asks codes for four phones
    results = [_request_code(client, random_nik(), random_phone()).status_code for _ in range(4)]
    # Then the fourth is refused
    assert results == [202, 202, 202, 429]


def test_the_otp_counters_live_in_dynamodb_with_a_ttl(client, clock):
    phone = random_phone()
    assert _request_code(client, random_nik(), phone).status_code == 202
    item = throttle.ThrottleItem.get(f"THROTTLE#otp-phone-hour#{e164(phone)}", "META")
    assert item.hits == 1 and item.expires_at is not None

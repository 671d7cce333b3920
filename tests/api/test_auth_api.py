"""Logins: staff password, citizen OTP by SMS (expiry, attempts, phone binding), tokens."""

from datetime import timedelta

import pytest

from chalicelib.domain import clock
from tests.conftest import (
    PASSWORD,
    SAMATARING,
    citizen_login,
    e164,
    get,
    last_sms,
    otp_code,
    post,
    random_nik,
    random_phone,
)


def test_staff_login_returns_token_with_role_and_region(client):
    response = post(client, "/v1/auth/login", {"username": f"operator.{SAMATARING}", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json_body
    assert body["role"] == "operator" and body["region"] == SAMATARING and body["expires_in"] > 0


@pytest.mark.parametrize("username,password", [("admin", "wrong-password"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_one_401(client, username, password):
    response = post(client, "/v1/auth/login", {"username": username, "password": password})
    assert response.status_code == 401
    assert response.json_body["code"] == "invalid_credentials"


def test_otp_is_sent_to_the_local_sms_outbox_and_masked_in_the_answer(client):
    nik, phone = random_nik(), random_phone()
    response = post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    assert response.status_code == 202
    assert response.json_body["phone"].endswith(phone[-4:]) and phone not in response.json_body["phone"]
    assert "Balai" in last_sms(e164(phone))["text"]


def test_wrong_code_then_right_code(client):
    nik, phone = random_nik(), random_phone()
    post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    code = otp_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": wrong})
    assert response.status_code == 401 and response.json_body["code"] == "otp_invalid"
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
    assert response.status_code == 200 and response.json_body["role"] == "citizen"
    # A code works once.
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
    assert response.status_code == 401 and response.json_body["code"] == "otp_expired"


def test_attempts_are_limited(client):
    nik, phone = random_nik(), random_phone()
    post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    code = otp_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    codes = [post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": wrong}).json_body["code"]
             for _ in range(6)]
    assert codes[:5] == ["otp_invalid"] * 5
    assert codes[5] == "otp_attempts_exceeded"
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
    assert response.status_code == 429


def test_expired_code_is_refused(client, monkeypatch):
    nik, phone = random_nik(), random_phone()
    post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    code = otp_code(phone)
    later = clock.utcnow() + timedelta(minutes=6)
    monkeypatch.setattr("chalicelib.services.auth.utcnow", lambda: later)
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
    assert response.status_code == 401 and response.json_body["code"] == "otp_expired"


def test_resend_is_throttled(client):
    nik, phone = random_nik(), random_phone()
    assert post(client, "/v1/auth/otp", {"nik": nik, "phone": phone}).status_code == 202
    response = post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    assert response.status_code == 429 and response.json_body["code"] == "otp_throttled"


def test_phone_is_bound_to_the_nik_after_first_login(client):
    citizen = citizen_login(client)
    response = post(client, "/v1/auth/otp", {"nik": citizen["nik"], "phone": random_phone()})
    assert response.status_code == 403 and response.json_body["code"] == "phone_mismatch"


@pytest.mark.parametrize("body,code", [
    ({"nik": "123", "phone": "081234567890"}, "invalid_nik"),
    ({"nik": "7307033208900001", "phone": "081234567890"}, "invalid_nik"),
    ({"nik": "7307031708900001", "phone": "12345"}, "invalid_phone"),
    ({"nik": "7307031708900001"}, "missing_field"),
    ({"nik": 7307031708900001, "phone": "081234567890"}, "invalid_field_type"),
    ({"nik": "7307031708900001", "phone": "081234567890", "extra": 1}, "unknown_field"),
])
def test_bad_otp_requests_get_their_own_code(client, body, code):
    response = post(client, "/v1/auth/otp", body)
    assert response.status_code == 400
    assert response.json_body["code"] == code


def test_otp_verify_needs_six_digits(client):
    response = post(client, "/v1/auth/otp/verify", {"nik": random_nik(), "phone": random_phone(), "code": "12ab"})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_otp_format"


def test_malformed_json_is_400(client):
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body="{not json")
    assert response.status_code == 400 and response.json_body["code"] == "malformed_json"
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body="[1, 2]")
    assert response.status_code == 400 and response.json_body["code"] == "malformed_json"
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body="")
    assert response.status_code == 400 and response.json_body["code"] == "missing_body"


@pytest.mark.parametrize("header,code", [
    (None, "missing_token"), ("Bearer nonsense", "invalid_token"), ("Basic abc", "missing_token"),
])
def test_protected_routes_need_a_valid_token(client, header, code):
    headers = {"Authorization": header} if header else {}
    response = client.http.get("/v1/me/requests", headers=headers)
    assert response.status_code == 401 and response.json_body["code"] == code


def test_expired_token_is_refused(client, monkeypatch):
    import time

    from chalicelib import auth
    from chalicelib.domain.requests import Principal

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 4000)
    token, _ = auth.issue_token(Principal("citizen", "73.07.03", "x"))
    monkeypatch.setattr(time, "time", real)
    response = get(client, "/v1/me/requests", token)
    assert response.status_code == 401 and response.json_body["code"] == "token_expired"

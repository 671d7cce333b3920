"""Issue 14: a citizen logs in by sending a WhatsApp message (reverse OTP), so a login costs no SMS."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.config import get_secrets
from chalicelib.domain.clock import utcnow
from chalicelib.domain.nik import nik_hash
from chalicelib.services import whatsapp_login as service
from tests.conftest import get, post, random_nik, random_phone
from tests.helpers import captured_logs, citizen_login, e164, register_resident
from tests.whatsapp_support import (
    OTHER_NUMBER,
    SINJAI_NUMBER,
    WEBHOOK,
    delivery,
    post_signed,
    status_update,
    wa_id,
    whatsapp_numbers,
)


@pytest.fixture
def wa_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with whatsapp_numbers(monkeypatch):
        yield


def table_items() -> list[dict[str, Any]]:
    """Every item of the table (the test's own Scan of moto), to show that a refused delivery wrote nothing."""
    import boto3

    from chalicelib.config import get_settings

    settings = get_settings()
    table = boto3.resource("dynamodb", region_name=settings.aws_region).Table(settings.table_name)
    items, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (str(i["PK"]), str(i["SK"])))
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def start(client: Any, nik: str, phone: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"nik": nik}
    if phone is not None:
        body["phone"] = phone
    answer = post(client, "/v1/auth/whatsapp", body)
    assert answer.status_code == 201, answer.body
    return dict(answer.json_body)


def verify(client: Any, login_id: str, **extra: Any) -> Any:
    return post(client, "/v1/auth/whatsapp/verify", {"login_id": login_id, **extra},
                headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) Chrome/120.0 Mobile"})


# ---- off by default --------------------------------------------------------------------------------------
def test_whatsapp_login_is_off_until_a_number_is_configured(client: Any) -> None:
    # Given a stage without BALAI_WHATSAPP_NUMBERS
    # Then the portal is told not to offer it, a start is a clear 404 and the webhook does not exist
    assert get(client, "/v1/auth/whatsapp").json_body == {"available": False}
    refused = post(client, "/v1/auth/whatsapp", {"nik": random_nik(), "phone": random_phone()})
    assert refused.status_code == 404 and refused.json_body["code"] == "whatsapp_login_unavailable"
    assert "SMS" in refused.json_body["message"]
    assert client.http.get(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1").status_code == 404


def test_a_kabupaten_without_a_number_gets_a_clear_404(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given numbers for Sinjai only
    with whatsapp_numbers(monkeypatch, f"73.07={SINJAI_NUMBER}"):
        # When a citizen of Jember (35.09) starts
        refused = post(client, "/v1/auth/whatsapp", {"nik": random_nik("350901")})
        # Then there is no WhatsApp login for her kabupaten
        assert refused.status_code == 404 and refused.json_body["code"] == "whatsapp_login_unavailable"


# ---- the subscription handshake ----------------------------------------------------------------------------
def test_the_handshake_echoes_the_challenge_for_the_right_token_only(client: Any, wa_on: None) -> None:
    token = get_secrets().whatsapp_verify_token
    ok = client.http.get(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.body == b"1158201444"
    assert ok.headers["Content-Type"].startswith("text/plain")
    wrong = client.http.get(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token={token}x&hub.challenge=1158201444")
    assert wrong.status_code == 403 and json.loads(wrong.body)["code"] == "invalid_verify_token"
    not_subscribe = client.http.get(f"{WEBHOOK}?hub.mode=unsubscribe&hub.verify_token={token}&hub.challenge=1")
    assert not_subscribe.status_code == 403


# ---- the whole login ----------------------------------------------------------------------------------------
def test_a_message_from_the_citizens_whatsapp_logs_her_in_once_with_a_refresh_session(client: Any,
                                                                                     wa_on: None) -> None:
    # Given a citizen who types her NIK and phone and chooses WhatsApp
    nik, phone = random_nik(), random_phone()
    started = start(client, nik, phone)
    # Then she gets a code, the wa.me link to Sinjai's number with the message typed, and the expiry
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", started["code"])
    link = urlsplit(started["link"])
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", f"/{SINJAI_NUMBER}")
    assert started["code"] in parse_qs(link.query)["text"][0] and "Kode masuk Balai" in started["text"]
    assert started["number"] == f"+{SINJAI_NUMBER}" and 300 <= started["expires_in"] <= 600
    # And neither the code nor the browser's secret is stored, only their HMACs
    stored = [i for i in table_items() if i.get("entity") == "whatsapp_login"]
    secret = started["login_id"].rsplit(".", 1)[1]
    raw_code = started["code"].replace("-", "")
    assert len([i for i in stored if i["nik_hash"] == nik_hash(nik, get_secrets().nik_hash_key)]) == 1
    assert secret not in repr(stored) and raw_code not in repr(stored)
    # When the browser polls before the message arrived: pending
    pending = verify(client, started["login_id"])
    assert pending.status_code == 202 and pending.json_body["status"] == "pending"
    # When Meta delivers her message (the prefilled text, sent from her phone's WhatsApp)
    delivered = post_signed(client, delivery(wa_id(phone), started["text"]))
    assert delivered.status_code == 200 and delivered.json_body == {"received": 1, "proven": 1}
    # Then the next poll is the login: the same answer as an SMS code's, with a 30-day refresh session
    login = verify(client, started["login_id"])
    assert login.status_code == 200, login.body
    body = login.json_body
    assert body["role"] == "citizen" and body["region"] == "73.07.03" and body["phone"].endswith(phone[-4:])
    assert body["refresh_token"].startswith("rt1.") and body["refresh_expires_in"] == 30 * 86400
    assert body["profile_complete"] is False and body["has_requests"] is False
    assert get(client, "/v1/me/profile", body["token"]).status_code == 200
    devices = get(client, "/v1/me/devices", body["token"]).json_body["items"]
    assert [d["device"] for d in devices] == ["Chrome di Android"]
    refreshed = post(client, "/v1/auth/refresh", {"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json_body["region"] == "73.07.03"
    # And the phone is now bound to her NIK, exactly as an SMS-code login binds it
    from chalicelib.storage.people import get_citizen

    bound = get_citizen(nik_hash(nik, get_secrets().nik_hash_key))
    assert bound is not None and bound.phone == e164(phone)
    # And the login id works once
    again = verify(client, started["login_id"])
    assert again.status_code == 409 and again.json_body["code"] == "whatsapp_login_used"


def test_a_login_started_without_a_phone_is_proven_for_the_sender(client: Any, wa_on: None) -> None:
    nik, phone = random_nik(), random_phone()
    started = start(client, nik)
    assert post_signed(client, delivery(wa_id(phone), started["text"])).json_body["proven"] == 1
    login = verify(client, started["login_id"], remember=False)
    assert login.status_code == 200 and "refresh_token" not in login.json_body
    # The sender's phone is the citizen's from now on: an SMS code to another phone is refused
    other = post(client, "/v1/auth/otp", {"nik": nik, "phone": random_phone()})
    assert other.status_code == 403 and other.json_body["code"] == "phone_mismatch"


def test_a_sender_the_village_register_does_not_name_cannot_log_in(client: Any, wa_on: None) -> None:
    # Given a resident whose register entry names her phone
    citizen = {"nik": random_nik(), "phone": random_phone()}
    register_resident(citizen, phone=e164(citizen["phone"]))
    # When a login started without a phone is proven by another WhatsApp account
    started = start(client, citizen["nik"])
    assert post_signed(client, delivery(wa_id(random_phone()), started["text"])).json_body["proven"] == 1
    # Then the login is refused like an SMS code to that phone
    refused = verify(client, started["login_id"])
    assert refused.status_code == 403 and refused.json_body["code"] == "phone_mismatch"
    # And a typed phone the register does not name is refused at once, before any message
    typed = post(client, "/v1/auth/whatsapp", {"nik": citizen["nik"], "phone": random_phone()})
    assert typed.status_code == 403 and typed.json_body["code"] == "phone_mismatch"


# ---- signatures -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("signature", "status", "code"), [
    (None, 401, "missing_signature"),
    ("sha256=" + "0" * 64, 403, "invalid_signature"),
    ("sha1=abc", 403, "invalid_signature"),
    ("wrong-secret", 403, "invalid_signature"),
])
def test_a_delivery_without_metas_signature_proves_nothing(client: Any, wa_on: None, signature: str | None,
                                                           status: int, code: str) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    payload = delivery(wa_id(phone), started["text"])
    before = table_items()
    if signature == "wrong-secret":
        answer = post_signed(client, payload, secret="not-the-app-secret")
    else:
        answer = post_signed(client, payload, signature=signature)
    assert answer.status_code == status and answer.json_body["code"] == code
    assert table_items() == before
    assert verify(client, started["login_id"]).status_code == 202


def test_the_signature_covers_the_exact_bytes(client: Any, wa_on: None) -> None:
    # Given a body signed as sent, then re-serialised with other whitespace (same JSON, other bytes)
    phone = random_phone()
    started = start(client, random_nik(), phone)
    raw = json.dumps(delivery(wa_id(phone), started["text"])).encode()
    from chalicelib.domain.whatsapp_login import sign

    signature = sign(str(get_secrets().whatsapp_app_secret), raw)
    respaced = json.dumps(json.loads(raw), indent=1).encode()
    assert post_signed(client, None, raw=respaced, signature=signature).status_code == 403
    assert post_signed(client, None, raw=raw, signature=signature).json_body["proven"] == 1


# ---- what proves nothing ---------------------------------------------------------------------------------
def test_unknown_codes_statuses_and_other_message_types_are_acknowledged_and_change_nothing(
        client: Any, wa_on: None) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    for payload in (delivery(wa_id(phone), "Kode masuk Balai: 2345-6789"), status_update(),
                    delivery(wa_id(phone), None, kind="image"), delivery(wa_id(phone), "Halo, selamat pagi"),
                    {"object": "page", "entry": []}, [1, 2, 3]):
        answer = post_signed(client, payload)
        assert answer.status_code == 200 and answer.json_body["proven"] == 0, payload
    assert verify(client, started["login_id"]).status_code == 202


def test_an_expired_login_is_not_proven_and_the_browser_is_told_in_indonesian(
        client: Any, wa_on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    later = utcnow() + timedelta(seconds=started["expires_in"] + 1)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert post_signed(client, delivery(wa_id(phone), started["text"])).json_body["proven"] == 0
    expired = verify(client, started["login_id"])
    assert expired.status_code == 410 and expired.json_body["code"] == "whatsapp_login_expired"
    assert "Waktu masuk lewat WhatsApp sudah habis" in expired.json_body["message"]


def test_a_proven_login_is_not_collected_after_it_expired(client: Any, wa_on: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    assert post_signed(client, delivery(wa_id(phone), started["text"])).json_body["proven"] == 1
    later = utcnow() + timedelta(seconds=started["expires_in"] + 1)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert verify(client, started["login_id"]).status_code == 410


def test_a_sender_other_than_the_typed_phone_proves_the_login_for_no_one(client: Any, wa_on: None) -> None:
    # Given a login started with her phone
    phone, stranger = random_phone(), random_phone()
    started = start(client, random_nik(), phone)
    # When someone who saw the code sends it first from another WhatsApp
    with captured_logs() as logs:
        assert post_signed(client, delivery(wa_id(stranger), started["text"])).json_body["proven"] == 0
    # Then the login is refused, and stays refused even when her own message follows
    assert post_signed(client, delivery(wa_id(phone), started["text"], message_id="wamid.2")).json_body["proven"] == 0
    refused = verify(client, started["login_id"])
    assert refused.status_code == 403 and refused.json_body["code"] == "whatsapp_sender_mismatch"
    assert "nomor lain" in refused.json_body["message"]
    # And no log line holds either full number
    text = logs.getvalue()
    assert "sender differs" in text
    for number in (phone, stranger):
        assert number[1:] not in text


def test_a_retried_delivery_proves_once_and_the_tokens_come_once(client: Any, wa_on: None) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    payload = delivery(wa_id(phone), started["text"])
    assert post_signed(client, payload).json_body["proven"] == 1
    assert post_signed(client, payload).json_body["proven"] == 0  # Meta retries: same message id, same body
    assert verify(client, started["login_id"]).status_code == 200
    assert post_signed(client, payload).json_body["proven"] == 0
    assert verify(client, started["login_id"]).status_code == 409


@pytest.mark.parametrize(("text", "proves"), [
    ("{code}\n", True),  # a trailing newline
    ("  {code}  ", True),
    ("{lower}", True),  # typed by hand in lower case
    ("{compact}", True),  # without the hyphen
    ("{fullwidth}", False),  # fullwidth look-alikes of the same characters
    ("{zwsp}", False),  # a zero-width space inside the code
    ("{code}\x00", False),  # a control character
    ("X{compact}", False),  # glued to other letters: not a code on its own
])
def test_look_alike_codes_prove_nothing(client: Any, wa_on: None, text: str, proves: bool) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    code = started["code"]
    compact = code.replace("-", "")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in code)
    body = text.format(code=code, lower=code.lower(), compact=compact, fullwidth=fullwidth,
                       zwsp=code[:2] + "\u200b" + code[2:])
    assert post_signed(client, delivery(wa_id(phone), body)).json_body["proven"] == int(proves)
    assert verify(client, started["login_id"]).status_code == (200 if proves else 202)


def test_oversized_and_deeply_nested_deliveries_write_nothing(client: Any, wa_on: None) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    before = table_items()
    huge = delivery(wa_id(phone), started["text"] + " " + "x" * (600 * 1024))
    assert post_signed(client, huge).status_code == 413
    deep: Any = delivery(wa_id(phone), started["text"])
    for _ in range(40):
        deep = {"object": "whatsapp_business_account", "entry": [deep]}
    answer = post_signed(client, deep)
    assert answer.status_code == 400 and answer.json_body["code"] == "body_too_deep"
    very_deep = ("[" * 100_000 + "]" * 100_000).encode()
    assert post_signed(client, None, raw=very_deep).status_code == 400
    assert post_signed(client, None, raw=b"{not json").status_code == 400
    assert table_items() == before
    assert verify(client, started["login_id"]).status_code == 202


def test_a_sender_past_the_unknown_code_limit_is_ignored(client: Any, wa_on: None) -> None:
    # Given someone sending guesses from one WhatsApp account
    phone = random_phone()
    for n in range(10):
        post_signed(client, delivery(wa_id(phone), f"{n}2345678"[:4] + "-ABCD", message_id=f"wamid.g{n}"))
    # When a live code of a login they started arrives from the same account
    started = start(client, random_nik(), phone)
    # Then it is ignored for the rest of the hour
    assert post_signed(client, delivery(wa_id(phone), started["text"])).json_body["proven"] == 0
    assert verify(client, started["login_id"]).status_code == 202


# ---- tenant isolation: numbers are per kabupaten ---------------------------------------------------------------
def test_a_code_is_proven_only_through_the_number_it_was_shown_with(client: Any, wa_on: None) -> None:
    # Given a citizen of Kabupaten Jember (35.09), whose login shows Jember's number
    phone = random_phone()
    started = start(client, random_nik("350901"), phone)
    assert started["number"] == f"+{OTHER_NUMBER}"
    # When her code arrives through Sinjai's number (another kabupaten's configuration on the stage)
    assert post_signed(client, delivery(wa_id(phone), started["text"], to_number=SINJAI_NUMBER)).json_body[
        "proven"] == 0
    assert verify(client, started["login_id"]).status_code == 202
    # Then it proves nothing; through Jember's number it does
    assert post_signed(client, delivery(wa_id(phone), started["text"], to_number=OTHER_NUMBER)).json_body[
        "proven"] == 1
    assert verify(client, started["login_id"]).json_body["region"] == "35.09.01"


# ---- the browser's side ------------------------------------------------------------------------------------
@pytest.mark.parametrize("login_id", ["", "wa1.ABCD.x", "wa1." + "A" * 8 + "." + "x" * 22 + "\n",
                                      "ｗa1." + "A" * 8 + "." + "x" * 22])
def test_a_malformed_login_id_is_a_400(client: Any, wa_on: None, login_id: str) -> None:
    answer = verify(client, login_id)
    assert answer.status_code == 400


def test_another_browsers_secret_does_not_open_the_login(client: Any, wa_on: None) -> None:
    phone = random_phone()
    started = start(client, random_nik(), phone)
    code = started["login_id"].split(".")[1]
    forged = f"wa1.{code}.{'A' * 22}"
    assert post_signed(client, delivery(wa_id(phone), started["text"])).json_body["proven"] == 1
    refused = verify(client, forged)
    assert refused.status_code == 401 and refused.json_body["code"] == "whatsapp_login_invalid"
    assert verify(client, started["login_id"]).status_code == 200


def test_starts_are_throttled_per_client_like_sms_codes(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalice.local import LambdaEventConverter

    from chalicelib.storage import throttle

    # The earlier tests' starts came from the test client's address too: this test counts from zero.
    throttle.forget("wa-client-hour", LambdaEventConverter.LOCAL_SOURCE_IP)
    monkeypatch.setenv("BALAI_OTP_PER_CLIENT_HOUR", "2")
    with whatsapp_numbers(monkeypatch):
        for _ in range(2):
            start(client, random_nik())
        limited = post(client, "/v1/auth/whatsapp", {"nik": random_nik()})
        assert limited.status_code == 429 and limited.json_body["code"] == "otp_rate_limited"
        assert "Retry-After" in limited.headers
    monkeypatch.delenv("BALAI_OTP_PER_CLIENT_HOUR")


def test_starts_are_throttled_per_typed_phone(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BALAI_OTP_PER_PHONE_HOUR", "2")
    with whatsapp_numbers(monkeypatch):
        phone = random_phone()
        for _ in range(2):
            start(client, random_nik(), phone)
        limited = post(client, "/v1/auth/whatsapp", {"nik": random_nik(), "phone": phone})
        assert limited.status_code == 429
    monkeypatch.delenv("BALAI_OTP_PER_PHONE_HOUR")


def test_the_sms_code_login_still_works_beside_it(client: Any, wa_on: None) -> None:
    assert get(client, "/v1/auth/whatsapp").json_body == {"available": True}
    assert citizen_login(client)["token"]


def test_a_nik_locked_by_wrong_sms_codes_gets_no_whatsapp_login_either(client: Any, wa_on: None) -> None:
    from chalicelib.services.auth import OTP_FAIL
    from chalicelib.storage import throttle

    nik = random_nik()
    for _ in range(10):  # BALAI_OTP_FAIL_LIMIT wrong codes in the window
        throttle.hit(OTP_FAIL, nik_hash(nik, get_secrets().nik_hash_key), 86400, utcnow())
    locked = post(client, "/v1/auth/whatsapp", {"nik": nik})
    assert locked.status_code == 429 and locked.json_body["code"] == "otp_locked"

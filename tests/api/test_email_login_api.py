"""Issue 14: a citizen confirms their e-mail; a returning citizen then gets login codes by e-mail, not by SMS."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.config import get_secrets, get_settings
from chalicelib.domain.nik import nik_hash
from chalicelib.storage import people
from tests.conftest import get, post, put
from tests.helpers import citizen_login, e164, random_nik, random_phone, register_resident


def emails_to(address: str) -> list[dict[str, Any]]:
    path = get_settings().outbox_dir / "email.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    return [m for m in lines if m.get("to") == address]


def sms_to(phone: str) -> list[dict[str, Any]]:
    path = get_settings().outbox_dir / "sms.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    return [m for m in lines if m.get("to") == e164(phone)]


def code_in(message: dict[str, Any]) -> str:
    match = re.search(r"\b(\d{6})\b", message["text"])
    assert match, message["text"]
    return match.group(1)


def allow_new_code(nik: str) -> None:
    people.delete_otp(nik_hash(nik, get_secrets().nik_hash_key))  # the one-code-a-minute rule, per NIK


def confirmed_citizen(client: Any, address: str) -> dict[str, Any]:
    citizen = citizen_login(client)
    saved = put(client, "/v1/me/contact", {"email": address}, citizen["token"])
    assert saved.status_code == 200, saved.body
    code = code_in(emails_to(address)[-1])
    confirmed = post(client, "/v1/me/contact/confirm", {"code": code}, citizen["token"])
    assert confirmed.status_code == 200, confirmed.body
    return citizen


def test_a_new_email_is_confirmed_with_the_code_sent_to_it(client: Any) -> None:
    # Given a logged-in citizen
    citizen = citizen_login(client)
    # When they give an e-mail address
    saved = put(client, "/v1/me/contact", {"email": "Warga.Konfirmasi@Contoh.id"}, citizen["token"])
    # Then it is kept, unconfirmed, and a six-digit code goes to it
    assert saved.status_code == 200
    assert saved.json_body == {"email": "warga.konfirmasi@contoh.id", "email_verified": False,
                               "confirmation_sent": True}
    mail = emails_to("warga.konfirmasi@contoh.id")
    assert len(mail) == 1 and mail[0]["subject"] == "Kode verifikasi Balai"
    # And a wrong code and look-alike codes are refused without confirming anything
    wrong = "000000" if code_in(mail[0]) != "000000" else "111111"
    refused = post(client, "/v1/me/contact/confirm", {"code": wrong}, citizen["token"])
    assert refused.status_code == 400 and refused.json_body["code"] == "email_code_invalid"
    for bad in ("12345", "1234567", "١٢٣٤٥٦", "123456\n", "12 456", 123456, None):
        response = post(client, "/v1/me/contact/confirm", {"code": bad}, citizen["token"])
        assert response.status_code == 400, (bad, response.body)
    assert get(client, "/v1/me/contact", citizen["token"]).json_body["email_verified"] is False
    # When they type the code
    confirmed = post(client, "/v1/me/contact/confirm", {"code": code_in(mail[0])}, citizen["token"])
    # Then the address is confirmed, and giving it again sends nothing
    assert confirmed.json_body == {"email": "warga.konfirmasi@contoh.id", "email_verified": True,
                                   "confirmation_sent": False}
    again = put(client, "/v1/me/contact", {"email": "warga.konfirmasi@contoh.id"}, citizen["token"])
    assert again.json_body["email_verified"] is True and len(emails_to("warga.konfirmasi@contoh.id")) == 1
    # And the code works once: it cannot confirm again
    reuse = post(client, "/v1/me/contact/confirm", {"code": code_in(mail[0])}, citizen["token"])
    assert reuse.status_code == 400 and reuse.json_body["code"] == "email_code_expired"


def test_another_citizens_code_and_a_changed_address_confirm_nothing(client: Any) -> None:
    # Given a citizen who was sent a code, and then changed their address before typing it
    citizen = citizen_login(client)
    put(client, "/v1/me/contact", {"email": "lama@contoh.id"}, citizen["token"])
    old_code = code_in(emails_to("lama@contoh.id")[-1])
    people.delete_email_code(nik_hash(citizen["nik"], get_secrets().nik_hash_key))  # past the one-a-minute rule
    put(client, "/v1/me/contact", {"email": "baru@contoh.id"}, citizen["token"])
    # When another citizen types this citizen's code
    other = citizen_login(client)
    stranger = post(client, "/v1/me/contact/confirm", {"code": code_in(emails_to("baru@contoh.id")[-1])},
                    other["token"])
    # Then it confirms nothing for them (they were sent no code)
    assert stranger.status_code == 400 and stranger.json_body["code"] == "email_code_expired"
    # And the old address's code does not confirm the new address
    stale = post(client, "/v1/me/contact/confirm", {"code": old_code}, citizen["token"])
    assert stale.status_code == 400
    assert get(client, "/v1/me/contact", citizen["token"]).json_body == {
        "email": "baru@contoh.id", "email_verified": False, "push_subscriptions": 0}
    # And staff have no contact to confirm
    from tests.conftest import staff_token

    operator = staff_token(client, "operator.73.07.03.1001")
    assert post(client, "/v1/me/contact/confirm", {"code": "123456"}, operator).status_code == 403


def test_a_returning_citizen_with_a_confirmed_email_gets_the_login_code_by_email(client: Any) -> None:
    # Given a citizen who proved their phone once and confirmed an e-mail
    citizen = confirmed_citizen(client, "warga.kembali@contoh.id")
    allow_new_code(citizen["nik"])
    sms_before = len(sms_to(citizen["phone"]))
    # When they ask for a login code on a new device
    sent = post(client, "/v1/auth/otp", {"nik": citizen["nik"], "phone": citizen["phone"]})
    # Then it goes by e-mail (masked in the answer), not by SMS
    assert sent.status_code == 202, sent.body
    assert sent.json_body["via"] == "email" and sent.json_body["email"] == "w***@contoh.id"
    assert len(sms_to(citizen["phone"])) == sms_before
    code = code_in(emails_to("warga.kembali@contoh.id")[-1])
    # And it logs them in like an SMS code
    login = post(client, "/v1/auth/otp/verify", {"nik": citizen["nik"], "phone": citizen["phone"], "code": code})
    assert login.status_code == 200 and login.json_body["role"] == "citizen"
    # When they ask for SMS anyway (no access to their mailbox now)
    allow_new_code(citizen["nik"])
    by_sms = post(client, "/v1/auth/otp", {"nik": citizen["nik"], "phone": citizen["phone"], "via": "sms"})
    # Then it goes by SMS
    assert by_sms.json_body["via"] == "sms" and len(sms_to(citizen["phone"])) == sms_before + 1
    for bad in ("EMAIL", "whatsapp", "", 1, ["sms"]):
        allow_new_code(citizen["nik"])
        response = post(client, "/v1/auth/otp", {"nik": citizen["nik"], "phone": citizen["phone"], "via": bad})
        assert response.status_code == 400, (bad, response.body)


@pytest.mark.parametrize("case", ["first_login", "unconfirmed_email", "other_phone_of_the_register"])
def test_a_login_that_must_prove_the_phone_still_goes_by_sms(client: Any, case: str) -> None:
    # Given a citizen whose login must prove the phone: a first login, an e-mail never confirmed, or a phone
    # the NIK is not yet bound to
    nik, phone = random_nik(), random_phone()
    if case != "first_login":
        citizen = citizen_login(client, nik, phone)
        put(client, "/v1/me/contact", {"email": f"{case}@contoh.id"}, citizen["token"])
        if case == "other_phone_of_the_register":
            # (confirmed e-mail; then the village register names a new phone, not yet proven by a code)
            post(client, "/v1/me/contact/confirm", {"code": code_in(emails_to(f"{case}@contoh.id")[-1])},
                 citizen["token"])
            phone = random_phone()
            register_resident(citizen, phone=e164(phone))
        allow_new_code(nik)
    # When they ask for a code
    sent = post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    # Then it goes by SMS
    assert sent.status_code == 202, sent.body
    assert sent.json_body["via"] == "sms" and "email" not in sent.json_body
    assert code_in(sms_to(phone)[-1])

"""WhatsApp login's pure rules: codes, finding a code in a message, numbers per kabupaten, Meta's signature."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from chalicelib.domain import whatsapp_login as wa


def test_codes_use_an_alphabet_without_look_alikes_and_are_random() -> None:
    codes = {wa.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 8 and set(code) <= set(wa.ALPHABET)
    assert not set("01OILU") & set(wa.ALPHABET)


def test_a_login_id_round_trips_and_nothing_else_parses() -> None:
    login_id, secret = wa.new_login_id("K7QX3M9P")
    assert wa.parse_login_id(login_id) == ("K7QX3M9P", secret)
    for bad in (None, 5, "", login_id + "\n", login_id.upper(), "wa1.K7QX3M9P", login_id.replace("wa1", "wa2"),
                "wa1.K7QX3M90." + secret):  # 0 is not in the alphabet
        assert wa.parse_login_id(bad) is None, bad


@pytest.mark.parametrize(("text", "codes"), [
    ("Kode masuk Balai: K7QX-3M9P\nKirim pesan ini untuk masuk ke layanan desa.", ["K7QX3M9P"]),
    ("k7qx-3m9p", ["K7QX3M9P"]),
    ("K7QX3M9P\n", ["K7QX3M9P"]),
    ("kode K7QX-3M9P dan K7QX-3M9P lagi", ["K7QX3M9P"]),
    ("A K7QX-3M9P B 2345-6789 C 2345-678A D 2345-678B", ["K7QX3M9P", "23456789", "2345678A"]),
    ("K7QX-3M9P👍🏽 👨\u200d👩\u200d👧", ["K7QX3M9P"]),  # emoji (with joiners) beside the code
    ("ＫＭＱＸ-３Ｍ９Ｐ", []),  # fullwidth look-alikes
    ("K7QX-3M٩P", []),  # an Arabic-Indic nine
    ("K7QX\u200b-3M9P", []),  # a zero-width space
    ("K7QX-3M9P\x07", []),  # a control character anywhere
    ("\u202eK7QX-3M9P", []),  # a bidi override
    ("XK7QX-3M9P", []), ("K7QX-3M9PX", []), ("K7QX--3M9P", []),  # glued or malformed
    ("K7QX-3M0P", []),  # 0 is not in the alphabet
    ("", []), (None, []), (42, []),
])
def test_find_codes_reads_only_clean_ascii_codes(text: object, codes: list[str]) -> None:
    assert wa.find_codes(text) == codes


def test_only_the_start_of_a_long_text_is_read() -> None:
    assert wa.find_codes("x " * 600 + "K7QX-3M9P") == []


def test_the_prefilled_link_carries_the_code_for_the_kabupatens_number() -> None:
    link = wa.wa_link("6281100007307", "K7QX3M9P")
    assert link.startswith("https://wa.me/6281100007307?text=Kode%20masuk%20Balai%3A%20K7QX-3M9P%0A")
    assert wa.find_codes(wa.prefilled_text("K7QX3M9P")) == ["K7QX3M9P"]


def test_numbers_per_kabupaten_with_a_default() -> None:
    numbers = wa.parse_numbers(("73.07=+6281100007307", "6281100000001"))
    assert numbers == {"73.07": "6281100007307", "*": "6281100000001"}
    assert wa.number_for(numbers, "73.07") == "6281100007307"
    assert wa.number_for(numbers, "35.09") == "6281100000001"
    assert wa.number_for(wa.parse_numbers(("73.07=6281100007307",)), "35.09") is None


@pytest.mark.parametrize("entry", ["73.7=6281100007307", "73.07=0811", "73.07=62811000073070000",
                                   "73.07=62811abc", "62811 00007307", "73.07=６281100007307"])
def test_bad_number_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        wa.parse_numbers((entry,))


def test_two_numbers_for_one_kabupaten_are_refused() -> None:
    with pytest.raises(ValueError, match="two WhatsApp numbers"):
        wa.parse_numbers(("73.07=6281100007307", "73.07=6281100007308"))


def test_the_signature_is_metas_hmac_of_the_raw_body() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    header = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert wa.sign("app-secret", body) == header
    assert wa.signature_valid("app-secret", body, header)
    assert wa.signature_valid("app-secret", body, header.upper().replace("SHA256=", "sha256="))
    for bad in (None, "", header[7:], "sha1=" + header[7:], header[:-1] + "0", header + "00",
                "sha256=ｆ" + header[8:]):
        assert not wa.signature_valid("app-secret", body, bad), bad
    assert not wa.signature_valid("other-secret", body, header)
    assert not wa.signature_valid("app-secret", body + b" ", header)


def _payload(message: object, metadata: object = None) -> dict[str, object]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": metadata if metadata is not None else {"display_phone_number": "+62 811-0000-7307",
                                                           "phone_number_id": "2"},
        "messages": [message]}}]}]}


def test_inbound_texts_reads_metas_shape() -> None:
    message = {"from": "6281234567890", "id": "wamid.A", "timestamp": "1", "type": "text", "text": {"body": "hai"}}
    assert wa.inbound_texts(_payload(message)) == [
        wa.InboundText(message_id="wamid.A", sender="6281234567890", text="hai", to_number="6281100007307")]


@pytest.mark.parametrize("payload", [
    None, [], "x", {"object": "page"}, {"object": "whatsapp_business_account", "entry": "x"},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "statuses", "value": {}}]}]},
    _payload({"from": "628", "id": "a", "type": "image", "image": {"id": "1"}}),
    _payload({"from": "6281234567890", "id": "a", "type": "text", "text": "not an object"}),
    _payload({"from": "+62 ８１２", "id": "a", "type": "text", "text": {"body": "K7QX-3M9P"}}),
    _payload({"from": "6281234567890", "id": 5, "type": "text", "text": {"body": "K7QX-3M9P"}}),
    _payload({"from": "6281234567890", "id": "a", "type": "text", "text": {"body": "K7QX-3M9P"}}, metadata={}),
    _payload("not a message"),
])
def test_inbound_texts_skips_anything_else_without_raising(payload: object) -> None:
    assert wa.inbound_texts(json.loads(json.dumps(payload))) == []


def test_a_delivery_is_read_up_to_its_limit() -> None:
    message = {"from": "6281234567890", "id": "wamid.A", "type": "text", "text": {"body": "hai"}}
    payload = _payload(message)
    payload["entry"][0]["changes"][0]["value"]["messages"] = [message] * 500  # type: ignore[index]
    assert len(wa.inbound_texts(payload)) == wa.MAX_MESSAGES_PER_DELIVERY


def test_a_bad_number_fails_at_cold_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import ConfigurationError, load_settings

    monkeypatch.setenv("BALAI_WHATSAPP_NUMBERS", "73.07=0811")
    with pytest.raises(ConfigurationError, match="BALAI_WHATSAPP_NUMBERS"):
        load_settings()
    monkeypatch.setenv("BALAI_WHATSAPP_NUMBERS", "73.07=6281100007307, 6281100000001")
    assert load_settings().whatsapp_number_map == {"73.07": "6281100007307", "*": "6281100000001"}
    monkeypatch.delenv("BALAI_WHATSAPP_NUMBERS")
    assert load_settings().whatsapp_number_map == {}


def test_the_local_helper_posts_a_delivery_signed_like_metas(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import urllib.request

    from chalicelib.config import get_secrets, reset_caches
    from chalicelib.ops import __main__ as ops

    # Without a running local mode it refuses (in the cloud the messages come from Meta)
    assert ops._whatsapp_message(type("Args", (), {"api": None})()) == 2  # type: ignore[arg-type]
    sent: list[urllib.request.Request] = []

    class Answer:
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read(self) -> bytes:
            return b'{"received": 1, "proven": 1}'

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> Answer:
        sent.append(request)
        return Answer()

    monkeypatch.setenv("BALAI_WHATSAPP_NUMBERS", "6281100000000")
    reset_caches()
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    args = type("Args", (), {"api": "http://127.0.0.1:8510", "sender": "081234567890", "to": None,
                             "text": "Kode masuk Balai: K7QX-3M9P"})()
    try:
        assert ops._whatsapp_message(args) == 0  # type: ignore[arg-type]
        secret = str(get_secrets().whatsapp_app_secret)
    finally:
        monkeypatch.delenv("BALAI_WHATSAPP_NUMBERS")
        reset_caches()
    request = sent[0]
    assert request.full_url == "http://127.0.0.1:8510/v1/webhooks/whatsapp"
    raw = request.data
    assert isinstance(raw, bytes)
    assert wa.signature_valid(secret, raw, request.get_header("X-hub-signature-256"))
    assert wa.inbound_texts(json.loads(raw)) == [wa.InboundText(
        message_id=wa.inbound_texts(json.loads(raw))[0].message_id, sender="6281234567890",
        text="Kode masuk Balai: K7QX-3M9P", to_number="6281100000000")]

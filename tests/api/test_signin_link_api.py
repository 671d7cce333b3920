"""Issue 14: the one-time sign-in link in a citizen's status SMS, so the return visit costs no login code."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.config import get_secrets
from chalicelib.domain.clock import utcnow
from chalicelib.domain.nik import nik_hash
from chalicelib.workers import outbox
from tests.conftest import SAMATARING, get, post, put, staff_token
from tests.fakes import RecordingEmailSender, RecordingSmsSender
from tests.helpers import act, citizen_login, complete_profile, submitted, unsent_rows

LINK = re.compile(r"/#masuk/([A-Za-z0-9_-]{22})\b")


def send_request_rows(request_id: str) -> outbox.Senders:
    ids = [r.id for r in unsent_rows(SAMATARING) if r.request_id == request_id]
    fakes = outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender())
    outbox.send_rows(ids, senders=fakes, max_workers=1)
    return fakes


def e164(phone: str) -> str:
    return "+62" + phone[1:]


def revision_sms(client: Any, citizen: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A phone-only citizen's request sent back for revision; returns the request and the SMS text."""
    request = submitted(client, citizen)
    send_request_rows(request["id"])
    operator = staff_token(client, f"operator.{SAMATARING}")
    reviewed = act(client, operator, request, "review").json_body
    assert act(client, operator, reviewed, "request_revision", "Foto KTP buram.").status_code == 200
    texts = send_request_rows(request["id"]).sms.texts_to(e164(citizen["phone"]))
    assert len(texts) == 1
    return request, texts[0]


def signin_items() -> list[dict[str, Any]]:
    from chalicelib.storage.models import SigninLinkItem

    return [i.attribute_values for i in SigninLinkItem.scan(SigninLinkItem.PK.startswith("SIGNIN_LINK#"))]


def test_the_revision_sms_signs_the_citizen_in_once_for_that_request(client: Any, citizen: dict[str, Any]) -> None:
    # Given a phone-only citizen whose request needs revision: the SMS is the one message that reaches them
    request, text = revision_sms(client, citizen)
    # Then the SMS carries a one-time link into the portal and still fits one GSM-7 part
    match = LINK.search(text)
    assert match is not None, text
    assert len(text) <= 160
    secret = match.group(1)
    # And only a hash of its secret is stored, bound to the citizen, the phone and the request
    stored = [i for i in signin_items() if i["request_id"] == request["id"]]
    assert len(stored) == 1 and secret not in repr(stored)
    assert stored[0]["phone"] == e164(citizen["phone"]) and stored[0]["event"] == "needs_revision"
    assert stored[0]["nik_hash"] == nik_hash(citizen["nik"], get_secrets().nik_hash_key)
    # When the citizen opens it on their phone
    answer = post(client, "/v1/auth/link", {"token": secret},
                  headers={"User-Agent": "Mozilla/5.0 (Linux; Android 11) Chrome/118.0 Mobile"})
    # Then they are logged in, with a session on that phone, and the portal is told which request to open
    assert answer.status_code == 200, answer.body
    body = answer.json_body
    assert body["role"] == "citizen" and body["request_id"] == request["id"]
    assert body["refresh_token"].startswith("rt1.")
    assert get(client, f"/v1/requests/{request['id']}", body["token"]).status_code == 200
    assert get(client, "/v1/me/inbox", body["token"]).json_body["items"][0]["event"] == "needs_revision"
    devices = get(client, "/v1/me/devices", body["token"]).json_body["items"]
    assert any(d["device"] == "Chrome di Android" for d in devices)
    # And the token is the citizen's own: no other citizen's request opens with it
    stranger = citizen_login(client)
    complete_profile(client, stranger)
    other = submitted(client, stranger)
    assert get(client, f"/v1/requests/{other['id']}", body["token"]).status_code in (403, 404)
    # When the same link is opened again (a copy of the SMS)
    again = post(client, "/v1/auth/link", {"token": secret})
    # Then it is refused: a link works once
    assert again.status_code == 401 and again.json_body["code"] == "signin_link_used"


def test_an_expired_link_is_refused_and_the_citizen_logs_in_with_a_code(client: Any, citizen: dict[str, Any],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the link of a revision SMS, opened four days later
    _, text = revision_sms(client, citizen)
    secret = LINK.search(text).group(1)  # type: ignore[union-attr]
    from chalicelib.services import signin_links

    later = utcnow() + timedelta(hours=73)
    monkeypatch.setattr(signin_links, "utcnow", lambda: later)
    # When it is used
    response = post(client, "/v1/auth/link", {"token": secret})
    # Then it is refused with a way forward, and it is not spent
    assert response.status_code == 401 and response.json_body["code"] == "signin_link_expired"
    assert "kode SMS" in response.json_body["message"]
    assert all(i.get("used_at") is None for i in signin_items() if i["phone"] == e164(citizen["phone"]))


def test_a_link_ends_when_the_citizen_logs_in_with_another_phone(client: Any, citizen: dict[str, Any]) -> None:
    # Given the link of a revision SMS, and then the citizen's phone binding moved to another number
    request, text = revision_sms(client, citizen)
    secret = LINK.search(text).group(1)  # type: ignore[union-attr]
    from chalicelib.storage.people import bind_citizen

    h = nik_hash(citizen["nik"], get_secrets().nik_hash_key)
    bind_citizen(h, citizen["nik"], "+6281399990000", utcnow().isoformat(), rebind=True)
    # When the old SMS's link is opened
    response = post(client, "/v1/auth/link", {"token": secret})
    # Then it no longer proves the phone the citizen logs in with
    assert response.status_code == 401 and response.json_body["code"] == "signin_link_invalid"


def test_rejections_and_citizens_reached_otherwise_get_no_link(client: Any, citizen: dict[str, Any]) -> None:
    # Given a phone-only citizen whose request is rejected (nothing to do in the portal)
    request = submitted(client, citizen)
    send_request_rows(request["id"])
    operator = staff_token(client, f"operator.{SAMATARING}")
    reviewed = act(client, operator, request, "review").json_body
    act(client, operator, reviewed, "reject", "Bukan warga desa ini.")
    texts = send_request_rows(request["id"]).sms.texts_to(e164(citizen["phone"]))
    # Then the rejection SMS carries no sign-in link
    assert len(texts) == 1 and "#masuk/" not in texts[0]
    # And a citizen with an e-mail gets the revision by e-mail, without any link being made
    mailer = citizen_login(client)
    put(client, "/v1/me/contact", {"email": "warga.link@contoh.id"}, mailer["token"])
    complete_profile(client, mailer)
    before = len(signin_items())
    other = submitted(client, mailer)
    send_request_rows(other["id"])
    reviewed = act(client, operator, other, "review").json_body
    act(client, operator, reviewed, "request_revision", "Foto KTP buram.")
    fakes = send_request_rows(other["id"])
    assert fakes.sms.sent == [] and "#masuk/" not in fakes.email.sent[0].text
    assert len(signin_items()) == before


@pytest.mark.parametrize("token", [
    "A" * 21, "A" * 23, "A" * 21 + "\n", "A" * 21 + "=", "A" * 20 + "\u0661\u0662", "A" * 21 + "\x00",
    "", 12345, None, ["A" * 22], {"a": {"b": {"c": "d"}}},
])
def test_a_malformed_link_is_a_clear_400_and_writes_nothing(client: Any, token: Any) -> None:
    # Given nothing but a malformed secret (look-alike digits, a trailing newline, control characters, wrong types)
    before = len(signin_items())
    # When it is presented
    response = post(client, "/v1/auth/link", {"token": token})
    # Then it is a 400 with a code and a message, and nothing is written
    assert response.status_code == 400, response.body
    assert set(response.json_body) >= {"code", "message"}
    assert len(signin_items()) == before
    assert post(client, "/v1/auth/link", {"token": "A" * 22, "extra": 1}).status_code == 400
    assert post(client, "/v1/auth/link", "A" * 22).status_code == 400


def test_unknown_links_are_rate_limited_per_client(client: Any) -> None:
    # Given a client that presents made-up links
    from chalicelib.config import get_settings
    from chalicelib.services.signin_links import SIGNIN_FAIL
    from chalicelib.storage import throttle

    limit = get_settings().signin_link_fail_per_client_hour
    for ip in ("127.0.0.1", "unknown"):  # the failures earlier tests of this module counted
        throttle.forget(SIGNIN_FAIL, ip)
    try:
        for n in range(limit):
            response = post(client, "/v1/auth/link", {"token": f"{n:022d}"})
            assert response.status_code == 401 and response.json_body["code"] == "signin_link_invalid"
        # When it goes on past the limit
        refused = post(client, "/v1/auth/link", {"token": "B" * 22})
        # Then it is refused for the rest of the hour, with Retry-After
        assert refused.status_code == 429 and refused.json_body["code"] == "signin_link_throttled"
        assert int(refused.headers["Retry-After"]) > 0
    finally:
        for ip in ("127.0.0.1", "unknown"):
            throttle.forget(SIGNIN_FAIL, ip)


def test_two_devices_opening_one_link_at_once_get_one_session(client: Any, citizen: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from chalicelib.errors import UnauthorizedError
    from chalicelib.services import signin_links
    from chalicelib.storage import signin_links as links_repo
    from tests.moto_locking import serialized_moto_writes

    # Given one link, read by two devices before either marks it used (held at a barrier)
    url = signin_links.link_for(nik_hash(citizen["nik"], get_secrets().nik_hash_key), e164(citizen["phone"]),
                                "01M8TRX77M5JK92F8PM19ZNBBN", "issued")
    secret = url.rsplit("/", 1)[-1]
    barrier = threading.Barrier(2, timeout=10)
    real_get = links_repo.get

    def get_then_wait(secret_hash: str) -> Any:
        found = real_get(secret_hash)
        barrier.wait()
        return found

    monkeypatch.setattr(links_repo, "get", get_then_wait)
    results: list[object] = []

    def redeem() -> None:
        try:
            results.append(signin_links.redeem(secret, "198.51.100.7"))
        except UnauthorizedError as exc:
            results.append(exc)

    # When both redeem it at the same moment
    with serialized_moto_writes():
        threads = [threading.Thread(target=redeem) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # Then exactly one gets a session; the other is told the link was used
    assert sum(isinstance(r, dict) for r in results) == 1
    refused = [r for r in results if isinstance(r, UnauthorizedError)]
    assert len(refused) == 1 and refused[0].code == "signin_link_used"

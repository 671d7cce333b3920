"""Issue 14: citizen refresh sessions, the portal inbox, contact e-mail, push subscriptions, the kabupaten's
message policy and the village's message bill, through the API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import utcnow
from chalicelib.workers import outbox
from tests.conftest import PULAU_HARAPAN, SAMATARING, get, post, put, staff_token
from tests.fakes import RecordingEmailSender, RecordingSmsSender
from tests.helpers import act, citizen_login, otp_code, random_nik, random_phone, submitted, unsent_rows


def login(client: Any, remember: bool = True) -> dict[str, Any]:
    nik, phone = random_nik(), random_phone()
    assert post(client, "/v1/auth/otp", {"nik": nik, "phone": phone}).status_code == 202
    body = {"nik": nik, "phone": phone, "code": otp_code(phone), "remember": remember}
    response = post(client, "/v1/auth/otp/verify", body, headers={
        "User-Agent": "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"})
    assert response.status_code == 200, response.body
    return {"nik": nik, "phone": phone, **response.json_body}


def delete(client: Any, path: str, body: Any, token: str) -> Any:
    return client.http.delete(path, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                              body=json.dumps(body))


def send_request_rows(request_id: str, village: str = SAMATARING) -> outbox.Senders:
    """Run the outbox sender on the pending rows of one request, with recording fakes for SMS and e-mail."""
    ids = [r.id for r in unsent_rows(village) if r.request_id == request_id]
    fakes = outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender())
    outbox.send_rows(ids, senders=fakes, max_workers=1)
    return fakes


# ---- refresh sessions ------------------------------------------------------------------------------
def test_a_returning_citizen_refreshes_without_an_sms_code_and_the_token_rotates(client: Any) -> None:
    # Given a citizen who logged in once on their phone
    me = login(client)
    assert me["refresh_token"].startswith("rt1.") and me["refresh_expires_in"] == 30 * 86400
    # When the portal trades the refresh token
    first = post(client, "/v1/auth/refresh", {"refresh_token": me["refresh_token"]})
    # Then it gets a new access token that works and a new refresh token
    assert first.status_code == 200, first.body
    assert first.json_body["refresh_token"] != me["refresh_token"]
    assert get(client, "/v1/me/inbox", first.json_body["token"]).status_code == 200
    # And the next refresh uses the new one
    second = post(client, "/v1/auth/refresh", {"refresh_token": first.json_body["refresh_token"]})
    assert second.status_code == 200


def test_reusing_an_old_refresh_token_revokes_the_whole_family(client: Any) -> None:
    # Given a refresh token that was already rotated (a copy of it was taken)
    me = login(client)
    rotated = post(client, "/v1/auth/refresh", {"refresh_token": me["refresh_token"]}).json_body
    # When the old one is presented again
    reuse = post(client, "/v1/auth/refresh", {"refresh_token": me["refresh_token"]})
    # Then it is refused and the family ends: the legitimate newest token stops working too
    assert reuse.status_code == 401 and reuse.json_body["code"] == "refresh_reused"
    after = post(client, "/v1/auth/refresh", {"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401 and after.json_body["code"] == "refresh_revoked"
    devices = get(client, "/v1/me/devices", rotated["token"]).json_body["items"]
    assert devices[0]["active"] is False and devices[0]["revoked_reason"] == "reuse"


def test_logout_and_the_devices_list_end_a_session(client: Any) -> None:
    # Given a citizen logged in on two devices
    nik, phone = random_nik(), random_phone()
    tokens = []
    for _ in range(2):
        post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
        body = {"nik": nik, "phone": phone, "code": otp_code(phone)}
        tokens.append(post(client, "/v1/auth/otp/verify", body).json_body)
        _allow_new_code(nik)  # the one-code-a-minute rule is per NIK
    listed = get(client, "/v1/me/devices", tokens[0]["token"]).json_body["items"]
    assert len(listed) == 2 and all(d["active"] for d in listed)
    # When one device logs out and the other is removed from the list
    assert post(client, "/v1/auth/logout", {"refresh_token": tokens[0]["refresh_token"]}).json_body == {
        "logged_out": True}
    other = next(d["id"] for d in listed if tokens[1]["refresh_token"].split(".")[1] == d["id"])
    # (another citizen cannot remove it)
    stranger = login(client)
    assert client.http.delete(f"/v1/me/devices/{other}",
                              headers={"Authorization": f"Bearer {stranger['token']}"}).status_code == 404
    assert client.http.delete(f"/v1/me/devices/{other}",
                              headers={"Authorization": f"Bearer {tokens[0]['token']}"}).status_code == 200
    # Then neither refresh token works any more
    for t in tokens:
        response = post(client, "/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
        assert response.status_code == 401 and response.json_body["code"] == "refresh_revoked"


def _allow_new_code(nik: str) -> None:
    from chalicelib.config import get_secrets
    from chalicelib.domain.nik import nik_hash
    from chalicelib.storage import people

    people.delete_otp(nik_hash(nik, get_secrets().nik_hash_key))


def test_an_expired_refresh_session_needs_a_new_login(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    me = login(client)
    from chalicelib.services import sessions

    later = utcnow() + timedelta(days=31)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    response = post(client, "/v1/auth/refresh", {"refresh_token": me["refresh_token"]})
    assert response.status_code == 401 and response.json_body["code"] == "refresh_expired"


def test_remember_false_gives_no_refresh_token_and_staff_tokens_are_never_refreshable(client: Any) -> None:
    me = login(client, remember=False)
    assert "refresh_token" not in me
    staff = staff_token(client, f"operator.{SAMATARING}")
    for bad in (staff, "rt1." + "A" * 22 + "." + "B" * 43, "rt1.x.y", "", "rt1.\u0661" + "A" * 21 + "." + "B" * 43,
                me["token"] + "\n"):
        response = post(client, "/v1/auth/refresh", {"refresh_token": bad})
        assert response.status_code in (400, 401), (bad, response.body)
        assert response.json_body["code"] in ("invalid_refresh_token", "invalid_field")
    # Staff have no devices list of citizens
    assert get(client, "/v1/me/devices", staff).status_code == 403


# ---- inbox ---------------------------------------------------------------------------------------
def test_status_changes_land_in_the_inbox_and_sms_only_where_nothing_else_reaches(client: Any,
                                                                                   citizen: dict[str, Any]) -> None:
    # Given a phone-only citizen's request, reviewed and rejected
    request = submitted(client, citizen)
    fakes = send_request_rows(request["id"])
    operator = staff_token(client, f"operator.{SAMATARING}")
    reviewed = act(client, operator, request, "review").json_body
    rejected = act(client, operator, reviewed, "reject", "Dokumen pengantar RT tidak terbaca.")
    assert rejected.status_code == 200
    fakes2 = send_request_rows(request["id"])
    # Then the inbox holds "received" and "rejected", newest first, both unread
    inbox = get(client, "/v1/me/inbox", citizen["token"]).json_body
    assert [m["event"] for m in inbox["items"]] == ["rejected", "request_received"]
    assert inbox["unread"] == 2 and "Dokumen pengantar RT" in inbox["items"][0]["text"]
    assert inbox["items"][0]["tracking_code"] == request["tracking_code"]
    # And only the rejection (the citizen has no e-mail or push) cost an SMS
    phone = "+62" + citizen["phone"][1:]
    assert fakes.sms.texts_to(phone) == []
    assert len(fakes2.sms.texts_to(phone)) == 1
    # When the citizen reads the newest, twice
    newest = inbox["items"][0]["id"]
    first = post(client, f"/v1/me/inbox/{newest}/read", {}, citizen["token"])
    again = post(client, f"/v1/me/inbox/{newest}/read", {}, citizen["token"])
    # Then the unread count drops once
    assert first.json_body["unread"] == 1 and again.json_body["unread"] == 1 and again.json_body["read"]
    # And another citizen, staff, and look-alike ids get nothing
    other = citizen_login(client)
    assert post(client, f"/v1/me/inbox/{newest}/read", {}, other["token"]).status_code == 404
    assert get(client, "/v1/me/inbox", other["token"]).json_body["items"] == []
    assert get(client, "/v1/me/inbox", operator).status_code == 403
    assert post(client, f"/v1/me/inbox/{newest}x/read", {}, citizen["token"]).status_code == 404
    # Paging: one per page, the cursor leads to the older one
    page = get(client, "/v1/me/inbox?limit=1", citizen["token"]).json_body
    assert [m["event"] for m in page["items"]] == ["rejected"] and page["next"] == newest
    older = get(client, f"/v1/me/inbox?limit=1&cursor={page['next']}", citizen["token"]).json_body
    assert [m["event"] for m in older["items"]] == ["request_received"] and older["next"] is None
    for bad in ("limit=0", "limit=51", "cursor=abc", "cursor=%D9%A1"):
        assert get(client, f"/v1/me/inbox?{bad}", citizen["token"]).status_code == 400, bad


def test_a_citizen_with_email_gets_email_instead_of_sms(client: Any, citizen: dict[str, Any]) -> None:
    # Given a citizen who gave an e-mail address
    assert put(client, "/v1/me/contact", {"email": "Warga.Satu@Contoh.id"}, citizen["token"]).json_body == {
        "email": "warga.satu@contoh.id", "email_verified": False, "confirmation_sent": True}
    for bad in ("bukan-email", "a@b.c\n", "x" * 300 + "@contoh.id", "wárga@contoh.id"):
        assert put(client, "/v1/me/contact", {"email": bad}, citizen["token"]).status_code == 400
    request = submitted(client, citizen)
    send_request_rows(request["id"])
    operator = staff_token(client, f"operator.{SAMATARING}")
    reviewed = act(client, operator, request, "review").json_body
    act(client, operator, reviewed, "request_revision", "Foto KTP buram.")
    # When the revision request is sent
    fakes = send_request_rows(request["id"])
    # Then it went by e-mail and into the inbox, not by SMS
    assert fakes.email.subjects_to("warga.satu@contoh.id") == [f"Permohonan {request['tracking_code']} perlu "
                                                                "diperbaiki"]
    assert fakes.sms.texts_to("+62" + citizen["phone"][1:]) == []
    assert get(client, "/v1/me/inbox", citizen["token"]).json_body["items"][0]["event"] == "needs_revision"


# ---- push subscriptions ------------------------------------------------------------------------------
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


@pytest.mark.parametrize(("body", "code"), [
    ({"endpoint": "https://push.example.id/a", "keys": {"p256dh": P256DH[:-4], "auth": AUTH}}, "invalid_push_key"),
    ({"endpoint": "https://push.example.id/a", "keys": {"p256dh": P256DH, "auth": AUTH + "AA"}}, "invalid_push_key"),
    ({"endpoint": "https://push.example.id/a", "keys": {"p256dh": P256DH + "\n", "auth": AUTH}}, "invalid_push_key"),
    ({"endpoint": "ftp://push.example.id/a", "keys": {"p256dh": P256DH, "auth": AUTH}}, "invalid_push_endpoint"),
    ({"endpoint": "https://push.example.id/\u0661", "keys": {"p256dh": P256DH, "auth": AUTH}},
     "invalid_push_endpoint"),
    ({"endpoint": "https://user:pw@push.example.id/a", "keys": {"p256dh": P256DH, "auth": AUTH}},
     "invalid_push_endpoint"),
    ({"endpoint": "https://push.example.id/a", "keys": {"p256dh": P256DH}}, "missing_field"),
    ({"endpoint": "https://push.example.id/a", "keys": {"p256dh": P256DH, "auth": AUTH}, "extra": 1}, "unknown_field"),
])
def test_a_bad_push_subscription_is_refused_and_nothing_is_stored(client: Any, citizen: dict[str, Any],
                                                                  body: dict[str, Any], code: str) -> None:
    response = post(client, "/v1/me/push-subscriptions", body, citizen["token"])
    assert response.status_code == 400 and response.json_body["code"] == code
    assert get(client, "/v1/me/contact", citizen["token"]).json_body["push_subscriptions"] == 0


def test_push_subscribe_and_unsubscribe(client: Any, citizen: dict[str, Any]) -> None:
    body = {"endpoint": "https://push.example.id/sub/1", "keys": {"p256dh": P256DH, "auth": AUTH},
            "expirationTime": None}
    assert post(client, "/v1/me/push-subscriptions", body, citizen["token"]).status_code == 201
    assert post(client, "/v1/me/push-subscriptions", body, citizen["token"]).status_code == 201  # same again
    assert get(client, "/v1/me/contact", citizen["token"]).json_body["push_subscriptions"] == 1
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert post(client, "/v1/me/push-subscriptions", body, operator).status_code == 403
    assert delete(client, "/v1/me/push-subscriptions", {"endpoint": body["endpoint"]}, citizen["token"]).status_code \
        == 200
    assert delete(client, "/v1/me/push-subscriptions", {"endpoint": body["endpoint"]}, citizen["token"]).status_code \
        == 404
    key = get(client, "/v1/push/vapid-public-key").json_body["public_key"]
    assert len(key) == 87 and key.startswith("B")


# ---- policy and bill --------------------------------------------------------------------------------
def test_the_admin_overrides_the_policy_within_its_rules(client: Any) -> None:
    admin = staff_token(client, "admin")
    default = get(client, "/v1/admin/message-policy/73.07", admin).json_body
    assert default["events"]["issued"]["sms"] == "fallback" and default["overrides"] == {}
    changed = put(client, "/v1/admin/message-policy/73.07", {"events": {"approved": {"channels": ["inbox"]}}}, admin)
    assert changed.status_code == 200 and changed.json_body["events"]["approved"]["channels"] == ["inbox"]
    assert get(client, "/v1/admin/message-policy/73.07", admin).json_body["overrides"] == {
        "approved": {"channels": ["inbox"], "sms": "never"}}
    bad = put(client, "/v1/admin/message-policy/73.07", {"events": {"otp": {"sms": "never"}}}, admin)
    assert bad.status_code == 400 and bad.json_body["code"] == "otp_needs_sms"
    assert get(client, "/v1/admin/message-policy/73.07", admin).json_body["overrides"] == {
        "approved": {"channels": ["inbox"], "sms": "never"}}
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert put(client, "/v1/admin/message-policy/73.07", {"events": {}}, operator).status_code == 403
    assert get(client, "/v1/admin/message-policy/35.09", admin).status_code == 404
    assert put(client, "/v1/admin/message-policy/73.07", {"events": {}}, admin).status_code == 200


def test_the_village_bill_counts_what_was_sent_once_and_is_scoped_by_role(client: Any,
                                                                          citizen: dict[str, Any]) -> None:
    month = utcnow().isoformat()[:7]
    kades = staff_token(client, f"kades.{PULAU_HARAPAN}")
    before = get(client, f"/v1/admin/message-bill/{PULAU_HARAPAN}?month={month}", kades).json_body
    sms_before = before["lines"][0]["channels"].get("sms", {}).get("count", 0)
    inbox_before = before["lines"][0]["channels"].get("inbox", {}).get("count", 0)
    # Given a request in Pulau Harapan that was rejected (inbox + SMS fallback for a phone-only citizen)
    request = submitted(client, citizen, PULAU_HARAPAN)
    operator = staff_token(client, f"operator.{PULAU_HARAPAN}")
    act(client, operator, act(client, operator, request, "review").json_body, "reject", "Bukan warga desa ini.")
    send_request_rows(request["id"], PULAU_HARAPAN)
    send_request_rows(request["id"], PULAU_HARAPAN)  # a second run finds nothing to send and bills nothing
    # When the kades reads the bill
    bill = get(client, f"/v1/admin/message-bill/{PULAU_HARAPAN}?month={month}", kades).json_body
    line = bill["lines"][0]["channels"]
    # Then one SMS (the rejection) and two inbox messages were added, SMS priced from settings
    assert line["sms"]["count"] - sms_before == 1 and line["inbox"]["count"] - inbox_before == 2
    assert line["sms"]["cost_usd"] == pytest.approx(line["sms"]["units"] * bill["prices_usd"]["sms"], abs=1e-4)
    # And the roles see only their region
    assert get(client, f"/v1/admin/message-bill/{SAMATARING}", kades).status_code == 404
    camat = staff_token(client, "camat.73.07.09")
    kec = get(client, "/v1/admin/message-bill/73.07.09", camat).json_body
    assert any(x["region"] == PULAU_HARAPAN for x in kec["lines"]) and any(x["region"] == "73.07.09"
                                                                          for x in kec["lines"])
    assert get(client, "/v1/admin/message-bill/73.07.03", camat).status_code == 404
    assert get(client, f"/v1/admin/message-bill/{PULAU_HARAPAN}?month=2026-13", kades).status_code == 400
    assert get(client, f"/v1/admin/message-bill/{PULAU_HARAPAN}", citizen["token"]).status_code == 403
    # Login codes are billed to the citizen's kecamatan (Sinjai Timur for the fixture's NIK)
    admin = staff_token(client, "admin")
    kab = get(client, f"/v1/admin/message-bill/73.07?month={month}", admin).json_body
    assert next(x for x in kab["lines"] if x["region"] == "73.07.03")["channels"]["sms"]["count"] >= 1


def test_staff_choose_digest_only(client: Any) -> None:
    token = staff_token(client, f"operator.{PULAU_HARAPAN}")
    body = {"channels": ["sms"], "phone": "081311112299", "mode": "digest_only"}
    response = put(client, "/v1/me/notification-preferences", body, token)
    assert response.status_code == 200 and response.json_body["mode"] == "digest_only"
    assert put(client, "/v1/me/notification-preferences", {**body, "mode": "weekly"}, token).status_code == 400
    assert get(client, "/v1/me/notification-preferences", token).json_body["mode"] == "digest_only"
    put(client, "/v1/me/notification-preferences", {**body, "mode": "each"}, token)



def test_in_the_cloud_a_push_endpoint_must_be_https_to_a_named_host(client: Any, citizen: dict[str, Any],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import get_settings

    # Given a cloud stage (the endpoint is posted to from inside AWS)
    monkeypatch.setattr(type(get_settings()), "is_cloud", property(lambda self: True))
    keys = {"p256dh": P256DH, "auth": AUTH}
    for endpoint in ("http://push.example.id/a", "https://169.254.169.254/latest", "https://localhost/x",
                     "https://[::1]/x", "https://metadata.google.internal/x", "https://intranet/x"):
        response = post(client, "/v1/me/push-subscriptions", {"endpoint": endpoint, "keys": keys}, citizen["token"])
        assert response.status_code == 400 and response.json_body["code"] == "invalid_push_endpoint", endpoint
    ok = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": keys}
    assert post(client, "/v1/me/push-subscriptions", ok, citizen["token"]).status_code == 201

"""The citizen portal's inbox, message settings and staying logged in (refresh token), in Chromium against
local mode. (Headless Chromium has no push service to subscribe to: the Web Push path is tested end to end
in tests/integration/test_webpush.py against a local push service that decrypts the payload.)"""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import VILLAGE, LocalSite, citizen_login, shoot

NIK = "7307036203955123"  # a woman born 22-03-1995 in Sinjai Timur, in no village register
PHONE = "081355554444"


def stored(page: Any) -> dict[str, Any]:
    return dict(json.loads(page.evaluate("localStorage.getItem('balai.citizen')")))


def test_inbox_shows_status_messages_and_a_returning_citizen_stays_logged_in(site: LocalSite,
                                                                            phone_ctx: Any) -> None:
    # Given a citizen who logged in on her phone (the portal keeps a refresh token)
    page = phone_ctx.new_page()
    citizen_login(page, site, NIK, PHONE)
    session = stored(page)
    assert session["refreshToken"].startswith("rt1.")
    token = session["token"]
    status, profile = site.call("GET", "/v1/me/profile", token=token)
    status, profile = site.call("PUT", "/v1/me/profile", {
        "version": profile["version"], "name": "Hasnah Daeng Bau", "birth_place": "Sinjai", "birth_date": "1995-03-22",
        "sex": "P", "religion": "Islam", "marital_status": "Kawin", "occupation": "Pedagang",
        "address": "Jl. Persatuan"}, token)
    assert status == 200, profile
    # And a request she sent (local mode's stream poller writes its message to her inbox within a second)
    status, types = site.call("GET", f"/v1/villages/{VILLAGE}/letter-types")
    skd = next(t for t in types["items"] if t["code"] == "SKD")
    status, created = site.call("POST", f"/v1/villages/{VILLAGE}/requests", {
        "letter_type": "SKD", "fields": {"lama_tinggal_tahun": 4, "keperluan": "Membuka rekening bank"},
        "attachments": {a["name"]: site.upload(token, VILLAGE, "SKD", a["name"]) for a in skd["attachments"]}}, token)
    assert status == 201, created
    # When she opens the inbox
    page.goto(f"{site.web}/#kotak-pesan")
    page.get_by_role("heading", name="Kotak pesan").wait_for()
    for _ in range(20):
        if page.locator("#messages li").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    # Then the message about her request is there, unread, in Indonesian, with its tracking code
    first = page.locator("#messages li").first
    assert "Permohonan diterima" in first.inner_text() and created["tracking_code"] in first.inner_text()
    page.get_by_text("1 pesan belum dibaca.").wait_for()
    shoot(page, "20-citizen-inbox")
    # When she marks it read
    page.get_by_role("button", name="Tandai sudah dibaca").click()
    page.get_by_text("Semua pesan sudah dibaca.").wait_for()
    status, inbox = site.call("GET", "/v1/me/inbox", token=token)
    assert inbox["unread"] == 0 and inbox["items"][0]["read"]
    # When her access token has run out (she comes back days later)
    page.evaluate("""() => { const s = JSON.parse(localStorage.getItem('balai.citizen'));
        s.expiresAt = Date.now() - 1000; localStorage.setItem('balai.citizen', JSON.stringify(s)); }""")
    sms_before = site.sms_count()
    page.reload()
    # Then the portal renews it with the refresh token: no login, no new SMS code, and the token rotated
    page.get_by_text("Semua pesan sudah dibaca.").wait_for()
    renewed = stored(page)
    assert renewed["refreshToken"] != session["refreshToken"] and renewed["expiresAt"] > session["expiresAt"]
    assert site.sms_count() == sms_before
    # When she gives an e-mail and looks at her devices
    page.get_by_role("link", name="Atur pemberitahuan").click()
    page.get_by_role("heading", name="Pemberitahuan").wait_for()
    page.get_by_label("Alamat email").fill("hasnah@contoh.id")
    page.get_by_role("button", name="Simpan email").click()
    page.get_by_text("Kabar permohonan dikirim ke hasnah@contoh.id.").wait_for()
    assert page.locator("#devices li").count() == 1
    shoot(page, "21-citizen-message-settings")
    # When she logs out, the refresh token no longer works anywhere
    page.get_by_role("link", name="Keluar").click()
    page.get_by_label("NIK (16 angka)").wait_for()
    status, answer = site.call("POST", "/v1/auth/refresh", {"refresh_token": renewed["refreshToken"]})
    assert status == 401 and answer["code"] == "refresh_revoked"


def test_staff_see_the_village_message_bill_and_choose_the_daily_digest(site: LocalSite, desk_ctx: Any) -> None:
    from tests.browser.conftest import staff_login

    # Given the operator of Samataring in the console (the inbox test above sent messages there this month)
    page = desk_ctx.new_page()
    staff_login(page, site, f"operator.{VILLAGE}")
    # When they open "Pesan dan biaya"
    page.get_by_role("link", name="Pesan dan biaya").click()
    page.get_by_role("heading", name="Pesan dan biaya").wait_for()
    # Then the bill lists their village with its messages per channel and the total
    row = page.locator("#bill tbody tr").first
    assert "Samataring" in row.inner_text()
    assert page.locator("#bill thead").inner_text().count("SMS") == 1
    shoot(page, "22-staff-message-bill")
    # When they choose the daily digest only, by SMS
    page.get_by_label("Nomor HP").fill("081311119999")
    page.get_by_label("SMS", exact=True).check()
    page.get_by_label("Email", exact=True).uncheck()
    page.get_by_label("Kapan").select_option("digest_only")
    page.get_by_role("button", name="Simpan pemberitahuan").click()
    page.get_by_text("Pengaturan pemberitahuan tersimpan.").wait_for()
    status, prefs = site.call("GET", "/v1/me/notification-preferences", token=site.staff_token(f"operator.{VILLAGE}"))
    assert status == 200 and prefs["mode"] == "digest_only" and prefs["channels"] == ["sms"]

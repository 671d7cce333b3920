"""The portal tolerates a dropped connection: the app shell opens offline, a form being filled survives a
reload, and it is sent once, with its Idempotency-Key, when the connection returns."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import VILLAGE, LocalSite, shoot
from tests.browser.test_citizen_and_staff import attach_all, choose_letter, citizen_token

NIK = "7307030101800003"  # a man born 01-01-1980 in Sinjai Timur
PHONE = "081355556666"


def test_form_filled_offline_is_sent_once_when_back_online(site: LocalSite, phone_ctx: Any) -> None:
    # Given a logged-in citizen whose portal has loaded once (service worker installed, shell cached)
    token = citizen_token(site, NIK, PHONE)
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/")
    page.evaluate("""([token]) => localStorage.setItem('balai.citizen',
        JSON.stringify({token, expiresAt: Date.now() + 1500000}))""", [token])
    page.goto(f"{site.web}/#ajukan")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    sent: list[dict[str, Any]] = []
    page.on("requestfinished", lambda r: sent.append({"url": r.url, "method": r.method,
                                                       "key": r.headers.get("idempotency-key")})
            if r.method == "POST" and r.url.endswith(f"/villages/{VILLAGE}/requests") else None)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url) if r.method == "POST" else None)
    choose_letter(page, "Surat Keterangan Domisili")
    attach_all(page)
    page.get_by_label("Lama tinggal (tahun)").fill("12")

    # When the connection drops mid-form and the page is reloaded: no network, and no call reaches the API (a phone
    # on a cell without data, or behind a captive Wi-Fi, stays "online" while every call fails; Chromium 150 also
    # reports navigator.onLine true after a reload under Playwright's offline emulation)
    phone_ctx.set_offline(True)
    phone_ctx.route(f"{site.api}/**", lambda route: route.abort("internetdisconnected"))
    page.get_by_label("Keperluan").fill("Melamar pekerjaan")
    page.reload()
    # Then the shell opens from the device, with the form as it was
    page.get_by_text("Anda sedang luring").wait_for()
    assert page.get_by_label("Keperluan").input_value() == "Melamar pekerjaan"
    assert page.get_by_label("Lama tinggal (tahun)").input_value() == "12"
    shoot(page, "15-offline-form-kept")
    key = page.evaluate("JSON.parse(localStorage.getItem('balai.draft')).key")
    # When she sends it while still offline
    page.get_by_role("button", name="Kirim permohonan").click()
    page.get_by_text("Permohonan tersimpan dan akan dikirim otomatis").wait_for()
    shoot(page, "16-offline-pending")
    assert sent == []
    # And the connection returns
    phone_ctx.unroute(f"{site.api}/**")
    phone_ctx.set_offline(False)
    page.get_by_text("Permohonan terkirim. Kode lacak Anda:").wait_for()
    page.wait_for_timeout(500)
    # Then exactly one request was sent, with the kept Idempotency-Key, and exactly one was created
    assert [s["key"] for s in sent] == [key]
    status, mine = site.call("GET", "/v1/me/requests", token=token)
    assert status == 200
    assert [r["letter_type"] for r in mine["items"]] == ["SKD"]
    assert page.evaluate("localStorage.getItem('balai.draft')") is None

"""Login by WhatsApp message in Chromium against local mode: the portal offers it first, shows the code and the
wa.me link, and logs the citizen in when the (signed) webhook delivery of her message arrives; no SMS is sent."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.domain.whatsapp_login import sign
from localmode.run import LOCAL_WHATSAPP_NUMBER
from tests.browser.conftest import LocalSite, shoot

NIK = "7307034512880456"  # a woman born 05-12-1988 in Sinjai Timur, in no village register
PHONE = "081377770412"


def deliver(site: LocalSite, sender: str, text: str) -> dict[str, Any]:
    """What Meta does when she presses send: a Cloud API delivery signed with the app secret (local mode's own)."""
    secret = json.loads((site.data_dir / "secrets.json").read_text())["whatsapp_app_secret"]
    wa_id = "62" + sender[1:]
    raw = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": LOCAL_WHATSAPP_NUMBER, "phone_number_id": "1"},
            "contacts": [{"profile": {"name": "Warga"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": "wamid.browser1", "timestamp": "1764680000", "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    request = urllib.request.Request(f"{site.api}/v1/webhooks/whatsapp", data=raw, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, raw)})
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_the_portal_logs_a_citizen_in_by_her_whatsapp_message(site: LocalSite, phone_ctx: Any) -> None:
    # Given the login page on her phone, where local mode's demo configuration offers WhatsApp
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/")
    wa_button = page.get_by_role("button", name="Masuk lewat WhatsApp")
    wa_button.wait_for()
    page.get_by_label("NIK (16 angka)").fill(NIK)
    page.get_by_label("Nomor HP").fill(PHONE)
    sms_before = site.sms_count()
    # When she chooses WhatsApp
    wa_button.click()
    # Then the page shows the code and the link that opens WhatsApp with the message typed, to the kabupaten's number
    code = page.locator("strong.code").first.inner_text()
    link = page.get_by_role("link", name="Buka WhatsApp dan kirim").get_attribute("href")
    assert link is not None
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("wa.me", f"/{LOCAL_WHATSAPP_NUMBER}")
    text = parse_qs(parts.query)["text"][0]
    assert code in text
    page.get_by_text("Menunggu pesan Anda").wait_for()
    shoot(page, "40-citizen-whatsapp-login")
    # When her message reaches the webhook (signed as Meta signs it)
    assert deliver(site, PHONE, text) == {"received": 1, "proven": 1}
    # Then the page's next poll logs her in, with a refresh session, and she lands on the letter form
    page.get_by_role("link", name="Keluar").wait_for(timeout=20000)
    # (a first-time applicant goes to "Ajukan surat", which asks for the applicant data first, as after an SMS code)
    page.get_by_role("heading", name="Profil pemohon").wait_for()
    session = json.loads(page.evaluate("localStorage.getItem('balai.citizen')"))
    assert session["refreshToken"].startswith("rt1.")
    shoot(page, "41-citizen-whatsapp-logged-in")
    # And no SMS was sent for the login
    assert site.sms_count() == sms_before

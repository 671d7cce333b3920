"""The one-time sign-in link of a status SMS, opened on a phone with no session: the portal logs the citizen in
and opens the request, with no second SMS code (issue 14), in Chromium against local mode."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.browser.conftest import VILLAGE, LocalSite, shoot

NIK = "7307036405960321"  # a woman born 24-05-1996 in Sinjai Timur, in no village register
PHONE = "081355556666"


def sms_link(site: LocalSite, after: int) -> str:
    """The newest sign-in link in the SMS outbox after line `after`, waiting for the stream poller to send it."""
    path = site.data_dir / "outbox" / "sms.jsonl"
    deadline = time.time() + 20
    while time.time() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        links = [m.group(0) for line in lines[after:]
                 if (m := re.search(r"https?://\S+/#masuk/[A-Za-z0-9_-]{22}", json.loads(line)["text"]))]
        if links:
            return links[-1]
        time.sleep(0.3)
    raise AssertionError("no sign-in link in the SMS outbox")


def test_the_revision_sms_link_opens_the_request_logged_in_once(site: LocalSite, phone_ctx: Any,
                                                                browser: Any) -> None:
    # Given a phone-only citizen's request that the operator sent back for revision
    before = site.sms_count()
    status, sent = site.call("POST", "/v1/auth/otp", {"nik": NIK, "phone": PHONE})
    assert status == 202, sent
    status, login = site.call("POST", "/v1/auth/otp/verify", {"nik": NIK, "phone": PHONE,
                                                              "code": site.last_code(before)})
    token = login["token"]
    status, profile = site.call("GET", "/v1/me/profile", token=token)
    status, profile = site.call("PUT", "/v1/me/profile", {
        "version": profile["version"], "name": "Nurhayati", "birth_place": "Sinjai", "birth_date": "1996-05-24",
        "sex": "P", "religion": "Islam", "marital_status": "Belum Kawin", "occupation": "Petani",
        "address": "Dusun Bua"}, token)
    assert status == 200, profile
    status, types = site.call("GET", f"/v1/villages/{VILLAGE}/letter-types")
    skd = next(t for t in types["items"] if t["code"] == "SKD")
    status, created = site.call("POST", f"/v1/villages/{VILLAGE}/requests", {
        "letter_type": "SKD", "fields": {"lama_tinggal_tahun": 2, "keperluan": "Melamar pekerjaan"},
        "attachments": {a["name"]: site.upload(token, VILLAGE, "SKD", a["name"]) for a in skd["attachments"]}}, token)
    assert status == 201, created
    operator = site.staff_token(f"operator.{VILLAGE}")
    at_sms = site.sms_count()
    status, reviewed = site.call("POST", f"/v1/requests/{created['id']}/transitions",
                                 {"action": "review", "version": created["version"]}, operator)
    status, revised = site.call("POST", f"/v1/requests/{created['id']}/transitions",
                                {"action": "request_revision", "version": reviewed["version"],
                                 "note": "Foto KTP buram."}, operator)
    assert status == 200, revised
    link = sms_link(site, at_sms)
    # When she opens the SMS's link on her phone, where she is not logged in
    page = phone_ctx.new_page()
    sms_before = site.sms_count()
    page.goto(link)
    # Then the request opens, logged in, with the officer's note and the revision form
    page.get_by_text("Catatan petugas: Foto KTP buram.").wait_for()
    page.get_by_role("link", name="Keluar").wait_for()
    assert page.url.endswith(f"#permohonan/{created['id']}") and "masuk/" not in page.url
    shoot(page, "30-citizen-signin-link")
    session = json.loads(page.evaluate("localStorage.getItem('balai.citizen')"))
    assert session["refreshToken"].startswith("rt1.")
    # And no login code was sent for it
    assert site.sms_count() == sms_before
    # When the same link is opened again, on another phone
    other = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    try:
        again = other.new_page()
        again.goto(link)
        # Then it is refused, and the login form says how to get in
        again.get_by_text("Tautan masuk ini sudah dipakai").wait_for()
        again.get_by_role("button", name="Kirim kode lewat SMS").wait_for()
    finally:
        other.close()

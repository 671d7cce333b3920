"""A citizen asks for a letter in a real browser (Debian's Chromium), the operator reviews and approves,
the kades issues, the citizen downloads the PDF and the QR's URL opens the verification page: valid."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from tests.browser.conftest import NIK, VILLAGE, LocalSite, citizen_login, shoot, staff_login

FIXTURES = Path(__file__).parent / "files"


def fill_profile(page: Any) -> None:
    page.get_by_label("Nama lengkap").fill("Nurhaedah")
    page.get_by_label("Tempat lahir").fill("Sinjai")
    page.get_by_label("Tanggal lahir").fill("1990-08-17")
    page.get_by_label("Jenis kelamin").select_option("P")
    page.get_by_label("Agama").select_option("Islam")
    page.get_by_label("Status perkawinan").select_option("Kawin")
    page.get_by_label("Pekerjaan").fill("Wiraswasta")
    page.get_by_label("Alamat").fill("Jl. Persatuan Raya")
    page.get_by_label("RT", exact=True).fill("001")
    page.get_by_label("RW", exact=True).fill("002")


def choose_letter(page: Any, name: str, village_label: str = "Kelurahan Samataring") -> None:
    page.goto(page.url.split("#")[0] + "#ajukan")
    page.get_by_label("Desa/kelurahan").select_option(label=village_label)
    page.get_by_role("button", name=name).click()
    page.get_by_role("heading", name=name).wait_for()


def attach_all(page: Any) -> int:
    """Upload a small file to every attachment input of the form (presigned upload, then the form keeps
    the upload id)."""
    ids = [str(el.get_attribute("id")) for el in page.locator("input[type=file]").all()]
    for id_ in ids:
        page.locator(f"#{id_}").set_input_files(str(FIXTURES / "ktp.png"))
        box = page.locator(".field").filter(has=page.locator(f"#{id_}"))
        box.locator(".hint:text('Terunggah: ktp.png'), .field-error").first.wait_for()
        assert box.locator(".field-error").count() == 0, box.inner_text()
    return len(ids)


def test_letter_from_request_to_verification(site: LocalSite, phone_ctx: Any, desk_ctx: Any) -> None:
    # Given a citizen on a phone who logs in with NIK + phone + the SMS code
    page = phone_ctx.new_page()
    citizen_login(page, site, screenshots=True)
    # When she checks her profile: the village register holds her NIK, so the portal shows its data
    page.goto(f"{site.web}/#profil")
    page.get_by_role("heading", name="Profil pemohon").wait_for()
    page.get_by_text("berasal dari data penduduk").wait_for()
    assert page.get_by_label("Nama lengkap").input_value()
    shoot(page, "02-citizen-profile")
    page.get_by_role("button", name="Simpan profil").click()
    page.get_by_text("Profil tersimpan.").wait_for()
    shoot(page, "03-citizen-choose-letter")
    # And picks Samataring's business letter, and sends it with a required field left empty
    choose_letter(page, "Surat Keterangan Usaha")
    page.get_by_label("Nama usaha").fill("Toko Berkah")
    page.get_by_label("Jenis usaha").fill("Kelontong")
    page.get_by_label("Mulai usaha").fill("2018-05-01")
    page.get_by_label("Keperluan").fill("Pengajuan KUR")
    uploaded = attach_all(page)
    page.get_by_role("button", name="Kirim permohonan").click()
    # Then the API's own message stands next to the empty field, and nothing was created
    error = page.locator(".field").filter(has=page.get_by_label("Alamat usaha")).locator(".field-error")
    error.wait_for()
    assert error.inner_text() == "Alamat usaha wajib diisi."
    assert page.get_by_label("Alamat usaha").get_attribute("aria-invalid") == "true"
    shoot(page, "04-citizen-form-errors")
    # When she fills it and sends again
    page.get_by_label("Alamat usaha").fill("Pasar Sentral Sinjai")
    page.get_by_role("button", name="Kirim permohonan").click()
    # Then she sees her tracking code and the request, submitted
    page.get_by_text("Permohonan terkirim. Kode lacak Anda:").wait_for()
    tracking = re.search(r"Kode lacak Anda: ([A-Z0-9-]+)", page.locator(".notice.ok").inner_text()).group(1)  # type: ignore[union-attr]
    request_id = page.url.rsplit("/", 1)[1]
    page.get_by_text("Diajukan", exact=True).first.wait_for()
    shoot(page, "05-citizen-request-submitted")
    operator = site.staff_token(f"operator.{VILLAGE}")
    status, stored = site.call("GET", f"/v1/requests/{request_id}", token=operator)
    assert status == 200 and stored["tracking_code"] == tracking and stored["status"] == "submitted"
    assert stored["fields"]["alamat_usaha"] == "Pasar Sentral Sinjai"
    assert len(stored.get("attachments", [])) == uploaded

    # Given the operator on a laptop
    desk = desk_ctx.new_page()
    staff_login(desk, site, f"operator.{VILLAGE}")
    # Then the queue lists the request, with its tracking code
    desk.get_by_text(tracking).wait_for()
    shoot(desk, "06-staff-queue")
    desk.get_by_role("link", name="Surat Keterangan Usaha").first.click()
    # And on a submitted request the operator may exactly review or reject
    desk.get_by_role("heading", name="Tindakan").wait_for()
    assert action_buttons(desk) == ["review", "reject"]
    if uploaded:
        desk.get_by_role("button", name=re.compile("^Lihat ")).first.wait_for()
    if uploaded > 1:
        # And every attachment is drawn in the page with one call (issue 14), each image loaded
        desk.get_by_role("button", name="Tampilkan semua lampiran").click()
        desk.locator("figure.attachment").nth(uploaded - 1).wait_for()
        assert desk.locator("figure.attachment").count() == uploaded
        desk.wait_for_function("[...document.querySelectorAll('figure.attachment img')].every(i => i.complete"
                               " && i.naturalWidth > 0)")
    shoot(desk, "07-staff-request")
    # When the operator reviews, then approves
    desk.get_by_role("button", name="Mulai periksa").click()
    desk.get_by_text("Mulai periksa: berhasil.").wait_for()
    assert action_buttons(desk) == ["request_revision", "approve", "reject"]
    desk.get_by_role("button", name="Setujui").click()
    desk.get_by_text("Setujui: berhasil.").wait_for()
    # Then the operator may not issue: the kades signs
    assert action_buttons(desk) == []
    desk.get_by_role("link", name=re.compile("Keluar")).click()
    staff_login(desk, site, f"kades.{VILLAGE}")
    desk.goto(f"{site.web}/staf/#permohonan/{request_id}")
    assert action_buttons(desk) == ["issue"]
    desk.get_by_role("button", name="Terbitkan surat").click()
    desk.get_by_text("Terbitkan surat: berhasil.").wait_for()
    shoot(desk, "08-staff-issued")

    # When the citizen opens her request and downloads the letter
    page.goto(f"{site.web}/#permohonan/{request_id}")
    page.reload()
    page.get_by_role("button", name="Unduh surat").click()
    link = page.locator("#letter-link")
    link.wait_for()
    shoot(page, "09-citizen-letter")
    pdf = urllib.request.Request(str(link.get_attribute("href")), headers={"Accept": "*/*"})  # as a browser sends
    with urllib.request.urlopen(pdf, timeout=30) as response:
        assert response.read(5) == b"%PDF-"
    # Then the QR's URL opens the verification page, which says the letter is valid
    status, letter = site.call("GET", f"/v1/requests/{request_id}/letter", token=operator)
    assert status == 200
    page.goto(letter["verify_url"])
    page.get_by_text("Surat ASLI dan berlaku").wait_for()
    assert page.url.startswith(f"{site.web}/verifikasi/?token=")
    assert letter["number"] in page.locator("#result").inner_text()
    shoot(page, "10-verification-valid")
    # And the tracking page shows the status without logging in, and no personal data
    anonymous = phone_ctx.browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    anonymous.goto(f"{site.web}/lacak/?kode={tracking}")
    anonymous.get_by_text("Terbit", exact=True).first.wait_for()
    text = anonymous.locator("#result").inner_text()
    assert "Nurhaedah" not in text and NIK not in text
    shoot(anonymous, "11-tracking")
    anonymous.context.close()

    # When the kades revokes the letter with a reason
    desk.goto(f"{site.web}/staf/#permohonan/{request_id}")
    desk.get_by_label("Alasan pencabutan").fill("Data usaha tidak benar")
    desk.get_by_role("button", name="Cabut surat").click()
    desk.get_by_text("Surat dicabut.", exact=True).wait_for()
    # Then the same QR now says revoked, with the reason
    page.goto(letter["verify_url"])
    page.get_by_text("Surat DICABUT").wait_for()
    assert "Data usaha tidak benar" in page.locator("#result").inner_text()
    shoot(page, "22-verification-revoked")


def action_buttons(page: Any) -> list[str]:
    page.get_by_role("heading", name="Tindakan").wait_for()
    return [str(b.get_attribute("data-action")) for b in page.locator("button[data-action]").all()]


def forged_token() -> str:
    """A well-formed letter token whose signature no key of the kabupaten made."""
    from chalicelib.adapters.signing import FACTS_HASH_BYTES, TOKEN_VERSION, b64url_encode

    payload = {"v": TOKEN_VERSION, "kid": "k-forger", "lid": "01JFORGEDLETTER0000000000", "h": b64url_encode(
        bytes(FACTS_HASH_BYTES))}
    return b64url_encode(json.dumps(payload).encode()) + "." + b64url_encode(bytes(64))


def test_verification_page_says_forged_for_a_forged_token(site: LocalSite, phone_ctx: Any) -> None:
    # Given a QR token whose signature the kabupaten never made
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/verifikasi/?token={forged_token()}")
    # Then the page says so in plain words
    page.locator("#result [data-status]").wait_for()
    assert page.locator("#result [data-status]").get_attribute("data-status") == "forged"
    assert "Surat TIDAK ASLI" in page.locator("#result").inner_text()
    shoot(page, "12-verification-forged")


def test_verification_page_with_garbage_shows_the_api_message(site: LocalSite, phone_ctx: Any) -> None:
    # Given a link whose token is not a token at all
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/verifikasi/?token=%E0%A5%A7%0A")
    # Then the page shows the API's own message, and no verdict
    page.locator("#result .notice.error").wait_for()
    status, body = site.call("GET", "/v1/letters/verify/%E0%A5%A7%0A")
    assert status == 400
    assert page.locator("#result").inner_text() == body["message"]
    assert page.locator("#result [data-status]").count() == 0


def test_tracking_page_with_unknown_code_says_not_found(site: LocalSite, phone_ctx: Any) -> None:
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/lacak/")
    page.get_by_label("Kode lacak").fill(" zzzz-zzzz\n")
    page.get_by_role("button", name="Lacak").click()
    page.locator("#result .notice.error").wait_for()
    status, body = site.call("GET", "/v1/track/ZZZZ-ZZZZ")
    assert page.locator("#result").inner_text() == body["message"]
    shoot(page, "13-tracking-unknown")


def test_camat_sees_the_queue_but_no_transitions(site: LocalSite, desk_ctx: Any) -> None:
    # Given a request in Samataring
    citizen = citizen_token(site)
    status, created = site.call("POST", f"/v1/villages/{VILLAGE}/requests", {
        "letter_type": "SKTM", "fields": {"penghasilan_bulanan": 900000, "jumlah_tanggungan": 3,
                                          "keperluan": "Beasiswa"},
        "attachments": {name: site.upload(citizen, VILLAGE, "SKTM", name) for name in ("ktp", "kk", "pengantar_rt")}},
        citizen)
    assert status == 201, created
    # When the camat of Sinjai Timur opens it from the kecamatan's village switcher
    page = desk_ctx.new_page()
    page.goto(f"{site.web}/staf/")
    page.get_by_label("Nama pengguna").fill("camat.73.07.03")
    page.get_by_label("Kata sandi").fill("balai-demo")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_label("Desa/kelurahan").select_option(VILLAGE)
    page.get_by_text(created["tracking_code"]).wait_for()
    page.goto(f"{site.web}/staf/#permohonan/{created['id']}")
    # Then the camat reads it but is offered no transition
    assert action_buttons(page) == []
    page.get_by_text("Tidak ada tindakan untuk Anda pada status ini.").wait_for()
    shoot(page, "14-staff-camat")


def citizen_token(site: LocalSite, nik: str = "7307031203850001", phone: str = "081311112222") -> str:
    """A second citizen (a man born 12-03-1985 in Sinjai Timur) logged in over the API, profile complete."""
    before = site.sms_count()
    status, _ = site.call("POST", "/v1/auth/otp", {"nik": nik, "phone": phone})
    assert status == 202
    status, login = site.call("POST", "/v1/auth/otp/verify", {"nik": nik, "phone": phone,
                                                              "code": site.last_code(before)})
    assert status == 200, login
    token = str(login["token"])
    status, profile = site.call("GET", "/v1/me/profile", token=token)
    if not profile["complete"]:
        day, month, year = int(nik[6:8]), nik[8:10], nik[10:12]
        status, profile = site.call("PUT", "/v1/me/profile", {
            "version": profile["version"], "name": "Andi Baso", "birth_place": "Sinjai",
            "birth_date": f"19{year}-{month}-{day % 40:02d}", "sex": "P" if day > 40 else "L",
            "religion": "Islam", "marital_status": "Kawin", "occupation": "Petani",
            "address": "Jl. Sultan Hasanuddin"}, token)
        assert status == 200, profile
    return token


def test_config_points_at_the_local_api(site: LocalSite) -> None:
    with urllib.request.urlopen(f"{site.web}/config.json") as response:
        assert json.loads(response.read())["apiBase"] == site.api

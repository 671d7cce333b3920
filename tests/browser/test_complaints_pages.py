"""Complaints in the browser (local mode, Debian's Chromium): a citizen files one with a photo and the phone's
location and follows it, rates and reopens it; OPD and village staff work their queues (SLA badges, start,
resolve, reroute, hide, redact); the public page lists and shows public complaints without personal data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import NIK, PHONE, VILLAGE, LocalSite, citizen_login, shoot
from tests.helpers import random_nik, random_phone

PHOTO = Path(__file__).parent / "files" / "ktp.png"


def citizen_token(site: LocalSite, nik: str = NIK, phone: str = PHONE) -> str:
    """A citizen's token over the API (the daily complaint limit is per citizen: tests that file several use a
    citizen of their own, outside the register, whose first phone is bound to the NIK)."""
    before = site.sms_count()
    status, _ = site.call("POST", "/v1/auth/otp", {"nik": nik, "phone": phone})
    assert status in (200, 202), status
    code = site.last_code(before)
    status, login = site.call("POST", "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
    assert status == 200, login
    return str(login["token"])


def file_by_api(site: LocalSite, token: str, **overrides: Any) -> dict[str, Any]:
    body = {"kind": "complaint", "category": "pelayanan_desa", "title": "Kantor kelurahan tutup pukul 10",
            "text": "Kantor kelurahan sudah tutup pukul 10 pagi padahal jam layanan sampai 16.00.", "public": True}
    body.update(overrides)
    status, made = site.call("POST", f"/v1/villages/{VILLAGE}/complaints", body, token)
    assert status == 201, made
    return made


def staff_console(page: Any, site: LocalSite, username: str, heading: str) -> None:
    page.goto(f"{site.web}/staf/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill("balai-demo")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("heading", name=heading).first.wait_for()


def test_citizen_files_a_complaint_with_photo_and_location_and_follows_it(browser: Any, site: LocalSite) -> None:
    # Given a citizen on a phone that shares its location
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="id-ID", permissions=["geolocation"],
                                  geolocation={"latitude": -5.1236, "longitude": 120.2531})
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        citizen_login(page, site)
        # When they file a public road complaint with a photo and their location
        page.get_by_role("link", name="Pengaduan", exact=True).click()
        page.get_by_role("link", name="Buat pengaduan atau aspirasi").click()
        page.get_by_label("Kecamatan").select_option("73.07.03")
        page.get_by_label("Desa/kelurahan").select_option(VILLAGE)
        page.get_by_label("Kategori").select_option("jalan_jembatan")
        page.get_by_label("Judul").fill("Jalan poros Samataring berlubang")
        page.get_by_label("Uraian").fill("Lubang besar di depan SD Negeri 12, sudah dua minggu, berbahaya bagi motor.")
        page.get_by_role("button", name="Gunakan lokasi saya").click()
        page.get_by_text("Lokasi: -5.1236, 120.2531").wait_for()
        page.get_by_label(re.compile("^Foto")).set_input_files(str(PHOTO))
        page.get_by_text("1 foto terunggah.").wait_for()
        shoot(page, "20-complaint-form")
        page.get_by_role("button", name="Kirim").click()
        # Then the complaint is shown, open, routed to Dinas PUPR, with its photo and location
        page.get_by_role("heading", name="Jalan poros Samataring berlubang").wait_for()
        card = page.locator("section.card").first
        assert "Terbuka" in card.inner_text() and "PUPR" in card.inner_text()
        assert "-5.1236, 120.2531" in card.inner_text()
        assert page.get_by_role("button", name="Foto 1").is_visible()
        shoot(page, "21-complaint-detail-citizen")
        # And it is in their list
        page.get_by_role("link", name="← Pengaduan saya").click()
        page.get_by_role("link", name="Jalan poros Samataring berlubang").first.wait_for()
        shoot(page, "22-complaints-mine")
        assert errors == []
    finally:
        context.close()


def test_opd_works_its_queue_and_the_citizen_rates_and_reopens(desk_ctx: Any, phone_ctx: Any, site: LocalSite) -> None:
    # Given a public road complaint
    token = citizen_token(site)
    complaint = file_by_api(site, token, category="jalan_jembatan", title="Jembatan kayu hampir runtuh",
                            text="Papan jembatan kayu di dusun sudah lapuk dan dua papan hilang sejak kemarin.")
    # When the Dinas PUPR officer opens the console, they land on the complaint queue with SLA columns
    page = desk_ctx.new_page()
    staff_console(page, site, "opd.dpupr", "Pengaduan")
    page.get_by_role("link", name="Jembatan kayu hampir runtuh").first.click()
    page.get_by_role("heading", name="Tindakan").wait_for()
    shoot(page, "23-complaint-staff-opd")
    # And they start it, then resolve it with a note (a note is required)
    page.get_by_role("button", name="Mulai tangani").click()
    page.get_by_text("Sedang ditangani").first.wait_for()
    page.get_by_role("button", name="Selesaikan").click()
    page.get_by_text("Apa yang sudah dilakukan wajib diisi.").wait_for()
    page.get_by_label("Apa yang sudah dilakukan").fill("Papan jembatan diganti baru oleh tim UPT.")
    page.get_by_role("button", name="Selesaikan").click()
    page.get_by_text("Selesai ditangani").first.wait_for()
    # Then the citizen rates it and reopens it on their phone
    citizen = phone_ctx.new_page()
    citizen_login(citizen, site)
    citizen.goto(f"{site.web}/#pengaduan/{complaint['id']}")
    citizen.get_by_role("button", name="Kirim penilaian").wait_for()
    citizen.get_by_label("Penilaian penanganan").select_option("4")
    citizen.get_by_role("button", name="Kirim penilaian").click()
    citizen.get_by_text("★★★★☆").wait_for()
    citizen.get_by_label(re.compile("Mengapa belum beres")).fill("Satu papan masih goyang di ujung jembatan.")
    citizen.get_by_role("button", name="Buka kembali").click()
    citizen.get_by_text("Buka kembali → Terbuka").wait_for()
    assert citizen.locator("section.card dd .badge").first.inner_text() == "Terbuka"
    shoot(citizen, "24-complaint-reopened-citizen")


def test_village_staff_reroute_hide_and_redact(desk_ctx: Any, site: LocalSite) -> None:
    token = citizen_token(site, random_nik(), random_phone())
    reroute = file_by_api(site, token, title="Got mampet di gang masjid",
                          text="Got di gang masjid mampet dan airnya meluap ke jalan setiap hujan turun.")
    hide = file_by_api(site, token, title="Laporan yang memuat nama tetangga",
                       text="Tetangga saya bernama lengkap sering membuang sampah sembarangan di depan rumah.")
    page = desk_ctx.new_page()
    staff_console(page, site, f"operator.{VILLAGE}", "Antrean permohonan")
    # The operator's complaint queue lists them
    page.get_by_role("link", name="Pengaduan", exact=True).click()
    page.get_by_role("link", name="Got mampet di gang masjid").wait_for()
    shoot(page, "25-complaint-queue-village")
    # Reroute to Dinas PUPR with a reason
    page.get_by_role("link", name="Got mampet di gang masjid").click()
    page.get_by_label("Alihkan ke").select_option(label="Dinas Pekerjaan Umum dan Penataan Ruang (PUPR)")
    page.get_by_label("Alasan pengalihan").fill("Saluran drainase jalan kabupaten, kewenangan PUPR.")
    page.get_by_role("button", name="Alihkan").click()
    page.get_by_text("Anda hanya dapat membaca pengaduan ini.").wait_for()
    # Hide the other one from the public and redact its text
    page.goto(f"{site.web}/staf/#pengaduan/{hide['id']}")
    page.get_by_label("Alasan disembunyikan dari publik").fill("Memuat data pribadi pihak lain.")
    page.get_by_role("button", name="Sembunyikan dari publik").click()
    page.get_by_text("Disembunyikan petugas").wait_for()
    page.get_by_label("Yang disunting").select_option("text")
    page.get_by_label("Alasan penyuntingan").fill("Nama pihak lain dihapus.")
    page.get_by_role("button", name="Sunting isi/foto").click()
    page.get_by_text("[Isi disunting petugas").first.wait_for()
    # The public page no longer lists the hidden one
    status, public = site.call("GET", f"/v1/villages/{VILLAGE}/complaints/public")
    assert status == 200 and hide["id"] not in {c["id"] for c in public["items"]}
    assert reroute["id"] in {c["id"] for c in public["items"]}


def test_public_page_lists_and_shows_complaints_without_personal_data(phone_ctx: Any, site: LocalSite) -> None:
    token = citizen_token(site, random_nik(), random_phone())
    made = file_by_api(site, token, title="Lampu jalan padam di RT 03",
                       text="Tiga lampu jalan di RT 03 padam sejak seminggu, jalan gelap pada malam hari.")
    file_by_api(site, token, public=False, title="Laporan pribadi tidak untuk umum",
                text="Ini laporan pribadi yang tidak boleh tampil di halaman publik sama sekali.")
    page = phone_ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # When anyone opens the public complaints page of Samataring
    page.goto(f"{site.web}/pengaduan/?desa={VILLAGE}")
    page.get_by_role("link", name="Lampu jalan padam di RT 03").first.wait_for()
    # Then the public complaint is listed and the private one is not
    assert page.get_by_text("Laporan pribadi tidak untuk umum").count() == 0
    shoot(page, "26-complaints-public-list")
    # And its detail has the facts and history but no name, NIK or phone
    page.get_by_role("link", name="Lampu jalan padam di RT 03").first.click()
    page.get_by_role("heading", name="Lampu jalan padam di RT 03").wait_for()
    text = page.locator("main").inner_text()
    assert "Terbuka" in text and "Riwayat" in text
    assert NIK not in text and NIK[-4:] not in text and PHONE not in text and "Pelapor" not in text
    assert made["id"][-8:] in text
    shoot(page, "27-complaint-public-detail")
    # And the village picker leads to another village's (empty) list
    page.get_by_label("Kecamatan").select_option("73.07.09")
    page.get_by_label("Desa/kelurahan").select_option("73.07.09.2001")
    page.get_by_text("Belum ada pengaduan publik").wait_for()
    assert errors == []

"""Staff console details: SLA badges from due_at, and the revision round trip with the citizen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.browser.conftest import VILLAGE, LocalSite, shoot, staff_login
from tests.browser.test_citizen_and_staff import action_buttons, citizen_token


def test_sla_badge_from_due_at(site: LocalSite, desk_ctx: Any) -> None:
    # Given the console's own SLA rule, loaded in the browser, and a fixed clock: 2027-01-15T08:00Z
    page = desk_ctx.new_page()
    page.goto(f"{site.web}/staf/")
    now = datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp() * 1000
    cases = {
        "overdue": {"status": "in_review", "due_at": "2027-01-15T07:00:00Z", "sla_hours": 8},
        "near": {"status": "submitted", "due_at": "2027-01-15T11:00:00Z", "sla_hours": 16},
        "ok": {"status": "submitted", "due_at": "2027-01-15T12:00:00Z", "sla_hours": 16},
        "closed": {"status": "issued", "due_at": "2020-01-01T00:00:00Z", "sla_hours": 8},
    }
    # When each request is judged
    states = page.evaluate("""async ([cases, now]) => {
        const { slaState } = await import('/assets/lib.js');
        return Object.fromEntries(Object.entries(cases).map(([k, r]) => [k, slaState(r, now)]));
    }""", [cases, now])
    # Then past due is overdue, within a fifth of the SLA (3.2 of 16 h) is near, the rest and closed ones
    # have no badge
    assert states == {"overdue": "overdue", "near": "near", "ok": None, "closed": None}


def test_revision_round_trip(site: LocalSite, phone_ctx: Any, desk_ctx: Any) -> None:
    # Given a submitted request and the operator reviewing it
    citizen = citizen_token(site, "7307034506920004", "081377778888")  # a woman born 05-06-1992
    status, types = site.call("GET", f"/v1/villages/{VILLAGE}/letter-types")
    skd = next(t for t in types["items"] if t["code"] == "SKD")
    fields = {"lama_tinggal_tahun": 3, "keperluan": "Mendaftar sekolah"}
    status, created = site.call("POST", f"/v1/villages/{VILLAGE}/requests", {
        "letter_type": "SKD", "fields": fields,
        "attachments": {a["name"]: site.upload(citizen, VILLAGE, "SKD", a["name"]) for a in skd["attachments"]}},
        citizen)
    assert status == 201, created
    desk = desk_ctx.new_page()
    staff_login(desk, site, f"operator.{VILLAGE}")
    desk.goto(f"{site.web}/staf/#permohonan/{created['id']}")
    desk.get_by_role("button", name="Mulai periksa").click()
    desk.get_by_text("Mulai periksa: berhasil.").wait_for()
    # (her NIK is in no village register: the console asks for an in-person identity check, and records it)
    desk.get_by_text("Belum terverifikasi").wait_for()
    desk.get_by_label("Dokumen yang diperiksa langsung").select_option("KTP-el")
    desk.get_by_role("button", name="Catat pemeriksaan identitas").click()
    desk.get_by_text("Pemeriksaan identitas tercatat.").wait_for()
    assert desk.get_by_text("Belum terverifikasi").count() == 0
    # When the operator asks for a revision without a note, nothing is sent; with a note it is
    desk.get_by_role("button", name="Minta perbaikan").click()
    desk.get_by_text("Tulis catatan atau alasan terlebih dahulu.").wait_for()
    desk.get_by_label("Catatan (wajib untuk minta perbaikan dan menolak)").fill(
        "Lama tinggal tidak sesuai KK, mohon diperbaiki.")
    desk.get_by_role("button", name="Minta perbaikan").click()
    desk.get_by_text("Minta perbaikan: berhasil.").wait_for()
    assert action_buttons(desk) == []
    # Then the citizen sees the note, corrects the field and resubmits
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/")
    page.evaluate("([t]) => localStorage.setItem('balai.citizen', "
                  "JSON.stringify({token: t, expiresAt: Date.now() + 1e6}))", [citizen])
    page.goto(f"{site.web}/#permohonan/{created['id']}")
    page.get_by_text("Catatan petugas: Lama tinggal tidak sesuai KK, mohon diperbaiki.").wait_for()
    shoot(page, "17-citizen-revision")
    page.get_by_label("Lama tinggal (tahun)").fill("7")
    page.get_by_role("button", name="Ajukan ulang").click()
    page.get_by_text("Permohonan diajukan ulang.").wait_for()
    status, now = site.call("GET", f"/v1/requests/{created['id']}", token=citizen)
    assert now["status"] == "submitted" and now["fields"]["lama_tinggal_tahun"] == 7
    # And the operator's queue shows it submitted again, with exactly review and reject offered
    desk.reload()
    assert action_buttons(desk) == ["review", "reject"]


def test_operator_adjusts_letter_types_and_settings(site: LocalSite, desk_ctx: Any) -> None:
    village = "73.07.09.2001"  # Desa Pulau Harapan
    page = desk_ctx.new_page()
    staff_login(page, site, f"kades.{village}")
    # When the kades gives a non-number as the SLA of SKU
    page.goto(f"{site.web}/staf/#jenis-surat")
    sku = page.locator("form[data-type=SKU]")
    sku.get_by_label("Batas waktu (jam kerja)").fill("dua hari")
    sku.get_by_role("button", name="Simpan").click()
    # Then the API's own message stands by the field, and nothing changed
    sku.locator(".field-error").wait_for()
    status, listed = site.call("GET", f"/v1/villages/{village}/letter-types")
    assert next(t for t in listed["items"] if t["code"] == "SKU")["sla_hours"] == 16
    # When the kades switches SKU off with a valid SLA, then the public list no longer offers it
    sku.get_by_label("Batas waktu (jam kerja)").fill("24")
    sku.get_by_label("Dilayani di desa ini").uncheck()
    sku.get_by_role("button", name="Simpan").click()
    page.get_by_text("Surat Keterangan Usaha: tersimpan.").wait_for()
    status, listed = site.call("GET", f"/v1/villages/{village}/letter-types")
    assert "SKU" not in {t["code"] for t in listed["items"]}
    shoot(page, "18-staff-letter-types")
    # And a second save on the same page uses the new version (no 409): switch it back on
    sku.get_by_label("Dilayani di desa ini").check()
    sku.get_by_role("button", name="Simpan").click()
    page.get_by_text("Surat Keterangan Usaha: tersimpan.").wait_for()
    status, listed = site.call("GET", f"/v1/villages/{village}/letter-types")
    assert next(t for t in listed["items"] if t["code"] == "SKU")["sla_hours"] == 24
    # When the kades sets the letterhead address
    page.goto(f"{site.web}/staf/#pengaturan")
    page.get_by_label("Alamat kantor (kop surat)").fill("Jl. Poros Pulau Harapan No. 1")
    page.get_by_role("button", name="Simpan pengaturan").click()
    page.get_by_text("Pengaturan tersimpan.").wait_for()
    shoot(page, "19-staff-letter-settings")
    token = site.staff_token(f"kades.{village}")
    status, settings = site.call("GET", f"/v1/villages/{village}/letter-settings", token=token)
    assert settings["address"] == "Jl. Poros Pulau Harapan No. 1"
    # And the kades puts the village's lambang on the kop surat
    page.get_by_label("Berkas lambang (PNG atau JPEG, paling besar 200 KB)").set_input_files(
        str(Path(__file__).parent / "files" / "ktp.png"))
    page.get_by_role("button", name="Unggah lambang").click()
    page.get_by_text("Lambang terpasang.").wait_for()
    status, settings = site.call("GET", f"/v1/villages/{village}/letter-settings", token=token)
    assert settings["logo_key"]
    # And the failed-notifications page answers (empty here)
    page.goto(f"{site.web}/staf/#notifikasi")
    page.get_by_role("heading", name="Notifikasi gagal").wait_for()
    page.locator("main p, main ul").last.wait_for()
    shoot(page, "20-staff-notifications")

"""Staff accounts page of the console (admin and camat), over the staff accounts API."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from tests.browser.conftest import VILLAGE, LocalSite, shoot, staff_login

pytestmark = pytest.mark.skipif(importlib.util.find_spec("chalicelib.api.staff") is None,
                                reason="the staff accounts API (branch staff) is not merged here yet")


def test_admin_creates_disables_and_resets_an_operator(site: LocalSite, desk_ctx: Any) -> None:
    # Given the kabupaten admin on the accounts page of Samataring
    page = desk_ctx.new_page()
    staff_login(page, site, "admin")
    page.goto(f"{site.web}/staf/#akun?wilayah={VILLAGE}")
    page.get_by_text(f"operator.{VILLAGE}", exact=True).wait_for()
    form = page.locator("form").filter(has_text="Akun baru di wilayah")
    # When the new account's password is too short
    form.get_by_label("Nama pengguna").fill(f"operator2.{VILLAGE}")
    form.get_by_label("Kata sandi awal (minimal 10 karakter)").fill("pendek")
    form.get_by_label("Peran").select_option("operator")
    form.get_by_label("Nama lengkap dengan gelar").fill("Rahmawati, S.Kom.")
    form.get_by_label("Jabatan").fill("Operator Kelurahan Samataring")
    form.get_by_role("button", name="Buat akun").click()
    # Then the API's message stands by the password field and no account was made
    form.locator(".field").filter(has=page.get_by_label("Kata sandi awal (minimal 10 karakter)")) \
        .locator(".field-error").wait_for()
    status, _ = site.call("POST", "/v1/auth/login", {"username": f"operator2.{VILLAGE}", "password": "pendek"})
    assert status == 401
    # When the password is long enough, the account is made and can log in
    form.get_by_label("Kata sandi awal (minimal 10 karakter)").fill("sandi-awal-2026")
    form.get_by_role("button", name="Buat akun").click()
    page.get_by_text(f"Akun operator2.{VILLAGE} dibuat.").wait_for()
    status, _ = site.call("POST", "/v1/auth/login", {"username": f"operator2.{VILLAGE}", "password": "sandi-awal-2026"})
    assert status == 200
    shoot(page, "21-staff-accounts")
    # When the admin disables it, it can no longer log in
    row = page.locator("tr").filter(has_text=f"operator2.{VILLAGE}")
    row.get_by_role("button", name="Nonaktifkan").click()
    page.get_by_text(f"operator2.{VILLAGE}: dinonaktifkan.").wait_for()
    status, _ = site.call("POST", "/v1/auth/login", {"username": f"operator2.{VILLAGE}", "password": "sandi-awal-2026"})
    assert status in (401, 403)
    # And a password reset shows a temporary password once, which works after re-enabling
    page.locator("tr").filter(has_text=f"operator2.{VILLAGE}").get_by_role("button", name="Aktifkan").click()
    page.get_by_text(f"operator2.{VILLAGE}: diaktifkan.").wait_for()
    page.once("dialog", lambda d: d.accept())
    row = page.locator("tr").filter(has_text=f"operator2.{VILLAGE}")
    row.get_by_role("button", name="Atur ulang kata sandi").click()
    temporary = page.locator("#temporary-password").inner_text()
    status, _ = site.call("POST", "/v1/auth/login", {"username": f"operator2.{VILLAGE}", "password": temporary})
    assert status == 200


def test_camat_may_only_make_village_staff(site: LocalSite, desk_ctx: Any) -> None:
    page = desk_ctx.new_page()
    staff_login(page, site, "camat.73.07.03")
    page.goto(f"{site.web}/staf/#akun?wilayah={VILLAGE}")
    page.locator("select[name=role]").wait_for()
    options = page.locator("select[name=role] option").all_inner_texts()
    assert options == ["Operator", "Kepala desa/lurah"]
    # And another kecamatan's village is not the camat's to see
    page.goto(f"{site.web}/staf/#akun?wilayah=73.07.09.2001")
    page.locator(".notice.error").wait_for()

"""The public transparency dashboard (/transparansi/): figures counted by the stream handler, charts, ranking,
open-data links, at 360 and 1280 px."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.conftest import VILLAGE, LocalSite, shoot
from tests.browser.test_citizen_and_staff import citizen_token


def _requests_in(site: LocalSite, code: str) -> int:
    status, stats = site.call("GET", f"/v1/stats/regions/{code}")
    assert status == 200, stats
    return int(stats["totals"]["requests"])


def test_dashboard_shows_a_request_counted_by_the_stream(site: LocalSite, phone_ctx: Any, desk_ctx: Any) -> None:
    # Given a request submitted over the API (local mode's stream poller counts it within a second or two)
    before = _requests_in(site, "73.07")
    citizen = citizen_token(site, "7307031507880003", "081355554444")
    status, types = site.call("GET", f"/v1/villages/{VILLAGE}/letter-types")
    skd = next(t for t in types["items"] if t["code"] == "SKD")
    status, created = site.call("POST", f"/v1/villages/{VILLAGE}/requests", {
        "letter_type": "SKD", "fields": {"lama_tinggal_tahun": 2, "keperluan": "Melamar pekerjaan"},
        "attachments": {a["name"]: site.upload(citizen, VILLAGE, "SKD", a["name"]) for a in skd["attachments"]}},
        citizen)
    assert status == 201, created
    deadline = time.time() + 20
    while _requests_in(site, "73.07") == before and time.time() < deadline:
        time.sleep(0.3)
    assert _requests_in(site, "73.07") == before + 1
    # When anyone opens the dashboard on a phone
    page = phone_ctx.new_page()
    page.goto(f"{site.web}/transparansi/")
    # Then the kabupaten's figures, both charts and the kecamatan ranking are shown, with the open data
    page.get_by_role("heading", name="Kabupaten Sinjai").wait_for()
    assert page.locator(".tile").filter(has_text="Permohonan").first.locator("strong").inner_text() == str(before + 1)
    assert page.locator("svg.chart").count() == 2
    page.get_by_role("heading", name="Peringkat kecamatan").wait_for()
    assert page.locator("table.ranking tbody tr").count() == 9
    csv_link = page.get_by_role("link", name="Unduh CSV")
    assert "/v1/stats/regions/73.07/export.csv?from=" in (csv_link.get_attribute("href") or "")
    shoot(page, "30-transparency-kabupaten")
    # When the visitor follows Sinjai Timur in the ranking, its villages are ranked
    page.get_by_role("link", name="Sinjai Timur").click()
    page.get_by_role("heading", name="Kecamatan Sinjai Timur").wait_for()
    page.get_by_role("heading", name="Peringkat desa/kelurahan").wait_for()
    row = page.locator("table.ranking tbody tr").filter(has_text="Samataring")
    assert row.locator("td").nth(2).inner_text() != "0"
    # And a range of more than 24 months is refused with the API's message, nothing else shown
    desk = desk_ctx.new_page()
    desk.goto(f"{site.web}/transparansi/?wilayah=73.07&dari=2020-01&sampai=2026-12")
    desk.get_by_text("Rentang paling panjang 24 bulan.").wait_for()
    desk.goto(f"{site.web}/transparansi/?wilayah=73.07.03")
    desk.get_by_role("heading", name="Peringkat desa/kelurahan").wait_for()
    shoot(desk, "31-transparency-kecamatan")


def test_district_view_in_the_staff_console(site: LocalSite, desk_ctx: Any) -> None:
    # Given the kabupaten admin logged in to the console
    from tests.browser.conftest import staff_login

    page = desk_ctx.new_page()
    staff_login(page, site, "admin")
    # When they open the district view from the menu
    page.get_by_role("link", name="Ringkasan wilayah").click()
    # Then villages are ranked, the backlog and every kecamatan's totals are shown
    page.get_by_role("heading", name="Peringkat tepat waktu").wait_for()
    page.get_by_role("heading", name="Per kecamatan").wait_for()
    per_kecamatan = page.locator("table").filter(has_text="Pulau Sembilan").last
    assert per_kecamatan.locator("tbody tr").count() == 9
    shoot(page, "32-district-view")

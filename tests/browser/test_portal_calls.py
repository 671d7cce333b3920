"""The portal asks the API only for what it does not have (issue 14: every call is an API Gateway request and, on
another origin, often a CORS preflight too), counted in Chromium against local mode: a first-time applicant's
login opens the form, the form needs no profile read once the profile is complete, and one region answer fills
both selects; that answer reaches the browser gzip-coded."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LocalSite, citizen_login
from tests.browser.test_citizen_and_staff import fill_profile

NIK = "7307035708900099"  # a woman born 17-08-1990 in Sinjai Timur, in no village register, with no request yet
PHONE = "081377778888"


def test_a_first_time_applicant_reaches_the_form_with_few_calls(site: LocalSite, phone_ctx: Any) -> None:
    page = phone_ctx.new_page()
    calls: list[str] = []
    page.on("request", lambda r: calls.append(f"{r.method} {r.url[len(site.api):]}")
            if r.url.startswith(site.api) else None)
    regions: list[Any] = []
    page.on("response", lambda r: regions.append(r) if "/v1/regions/" in r.url else None)
    # When a citizen with no request yet logs in with a code
    citizen_login(page, site, nik=NIK, phone=PHONE)
    # Then the portal opens the form, which asks her to complete her profile first: no list of nothing is read
    page.get_by_role("heading", name="Profil pemohon").wait_for()
    assert not any(c.startswith("GET /v1/me/requests") for c in calls), calls
    # When she completes it
    fill_profile(page)
    seen = len(calls)
    page.get_by_role("button", name="Simpan profil").click()
    # Then the form's selects are filled from one region answer (her kecamatan with its siblings), and the profile
    # she just saved is not read again
    page.get_by_role("heading", name="Ajukan surat").wait_for()
    page.locator("select[name=village] option", has_text="Samataring").wait_for(state="attached")
    after = calls[seen:]
    assert [c for c in after if "/v1/regions/" in c] == ["GET /v1/regions/73.07.03?siblings=true"], after
    assert not any(c.startswith("GET /v1/me/profile") for c in after), after
    assert page.get_by_label("Kecamatan").input_value() == "73.07.03"
    # And that answer (about 2 KB of JSON) came gzip-coded, as the function URL sends it, and the page read it
    headers = next(r for r in regions if "siblings=true" in r.url).all_headers()
    assert headers["content-encoding"] == "gzip" and "accept-encoding" in headers["vary"].lower(), headers

"""What the web client needs comes in the answers it already asks for (issue 14: API Gateway is paid per request):
a request carries its signer and field labels and, for its owner, the issued letter's link; a staff login carries
its region; regions and a village's catalogue may be kept by the browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SAMATARING, act, get, issue_over_api, post, staff_token, submitted


@pytest.fixture()
def citizen(registered_citizen) -> dict[str, Any]:
    return registered_citizen


def test_a_request_names_its_signer_and_its_fields_labels(client, citizen):
    # Given a submitted SKD
    request = submitted(client, citizen)
    # When its owner or the operator reads it
    for token in (citizen["token"], staff_token(client, f"operator.{SAMATARING}")):
        body = get(client, f"/v1/requests/{request['id']}", token).json_body
        # Then the page needs no letter-types call: the signer and every field's label come with it
        assert body["signer_role"] == "kades"
        assert body["field_labels"]["keperluan"] == "Keperluan"
        assert set(body["fields"]) <= set(body["field_labels"])


def test_the_owner_gets_the_issued_letters_link_with_the_request_staff_do_not(client, citizen):
    # Given an issued letter
    operator = staff_token(client, f"operator.{SAMATARING}")
    r = submitted(client, citizen)
    r = act(client, operator, r, "review").json_body
    r = act(client, operator, r, "approve").json_body
    issued = issue_over_api(client, staff_token(client, f"kades.{SAMATARING}"), r)
    # When the owner reads her request
    mine = get(client, f"/v1/requests/{issued['id']}", citizen["token"]).json_body
    # Then it carries the PDF's 5-minute link, as GET .../letter answers it, and leaves no audit event
    download = mine["letter"]["download"]
    assert download["expires_in"] == 300 and download["url"] and download["number"] == mine["letter"]["number"]
    assert not any(e["action"] == "download_letter" for e in mine["history"])
    pdf = client.http.get("/" + download["url"].split("://", 1)[1].split("/", 1)[1], headers={"Accept": "*/*"})
    assert pdf.status_code == 200 and pdf.body.startswith(b"%PDF-")
    # And the operator's view carries no link: a staff download stays a recorded GET .../letter
    theirs = get(client, f"/v1/requests/{issued['id']}", operator).json_body
    assert "download" not in theirs["letter"]


def test_a_staff_login_answers_its_region_citizens_do_not_need_it(client):
    # When the operator of Samataring logs in
    body = post(client, "/v1/auth/login", {"username": f"operator.{SAMATARING}", "password": "balai-demo"}).json_body
    # Then the answer names the village and its time zone (the console asks GET /v1/regions no more)
    assert body["region_info"] == {"code": SAMATARING, "name": "Samataring", "level": "kelurahan",
                                   "timezone": "Asia/Makassar"}


def test_regions_and_the_catalogue_may_be_kept_by_the_browser_a_staff_catalogue_not(client):
    # When anyone reads a region or a village's letter types
    region = get(client, "/v1/regions/73.07")
    types = get(client, f"/v1/villages/{SAMATARING}/letter-types")
    # Then each file says the size a photo of it is sent at: a card (KTP) smaller than a page (KK)
    skd = next(t for t in types.json_body["items"] if t["code"] == "SKD")
    assert {a["name"]: a["photo_max_px"] for a in skd["attachments"]} == {"ktp": 1024, "kk": 1600,
                                                                         "pengantar_rt": 1600}
    # And the browser may keep them for minutes
    assert region.headers["Cache-Control"] == "public, max-age=600"
    assert types.headers["Cache-Control"] == "public, max-age=300"
    # But the staff's view with disabled types is never kept
    kades = staff_token(client, f"kades.{SAMATARING}")
    staff_view = get(client, f"/v1/villages/{SAMATARING}/letter-types?include_disabled=true", kades)
    assert staff_view.status_code == 200 and staff_view.headers["Cache-Control"] == "private, no-store"
    # And an error is not kept either
    assert "public" not in get(client, "/v1/regions/99.99").headers.get("Cache-Control", "")


def test_the_portal_form_gets_the_kecamatan_list_with_its_own_kecamatan_in_one_answer(client):
    # When the portal asks for the citizen's own kecamatan with its siblings
    own = get(client, "/v1/regions/73.07.03?siblings=true")
    # Then one answer holds the kecamatan's villages and every kecamatan of the kabupaten, as two reads did
    kabupaten = get(client, "/v1/regions/73.07").json_body
    body = own.json_body
    assert own.status_code == 200 and own.headers["Cache-Control"] == "public, max-age=600"
    assert body["siblings"] == kabupaten["children"]
    assert any(c["code"] == "73.07.03" for c in body["siblings"])
    assert body["children"] == get(client, "/v1/regions/73.07.03").json_body["children"]
    assert any(v["code"] == SAMATARING for v in body["children"])
    # And without the parameter the answer is as before
    assert "siblings" not in get(client, "/v1/regions/73.07.03").json_body


def test_a_bad_siblings_parameter_is_a_400(client):
    response = get(client, "/v1/regions/73.07.03?siblings=yes")
    assert response.status_code == 400 and response.json_body["code"] == "invalid_parameter"


def test_a_code_login_says_whether_the_profile_is_complete(client):
    from tests.helpers import citizen_login, complete_profile, otp_code, random_nik, random_phone

    # Given a citizen outside every register, whose first login finds no profile
    nik, phone = random_nik(), random_phone()
    first = citizen_login(client, nik, phone)
    # When they have completed it and log in with a code again
    complete_profile(client, first)
    assert post(client, "/v1/auth/otp", {"nik": nik, "phone": phone}).status_code == 202
    again = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": otp_code(phone)}).json_body
    # Then the login answer says so and names the NIK's kecamatan: the portal's form needs no profile read
    assert again["profile_complete"] is True and again["region"] == f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"
    assert get(client, "/v1/me/profile", again["token"]).json_body["complete"] is True


def test_a_first_login_without_a_profile_says_it_is_incomplete(client):
    from tests.helpers import otp_code, random_nik, random_phone

    nik, phone = random_nik(), random_phone()
    assert post(client, "/v1/auth/otp", {"nik": nik, "phone": phone}).status_code == 202
    login = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": otp_code(phone)}).json_body
    assert login["profile_complete"] is False
    assert get(client, "/v1/me/profile", login["token"]).json_body["complete"] is False


def test_a_code_login_says_whether_she_has_asked_for_a_letter_before(client, registered_citizen):
    from tests.helpers import otp_code

    nik, phone = registered_citizen["nik"], registered_citizen["phone"]

    def login() -> dict[str, Any]:
        assert post(client, "/v1/auth/otp", {"nik": nik, "phone": phone}).status_code == 202
        return post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": otp_code(phone)}).json_body

    # Given a citizen who has never asked for a letter: her login says so (the portal opens the form, not a list)
    assert login()["has_requests"] is False
    # When she has submitted one
    submitted(client, registered_citizen)
    # Then her next login says she has (the portal opens her list)
    assert login()["has_requests"] is True

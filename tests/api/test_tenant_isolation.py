"""Tenant isolation: every staff role against a request of its own village, of another village in the
same kecamatan and of another kecamatan; a citizen against another citizen's request."""

import pytest

from tests.conftest import (
    KECAMATAN_SINJAI_TIMUR,
    PULAU_HARAPAN,
    SAMATARING,
    act,
    citizen_login,
    complete_profile,
    get,
    other_village_same_kecamatan,
    staff_token,
    submitted,
)

# For each account: (can read, can work the queue) for a request in
# [its own village, another village of the same kecamatan, a village in another kecamatan].
MATRIX = {
    "operator": [(True, True), (False, False), (False, False)],
    "kades": [(True, True), (False, False), (False, False)],
    "camat": [(True, False), (True, False), (False, False)],
    "admin": [(True, False), (True, False), (True, False)],
}


@pytest.fixture(scope="module")
def requests_by_place(app):
    from chalice.test import Client

    with Client(app) as client:
        citizen = citizen_login(client)
        complete_profile(client, citizen)
        villages = {"own": SAMATARING, "same_kecamatan": other_village_same_kecamatan(),
                    "other_kecamatan": PULAU_HARAPAN}
        # One request per (role, place), so one account's reject does not change another's case.
        return {(role, place): submitted(client, citizen, village)
                for role in [*MATRIX, "other"] for place, village in villages.items()}


def account(role: str) -> str:
    return {"operator": f"operator.{SAMATARING}", "kades": f"kades.{SAMATARING}",
            "camat": f"camat.{KECAMATAN_SINJAI_TIMUR}", "admin": "admin"}[role]


@pytest.mark.parametrize("role", list(MATRIX))
@pytest.mark.parametrize("place_index,place", enumerate(["own", "same_kecamatan", "other_kecamatan"]))
def test_staff_matrix(client, requests_by_place, role, place_index, place):
    token = staff_token(client, account(role))
    request = requests_by_place[(role, place)]
    can_read, can_work = MATRIX[role][place_index]

    read = get(client, f"/v1/requests/{request['id']}", token)
    assert read.status_code == (200 if can_read else 404), read.body

    queue = get(client, f"/v1/villages/{request['village']}/requests", token)
    assert queue.status_code == (200 if can_read else 404)
    if can_read:
        assert request["id"] in {i["id"] for i in queue.json_body["items"]}

    # A transition the account may not make changes nothing: 404 outside scope, 403 inside it.
    response = act(client, token, request, "reject", "uji isolasi")
    if can_work:
        assert response.status_code == 200
    else:
        assert response.status_code == (403 if can_read else 404), response.body


def test_opd_reads_no_service_requests(client, requests_by_place):
    from chalicelib.auth import issue_token
    from chalicelib.domain.requests import Principal

    token, _ = issue_token(Principal("opd", "73.07", "dinas.pupr"))
    assert get(client, f"/v1/requests/{requests_by_place[('other', 'own')]['id']}", token).status_code == 404
    assert get(client, f"/v1/villages/{SAMATARING}/requests", token).status_code == 403


def test_citizen_cannot_see_or_touch_another_citizens_request(client, requests_by_place):
    other = citizen_login(client)
    request = requests_by_place[("other", "other_kecamatan")]
    assert get(client, f"/v1/requests/{request['id']}", other["token"]).status_code == 404
    assert act(client, other["token"], request, "cancel").status_code == 404
    assert get(client, f"/v1/villages/{PULAU_HARAPAN}/requests", other["token"]).status_code == 403
    assert get(client, "/v1/me/requests", other["token"]).json_body["items"] == []


def test_a_token_from_another_kabupaten_sees_nothing(client, requests_by_place):
    from chalicelib.auth import issue_token
    from chalicelib.domain.requests import Principal

    token, _ = issue_token(Principal("admin", "73.08", "admin.bulukumba"))
    assert get(client, f"/v1/requests/{requests_by_place[('other', 'own')]['id']}", token).status_code == 404
    assert get(client, f"/v1/villages/{SAMATARING}/requests", token).status_code == 404


# ---- attachments (issue 10.4): the same matrix for the short-lived links, and uploads stay their owner's
@pytest.mark.parametrize("role", list(MATRIX))
@pytest.mark.parametrize("place_index,place", enumerate(["own", "same_kecamatan", "other_kecamatan"]))
def test_attachment_links_follow_the_matrix(client, requests_by_place, role, place_index, place):
    token = staff_token(client, account(role))
    request = requests_by_place[("other", place)]
    can_read, _ = MATRIX[role][place_index]
    response = get(client, f"/v1/requests/{request['id']}/attachments/ktp", token)
    assert response.status_code == (200 if can_read else 404), response.body
    if not can_read:
        assert "url" not in response.json_body


def test_citizen_cannot_open_or_reuse_another_citizens_attachments(client, requests_by_place):
    from tests.conftest import submit, upload

    other = citizen_login(client)
    complete_profile(client, other)
    request = requests_by_place[("other", "own")]
    assert get(client, f"/v1/requests/{request['id']}/attachments/ktp", other["token"]).status_code == 404
    # The owner's upload ids, guessed or leaked, are not the other citizen's to attach
    owner_refs = next(iter(requests_by_place.values()))  # any: their upload ids are not in the request JSON
    assert "upload_id" not in json_dumps(owner_refs)
    mine = {"ktp": upload(client, other, "ktp")}
    from chalicelib.storage import requests as repo

    stored = repo.get(request["id"])
    theirs = {name: data["upload_id"] for name, data in stored.attachments.items()}
    response = submit(client, other, attachments={**theirs, **mine})
    assert response.status_code == 422 and response.json_body["code"] == "invalid_attachment"


def test_uploads_for_another_village_cannot_be_attached_here(client):
    from tests.conftest import submit, upload

    c = citizen_login(client)
    complete_profile(client, c)
    elsewhere = {name: upload(client, c, name, village=PULAU_HARAPAN) for name in ("ktp", "kk", "pengantar_rt")}
    response = submit(client, c, village=SAMATARING, attachments=elsewhere)
    assert response.status_code == 422 and response.json_body["code"] == "invalid_attachment"


def json_dumps(value):
    import json

    return json.dumps(value)

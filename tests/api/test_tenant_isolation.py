"""Tenant isolation: every staff role against a request (and a resident register entry) of its own village, of
another village in the same kecamatan and of another kecamatan; a citizen against another citizen's request."""

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


# ---- the resident register (issue 8.2): read [own village, same kecamatan, other kecamatan], write ----------
REGISTER_MATRIX = {
    "operator": [(True, True), (False, False), (False, False)],
    "kades": [(True, True), (False, False), (False, False)],
    "camat": [(True, False), (True, False), (False, False)],
    "admin": [(True, True), (True, True), (True, True)],
}


@pytest.fixture(scope="module")
def residents_by_place(app):
    from chalice.test import Client

    from tests.conftest import register_resident

    with Client(app) as client:
        villages = {"own": SAMATARING, "same_kecamatan": other_village_same_kecamatan(),
                    "other_kecamatan": PULAU_HARAPAN}
        found = {}
        for place, village in villages.items():
            c = citizen_login(client)
            found[place] = register_resident(c, village=village)
        return found


@pytest.mark.parametrize("role", list(REGISTER_MATRIX))
@pytest.mark.parametrize("place_index,place", enumerate(["own", "same_kecamatan", "other_kecamatan"]))
def test_register_matrix(client, residents_by_place, role, place_index, place):
    from tests.conftest import put

    token = staff_token(client, account(role))
    resident = residents_by_place[place]
    can_read, can_write = REGISTER_MATRIX[role][place_index]
    base = f"/v1/villages/{resident['village']}/residents"

    listed = get(client, base, token)
    assert listed.status_code == (200 if can_read else 404), listed.body
    read = get(client, f"{base}/{resident['id']}", token)
    assert read.status_code == (200 if can_read else 404)
    if can_read:
        full = role in ("operator", "kades")
        assert (read.json_body["nik"] == resident["nik"]) is full
        assert (read.json_body["kk_number"] == resident["kk_number"]) is full

    current = get(client, f"{base}/{resident['id']}", staff_token(client, "admin")).json_body["version"]
    response = put(client, f"{base}/{resident['id']}", {"version": current, "occupation": "Guru"}, token)
    if can_write:
        assert response.status_code == 200, response.body
    else:
        assert response.status_code == (403 if can_read else 404), response.body
        after = get(client, f"{base}/{resident['id']}", staff_token(client, "admin")).json_body
        assert after["version"] == current


def test_a_token_from_another_kabupaten_sees_no_register(client, residents_by_place):
    from chalicelib.auth import issue_token
    from chalicelib.domain.requests import Principal

    token, _ = issue_token(Principal("admin", "73.08", "admin.bulukumba"))
    resident = residents_by_place["own"]
    assert get(client, f"/v1/villages/{SAMATARING}/residents", token).status_code == 404
    assert get(client, f"/v1/villages/{SAMATARING}/residents/{resident['id']}", token).status_code == 404

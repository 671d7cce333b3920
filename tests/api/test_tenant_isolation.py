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


def _account_token(username: str, role: str, region: str, opd: str | None = None) -> str:
    """A token of a real account (tokens of accounts that do not exist are refused since sessions are checked)."""
    from chalicelib.auth import issue_token
    from chalicelib.domain.clock import iso, utcnow
    from chalicelib.domain.requests import Principal
    from chalicelib.storage import people

    people.create_staff(people.Staff(username, "x", role, region, "Andi Uji Isolasi", position="Staf", opd=opd),
                        iso(utcnow()), overwrite=True)
    token, _ = issue_token(Principal(role, region, username, session_version=1, unit=opd or ""))
    return token


def test_opd_reads_no_service_requests(client, requests_by_place):
    token = _account_token("dinas.pupr", "opd", "73.07", opd="dpupr")
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
    token = _account_token("admin.bulukumba", "admin", "73.08")
    assert get(client, f"/v1/requests/{requests_by_place[('other', 'own')]['id']}", token).status_code == 404
    assert get(client, f"/v1/villages/{SAMATARING}/requests", token).status_code == 404
    # nor any staff account of Sinjai
    assert get(client, f"/v1/staff/operator.{SAMATARING}", token).status_code == 404
    assert get(client, f"/v1/regions/{SAMATARING}/staff", token).status_code == 404


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
    every = get(client, f"/v1/requests/{request['id']}/attachments", token)
    assert every.status_code == (200 if can_read else 404), every.body
    assert ("items" in every.json_body) == can_read


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



# ---- staff accounts (issue 9.7) ------------------------------------------------------------------
# For each account: can it read and manage the operator (for an operator: the kades) account of
# [its own village, another village of the same kecamatan, a village in another kecamatan];
# an account a role cannot manage at all is 403, one outside its region 404.
STAFF_MATRIX = {
    "operator": [403, 403, 403],
    "kades": [403, 403, 403],
    "camat": [200, 200, 404],
    "admin": [200, 200, 200],
}


@pytest.mark.parametrize("role", list(STAFF_MATRIX))
@pytest.mark.parametrize("place_index,village", enumerate([SAMATARING, "same_kecamatan", PULAU_HARAPAN]))
def test_staff_accounts_matrix(client, role, place_index, village):
    import json

    village = other_village_same_kecamatan() if village == "same_kecamatan" else village
    token = staff_token(client, account(role))
    expected = STAFF_MATRIX[role][place_index]
    target = f"{'kades' if role == 'operator' else 'operator'}.{village}"  # never the caller's own account

    read = get(client, f"/v1/staff/{target}", token)
    assert read.status_code == expected, read.body
    listed = get(client, f"/v1/regions/{village}/staff", token)
    assert listed.status_code == (200 if expected == 200 else 403 if expected == 403 else 404), listed.body
    # A change it may not make writes nothing; one it may make is audited under its name.
    change = client.http.request("PATCH", f"/v1/staff/{target}", headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json"},
                                 body=json.dumps({"version": read.json_body.get("version", 1),
                                                  "position": f"Operator {role}"}))
    assert change.status_code == expected, change.body
    created = client.http.post(f"/v1/regions/{village}/staff", headers={"Authorization": f"Bearer {token}",
                               "Content-Type": "application/json"},
                               body=json.dumps({"username": f"op.{role}.{place_index}", "password": "sandi-awal-12345",
                                                "role": "operator", "name": "Andi Uji", "position": "Operator"}))
    assert created.status_code == (201 if expected == 200 else expected), created.body
    from chalicelib.storage import people

    staff = people.get_staff(target)
    assert (staff is not None and staff.position == f"Operator {role}") == (expected == 200)
    assert (people.get_staff(f"op.{role}.{place_index}") is not None) == (expected == 200)


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
    token = _account_token("admin.bulukumba", "admin", "73.08")
    resident = residents_by_place["own"]
    assert get(client, f"/v1/villages/{SAMATARING}/residents", token).status_code == 404
    assert get(client, f"/v1/villages/{SAMATARING}/residents/{resident['id']}", token).status_code == 404


# The message bill (issue 14.4): each staff role against its own village, another village of the same
# kecamatan and a village of another kecamatan; the opd role and citizens read no bill.
BILL_MATRIX = {"operator": (200, 404, 404), "kades": (200, 404, 404), "camat": (200, 200, 404),
               "admin": (200, 200, 200)}


@pytest.mark.parametrize("role", list(BILL_MATRIX))
def test_message_bill_matrix(client, role):
    token = staff_token(client, account(role))
    places = (SAMATARING, other_village_same_kecamatan(), PULAU_HARAPAN)
    got = tuple(get(client, f"/v1/admin/message-bill/{village}", token).status_code for village in places)
    assert got == BILL_MATRIX[role]
# ---- complaints (issue 12.2): every staff role, the opd role of two OPDs, another kabupaten, against private
# complaints the village handles [own village, same kecamatan, other kecamatan] and ones Dinas PUPR handles
# [in the own village, in another kecamatan]. For each: the read status, and the status of `acknowledge`.
COMPLAINT_PLACES = ["village_own", "village_same_kecamatan", "village_other_kecamatan", "pupr_own", "pupr_other"]
COMPLAINT_MATRIX = {
    "operator": [(200, 200), (404, 404), (404, 404), (200, 403), (404, 404)],
    "kades": [(200, 200), (404, 404), (404, 404), (200, 403), (404, 404)],
    "camat": [(200, 403), (200, 403), (404, 404), (200, 403), (404, 404)],
    "admin": [(200, 403), (200, 403), (200, 403), (200, 403), (200, 403)],
    "opd_pupr": [(404, 404), (404, 404), (404, 404), (200, 200), (200, 200)],
    "opd_dinkes": [(404, 404)] * 5,
    "admin_other_kabupaten": [(404, 404)] * 5,
    "opd_pupr_other_kabupaten": [(404, 404)] * 5,
}


def complaint_token(client, who: str) -> str:
    if who in MATRIX:
        return staff_token(client, account(who))
    return {"opd_pupr": lambda: staff_token(client, "opd.dpupr"),
            "opd_dinkes": lambda: staff_token(client, "opd.dinkes"),
            "admin_other_kabupaten": lambda: _account_token("admin.bulukumba", "admin", "73.08"),
            "opd_pupr_other_kabupaten": lambda: _account_token("opd.dpupr.bulukumba", "opd", "73.08", opd="dpupr"),
            }[who]()


@pytest.fixture(scope="module")
def complaints_by_place(app):
    from chalice.test import Client

    from tests.complaints_support import ROAD, filed

    with Client(app) as client:
        places = {"village_own": (SAMATARING, "pelayanan_desa"),
                  "village_same_kecamatan": (other_village_same_kecamatan(), "pelayanan_desa"),
                  "village_other_kecamatan": (PULAU_HARAPAN, "pelayanan_desa"),
                  "pupr_own": (SAMATARING, ROAD), "pupr_other": (PULAU_HARAPAN, ROAD)}
        found = {}
        for who in COMPLAINT_MATRIX:  # one citizen per account: five complaints a day each
            citizen = citizen_login(client)
            for place, (village, category) in places.items():
                found[(who, place)] = filed(client, citizen, village=village, category=category, public=False)
        return found


@pytest.mark.parametrize("who", list(COMPLAINT_MATRIX))
@pytest.mark.parametrize("place_index,place", enumerate(COMPLAINT_PLACES))
def test_complaint_matrix(client, complaints_by_place, who, place_index, place):
    from tests.complaints_support import act

    token = complaint_token(client, who)
    complaint = complaints_by_place[(who, place)]
    read_status, act_status = COMPLAINT_MATRIX[who][place_index]
    read = get(client, f"/v1/complaints/{complaint['id']}", token)
    assert read.status_code == read_status, read.body
    if read_status == 200:
        assert read.json_body["reporter"]["nik"].startswith("****")  # staff view, NIK masked
    response = act(client, token, complaint, "acknowledge")
    assert response.status_code == act_status, response.body
    from chalicelib.storage import complaints as repo

    stored = repo.get(complaint["id"])
    assert stored is not None and stored.status == ("acknowledged" if act_status == 200 else "open")


@pytest.mark.parametrize("who,path,status", [
    ("operator", f"/v1/villages/{PULAU_HARAPAN}/complaints", 404),
    ("camat", f"/v1/villages/{PULAU_HARAPAN}/complaints", 404),
    ("opd_pupr", f"/v1/villages/{SAMATARING}/complaints", 403),
    ("opd_pupr", "/v1/kabupaten/73.07/opds/dinkes/complaints", 404),
    ("opd_dinkes", "/v1/kabupaten/73.07/opds/dpupr/complaints", 404),
    ("camat", "/v1/kabupaten/73.07/opds/dpupr/complaints", 403),
    ("operator", "/v1/kabupaten/73.07/opds/dpupr/complaints", 403),
    ("admin_other_kabupaten", "/v1/kabupaten/73.07/opds/dpupr/complaints", 404),
    ("opd_pupr_other_kabupaten", "/v1/kabupaten/73.07/opds/dpupr/complaints", 404),
    ("admin_other_kabupaten", f"/v1/villages/{SAMATARING}/complaints", 404),
    ("admin", "/v1/kabupaten/73.07/opds/dpupr/complaints", 200),
    ("opd_pupr", "/v1/kabupaten/73.07/opds/dpupr/complaints", 200),
])
def test_complaint_queues_are_scoped(client, complaints_by_place, who, path, status):
    response = get(client, path, complaint_token(client, who))
    assert response.status_code == status, response.body


def test_opd_queue_holds_only_its_own_opds_complaints(client, complaints_by_place):
    items = get(client, "/v1/kabupaten/73.07/opds/dpupr/complaints?limit=100",
                staff_token(client, "opd.dpupr")).json_body["items"]
    assert items and all(i["unit"]["code"] == "dpupr" for i in items)


def test_a_citizen_cannot_see_or_touch_another_citizens_private_complaint(client, complaints_by_place):
    from tests.complaints_support import act

    other = citizen_login(client)
    complaint = complaints_by_place[("operator", "village_own")]
    assert get(client, f"/v1/complaints/{complaint['id']}", other["token"]).status_code == 404
    assert act(client, other["token"], complaint, "close").status_code == 404
    assert get(client, "/v1/me/complaints", other["token"]).json_body["items"] == []
    assert get(client, f"/v1/villages/{SAMATARING}/complaints", other["token"]).status_code == 403

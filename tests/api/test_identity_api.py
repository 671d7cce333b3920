"""Identity from the register (issue 8.2) and masking with audited downloads (issue 8.7)."""

from __future__ import annotations

from typing import Any

from tests.conftest import (
    KECAMATAN_SINJAI_TIMUR,
    SAMATARING,
    act,
    citizen_login,
    complete_profile,
    e164,
    get,
    post,
    put,
    random_nik,
    random_phone,
    register_resident,
    staff_token,
    submitted,
)


def verify(client: Any, token: str, request: dict[str, Any], document: str | None = "KTP-el",
           note: str | None = "KTP-el asli diperiksa di loket") -> Any:
    body: dict[str, Any] = {"action": "verify_identity", "version": request["version"]}
    if document is not None:
        body["document"] = document
    if note is not None:
        body["note"] = note
    return post(client, f"/v1/requests/{request['id']}/transitions", body, token)


# ---- profile from the register ---------------------------------------------------------------------------


def test_the_profile_comes_from_the_register_and_its_fields_are_locked(client):
    # Given a citizen whose NIK is in Samataring's register
    c = citizen_login(client)
    register_resident(c)
    # When they read their profile, it is the register's data, flagged as such
    profile = get(client, "/v1/me/profile", c["token"]).json_body
    assert profile["in_register"] is True and profile["complete"] is True
    assert profile["name"] == "Andi Baso Tenri" and profile["kk_number"] == "7307030101200001"
    assert profile["register_entry"]["village"] == SAMATARING and "name" in profile["register_entry"]["locked_fields"]
    # Then changing a register-held field themselves is refused and writes nothing
    body = {k: profile[k] for k in ("name", "birth_place", "birth_date", "sex", "religion", "marital_status",
                                    "occupation", "address", "rt", "rw", "kk_number")}
    response = put(client, "/v1/me/profile", {**body, "version": profile["version"], "name": "Orang Lain"}, c["token"])
    assert response.status_code == 422 and response.json_body["code"] == "register_field_locked"
    assert [f["field"] for f in response.json_body["details"]["fields"]] == ["name"]
    assert get(client, "/v1/me/profile", c["token"]).json_body["version"] == profile["version"]
    # And sending the same values is accepted
    assert put(client, "/v1/me/profile", {**body, "version": profile["version"]}, c["token"]).status_code == 200


def test_a_citizen_outside_every_register_keeps_their_own_profile(client, citizen):
    profile = get(client, "/v1/me/profile", citizen["token"]).json_body
    assert profile["in_register"] is False and profile["register_entry"] is None and profile["complete"] is True


# ---- identity not verified ---------------------------------------------------------------------------------


def test_a_request_from_outside_the_register_needs_an_in_person_check_before_approval(client, citizen):
    # Given a citizen whose NIK is in no register submits
    request = submitted(client, citizen)
    assert request["identity_verified"] is False and request["identity_check"] is None
    operator = staff_token(client, f"operator.{SAMATARING}")
    # Then the staff queue shows the flag
    queue = get(client, f"/v1/villages/{SAMATARING}/requests?status=submitted", operator).json_body["items"]
    assert {r["id"]: r for r in queue}[request["id"]]["identity_verified"] is False
    request = act(client, operator, request, "review").json_body
    # When the operator approves without a check, it is refused and nothing changes
    refused = act(client, operator, request, "approve")
    assert refused.status_code == 409 and refused.json_body["code"] == "identity_not_verified"
    # A check without the document seen, or with an unknown one, is refused too
    assert verify(client, operator, request, document=None).json_body["code"] == "invalid_document"
    assert verify(client, operator, request, document="SIM").status_code == 400
    assert get(client, f"/v1/requests/{request['id']}", operator).json_body["version"] == request["version"]
    # When the operator records the in-person check
    response = verify(client, operator, request)
    assert response.status_code == 200, response.body
    checked = response.json_body
    assert checked["status"] == "in_review" and checked["version"] == request["version"] + 1
    assert checked["identity_verified"] is True
    assert checked["identity_check"]["document"] == "KTP-el" and checked["identity_check"]["username"] == \
        f"operator.{SAMATARING}"
    event = checked["history"][-1]
    assert event["action"] == "verify_identity" and event["details"] == {"document": "KTP-el"}
    assert event["from"] == event["to"] == "in_review"
    # Then approval goes through, and a second check is a conflict
    assert act(client, operator, checked, "approve").status_code == 200
    assert verify(client, operator, checked).status_code == 409


def test_a_stale_identity_check_is_409_and_writes_nothing(client, citizen):
    request = submitted(client, citizen)
    operator = staff_token(client, f"operator.{SAMATARING}")
    act(client, operator, request, "review")
    response = verify(client, operator, request)  # still version 1
    assert response.status_code == 409 and response.json_body["code"] == "stale_version"
    assert get(client, f"/v1/requests/{request['id']}", operator).json_body["identity_verified"] is False


def test_camat_admin_and_citizen_cannot_record_an_identity_check(client, citizen):
    request = submitted(client, citizen)
    for token in (staff_token(client, f"camat.{KECAMATAN_SINJAI_TIMUR}"), staff_token(client, "admin"),
                  citizen["token"]):
        assert verify(client, token, request).status_code == 403
    other_village = staff_token(client, "operator.73.07.03.2002")
    assert verify(client, other_village, request).status_code == 404


def test_a_request_from_a_registered_citizen_is_verified_at_once(client, registered_citizen):
    request = submitted(client, registered_citizen)
    assert request["identity_verified"] is True
    # And the applicant block is the register's
    assert request["applicant"]["occupation"] == "Petani/Pekebun"


# ---- the register's phone is the only login phone ------------------------------------------------------


def test_the_register_phone_is_the_only_phone_a_nik_can_log_in_with(client):
    # Given a NIK that has never logged in, registered with a phone
    nik, registered_phone = random_nik(), random_phone()
    register_resident({"nik": nik}, phone=registered_phone)
    # When someone asks for a code with another phone, it is refused and no SMS goes out
    attacker = random_phone()
    response = post(client, "/v1/auth/otp", {"nik": nik, "phone": attacker})
    assert response.status_code == 403 and response.json_body["code"] == "phone_mismatch"
    # Then the registered phone logs in
    assert citizen_login(client, nik, registered_phone)["token"]


def test_the_register_phone_overrides_an_earlier_binding(client):
    # Given a citizen who bound a phone before the village imported its register with another one
    nik, old_phone, register_phone = random_nik(), random_phone(), random_phone()
    citizen_login(client, nik, old_phone)
    register_resident({"nik": nik}, phone=register_phone)
    # Then the old phone is refused and the register's phone logs in and becomes the bound one
    assert post(client, "/v1/auth/otp", {"nik": nik, "phone": old_phone}).status_code == 403
    c = citizen_login(client, nik, register_phone)
    assert get(client, "/v1/me/profile", c["token"]).json_body["phone"] == e164(register_phone)


# ---- masking and audited downloads (issue 8.7) ----------------------------------------------------------


def _issued(client: Any, citizen: dict[str, Any]) -> dict[str, Any]:
    operator = staff_token(client, f"operator.{SAMATARING}")
    r = submitted(client, citizen)
    r = act(client, operator, r, "review").json_body
    r = act(client, operator, r, "approve").json_body
    response = act(client, staff_token(client, f"kades.{SAMATARING}"), r, "issue")
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def test_camat_and_admin_see_the_kk_number_masked_like_the_nik(client, citizen):
    request = submitted(client, citizen)
    kk = "7307030101200001"
    for account in (f"operator.{SAMATARING}", f"kades.{SAMATARING}"):
        seen = get(client, f"/v1/requests/{request['id']}", staff_token(client, account)).json_body
        assert seen["applicant"]["kk_number"] == kk and seen["applicant"]["nik"] == citizen["nik"]
    assert get(client, f"/v1/requests/{request['id']}", citizen["token"]).json_body["applicant"]["kk_number"] == kk
    for account in (f"camat.{KECAMATAN_SINJAI_TIMUR}", "admin"):
        token = staff_token(client, account)
        seen = get(client, f"/v1/requests/{request['id']}", token).json_body["applicant"]
        assert seen["kk_number"] == "************0001" and seen["nik"].startswith("************")
        queued = get(client, f"/v1/villages/{SAMATARING}/requests", token).json_body["items"]
        assert all(kk not in str(r) for r in queued)


def test_every_pdf_download_by_someone_else_than_the_owner_is_in_the_audit_trail(client, registered_citizen):
    issued = _issued(client, registered_citizen)
    path = f"/v1/requests/{issued['id']}/letter"
    # When the owner downloads, nothing is added
    assert get(client, path, registered_citizen["token"]).status_code == 200
    # When the camat, the admin and the operator download
    accounts = [f"camat.{KECAMATAN_SINJAI_TIMUR}", "admin", f"operator.{SAMATARING}"]
    for account in accounts:
        assert get(client, path, staff_token(client, account)).status_code == 200
    # Then each download is one entry of the request's history: who, when, which letter; status and version kept
    history = get(client, f"/v1/requests/{issued['id']}", registered_citizen["token"]).json_body
    downloads = [h for h in history["history"] if h["action"] == "download_letter"]
    assert [d["details"]["username"] for d in downloads] == accounts
    assert {d["actor_role"] for d in downloads} == {"camat", "admin", "operator"}
    assert all(d["details"]["number"] == issued["letter"]["number"] and d["from"] == d["to"] == "issued"
               for d in downloads)
    assert history["version"] == issued["version"] and history["status"] == "issued"
    # And the public tracking page does not show them
    tracked = get(client, f"/v1/track/{issued['tracking_code']}").json_body
    assert len(tracked["history"]) == 4


def test_a_registered_citizen_whose_profile_was_never_filled_can_submit(client):
    c = citizen_login(client)
    register_resident(c)
    request = submitted(client, c)
    assert request["applicant"]["name"] == "Andi Baso Tenri" and request["identity_verified"] is True


def test_an_unregistered_citizen_in_a_register_elsewhere_is_not_verified_here(client):
    c = citizen_login(client)
    complete_profile(client, c)
    register_resident(c, village="73.07.03.2002")
    request = submitted(client, c)  # in Samataring, whose register does not hold them
    assert request["identity_verified"] is False

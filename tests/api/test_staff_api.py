"""Staff accounts over HTTP: create, disable/enable, password reset, own password and profile, sessions."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import KECAMATAN_SINJAI_TIMUR, PULAU_HARAPAN, SAMATARING, get, post, put, staff_token

NEW_PASSWORD = "kata-sandi-baru-123"


def patch(client, path, body, token):
    return client.http.request("PATCH", path, headers={"Authorization": f"Bearer {token}",
                                                       "Content-Type": "application/json"}, body=json.dumps(body))


def login(client, username, password):
    return post(client, "/v1/auth/login", {"username": username, "password": password})


def new_staff(username, role="operator", **extra):
    body = {"username": username, "password": "sandi-awal-12345", "role": role, "name": "Andi Nurhaedah, S.Sos.",
            "position": "Operator Kelurahan Samataring"}
    return {**body, **extra}


def test_admin_creates_a_kades_with_profile_and_it_can_log_in(client):
    # Given the kabupaten admin
    admin = staff_token(client, "admin")
    # When they create a kades for Samataring with name, jabatan and NIP
    body = new_staff("lurah.samataring", role="kades", name="H. Muhammad Arsyad, S.STP",
                     position="Lurah Samataring", nip="198204152009011004")
    created = post(client, f"/v1/regions/{SAMATARING}/staff", body, admin)
    # Then the account exists with its profile and an audited creation
    assert created.status_code == 201, created.body
    account = created.json_body
    assert (account["role"], account["region"], account["nip"]) == ("kades", SAMATARING, "198204152009011004")
    assert account["history"][0]["action"] == "create" and account["history"][0]["actor"] == "admin"
    assert "password" not in json.dumps(account)
    # And the new account logs in
    assert login(client, "lurah.samataring", "sandi-awal-12345").status_code == 200
    # And the admin lists it among the village's staff
    listed = get(client, f"/v1/regions/{SAMATARING}/staff", admin).json_body["items"]
    assert "lurah.samataring" in {s["username"] for s in listed}


@pytest.mark.parametrize("body,code", [
    ({"nip": "19820415200901100"}, "invalid_nip"),           # 17 digits
    ({"nip": "19820415200901100４"}, "invalid_nip"),          # a fullwidth digit
    ({"nip": "198204152009011004\n"}, "invalid_nip"),       # trailing newline
    # Control and bidi characters are refused at the edge for every JSON string (api.http.json_body)
    ({"name": "Andi\u202eNur"}, "invalid_character"),       # bidi override
    ({"name": "Andi\x00Nur"}, "invalid_character"),
    ({"name": "Andi 2 Nur"}, "invalid_name"),
    ({"name": "Андрей Нур"}, "invalid_name"),                # not a KTP name: Cyrillic, printed under a signature
    ({"name": "Andi Nur 😀"}, "invalid_name"),               # emoji
    ({"username": "Operator Dua"}, "invalid_username"),
    ({"username": "operatör.dua"}, "invalid_username"),
    ({"role": "camat"}, "region_level_mismatch"),           # a camat at a village
])
def test_bad_account_data_is_a_clear_400_and_writes_nothing(client, body, code):
    from chalicelib.storage import people

    admin = staff_token(client, "admin")
    data = {**new_staff("operator.dua"), **body}
    response = post(client, f"/v1/regions/{SAMATARING}/staff", data, admin)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == code
    assert people.get_staff("operator.dua") is None


def test_unknown_region_and_taken_username(client):
    admin = staff_token(client, "admin")
    assert post(client, "/v1/regions/73.07.03.2999/staff", new_staff("op.hilang"), admin).status_code == 404
    taken = post(client, f"/v1/regions/{SAMATARING}/staff", new_staff(f"operator.{SAMATARING}"), admin)
    assert taken.status_code == 409 and taken.json_body["code"] == "username_taken"


def test_camat_manages_only_village_staff_of_their_kecamatan(client):
    camat = staff_token(client, f"camat.{KECAMATAN_SINJAI_TIMUR}")
    # A camat creates an operator for a village of the kecamatan
    assert post(client, f"/v1/regions/{SAMATARING}/staff", new_staff("op.camat1"), camat).status_code == 201
    # but not a camat, not in another kecamatan, and not at the kecamatan itself
    assert post(client, f"/v1/regions/{KECAMATAN_SINJAI_TIMUR}/staff",
                new_staff("camat.dua", role="camat"), camat).status_code == 403
    assert post(client, f"/v1/regions/{PULAU_HARAPAN}/staff", new_staff("op.camat2"), camat).status_code == 404
    # and cannot touch the admin account
    assert patch(client, "/v1/staff/admin", {"version": 1, "active": False}, camat).status_code == 404


def test_operators_and_kades_manage_no_accounts(client):
    for username in (f"operator.{SAMATARING}", f"kades.{SAMATARING}"):
        token = staff_token(client, username)
        assert post(client, f"/v1/regions/{SAMATARING}/staff", new_staff("op.nakal"), token).status_code == 403
        assert patch(client, f"/v1/staff/operator.{SAMATARING}", {"version": 1, "position": "Kades"},
                     token).status_code == 403
        assert post(client, f"/v1/staff/kades.{SAMATARING}/password-reset", {}, token).status_code == 403


def test_disabling_ends_existing_sessions_at_once_and_enabling_restores_login(client):
    # Given an operator with a live token
    admin = staff_token(client, "admin")
    assert post(client, f"/v1/regions/{SAMATARING}/staff", new_staff("op.nonaktif"), admin).status_code == 201
    token = login(client, "op.nonaktif", "sandi-awal-12345").json_body["token"]
    assert get(client, f"/v1/villages/{SAMATARING}/requests", token).status_code == 200
    # When the admin disables the account
    disabled = patch(client, "/v1/staff/op.nonaktif", {"version": 1, "active": False}, admin)
    assert disabled.status_code == 200 and disabled.json_body["active"] is False
    # Then the very next request with the old token is refused, and login too
    refused = get(client, f"/v1/villages/{SAMATARING}/requests", token)
    assert refused.status_code == 401 and refused.json_body["code"] == "session_ended"
    assert login(client, "op.nonaktif", "sandi-awal-12345").status_code == 401
    # When re-enabled, Then a new login works but the old token stays dead
    assert patch(client, "/v1/staff/op.nonaktif", {"version": 2, "active": True}, admin).status_code == 200
    assert login(client, "op.nonaktif", "sandi-awal-12345").status_code == 200
    assert get(client, f"/v1/villages/{SAMATARING}/requests", token).status_code == 401
    history = get(client, "/v1/staff/op.nonaktif", admin).json_body["history"]
    assert [h["action"] for h in history] == ["create", "disable", "enable"]


def test_stale_version_is_a_409_and_writes_nothing(client):
    admin = staff_token(client, "admin")
    post(client, f"/v1/regions/{SAMATARING}/staff", new_staff("op.versi"), admin)
    assert patch(client, "/v1/staff/op.versi", {"version": 1, "position": "Operator Satu"}, admin).status_code == 200
    stale = patch(client, "/v1/staff/op.versi", {"version": 1, "position": "Operator Dua"}, admin)
    assert stale.status_code == 409 and stale.json_body["code"] == "stale_version"
    assert get(client, "/v1/staff/op.versi", admin).json_body["position"] == "Operator Satu"


def test_an_admin_cannot_disable_themselves(client):
    admin = staff_token(client, "admin")
    response = patch(client, "/v1/staff/admin", {"version": 1, "active": False}, admin)
    assert response.status_code == 403 and response.json_body["code"] == "own_account"


def test_password_reset_gives_a_temporary_password_and_ends_sessions(client):
    admin = staff_token(client, "admin")
    post(client, f"/v1/regions/{SAMATARING}/staff", new_staff("op.lupa"), admin)
    old_token = login(client, "op.lupa", "sandi-awal-12345").json_body["token"]
    reset = post(client, "/v1/staff/op.lupa/password-reset", {}, admin)
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    temporary = reset.json_body["temporary_password"]
    assert login(client, "op.lupa", "sandi-awal-12345").status_code == 401
    assert login(client, "op.lupa", temporary).status_code == 200
    assert get(client, "/v1/me/staff-profile", old_token).status_code == 401


def test_own_password_change_needs_the_current_one_and_ends_other_sessions(client):
    admin = staff_token(client, "admin")
    post(client, f"/v1/regions/{SAMATARING}/staff", new_staff("op.ganti"), admin)
    first = login(client, "op.ganti", "sandi-awal-12345").json_body["token"]
    other_device = login(client, "op.ganti", "sandi-awal-12345").json_body["token"]
    wrong = put(client, "/v1/me/password", {"current_password": "salah-sekali-99", "new_password": NEW_PASSWORD},
                first)
    assert wrong.status_code == 401 and wrong.json_body["code"] == "invalid_credentials"
    weak = put(client, "/v1/me/password", {"current_password": "sandi-awal-12345", "new_password": "pendek"}, first)
    assert weak.status_code == 400
    changed = put(client, "/v1/me/password", {"current_password": "sandi-awal-12345", "new_password": NEW_PASSWORD},
                  first)
    assert changed.status_code == 200, changed.body
    # The other device and the old token are signed out; the fresh token works
    assert get(client, "/v1/me/staff-profile", other_device).status_code == 401
    assert get(client, "/v1/me/staff-profile", first).status_code == 401
    assert get(client, "/v1/me/staff-profile", changed.json_body["token"]).status_code == 200
    assert login(client, "op.ganti", NEW_PASSWORD).status_code == 200


def test_own_profile_name_and_jabatan_but_not_nip(client):
    token = staff_token(client, f"kades.{PULAU_HARAPAN}")
    profile = get(client, "/v1/me/staff-profile", token).json_body
    updated = put(client, "/v1/me/staff-profile", {"version": profile["version"], "name": "Andi Baso Mappiasse"},
                  token)
    assert updated.status_code == 200 and updated.json_body["name"] == "Andi Baso Mappiasse"
    nip = put(client, "/v1/me/staff-profile", {"version": updated.json_body["version"], "nip": "198204152009011004"},
              token)
    assert nip.status_code == 400 and nip.json_body["code"] == "unknown_field"
    # A citizen has no staff profile
    from tests.conftest import citizen_login

    assert get(client, "/v1/me/staff-profile", citizen_login(client)["token"]).status_code == 403


def _token_with(claims_update, drop=()):
    import jwt

    from chalicelib.auth import audience
    from chalicelib.config import get_secrets

    now = int(time.time())
    claims = {"iss": "balai", "aud": audience(), "sub": "admin", "role": "admin", "region": "73.07", "name": "x",
              "sv": 1, "iat": now, "exp": now + 600, **claims_update}
    for key in drop:
        claims.pop(key)
    return jwt.encode(claims, get_secrets().jwt_key, algorithm="HS256")


@pytest.mark.parametrize("update,drop", [({"aud": "balai:prod"}, ()), ({}, ("aud",)), ({"sv": "1"}, ()),
                                         ({"sv": 7}, ()), ({}, ("sv",)), ({"sub": "hantu"}, ())])
def test_tokens_for_another_stage_or_session_are_refused(client, update, drop):
    # A well-signed token for another stage, without a session version, or for a past session
    response = get(client, f"/v1/villages/{SAMATARING}/requests", _token_with(update, drop))
    assert response.status_code == 401, response.body


def test_the_same_token_shape_for_this_stage_works(client):
    assert get(client, f"/v1/villages/{SAMATARING}/requests", _token_with({})).status_code == 200

"""The edge (issue 8 items 1, 6, 8, 10): canonical identifiers, bounded input, safe free text, one error shape."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.storage import people
from tests.conftest import (
    PASSWORD,
    SAMATARING,
    citizen_login,
    complete_profile,
    e164,
    get,
    otp_code,
    post,
    put,
    random_nik,
    random_phone,
    staff_token,
)

VICTIM_NIK = "7307035708900002"
LOOK_ALIKES = [
    VICTIM_NIK + "\n",  # `$` matches before a trailing newline
    "\uff17\uff13\uff10\uff17\uff10\uff13\uff15\uff17\uff10\uff18\uff19\uff10\uff10\uff10\uff10\uff12",  # fullwidth
    "\u0667\u0663\u0660\u0667\u0660\u0663\u0665\u0667\u0660\u0668\u0669\u0660\u0660\u0660\u0660\u0662",  # Arabic-Indic
    " " + VICTIM_NIK,
    VICTIM_NIK[:8] + "\u00a0" + VICTIM_NIK[8:],
]


def sms_count(phone: str) -> int:
    from chalicelib.config import get_settings

    path = get_settings().outbox_dir / "sms.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if json.loads(line).get("to") == e164(phone))


# ---- item 1: one canonical form per identifier ----------------------------------------------------
@pytest.mark.parametrize("look_alike", LOOK_ALIKES, ids=["newline", "fullwidth", "arabic-indic", "space", "nbsp"])
def test_a_look_alike_nik_gets_no_code_and_cannot_bypass_the_phone_binding(client, look_alike):
    # Given the victim's NIK bound to the victim's phone
    victim_phone = random_phone()
    if people.get_citizen(_hash(VICTIM_NIK)) is None:
        citizen_login(client, VICTIM_NIK, victim_phone)
    # When an attacker asks a code for a look-alike of that NIK to their own phone
    attacker_phone = random_phone()
    response = post(client, "/v1/auth/otp", {"nik": look_alike, "phone": attacker_phone})
    # Then it is a 400 invalid_nik, no SMS goes out, and no OTP exists for the hash of the look-alike
    assert response.status_code == 400 and response.json_body["code"] == "invalid_nik"
    assert sms_count(attacker_phone) == 0
    assert people.get_otp(_hash(look_alike)) is None
    # And verifying with it is refused the same way
    response = post(client, "/v1/auth/otp/verify", {"nik": look_alike, "phone": attacker_phone, "code": "123456"})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_nik"


def _hash(nik: str) -> str:
    from chalicelib.config import get_secrets
    from chalicelib.domain.nik import nik_hash

    return nik_hash(nik, get_secrets().nik_hash_key)


@pytest.mark.parametrize("phone", ["081234567890\n", "\uff10\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10",
                                   "0812\u00a03456\u00a07890", "\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"])
def test_a_look_alike_phone_is_refused(client, phone):
    response = post(client, "/v1/auth/otp", {"nik": random_nik(), "phone": phone})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_phone"


def test_an_otp_code_in_other_digits_is_a_format_error(client):
    nik, phone = random_nik(), random_phone()
    post(client, "/v1/auth/otp", {"nik": nik, "phone": phone})
    code = otp_code(phone)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in code)
    response = post(client, "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": fullwidth})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_otp_format"


@pytest.mark.parametrize("username", ["admin\n", " admin", "\uff41dmin", "adm\u0131n", "admin\u200b"])
def test_look_alike_usernames_are_not_usernames(client, username):
    response = post(client, "/v1/auth/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json_body["code"] in ("invalid_username", "invalid_character")


def test_usernames_are_case_folded_to_one_account(client):
    response = post(client, "/v1/auth/login", {"username": f"OPERATOR.{SAMATARING}", "password": PASSWORD})
    assert response.status_code == 200


# Decoded path parameters as API Gateway hands them over (chalice local leaves them percent-encoded,
# which the same check refuses: "%" is not in an identifier).
@pytest.mark.parametrize("path,status,code", [
    ("/v1/regions/\uff17\uff13.07", 400, "invalid_path_parameter"),
    ("/v1/regions/73.07%0A", 400, "invalid_path_parameter"),
    ("/v1/villages/73.07.03.1001%0A/letter-types", 404, "village_not_found"),
    ("/v1/villages/\u0667\u0663.07.03.1001/letter-types", 404, "village_not_found"),
    ("/v1/track/ABCD-EFGH%0A", 400, "invalid_path_parameter"),
    ("/v1/track/\uff21BCD-EFGH", 400, "invalid_path_parameter"),
    ("/v1/letters/verify/abc\u202edef", 400, "invalid_path_parameter"),
])
def test_look_alike_path_identifiers_never_reach_a_key(client, path, status, code):
    response = get(client, path)
    assert response.status_code == status and response.json_body["code"] == code


@pytest.mark.parametrize("name,value", [("code", "73.07\n"), ("desa", "73.07.03.1001\n"),
                                        ("tracking_code", "ABCD-EFGH\n"), ("request_id", "01ABC\u0000")])
def test_decoded_path_parameters_with_control_characters_are_refused(name, value):
    from chalicelib.domain.inputs import check_path_parameter
    from chalicelib.errors import AppError

    with pytest.raises(AppError) as info:
        check_path_parameter(name, value)
    assert info.value.status in (400, 404)


def test_a_tracking_code_still_reads_as_people_type_it(client):
    citizen = citizen_login(client)
    complete_profile(client, citizen)
    from tests.conftest import submitted

    request = submitted(client, citizen)
    typed = request["tracking_code"].lower().replace("-", "")
    assert get(client, f"/v1/track/{typed}").status_code == 200


@pytest.mark.parametrize("field,value", [("kk_number", "\uff17" * 16), ("rt", "\u0660\u0660\u0661"),
                                         ("kk_number", "7307030101200001\n")])
def test_profile_numbers_are_ascii_digits(client, field, value):
    citizen = citizen_login(client)
    body = {"version": 1, "name": "Andi", "birth_place": "Sinjai", "birth_date": "1990-08-17", "sex": "P",
            "religion": "Islam", "marital_status": "Kawin", "occupation": "Petani", "address": "Jl. A", field: value}
    response = put(client, "/v1/me/profile", body, citizen["token"])
    assert response.status_code == 400 and response.json_body["code"] == "invalid_field"


@pytest.mark.parametrize("limit", ["\uff15", "%205", "5%0A", "1e3", "99999999999", "%EF%BC%95"])
def test_numeric_query_parameters_are_ascii_digits(client, limit):
    token = staff_token(client, f"operator.{SAMATARING}")
    response = get(client, f"/v1/villages/{SAMATARING}/requests?limit={limit}", token)
    assert response.status_code == 400 and response.json_body["code"] == "invalid_parameter"


# ---- item 6: unbounded input -------------------------------------------------------------------------
def raw_post(client, path: str, raw: str | bytes, token: str | None = None, content_type: str = "application/json"):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.http.post(path, headers=headers, body=raw)


def test_deeply_nested_json_is_a_small_400_without_login(client):
    # Given 1 000 and 20 000 levels of nesting (RecursionError, a 500, before)
    for depth in (1000, 20000):
        body = '{"a":' * depth + "1" + "}" * depth
        response = raw_post(client, "/v1/auth/login", body[: 64 * 1024])
        assert response.status_code in (400, 413)
        assert response.json_body["code"] in ("body_too_deep", "malformed_json", "body_too_large")
    # And modest nesting past the limit is a clear body_too_deep
    body = '{"a":' * 40 + "1" + "}" * 40
    response = raw_post(client, "/v1/auth/login", body)
    assert response.status_code == 400 and response.json_body["code"] == "body_too_deep"


def test_an_oversized_body_is_413(client):
    response = raw_post(client, "/v1/auth/login", json.dumps({"username": "a", "password": "x" * 70000}))
    assert response.status_code == 413 and response.json_body["code"] == "body_too_large"


def test_thousands_of_unknown_fields_get_a_small_answer(client):
    # Given 100 000 unknown fields (7.8 MB of error before): past the size limit
    big = json.dumps({f"f{i}": 1 for i in range(100_000)})
    response = raw_post(client, "/v1/auth/login", big)
    assert response.status_code == 413 and len(response.body) < 500
    # And 4 000 unknown fields within the size limit: the details are capped
    body = {"username": "admin", "password": "x", **{f"f{i}": 1 for i in range(4000)}}
    response = raw_post(client, "/v1/auth/login", json.dumps(body))
    assert response.status_code == 400 and response.json_body["code"] in ("unknown_field", "body_too_complex")
    assert len(response.body) < 5000


def test_unknown_fields_details_are_capped_with_their_total(client):
    body = {"username": "admin", "password": "x", **{f"f{i}": 1 for i in range(300)}}
    response = raw_post(client, "/v1/auth/login", json.dumps(body))
    details = response.json_body["details"]
    assert response.json_body["code"] == "unknown_field"
    assert len(details["fields"]) == 20 and details["fields_total"] == 300


@pytest.mark.parametrize("fmt", ["{seq:0>50000000}/{year}", "{seq:c}/{year}", "{seq:03}/\u202e{year}"])
def test_unsafe_number_formats_are_refused_and_nothing_changes(client, fmt):
    token = staff_token(client, f"kades.{SAMATARING}")
    before = get(client, f"/v1/villages/{SAMATARING}/letter-settings", token).json_body
    response = put(client, f"/v1/villages/{SAMATARING}/letter-settings",
                   {"version": before["version"], "number_format": fmt}, token)
    assert response.status_code == 400
    assert response.json_body["code"] in ("invalid_number_format", "invalid_character")
    after = get(client, f"/v1/villages/{SAMATARING}/letter-settings", token).json_body
    assert after == before


@pytest.mark.parametrize("cursor_data", [
    {"GSI1PK": {"S": f"QUEUE#{SAMATARING}"}},  # the right list, but not a whole key
    {"GSI1PK": {"S": f"QUEUE#{SAMATARING}"}, "GSI1SK": {"N": "1"}, "PK": {"S": "x"}, "SK": {"S": "y"}},
    {"GSI1PK": {"S": f"QUEUE#{SAMATARING}"}, "GSI1SK": {"S": "a"}, "PK": {"S": "x"}, "SK": {"S": "y"},
     "extra": {"S": "z"}},
    [1, 2, 3],
    {"GSI1PK": {"S": f"QUEUE#{SAMATARING}"}, "GSI1SK": {"S": "a" * 5000}, "PK": {"S": "x"}, "SK": {"S": "y"}},
])
def test_a_crafted_queue_cursor_is_400(client, cursor_data):
    token = staff_token(client, f"operator.{SAMATARING}")
    cursor = base64.urlsafe_b64encode(json.dumps(cursor_data).encode()).decode()
    response = get(client, f"/v1/villages/{SAMATARING}/requests?cursor={cursor}", token)
    assert response.status_code == 400 and response.json_body["code"] == "invalid_cursor"


@pytest.mark.parametrize("claims", [{"role": ["admin"]}, {"region": 73}, {"sub": {"a": 1}}, {"name": ["x"]}])
def test_a_signed_token_with_a_claim_of_the_wrong_type_is_401(client, claims):
    import time

    import jwt

    from chalicelib.auth import audience
    from chalicelib.config import get_secrets

    now = int(time.time())
    payload = {"iss": "balai", "sub": "admin", "role": "admin", "region": "73.07", "name": "A", "iat": now,
               "exp": now + 600, "aud": audience(), "sv": 1}
    # Given a well-formed token for the admin (it works)
    token = jwt.encode(payload, get_secrets().jwt_key, algorithm="HS256")
    assert get(client, "/v1/regions/73.07", token).status_code == 200
    assert get(client, f"/v1/villages/{SAMATARING}/requests", token).status_code == 200
    # When one claim has the wrong type
    token = jwt.encode({**payload, **claims}, get_secrets().jwt_key, algorithm="HS256")
    response = get(client, f"/v1/villages/{SAMATARING}/requests", token)
    # Then it is a 401, not a 500
    assert response.status_code == 401 and response.json_body["code"] == "invalid_token"


# ---- item 8: free text -----------------------------------------------------------------------------
PROFILE = {"version": 1, "birth_place": "Sinjai", "birth_date": "1990-08-17", "sex": "P", "religion": "Islam",
           "marital_status": "Kawin", "occupation": "Petani", "address": "Jl. Persatuan Raya No. 5"}
WOMAN_NIK = "730703570890"  # + a serial: a woman born 17-08-1990 in Sinjai Timur


@pytest.fixture
def woman(client):
    import random

    return citizen_login(client, WOMAN_NIK + f"{random.randint(1, 9999):04d}")


@pytest.mark.parametrize("name,code", [
    ("Nurhaedah\u0000", "invalid_character"),
    ("Nur\u202ehadeah", "invalid_character"),
    ("Nurhaedah \U0001f600", "invalid_name"),
    ("Nurhaedah\n", "invalid_name"),
    ("N1rhaedah", "invalid_name"),
    ("\u041d\u0443\u0440", "invalid_name"),  # Cyrillic look-alikes
    ("Nur  haedah", "invalid_name"),
])
def test_a_name_outside_what_a_ktp_holds_is_refused_and_nothing_is_written(client, woman, name, code):
    response = put(client, "/v1/me/profile", {**PROFILE, "name": name}, woman["token"])
    assert response.status_code == 400 and response.json_body["code"] == code
    assert get(client, "/v1/me/profile", woman["token"]).json_body["version"] == 1


@pytest.mark.parametrize("name", ["Nurhaedah", "Andi Muh. Nur'aini", "St. Hj. Bau\u2019 Tenri-Ola, S.Pd.",
                                  "Fran\u00e7ois \u00c9mile", "Zo\u00eb Se\u0301ne"])
def test_names_a_ktp_can_hold_are_accepted(client, woman, name):
    response = put(client, "/v1/me/profile", {**PROFILE, "name": name}, woman["token"])
    assert response.status_code == 200, response.json_body


@pytest.mark.parametrize("text", ["Perlu \u0000 surat", "catatan \u2066tersembunyi\u2069", "zero\u200bwidth",
                                  "bom\ufeff"])
def test_control_and_bidi_characters_in_any_free_text_are_refused(client, text):
    citizen = citizen_login(client)
    complete_profile(client, citizen)
    # Given a request field, and a transition note
    response = post(client, f"/v1/villages/{SAMATARING}/requests",
                    {"letter_type": "SKD", "fields": {"lama_tinggal_tahun": 5, "keperluan": text}}, citizen["token"])
    assert response.status_code == 400 and response.json_body["code"] == "invalid_character"
    assert response.json_body["details"]["field"] == "fields.keperluan"
    assert get(client, "/v1/me/requests", citizen["token"]).json_body["items"] == []


def test_multiline_notes_keep_their_line_breaks(client):
    citizen = citizen_login(client)
    complete_profile(client, citizen)
    from tests.conftest import submitted

    request = submitted(client, citizen)
    token = staff_token(client, f"operator.{SAMATARING}")
    response = post(client, f"/v1/requests/{request['id']}/transitions",
                    {"action": "review", "version": request["version"], "note": "Baris satu\nBaris dua"}, token)
    assert response.status_code == 200


# ---- item 10: one error shape ------------------------------------------------------------------------
def test_a_wrong_content_type_is_code_and_message(client):
    response = raw_post(client, "/v1/auth/login", "username=admin", content_type="text/plain")
    assert response.status_code == 415
    assert response.json_body == {"code": "unsupported_media_type", "message": response.json_body["message"]}
    assert "Content-Type" in response.json_body["message"]


def test_a_method_the_route_does_not_have_is_code_and_message(client):
    response = client.http.request("DELETE", "/v1/regions/73.07")
    assert response.status_code == 405 and json.loads(response.body)["code"] == "method_not_allowed"


def test_an_unknown_route_is_a_json_404_in_local_mode(client):
    # Given local mode's gateway (make run serves the API through it)
    from localmode import gateway

    gateway.apply()
    # When a client asks for a path no route has, with and without a token
    for headers in ({}, {"Authorization": "Bearer x"}):
        response = client.http.get("/v1/tidak-ada", headers=headers)
        # Then it is a 404 {code, message}, not 403 "Missing Authentication Token"
        assert response.status_code == 404
        assert json.loads(response.body)["code"] == "route_not_found"
    # And known routes still work
    assert client.http.get("/v1/regions/73.07").status_code == 200


def test_the_deployed_stage_maps_api_gateway_errors_to_code_and_message():
    from pathlib import Path

    merge = json.loads((Path(__file__).resolve().parents[2] / "infra" / "chalice-prod-merge.json").read_text())
    responses = merge["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "UNSUPPORTED_MEDIA_TYPE",
            "THROTTLED", "REQUEST_TOO_LARGE"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    for response in responses.values():
        body = json.loads(response["responseTemplates"]["application/json"])
        assert set(body) == {"code", "message"} and body["code"] and body["message"]


@pytest.mark.parametrize("key", ["form-\uff11", "form-1\u00a0", "k" * 65])
def test_an_idempotency_key_is_printable_ascii(client, key):
    citizen = citizen_login(client)
    complete_profile(client, citizen)
    response = post(client, f"/v1/villages/{SAMATARING}/requests",
                    {"letter_type": "SKD", "fields": {"lama_tinggal_tahun": 5, "keperluan": "Melamar kerja"}},
                    citizen["token"], headers={"Idempotency-Key": key})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_idempotency_key"

"""Regions, the village letter catalogue, staged activation and village adjustments."""

import pytest

from tests.conftest import PULAU_HARAPAN, SAMATARING, SINJAI_BARAT_VILLAGE, get, put, staff_token


def test_kabupaten_with_its_nine_kecamatan(client):
    body = get(client, "/v1/regions/73.07").json_body
    assert body["name"] == "Kabupaten Sinjai" and body["level"] == "kabupaten"
    assert body["timezone"] == "Asia/Makassar" and body["timezone_label"] == "WITA"
    assert len(body["children"]) == 9
    active = {c["code"] for c in body["children"] if c["active"]}
    assert active == {"73.07.03", "73.07.09"}


def test_eighty_villages_in_sinjai_from_the_data_set(client):
    total = 0
    for kecamatan in get(client, "/v1/regions/73.07").json_body["children"]:
        children = get(client, f"/v1/regions/{kecamatan['code']}").json_body["children"]
        assert all(c["level"] in ("desa", "kelurahan") for c in children)
        total += len(children)
    assert total == 80
    harapan = get(client, f"/v1/regions/{PULAU_HARAPAN}").json_body
    assert harapan["name"] == "Pulau Harapan" and harapan["level"] == "desa" and harapan["active"]
    assert get(client, f"/v1/regions/{SAMATARING}").json_body["level"] == "kelurahan"


@pytest.mark.parametrize("code,status", [("73.99", 404), ("73.07.03.9999", 404), ("abc", 400), ("73.7", 400)])
def test_unknown_and_malformed_region_codes(client, code, status):
    assert get(client, f"/v1/regions/{code}").status_code == status


def test_village_letter_types_with_field_schemas(client):
    body = get(client, f"/v1/villages/{PULAU_HARAPAN}/letter-types").json_body
    codes = {i["code"] for i in body["items"]}
    assert len(codes) >= 10
    skd = next(i for i in body["items"] if i["code"] == "SKD")
    assert {"name", "label", "type", "required"} <= set(skd["fields"][0])
    assert skd["attachments"] and skd["sla_hours"] == 8


def test_village_adjusts_a_letter_type_with_version_check(client):
    village = "73.07.09.2002"
    op = staff_token(client, f"operator.{village}")
    response = put(client, f"/v1/villages/{village}/letter-types/SKU", {"version": 1, "sla_hours": 24}, op)
    assert response.status_code == 200, response.body
    assert response.json_body["sla_hours"] == 24 and response.json_body["village_version"] == 2
    stale = put(client, f"/v1/villages/{village}/letter-types/SKU", {"version": 1, "enabled": False}, op)
    assert stale.status_code == 409
    response = put(client, f"/v1/villages/{village}/letter-types/SKU", {"version": 2, "enabled": False}, op)
    assert response.status_code == 200
    codes = {i["code"] for i in get(client, f"/v1/villages/{village}/letter-types").json_body["items"]}
    assert "SKU" not in codes


def test_staff_list_disabled_types_with_the_version_to_adjust_them(client, citizen):
    # Given a village whose operator disabled SKU, using the version the list names
    village = "73.07.09.2004"
    op = staff_token(client, f"operator.{village}")
    listed = get(client, f"/v1/villages/{village}/letter-types").json_body
    response = put(client, f"/v1/villages/{village}/letter-types/SKU", {"version": listed["version"], "enabled": False}, op)
    assert response.status_code == 200
    # When the public asks, SKU is gone; when the operator asks for the disabled ones too, it is there, off
    public = get(client, f"/v1/villages/{village}/letter-types").json_body
    assert "SKU" not in {i["code"] for i in public["items"]}
    assert public["version"] == response.json_body["village_version"]
    staff = get(client, f"/v1/villages/{village}/letter-types?include_disabled=true", op).json_body
    assert {i["code"]: i["enabled"] for i in staff["items"]}["SKU"] is False
    # Then nobody else sees the disabled ones: no token, a citizen, another village's operator
    assert get(client, f"/v1/villages/{village}/letter-types?include_disabled=true").status_code == 401
    assert get(client, f"/v1/villages/{village}/letter-types?include_disabled=true", citizen["token"]).status_code == 403
    other = staff_token(client, f"operator.{PULAU_HARAPAN}")
    assert get(client, f"/v1/villages/{village}/letter-types?include_disabled=true", other).status_code == 404


def test_disabled_letter_type_cannot_be_requested(client, citizen):
    village = "73.07.09.2003"
    op = staff_token(client, f"operator.{village}")
    assert put(client, f"/v1/villages/{village}/letter-types/SKD", {"version": 1, "enabled": False}, op).status_code == 200
    from tests.conftest import submit

    response = submit(client, citizen, village=village)
    assert response.status_code == 422 and response.json_body["code"] == "letter_type_disabled"


def test_adjustment_errors(client):
    op = staff_token(client, f"operator.{SAMATARING}")
    other = put(client, f"/v1/villages/{PULAU_HARAPAN}/letter-types/SKD", {"version": 1, "sla_hours": 4}, op)
    assert other.status_code == 404
    unknown = put(client, f"/v1/villages/{SAMATARING}/letter-types/XYZ", {"version": 1, "enabled": True}, op)
    assert unknown.status_code == 422
    nothing = put(client, f"/v1/villages/{SAMATARING}/letter-types/SKD", {"version": 1}, op)
    assert nothing.status_code == 400 and nothing.json_body["code"] == "no_changes"


def test_admin_activates_a_village_operator_cannot(client, citizen):
    op = staff_token(client, f"operator.{SAMATARING}")
    assert put(client, f"/v1/villages/{SINJAI_BARAT_VILLAGE}/activation", {"active": True}, op).status_code == 403
    admin = staff_token(client, "admin")
    response = put(client, f"/v1/villages/{SINJAI_BARAT_VILLAGE}/activation", {"active": True}, admin)
    assert response.status_code == 200 and response.json_body["active"] is True
    from tests.conftest import submit

    assert submit(client, citizen, village=SINJAI_BARAT_VILLAGE).status_code == 201
    assert put(client, f"/v1/villages/{SINJAI_BARAT_VILLAGE}/activation", {"active": False}, admin).status_code == 200
    assert submit(client, citizen, village=SINJAI_BARAT_VILLAGE).status_code == 422

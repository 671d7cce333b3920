"""Issue 8.3: only the kades (or the admin) decides who signs; a letter shows the person who issued it."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import PULAU_HARAPAN, act, checked, get, put, staff_token, submitted

VILLAGE = PULAU_HARAPAN
KADES = f"kades.{VILLAGE}"
OPERATOR = f"operator.{VILLAGE}"


def _village_version(client, token) -> int:
    return int(get(client, f"/v1/villages/{VILLAGE}/letter-settings", token).json_body["version"])


def _signer_role(client) -> str:
    types = get(client, f"/v1/villages/{VILLAGE}/letter-types").json_body["items"]
    return next(t["signer_role"] for t in types if t["code"] == "SKD")


def _approved(client, citizen, operator) -> dict[str, Any]:
    r = submitted(client, citizen, VILLAGE)
    r = checked(client, operator, act(client, operator, r, "review").json_body)
    return dict(act(client, operator, r, "approve").json_body)


def test_an_operator_cannot_make_themselves_the_signer(client, citizen):
    # Given the operator of a desa whose letters the kades signs
    operator = staff_token(client, OPERATOR)
    assert _signer_role(client) == "kades"
    version = _village_version(client, operator)
    # When the operator changes the SKD's signer to "operator"
    response = put(client, f"/v1/villages/{VILLAGE}/letter-types/SKD", {"version": version,
                                                                           "signer_role": "operator"}, operator)
    # Then it is refused and nothing is written
    assert response.status_code == 403 and response.json_body["code"] == "forbidden_signer_change"
    assert _signer_role(client) == "kades" and _village_version(client, operator) == version
    # And the settings no longer take a free-text signer name to print
    named = put(client, f"/v1/villages/{VILLAGE}/letter-settings", {"version": version,
                                                                      "signer_name": "Kepala Desa Palsu"}, operator)
    assert named.status_code == 400 and named.json_body["code"] == "unknown_field"
    # And the operator still cannot issue
    request = _approved(client, citizen, operator)
    assert act(client, operator, request, "issue").status_code == 403


def test_the_admin_may_decide_who_signs(client):
    admin = staff_token(client, "admin")
    response = put(client, f"/v1/villages/{VILLAGE}/letter-types/SKU", {"version": _village_version(client, admin),
                                                                          "signer_role": "operator"}, admin)
    assert response.status_code == 200, response.body


def test_when_the_kades_delegates_the_letter_shows_the_operator_who_issued_it(client, citizen):
    from io import BytesIO

    from pypdf import PdfReader

    from chalicelib.services import wiring
    from chalicelib.storage import letters as letters_repo

    # Given the kades lets operators sign SKD letters
    kades = staff_token(client, KADES)
    operator = staff_token(client, OPERATOR)
    delegated = put(client, f"/v1/villages/{VILLAGE}/letter-types/SKD",
                    {"version": _village_version(client, kades), "signer_role": "operator"}, kades)
    assert delegated.status_code == 200, delegated.body
    me = get(client, "/v1/me/staff-profile", operator).json_body
    # When the operator issues an approved request
    request = _approved(client, citizen, operator)
    issued = act(client, operator, request, "issue")
    assert issued.status_code == 200, issued.body
    # Then the letter and its verification name the operator with their jabatan, not the kades
    letter = letters_repo.get(issued.json_body["letter"]["id"])
    pdf = wiring.file_store().read(letter.file_key)
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    kades_name = get(client, "/v1/me/staff-profile", kades).json_body["name"]
    assert me["name"] in text and me["position"] in text and kades_name not in text
    token = issued.json_body["letter"]["verify_url"].rsplit("/", 1)[1]
    verified = get(client, f"/v1/letters/verify/{token}").json_body
    assert verified["status"] == "valid"
    assert (verified["signer_name"], verified["signer_position"]) == (me["name"], me["position"])
    # And a later profile change does not rewrite the issued letter
    renamed = put(client, "/v1/me/staff-profile", {"version": me["version"], "name": "Nama Lain Sekali"}, operator)
    assert renamed.status_code == 200
    assert get(client, f"/v1/letters/verify/{token}").json_body["signer_name"] == me["name"]
    assert "Nama Lain Sekali" not in json.dumps(verified)

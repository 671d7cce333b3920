"""Letters over the API: download links and who may have them, verification, public keys, revocation, settings."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    KECAMATAN_SINJAI_TIMUR,
    PULAU_HARAPAN,
    SAMATARING,
    act,
    citizen_login,
    complete_profile,
    get,
    issue_over_api,
    post,
    put,
    staff_token,
    submitted,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def citizen(registered_citizen) -> dict[str, Any]:
    """Letters go to citizens in Samataring's register, whose requests need no in-person identity check."""
    return registered_citizen


@pytest.fixture()
def issued(client, citizen) -> dict[str, Any]:
    """An SKD of Samataring issued through the API by its lurah."""
    operator = staff_token(client, f"operator.{SAMATARING}")
    r = submitted(client, citizen)
    r = act(client, operator, r, "review").json_body
    r = act(client, operator, r, "approve").json_body
    # The kades' decision answers 202 `issuing`; the app's issue_letters function then issues it
    return issue_over_api(client, staff_token(client, f"kades.{SAMATARING}"), r)


def _token(issued: dict[str, Any]) -> str:
    return str(issued["letter"]["verify_url"].rsplit("/", 1)[1])


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_issue_answers_the_request_with_its_letter(issued):
    letter = issued["letter"]
    assert issued["status"] == "issued"
    assert re.fullmatch(r"470/\d{3}/KL-1001/[IVX]+/\d{4}", letter["number"])
    assert letter["id"] and letter["verify_url"].startswith("http://127.0.0.1:8000/v1/letters/verify/")


# ---- download link -------------------------------------------------------------------------------


def test_owner_gets_a_short_lived_link_that_serves_the_pdf(client, citizen, issued):
    # When the owner asks for the letter
    response = get(client, f"/v1/requests/{issued['id']}/letter", citizen["token"])
    # Then a five-minute link comes back, and following it gives the PDF
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["expires_in"] == 300 and body["number"] == issued["letter"]["number"]
    assert body["status"] == "valid"
    pdf = client.http.get(_path(body["url"]), headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF")


@pytest.mark.parametrize("who,status", [
    (f"operator.{SAMATARING}", 200),
    (f"kades.{SAMATARING}", 200),
    (f"camat.{KECAMATAN_SINJAI_TIMUR}", 200),  # the kecamatan oversees its villages' letters
    ("admin", 200),
    (f"operator.{PULAU_HARAPAN}", 404),  # another village's staff: the request does not exist for them
    ("camat.73.07.09", 404),
])
def test_staff_link_permissions(client, issued, who, status):
    response = get(client, f"/v1/requests/{issued['id']}/letter", staff_token(client, who))
    assert response.status_code == status, response.body


def test_another_citizen_gets_404(client, issued):
    stranger = citizen_login(client)
    complete_profile(client, stranger)
    response = get(client, f"/v1/requests/{issued['id']}/letter", stranger["token"])
    assert response.status_code == 404 and response.json_body["code"] == "request_not_found"


def test_no_letter_before_issue(client, citizen):
    r = submitted(client, citizen)
    response = get(client, f"/v1/requests/{r['id']}/letter", citizen["token"])
    assert response.status_code == 404 and response.json_body["code"] == "letter_not_issued"


def test_tampered_or_expired_file_links_are_404(client, citizen, issued):
    from chalicelib.services import wiring

    url = get(client, f"/v1/requests/{issued['id']}/letter", citizen["token"]).json_body["url"]
    body, mac = url.rsplit("/", 1)[1].split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["k"] = "letters/other.pdf"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + mac
    assert client.http.get(f"/v1/files/{forged}").status_code == 404
    store = wiring.file_store()
    expired = store.sign(payload["k"], "x.pdf", 300, now=0)
    assert client.http.get(f"/v1/files/{expired}").status_code == 404
    assert client.http.get("/v1/files/garbage").status_code == 404


# ---- verification --------------------------------------------------------------------------------


def test_valid_letter_verifies_with_non_personal_facts_and_is_counted(client, citizen, issued):
    first = get(client, f"/v1/letters/verify/{_token(issued)}")
    second = get(client, f"/v1/letters/verify/{_token(issued)}")
    assert first.status_code == 200
    body = second.json_body
    assert body["status"] == "valid" and body["number"] == issued["letter"]["number"]
    assert body["letter_name"] == "Surat Keterangan Domisili" and body["village_name"] == "Samataring"
    lurah = get(client, "/v1/me/staff-profile", staff_token(client, f"kades.{SAMATARING}")).json_body
    assert body["applicant"] == "A*** B*** T****" and body["signer_name"] == lurah["name"]
    assert body["signer_position"] == "Lurah Samataring"
    assert body["verification_count"] == first.json_body["verification_count"] + 1
    # No personal data: neither the NIK nor the full name
    assert citizen["nik"] not in second.body.decode() and "Andi Baso" not in second.body.decode()


CHROME_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
                 "application/signed-exchange;v=b3;q=0.7")


def test_a_phone_scanning_the_qr_gets_the_verification_page(client, issued):
    # Given the URL printed in the QR code, opened by a phone's browser
    token = _token(issued)
    response = client.http.get(f"/v1/letters/verify/{token}", headers={"Accept": CHROME_ACCEPT})
    # Then it is sent to the web portal's page, which shows the result
    assert response.status_code == 302
    assert response.headers["Location"] == f"http://127.0.0.1:8080/verifikasi/?token={token}"
    assert "Accept" in response.headers["Vary"] and response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5",
                                    "text/html;q=0, */*"])
def test_a_program_gets_json(client, issued, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.http.get(f"/v1/letters/verify/{_token(issued)}", headers=headers)
    assert response.status_code == 200, accept
    assert response.json_body["status"] == "valid"


def test_the_page_url_follows_the_web_base_url_and_escapes_the_token(client, monkeypatch):
    from chalicelib.config import reset_caches

    monkeypatch.setenv("BALAI_WEB_BASE_URL", "https://layanan.sinjaikab.go.id")
    reset_caches()
    try:
        response = client.http.get("/v1/letters/verify/a-b_c.d", headers={"Accept": "text/html"})
        assert response.status_code == 302
        assert response.headers["Location"] == "https://layanan.sinjaikab.go.id/verifikasi/?token=a-b_c.d"
        # A token with characters no letter token has never reaches the page (so nothing needs escaping there)
        response = client.http.get("/v1/letters/verify/a%26b%3Dc", headers={"Accept": "text/html"})
        assert response.status_code == 400 and "Location" not in response.headers
    finally:
        monkeypatch.undo()
        reset_caches()


def _payload(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()


def test_token_edited_to_point_at_another_letter_is_forged(client, issued):
    token = _token(issued)
    payload = _payload(token)
    payload["lid"] = payload["lid"][:-1] + ("A" if payload["lid"][-1] != "A" else "B")
    response = get(client, f"/v1/letters/verify/{_encode(payload)}.{token.split('.')[1]}")
    assert response.status_code == 200 and response.json_body["status"] == "forged"


def test_archive_facts_changed_after_signing_is_forged(client, issued):
    from chalicelib.storage import keys
    from chalicelib.storage.models import LetterItem

    item = LetterItem.get(keys.letter_pk(issued["letter"]["id"]), keys.META)
    facts = dict(item.facts.as_dict())
    facts["number"] = "470/999/KL-1001/I/2026"
    item.update(actions=[LetterItem.facts.set(facts)])
    assert get(client, f"/v1/letters/verify/{_token(issued)}").json_body["status"] == "forged"


def test_token_from_another_key_is_forged_and_unknown_letter_is_unknown(client, issued):
    from chalicelib.adapters.signing import generate_keyring, sign_letter
    from chalicelib.services import wiring

    facts = {"letter_id": "01JZZZZZZZZZZZZZZZZZZZZZZZ", "number": "470/001/KL-1001/I/2026"}
    foreign = sign_letter(generate_keyring(), facts)
    assert get(client, f"/v1/letters/verify/{foreign}").json_body["status"] == "forged"
    ours_but_unknown = sign_letter(wiring.letter_keyring(), facts)
    assert get(client, f"/v1/letters/verify/{ours_but_unknown}").json_body["status"] == "unknown"


@pytest.mark.parametrize("token", ["abc", "a.b", "x" * 600, "eyJ2IjoxfQ.AAAA"])
def test_malformed_token_is_400(client, token):
    response = get(client, f"/v1/letters/verify/{token}")
    assert response.status_code == 400 and response.json_body["code"] == "malformed_token"


def test_public_key_verifies_a_token_offline(client, issued):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body = get(client, "/v1/letters/public-key").json_body
    token = _token(issued)
    key = next(k for k in body["keys"] if k["kid"] == _payload(token)["kid"])
    assert key["active"] and body["alg"] == "Ed25519"
    raw = base64.urlsafe_b64decode(key["public_key"] + "==")
    encoded, sig = token.split(".")
    Ed25519PublicKey.from_public_bytes(raw).verify(base64.urlsafe_b64decode(sig + "=="), encoded.encode())


# ---- revocation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who,status,code", [
    ("citizen", 403, "forbidden_role"),
    (f"camat.{KECAMATAN_SINJAI_TIMUR}", 403, "forbidden_role"),
    ("admin", 403, "forbidden_role"),
    (f"operator.{PULAU_HARAPAN}", 404, "letter_not_found"),
])
def test_only_the_villages_staff_may_revoke(client, citizen, issued, who, status, code):
    token = citizen["token"] if who == "citizen" else staff_token(client, who)
    response = post(client, f"/v1/letters/{issued['letter']['id']}/revocation", {"reason": "Data salah ketik"}, token)
    assert response.status_code == status and response.json_body["code"] == code
    assert get(client, f"/v1/letters/verify/{_token(issued)}").json_body["status"] == "valid"


def test_revoked_letter_verifies_as_revoked_once_with_an_audit_event(client, citizen, issued):
    kades = staff_token(client, f"kades.{SAMATARING}")
    path = f"/v1/letters/{issued['letter']['id']}/revocation"
    # When the lurah revokes it
    response = post(client, path, {"reason": "Nama pemohon salah ketik"}, kades)
    assert response.status_code == 200, response.body
    # Then verification says revoked, with when and why
    body = get(client, f"/v1/letters/verify/{_token(issued)}").json_body
    assert body["status"] == "revoked" and body["revoked_reason"] == "Nama pemohon salah ketik"
    assert body["revoked_at"] == response.json_body["revoked_at"]
    # and the request's history records it, with a new version
    request = get(client, f"/v1/requests/{issued['id']}", citizen["token"]).json_body
    assert request["history"][-1]["action"] == "revoke_letter" and request["version"] == issued["version"] + 1
    # and it cannot be revoked twice
    again = post(client, path, {"reason": "Sekali lagi"}, staff_token(client, f"operator.{SAMATARING}"))
    assert again.status_code == 409 and again.json_body["code"] == "letter_revoked"
    # while the owner can still download it, marked revoked
    assert get(client, f"/v1/requests/{issued['id']}/letter", citizen["token"]).json_body["status"] == "revoked"


def test_revocation_needs_a_reason(client, issued):
    kades = staff_token(client, f"kades.{SAMATARING}")
    response = post(client, f"/v1/letters/{issued['letter']['id']}/revocation", {"reason": "x"}, kades)
    assert response.status_code == 400


# ---- settings ------------------------------------------------------------------------------------

VILLAGE = "73.07.03.2007"  # Lasiai: this module's own village for settings


def test_letter_settings_read_and_change_with_a_version_check(client):
    operator = staff_token(client, f"operator.{VILLAGE}")
    current = get(client, f"/v1/villages/{VILLAGE}/letter-settings", operator).json_body
    assert current["number_format"] == "{classification}/{seq:03}/{village_code}/{roman_month}/{year}"
    assert current["sequence_mode"] == "village" and current["paper"] == "A4"
    assert current["default_signer_position"] == "Kepala Desa Lasiai"
    body = {"version": current["version"], "paper": "F4", "number_format": "{seq:04}/{classification}/{year}"}
    changed = put(client, f"/v1/villages/{VILLAGE}/letter-settings", body, operator)
    assert changed.status_code == 200, changed.body
    assert changed.json_body["paper"] == "F4" and changed.json_body["version"] == current["version"] + 1
    stale = put(client, f"/v1/villages/{VILLAGE}/letter-settings", body, operator)
    assert stale.status_code == 409 and stale.json_body["code"] == "stale_version"


@pytest.mark.parametrize("change,code", [
    ({"number_format": "{classification}/{year}"}, "invalid_number_format"),  # no {seq}
    ({"number_format": "{seq}/{nik}"}, "invalid_number_format"),
    ({"sequence_mode": "per_type"}, "invalid_number_format"),  # default format has no {letter_type}
    ({"paper": "Letter"}, "invalid_field"),
])
def test_bad_letter_settings_are_refused(client, change, code):
    operator = staff_token(client, f"operator.{VILLAGE}")
    version = get(client, f"/v1/villages/{VILLAGE}/letter-settings", operator).json_body["version"]
    response = put(client, f"/v1/villages/{VILLAGE}/letter-settings", {"version": version, **change}, operator)
    assert response.status_code == 400 and response.json_body["code"] == code, response.body


@pytest.mark.parametrize("who,status", [(f"operator.{PULAU_HARAPAN}", 404), (f"camat.{KECAMATAN_SINJAI_TIMUR}", 403)])
def test_other_staff_cannot_change_letter_settings(client, who, status):
    response = put(client, f"/v1/villages/{VILLAGE}/letter-settings", {"version": 1, "paper": "F4"},
                   staff_token(client, who))
    assert response.status_code == status


def test_citizen_cannot_change_letter_settings(client, citizen):
    response = put(client, f"/v1/villages/{VILLAGE}/letter-settings", {"version": 1, "paper": "F4"},
                   citizen["token"])
    assert response.status_code == 403


def test_openapi_lists_the_letter_routes(client):
    paths = get(client, "/openapi.json").json_body["paths"]
    for path in ("/v1/requests/{request_id}/letter", "/v1/letters/verify/{token}", "/v1/letters/public-key",
                 "/v1/letters/{letter_id}/revocation", "/v1/villages/{desa}/letter-settings", "/v1/files/{token}"):
        assert path in paths, path


def test_importing_the_app_loads_no_pdf_qr_or_crypto_library():
    code = ("import sys, app; print(sorted(m for m in ('fpdf', 'segno', 'cryptography', 'PIL') "
            "if m in sys.modules))")
    env = {"BALAI_STAGE": "test", "AWS_DEFAULT_REGION": "ap-southeast-3", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    assert out.stdout.strip().splitlines()[-1] == "[]"

"""The village lambang on the kop surat: upload (PNG/JPEG, size-limited, checked by content), shown on letters."""

from __future__ import annotations

import io

import pytest

from tests.conftest import act, checked, get, staff_token, submitted

VILLAGE = "73.07.03.2005"  # a desa of Sinjai Timur, this module's own
OTHER = "73.07.09.2001"


def _image(fmt: str, size: tuple[int, int] = (400, 480)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (255, 255, 255, 0) if fmt == "PNG" else "white")
    ImageDraw.Draw(image).ellipse((20, 20, size[0] - 20, size[1] - 20), fill=(20, 110, 60))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def upload(client, token, data, content_type="image/png", village=VILLAGE):
    return client.http.put(f"/v1/villages/{village}/letter-settings/logo", body=data,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})


def _settings(client, token):
    return get(client, f"/v1/villages/{VILLAGE}/letter-settings", token).json_body


def test_kades_uploads_a_png_and_the_next_letter_carries_it(client, citizen):
    from pypdf import PdfReader

    from chalicelib.services import wiring
    from chalicelib.storage import letters as letters_repo

    # Given the kades of a desa and a 400x480 PNG lambang
    kades = staff_token(client, f"kades.{VILLAGE}")
    # When they upload it
    response = upload(client, kades, _image("PNG"))
    # Then it is stored shrunk to 300 px high and the settings point to it
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["height"] == 300 and body["logo_key"].startswith(f"logos/{VILLAGE}/")
    assert _settings(client, kades)["logo_key"] == body["logo_key"]
    # And a letter issued afterwards shows it on the kop (two images: the lambang and the QR code)
    operator = staff_token(client, f"operator.{VILLAGE}")
    r = submitted(client, citizen, VILLAGE)
    r = checked(client, operator, act(client, operator, r, "review").json_body)
    r = act(client, operator, r, "approve").json_body
    issued = act(client, kades, r, "issue")
    assert issued.status_code == 200, issued.body
    letter = letters_repo.get(issued.json_body["letter"]["id"])
    pdf = PdfReader(io.BytesIO(wiring.file_store().read(letter.file_key)))
    assert len(pdf.pages[0].images) == 2


def test_a_jpeg_is_accepted(client):
    operator = staff_token(client, f"operator.{VILLAGE}")
    response = upload(client, operator, _image("JPEG", (200, 200)), "image/jpeg")
    assert response.status_code == 200 and response.json_body["height"] == 200


@pytest.mark.parametrize("data,content_type,status,code", [
    (b"GIF89a" + b"\x00" * 100, "image/png", 400, "invalid_logo"),               # wrong magic bytes
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png", 400, "invalid_logo"),    # PNG header, no image
    (None, "image/jpeg", 400, "invalid_logo"),                                   # a PNG sent as JPEG
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (200 * 1024), "image/png", 413, "logo_too_large"),
    (b"{}", "application/json", 415, "unsupported_media_type"),
    (b"abc", "text/plain", 415, "unsupported_media_type"),
    (b"--x\r\n", "multipart/form-data", 415, "unsupported_media_type"),
    (b"", "image/png", 400, "invalid_logo"),
])
def test_bad_uploads_are_refused_and_write_nothing(client, data, content_type, status, code):
    from chalicelib.services import wiring

    operator = staff_token(client, f"operator.{VILLAGE}")
    before = _settings(client, operator)
    response = upload(client, operator, _image("PNG") if data is None else data, content_type)
    assert response.status_code == status, response.body
    assert response.json_body["code"] == code
    after = _settings(client, operator)
    assert (after["version"], after["logo_key"]) == (before["version"], before["logo_key"])
    assert not list((wiring.file_store().root / "logos" / VILLAGE).glob("*")) or before["logo_key"]


def test_a_decompression_bomb_is_refused(client):
    # A small file that claims 10 000 x 10 000 pixels
    operator = staff_token(client, f"operator.{VILLAGE}")
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 200 * 1024
    response = upload(client, operator, out.getvalue())
    assert response.status_code == 400 and response.json_body["code"] == "invalid_logo"


def test_other_villages_staff_and_citizens_cannot_upload(client, citizen):
    other = staff_token(client, f"operator.{OTHER}")
    assert upload(client, other, _image("PNG")).status_code == 404
    assert upload(client, citizen["token"], _image("PNG")).status_code == 403
    camat = staff_token(client, "camat.73.07.03")
    assert upload(client, camat, _image("PNG")).status_code == 403


def test_removing_the_logo(client):
    kades = staff_token(client, f"kades.{VILLAGE}")
    upload(client, kades, _image("PNG"))
    response = client.http.delete(f"/v1/villages/{VILLAGE}/letter-settings/logo",
                                  headers={"Authorization": f"Bearer {kades}"})
    assert response.status_code == 200 and response.json_body["logo_key"] is None


def test_office_address_settings_are_validated(client):
    from tests.conftest import put

    operator = staff_token(client, f"operator.{VILLAGE}")
    version = _settings(client, operator)["version"]
    for change in ({"postcode": "9267"}, {"postcode": "９２６７１"}, {"email": "bukan-email"},
                   {"phone": "0482\n21234"}, {"website": "javascript:alert(1)"}):
        response = put(client, f"/v1/villages/{VILLAGE}/letter-settings", {"version": version, **change}, operator)
        assert response.status_code == 400, (change, response.body)
    ok = put(client, f"/v1/villages/{VILLAGE}/letter-settings",
             {"version": version, "address": "Jl. Poros Lasiai No. 3", "postcode": "92671", "phone": "(0482) 21234",
              "email": "desa@sinjaikab.go.id", "website": "lasiai.desa.id"}, operator)
    assert ok.status_code == 200, ok.body
    assert ok.json_body["kop_address"] == (
        "Jl. Poros Lasiai No. 3, Kode Pos 92671\n"
        "Telp. (0482) 21234 \u00b7 Pos-el desa@sinjaikab.go.id \u00b7 Laman lasiai.desa.id")

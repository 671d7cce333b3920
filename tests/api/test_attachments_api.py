"""Attachments: presigned uploads straight to storage (the local store here), checked at submit and resubmit,
seen by the owner and staff through short-lived links."""

import base64
import json
from urllib.parse import urlsplit

import pytest

from tests.conftest import (
    JPEG,
    PDF,
    PNG,
    SAMATARING,
    SINJAI_BARAT_VILLAGE,
    act,
    citizen_login,
    complete_profile,
    get,
    post,
    send_form,
    staff_token,
    submit,
    upload,
)

UPLOADS = f"/v1/villages/{SAMATARING}/uploads"


def presign(client, citizen, **overrides):
    body = {"letter_type": "SKD", "attachment": "ktp", "filename": "ktp.jpg", "content_type": "image/jpeg",
            "size": len(JPEG), **overrides}
    return post(client, UPLOADS, body, citizen["token"])


def my_requests(client, citizen):
    return get(client, "/v1/me/requests", citizen["token"]).json_body["items"]


def all_three(client, citizen):
    return {"ktp": upload(client, citizen, "ktp"), "kk": upload(client, citizen, "kk", data=PNG,
                                                                  content_type="image/png", filename="kk.png"),
            "pengantar_rt": upload(client, citizen, "pengantar_rt", data=PDF, content_type="application/pdf",
                                   filename="pengantar.pdf")}


# ------------------------------------------------------------------------------------------ presigning


def test_presign_answers_a_form_limited_to_size_type_and_time(client, citizen):
    # When a citizen asks to upload a KTP photo for SKD
    response = presign(client, citizen)
    # Then the answer is an upload form for the storage, not for the API body
    assert response.status_code == 201, response.body
    form = response.json_body
    assert form["method"] == "POST" and form["expires_in"] == 600 and form["max_bytes"] == 5 * 1024 * 1024
    assert form["upload_id"] and form["fields"]["Content-Type"] == "image/jpeg"
    # Straight at the attachment's final key: a submission copies nothing
    assert form["fields"]["key"] == f"attachments/{SAMATARING}/{form['upload_id']}"


@pytest.mark.parametrize("overrides,status,code", [
    ({"content_type": "image/gif"}, 400, "invalid_field"),
    ({"content_type": "text/html"}, 400, "invalid_field"),
    ({"size": 5 * 1024 * 1024 + 1}, 422, "file_too_large"),
    ({"size": 0}, 400, "invalid_field"),
    ({"size": "12"}, 400, "invalid_field_type"),
    ({"attachment": "foto_usaha"}, 422, "unknown_attachment"),
    ({"letter_type": "XYZ"}, 422, "unknown_letter_type"),
    ({"filename": "ktp\n.jpg"}, 400, "invalid_filename"),
    ({"filename": "\u0000"}, 400, "invalid_character"),  # the body-wide check answers first
    ({"extra": 1}, 400, "unknown_field"),
])
def test_bad_presign_requests_are_4xx_and_write_nothing(client, citizen, overrides, status, code):
    response = presign(client, citizen, **overrides)
    assert response.status_code == status, response.body
    assert response.json_body["code"] == code


def test_presign_for_an_inactive_village_or_by_staff_is_refused(client, citizen):
    inactive = post(client, f"/v1/villages/{SINJAI_BARAT_VILLAGE}/uploads",
                    {"letter_type": "SKD", "attachment": "ktp", "filename": "k.jpg", "content_type": "image/jpeg",
                     "size": 10}, citizen["token"])
    assert inactive.status_code == 422 and inactive.json_body["code"] == "village_inactive"
    op = staff_token(client, f"operator.{SAMATARING}")
    staff = post(client, UPLOADS, {"letter_type": "SKD", "attachment": "ktp", "filename": "k.jpg",
                                   "content_type": "image/jpeg", "size": 10}, op)
    assert staff.status_code == 403
    assert post(client, UPLOADS, {"letter_type": "SKD"}).status_code == 401


def test_path_parts_of_the_file_name_are_dropped(client, citizen):
    from chalicelib.domain.attachments import clean_filename

    assert clean_filename("C:\\Users\\andi\\..\\KTP saya.jpg") == "KTP saya.jpg"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("fóto ktp.jpeg") == "foto ktp.jpeg"


# ------------------------------------------------------------------------------------ the local store


def test_local_upload_enforces_the_policy_like_s3(client, citizen):
    form = presign(client, citizen).json_body
    # wrong Content-Type field: the policy names image/jpeg
    tampered = {**form, "fields": {**form["fields"], "Content-Type": "text/html"}}
    assert send_form(client, tampered, JPEG).status_code == 403
    # another key than the signed one
    other_key = {**form, "fields": {**form["fields"], "key": f"letters/{SAMATARING}/x.pdf"}}
    assert send_form(client, other_key, JPEG).status_code == 403
    # a policy rewritten to allow more: the signature no longer matches
    policy = json.loads(base64.urlsafe_b64decode(form["fields"]["policy"] + "=="))
    policy["max"] = 10**9
    forged = {**form, "fields": {**form["fields"], "policy": base64.urlsafe_b64encode(
        json.dumps(policy).encode()).decode().rstrip("=")}}
    assert send_form(client, forged, JPEG).status_code == 403
    # too big, empty
    assert send_form(client, form, b"\xff\xd8\xff" + bytes(5 * 1024 * 1024)).json_body["code"] == "upload_too_large"
    assert send_form(client, form, b"").json_body["code"] == "upload_empty"
    # and the real thing
    assert send_form(client, form, JPEG).status_code == 204
    # and once only: this store has no versions, so the file a request will point at is written once (S3 keeps
    # every version and the request's links name the one checked)
    again = send_form(client, form, PNG)
    assert again.status_code == 409 and again.json_body["code"] == "upload_exists"


def test_expired_upload_form_is_refused():
    from chalicelib.adapters.files import LocalFileStore
    from chalicelib.errors import AppError

    store = LocalFileStore("/nonexistent", "http://x", b"k" * 32)
    _, fields = store.presign_post("uploads/v/1", "image/jpeg", 100, 600, now=1_000_000)
    with pytest.raises(AppError) as exc:
        store.accept_post(fields, JPEG, now=1_000_601)
    assert exc.value.status == 403 and exc.value.code == "upload_policy_invalid"


@pytest.mark.parametrize("body,ctype", [
    (b"garbage", "multipart/form-data; boundary=xyz"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--xyz--\r\n",
     "multipart/form-data; boundary=xyz"),  # no file part
])
def test_malformed_upload_forms_are_400(client, body, ctype):
    response = client.http.post("/v1/local-uploads", headers={"Content-Type": ctype}, body=body)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == "malformed_upload"


def test_local_upload_with_another_media_type_is_refused(client):
    response = client.http.post("/v1/local-uploads", headers={"Content-Type": "application/json"}, body=b"{}")
    assert 400 <= response.status_code < 500


# ----------------------------------------------------------------------------------------- submitting


def test_submit_with_attachments_lists_them_on_the_request(client, citizen):
    # Given the three files SKD needs, uploaded
    refs = all_three(client, citizen)
    # When the citizen submits with them
    response = submit(client, citizen, attachments=refs)
    # Then the request lists them (no storage keys)
    assert response.status_code == 201, response.body
    listed = response.json_body["attachments"]
    assert [a["name"] for a in listed] == ["ktp", "kk", "pengantar_rt"]
    assert listed[0] == {"name": "ktp", "label": "Foto KTP", "filename": "berkas.jpg",
                         "content_type": "image/jpeg", "size": len(JPEG)}
    assert listed[2]["content_type"] == "application/pdf"


def test_missing_required_attachment_is_422_and_writes_nothing(client):
    c = citizen_login(client)
    complete_profile(client, c)
    response = submit(client, c, attachments={"ktp": upload(client, c, "ktp")})
    assert response.status_code == 422, response.body
    assert response.json_body["code"] == "missing_attachment"
    assert set(response.json_body["details"]["missing"]) == {"kk", "pengantar_rt"}
    assert "Foto Kartu Keluarga" in response.json_body["message"]
    assert submit(client, c, attachments=None).json_body["code"] == "missing_attachment"
    assert my_requests(client, c) == []


def test_unknown_unfinished_or_foreign_uploads_are_invalid(client):
    # Given two citizens
    a, b = citizen_login(client), citizen_login(client)
    complete_profile(client, a)
    complete_profile(client, b)
    refs = all_three(client, a)
    not_uploaded = presign(client, a, attachment="kk").json_body["upload_id"]
    cases = {
        "unknown": {**refs, "ktp": "01JD0000000000000000000000"},
        "not yet uploaded": {**refs, "kk": not_uploaded},
        "another citizen's": all_three(client, b),
        "for another attachment": {**refs, "kk": refs["ktp"]},
        "not an id": {**refs, "ktp": "../../x"},
    }
    for why, attachments in cases.items():
        response = submit(client, a, attachments=attachments)
        assert response.status_code in (400, 422), why
        assert response.json_body["code"] == "invalid_attachment", (why, response.body)
    assert my_requests(client, a) == []


def test_a_file_that_is_not_what_it_claims_is_refused_at_submit(client):
    # Given an HTML page uploaded as a "JPEG" (the storage only checks the declared type)
    c = citizen_login(client)
    complete_profile(client, c)
    refs = all_three(client, c)
    refs["ktp"] = upload(client, c, "ktp", data=b"<html><script>alert(1)</script></html>")
    # When it is submitted, then the real type is checked
    response = submit(client, c, attachments=refs)
    assert response.status_code == 422
    assert response.json_body["code"] == "invalid_attachment" and "Foto KTP" in response.json_body["message"]
    assert my_requests(client, c) == []


def test_a_webp_photo_is_accepted_and_a_riff_of_another_kind_is_not(client):
    # Given a real WebP photo (what the portal sends where the browser encodes WebP) for the KTP
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 190, 170)).save(picture, "WEBP", quality=80)
    c = citizen_login(client)
    complete_profile(client, c)
    refs = all_three(client, c)
    refs["ktp"] = upload(client, c, "ktp", data=picture.getvalue(), content_type="image/webp", filename="ktp.webp")
    # And another citizen's "WebP" that is a RIFF file of another kind (a WAVE sound)
    other = citizen_login(client)
    complete_profile(client, other)
    wave = all_three(client, other)
    wave["ktp"] = upload(client, other, "ktp", data=b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40),
                         content_type="image/webp", filename="ktp.webp")
    # When both are submitted, then the photo is kept with its type and the sound is refused, writing nothing
    response = submit(client, c, attachments=refs)
    assert response.status_code == 201, response.body
    ktp = next(a for a in response.json_body["attachments"] if a["name"] == "ktp")
    assert ktp["content_type"] == "image/webp"
    refused = submit(client, other, attachments=wave)
    assert refused.status_code == 422 and refused.json_body["code"] == "invalid_attachment"
    assert "WebP" in refused.json_body["message"]
    assert my_requests(client, other) == []


def test_bad_attachments_value_is_4xx(client, citizen):
    for value in (["ktp"], {"ktp": 5}, "ktp"):
        response = submit(client, citizen, attachments=value)
        assert 400 <= response.status_code < 500, value


def test_resubmit_replaces_an_attachment_and_checks_it(client):
    c = citizen_login(client)
    complete_profile(client, c)
    request = submit(client, c, attachments=all_three(client, c)).json_body
    op = staff_token(client, f"operator.{SAMATARING}")
    request = act(client, op, request, "review").json_body
    request = act(client, op, request, "request_revision", "Foto KTP buram").json_body
    # A broken replacement is refused and changes nothing
    bad = upload(client, c, "ktp", data=b"not a jpeg at all")
    response = post(client, f"/v1/requests/{request['id']}/transitions",
                    {"action": "resubmit", "version": request["version"], "attachments": {"ktp": bad}}, c["token"])
    assert response.status_code == 422 and response.json_body["code"] == "invalid_attachment"
    assert get(client, f"/v1/requests/{request['id']}", c["token"]).json_body["version"] == request["version"]
    # A good one replaces the KTP only
    good = upload(client, c, "ktp", data=PNG, content_type="image/png", filename="ktp-baru.png")
    response = post(client, f"/v1/requests/{request['id']}/transitions",
                    {"action": "resubmit", "version": request["version"], "attachments": {"ktp": good}}, c["token"])
    assert response.status_code == 200, response.body
    by_name = {a["name"]: a for a in response.json_body["attachments"]}
    assert by_name["ktp"]["filename"] == "ktp-baru.png" and set(by_name) == {"ktp", "kk", "pengantar_rt"}


def test_attachments_only_on_resubmit(client, citizen):
    request = submit(client, citizen).json_body
    op = staff_token(client, f"operator.{SAMATARING}")
    response = post(client, f"/v1/requests/{request['id']}/transitions",
                    {"action": "review", "version": request["version"], "attachments": {}}, op)
    assert response.status_code == 400 and response.json_body["code"] == "invalid_attachment"


def test_resubmit_of_a_request_without_attachments_needs_them(client):
    # Given a request stored before attachments existed
    from chalicelib.storage import requests as repo

    c = citizen_login(client)
    complete_profile(client, c)
    request = submit(client, c).json_body
    stored = repo.get(request["id"])
    stored.attachments = {}
    from chalicelib.storage.codec import request_item

    request_item(stored).save()
    op = staff_token(client, f"operator.{SAMATARING}")
    request = act(client, op, request, "review").json_body
    request = act(client, op, request, "request_revision", "Lengkapi lampiran").json_body
    response = act(client, c["token"], request, "resubmit")
    assert response.status_code == 422 and response.json_body["code"] == "missing_attachment"


# ---------------------------------------------------------------------------------------------- viewing


def test_owner_and_village_staff_open_an_attachment_through_a_short_lived_link(client, citizen):
    request = submit(client, citizen).json_body
    for token in (citizen["token"], staff_token(client, f"operator.{SAMATARING}"),
                  staff_token(client, f"kades.{SAMATARING}"), staff_token(client, "camat.73.07.03"),
                  staff_token(client, "admin")):
        response = get(client, f"/v1/requests/{request['id']}/attachments/ktp", token)
        assert response.status_code == 200, response.body
        assert response.json_body["expires_in"] == 300
        file = client.http.get(urlsplit(response.json_body["url"]).path, headers={"Accept": "*/*"})
        assert file.status_code == 200
        assert file.headers["Content-Type"] == "image/jpeg" and file.body == JPEG
        assert file.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_attachment_name_is_404(client, citizen):
    request = submit(client, citizen).json_body
    response = get(client, f"/v1/requests/{request['id']}/attachments/foto_usaha", citizen["token"])
    assert response.status_code == 404 and response.json_body["code"] == "attachment_not_found"


def test_a_tampered_link_is_404(client, citizen):
    request = submit(client, citizen).json_body
    url = get(client, f"/v1/requests/{request['id']}/attachments/ktp", citizen["token"]).json_body["url"]
    path = urlsplit(url).path
    assert client.http.get(path[:-2] + "xx", headers={"Accept": "*/*"}).status_code == 404


def test_an_expired_upload_is_refused_even_before_ttl_removes_it(client):
    # DynamoDB's TTL deletes expired rows within days, not at once: the expiry itself is checked
    from datetime import UTC, datetime, timedelta

    from chalicelib.storage import keys
    from chalicelib.storage.models import UploadItem

    c = citizen_login(client)
    complete_profile(client, c)
    refs = all_three(client, c)
    item = UploadItem.get(keys.upload_pk(refs["kk"]), keys.META)
    item.update(actions=[UploadItem.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    response = submit(client, c, attachments=refs)
    assert response.status_code == 422 and response.json_body["code"] == "invalid_attachment"
    assert "Foto Kartu Keluarga" in response.json_body["message"]


def test_staff_viewing_an_attachment_is_in_the_requests_history_the_owner_is_not(client):
    # A KTP photo shows the full NIK, like the letter PDF: every staff view is audited
    c = citizen_login(client)
    complete_profile(client, c)
    request = submit(client, c).json_body
    op = staff_token(client, f"operator.{SAMATARING}")
    assert get(client, f"/v1/requests/{request['id']}/attachments/ktp", c["token"]).status_code == 200
    assert get(client, f"/v1/requests/{request['id']}/attachments/kk", op).status_code == 200
    history = get(client, f"/v1/requests/{request['id']}", op).json_body["history"]
    views = [h for h in history if h["action"] == "view_attachment"]
    assert len(views) == 1 and views[0]["actor_role"] == "operator"
    assert views[0]["to"] == "submitted"
    # the version did not move: the citizen can still cancel with what they saw
    assert get(client, f"/v1/requests/{request['id']}", c["token"]).json_body["version"] == request["version"]


def test_the_local_store_deletes_a_file_and_its_type_note_and_a_missing_one_quietly(tmp_path):
    from chalicelib.adapters.files import LocalFileStore

    # Given a file posted with an upload form (its content type noted beside it)
    store = LocalFileStore(tmp_path, "http://x", b"k" * 32)
    _, fields = store.presign_post("attachments/v/1", "image/jpeg", 10_000, 600)
    store.accept_post(fields, JPEG)
    assert store.probe("attachments/v/1") is not None
    # When its retention ran out and it is deleted (twice: a redelivered stream record)
    store.delete("attachments/v/1")
    store.delete("attachments/v/1")
    # Then neither the file nor its note is left
    assert store.probe("attachments/v/1") is None
    assert [p.name for p in (tmp_path / "attachments" / "v").iterdir()] == []

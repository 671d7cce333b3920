"""Attachments against S3 (moto): the presigned POST carries the size and type conditions, the browser's
form lands at the attachment's final key, submit checks the real type (and copies nothing), staff get a presigned
GET."""

import base64
import json
from datetime import UTC, datetime

import boto3
import pytest
import requests as http

from tests.conftest import JPEG, PNG, SAMATARING, get, post, staff_token, submit

BUCKET = "balai-test-letters"


def file_store_on(monkeypatch, client, bucket: str):
    """The file store on `bucket` for the test (settings and wiring rebuilt), then back as it was."""
    from chalicelib.config import reset_caches
    from chalicelib.services import wiring

    monkeypatch.setenv("BALAI_LETTERS_BUCKET", bucket)
    reset_caches()
    wiring.reset()
    yield client
    monkeypatch.undo()
    reset_caches()
    wiring.reset()


@pytest.fixture()
def s3(monkeypatch):
    client = boto3.client("s3", region_name="ap-southeast-3")
    if BUCKET in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=o["Key"])
    else:
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
    yield from file_store_on(monkeypatch, client, BUCKET)


def s3_upload(client, citizen, attachment, data=JPEG, content_type="image/jpeg"):
    form = post(client, f"/v1/villages/{SAMATARING}/uploads",
                {"letter_type": "SKD", "attachment": attachment, "filename": f"{attachment}.jpg",
                 "content_type": content_type, "size": len(data)}, citizen["token"]).json_body
    # What the browser does: every field as-is, then the file, straight to S3 (never through the API)
    response = http.post(form["url"], data=form["fields"], files={"file": ("f", data, content_type)}, timeout=5)
    assert response.status_code == 204, response.text
    return form


def test_presigned_post_names_the_regional_endpoint_and_carries_the_policy(client, citizen, s3):
    form = s3_upload(client, citizen, "ktp")
    assert form["url"].startswith(f"https://{BUCKET}.s3.ap-southeast-3.amazonaws.com")
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"key": form["fields"]["key"]} in conditions
    assert form["fields"]["key"] == f"attachments/{SAMATARING}/{form['upload_id']}"


def test_submit_uses_the_checked_files_where_they_landed_and_staff_open_them(client, citizen, s3):
    refs = {name: s3_upload(client, citizen, name)["upload_id"] for name in ("ktp", "kk")}
    refs["pengantar_rt"] = s3_upload(client, citizen, "pengantar_rt", PNG, "image/png")["upload_id"]
    response = submit(client, citizen, attachments=refs)
    assert response.status_code == 201, response.body
    request = response.json_body
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="attachments/")["Contents"]}
    assert stored == {f"attachments/{SAMATARING}/{uid}" for uid in refs.values()}

    op = staff_token(client, f"operator.{SAMATARING}")
    link = get(client, f"/v1/requests/{request['id']}/attachments/pengantar_rt", op).json_body
    assert "X-Amz-Expires=300" in link["url"] and link["expires_in"] == 300
    fetched = http.get(link["url"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == PNG


def test_a_fake_jpeg_in_s3_is_refused_at_submit(client, citizen, s3):
    refs = {name: s3_upload(client, citizen, name)["upload_id"] for name in ("kk", "pengantar_rt")}
    refs["ktp"] = s3_upload(client, citizen, "ktp", b"MZ\x90\x00 this is an .exe")["upload_id"]
    response = submit(client, citizen, attachments=refs)
    assert response.status_code == 422 and response.json_body["code"] == "invalid_attachment"
    # Nothing was written besides the three uploads themselves, which stay unused (deleted by their TTL removal)
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert stored == {f"attachments/{SAMATARING}/{uid}" for uid in refs.values()}
    from chalicelib.storage import keys
    from chalicelib.storage.models import UploadItem

    assert {UploadItem.get(keys.upload_pk(uid), keys.META).state for uid in refs.values()} == {"unused"}


def test_presigned_but_never_uploaded_is_invalid(client, citizen, s3):
    refs = {name: s3_upload(client, citizen, name)["upload_id"] for name in ("kk", "pengantar_rt")}
    refs["ktp"] = post(client, f"/v1/villages/{SAMATARING}/uploads",
                       {"letter_type": "SKD", "attachment": "ktp", "filename": "k.jpg",
                        "content_type": "image/jpeg", "size": 10}, citizen["token"]).json_body["upload_id"]
    response = submit(client, citizen, attachments=refs)
    assert response.status_code == 422 and "belum selesai" in response.json_body["message"]


def test_upload_rows_expire_by_ttl(client, citizen, s3):
    from chalicelib.storage import keys
    from chalicelib.storage.models import UploadItem

    form = s3_upload(client, citizen, "ktp")
    item = UploadItem.get(keys.upload_pk(form["upload_id"]), keys.META)
    # A day to finish the form; then DynamoDB's TTL removes the row (and the stream handler the file, if unused)
    remaining = (item.expires_at - datetime.now(UTC)).total_seconds()
    assert 86000 < remaining <= 86400

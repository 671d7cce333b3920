"""Direct uploads (issue 14, cost): a presigned upload lands at its attachment's final key and a submission copies
nothing; it marks the upload used in its own transaction. DynamoDB's TTL removal of an upload item still unused (a
day later) makes the stream handler delete its file; a used one's removal deletes nothing (its file then goes with
the request's retention). A refused submission marks and writes nothing. A file written again after submission
does not change what the request shows (its S3 version is pinned); an upload serves one request. Uploads presigned
before the deploy (old staging prefix) are still copied at submission. S3 on moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests as http

from tests.complaints_support import file as file_complaint
from tests.conftest import (
    JPEG,
    PNG,
    SAMATARING,
    SKD_FIELDS,
    act,
    citizen_login,
    complete_profile,
    get,
    post,
    staff_token,
    submit,
)
from tests.integration import test_attachments_s3 as on_s3
from tests.integration.test_attachment_retention import _stored, _ttl_removal

BUCKET, s3_upload = on_s3.BUCKET, on_s3.s3_upload
s3 = on_s3.s3  # the fixture: a moto bucket the file store writes to
VERSIONED = "balai-test-versioned"


@pytest.fixture()
def versioned_s3(monkeypatch):
    """A versioned bucket, as the stack's letters bucket is."""
    client = boto3.client("s3", region_name="ap-southeast-3")
    if VERSIONED not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=VERSIONED, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
        client.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})
    yield from on_s3.file_store_on(monkeypatch, client, VERSIONED)


def _three(client, citizen) -> dict[str, str]:
    refs = {name: s3_upload(client, citizen, name)["upload_id"] for name in ("ktp", "kk")}
    refs["pengantar_rt"] = s3_upload(client, citizen, "pengantar_rt", PNG, "image/png")["upload_id"]
    return refs


def _item(upload_id: str):
    from chalicelib.storage import keys
    from chalicelib.storage.models import UploadItem

    return UploadItem.get(keys.upload_pk(upload_id), keys.META)


def _keys(s3_client, bucket: str = BUCKET) -> set[str]:
    return {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _key(upload_id: str) -> str:
    return f"attachments/{SAMATARING}/{upload_id}"


def _mine(client, citizen) -> list[dict[str, Any]]:
    return get(client, "/v1/me/requests", citizen["token"]).json_body["items"]


def test_an_upload_lands_at_its_final_key_and_the_submission_copies_nothing(client, citizen, s3, monkeypatch):
    from chalicelib.adapters.files import S3FileStore
    from chalicelib.storage import requests as requests_repo

    def no_copy(self, source, target):
        raise AssertionError(f"copied {source} -> {target}")

    monkeypatch.setattr(S3FileStore, "copy", no_copy)
    # Given three files posted straight to storage
    refs = _three(client, citizen)
    assert _keys(s3) == {_key(uid) for uid in refs.values()}
    # When the citizen submits
    response = submit(client, citizen, attachments=refs)
    # Then the request points at the files where they landed, nothing was copied, nothing is in the staging prefix
    assert response.status_code == 201, response.body
    stored = requests_repo.get(response.json_body["id"])
    assert {a["file_key"] for a in stored.attachments.values()} == {_key(uid) for uid in refs.values()}
    assert _keys(s3) == {_key(uid) for uid in refs.values()}
    # And each upload is marked used by the request, with the size checked
    for name, uid in refs.items():
        item = _item(uid)
        assert (item.state, item.used_by) == ("used", response.json_body["id"]), name
        assert item.stored_size == stored.attachments[name]["size"]


def test_the_ttl_removal_of_an_unused_upload_deletes_its_file_and_of_a_used_one_nothing(client, citizen, s3):
    from chalicelib.workers import retention
    from chalicelib.workers.stream import matches

    # Given a request that used three uploads, and a fourth upload the citizen abandoned
    refs = _three(client, citizen)
    abandoned = s3_upload(client, citizen, "ktp")["upload_id"]
    assert submit(client, citizen, attachments=refs).status_code == 201
    records = {uid: _ttl_removal(_item(uid)) for uid in [*refs.values(), abandoned]}
    # When DynamoDB's TTL removes the four upload items a day later
    # Then Lambda's filter hands only the unused one's removal to the stream handler, which deletes its file
    assert [uid for uid, r in records.items() if matches(r)] == [abandoned]
    assert retention.handle_stream({"Records": list(records.values())}) == 1
    assert not _stored(s3, _key(abandoned))
    # And the used files stay (their request's retention deletes them once it closed)
    assert all(_stored(s3, _key(uid)) for uid in refs.values())
    # And a redelivery changes nothing
    assert retention.handle_stream({"Records": [records[abandoned]]}) == 1


def test_a_removal_of_an_unused_upload_by_anyone_but_the_ttl_deletes_nothing(client, citizen, s3):
    from chalicelib.workers import retention
    from chalicelib.workers.stream import matches

    uid = s3_upload(client, citizen, "ktp")["upload_id"]
    record = _ttl_removal(_item(uid), by_ttl=False)
    assert not matches(record) and retention.handle_stream({"Records": [record]}) == 0
    assert _stored(s3, _key(uid))


def test_a_refused_submission_marks_and_writes_nothing_and_its_uploads_go_with_their_ttl(client, citizen, s3):
    from chalicelib.workers import retention

    refs = _three(client, citizen)
    other = citizen_login(client)
    complete_profile(client, other)
    before = _keys(s3)
    refused = {
        # a validation error
        "bad fields": submit(client, citizen, fields={**SKD_FIELDS, "keperluan": ""}, attachments=refs),
        # another citizen naming these uploads (looks like unknown ones)
        "wrong owner": submit(client, other, attachments=refs),
        # an inactive letter type / unknown one
        "unknown letter type": submit(client, citizen, letter_type="XYZ", attachments=refs),
    }
    for why, response in refused.items():
        assert 400 <= response.status_code < 500, (why, response.body)
    # Then no request exists, no object was written or copied, and every upload is still unused
    assert _mine(client, citizen) == [] and _mine(client, other) == []
    assert _keys(s3) == before
    assert {_item(uid).state for uid in refs.values()} == {"unused"}
    # And their TTL removal deletes every file
    records = [_ttl_removal(_item(uid)) for uid in refs.values()]
    assert retention.handle_stream({"Records": records}) == 3
    assert _keys(s3) == set()


def test_a_stale_resubmission_leaves_its_new_upload_unused(client, citizen, s3):
    refs = _three(client, citizen)
    request = submit(client, citizen, attachments=refs).json_body
    op = staff_token(client, f"operator.{SAMATARING}")
    request = act(client, op, request, "review").json_body
    request = act(client, op, request, "request_revision", "Foto KTP buram").json_body
    again = s3_upload(client, citizen, "ktp")["upload_id"]
    stale = post(client, f"/v1/requests/{request['id']}/transitions",
                 {"action": "resubmit", "version": request["version"] - 1, "attachments": {"ktp": again}},
                 citizen["token"])
    assert stale.status_code == 409 and stale.json_body["code"] == "stale_version"
    assert _item(again).state == "unused"
    # the current version takes it, and marks it used by the same request
    done = post(client, f"/v1/requests/{request['id']}/transitions",
                {"action": "resubmit", "version": request["version"], "attachments": {"ktp": again}},
                citizen["token"])
    assert done.status_code == 200, done.body
    assert (_item(again).state, _item(again).used_by) == ("used", request["id"])


def test_an_upload_serves_one_request_a_second_is_refused_and_a_replay_is_not(client, citizen, s3):
    refs = _three(client, citizen)
    headers = {"Idempotency-Key": "form-1"}
    first = submit(client, citizen, attachments=refs, headers=headers)
    assert first.status_code == 201, first.body
    # Another submission naming the same uploads (they would share files the first to close deletes) is refused
    fresh = s3_upload(client, citizen, "kk")["upload_id"]
    second = submit(client, citizen, attachments={**refs, "kk": fresh})
    assert second.status_code == 409 and second.json_body["code"] == "upload_used", second.body
    assert "unggah ulang" in second.json_body["message"]
    # ...and writes nothing: the fresh upload it named stays unused
    assert len(_mine(client, citizen)) == 1 and _item(fresh).state == "unused"
    # A retry of the first (same Idempotency-Key, same body) still answers the first request
    replay = submit(client, citizen, attachments=refs, headers=headers)
    assert replay.status_code == 200 and replay.json_body["id"] == first.json_body["id"]


def test_a_file_written_again_after_submission_does_not_change_what_the_request_shows_and_is_refused(
        client, citizen, versioned_s3):
    from chalicelib.storage import requests as requests_repo

    # Given a submitted request whose KTP form is still valid (a presigned POST lasts 10 minutes)
    forms = {name: s3_upload(client, citizen, name) for name in ("ktp", "kk")}
    forms["pengantar_rt"] = s3_upload(client, citizen, "pengantar_rt", PNG, "image/png")
    response = submit(client, citizen, attachments={n: f["upload_id"] for n, f in forms.items()})
    assert response.status_code == 201, response.body
    ktp = forms["ktp"]
    checked = requests_repo.get(response.json_body["id"]).attachments["ktp"]
    assert checked["version"] and _item(ktp["upload_id"]).stored_version == checked["version"]
    assert _item(ktp["upload_id"]).stored_etag
    # When the citizen posts another file with the same form
    swapped = JPEG + b"another picture"
    posted = http.post(ktp["url"], data=ktp["fields"], files={"file": ("f", swapped, "image/jpeg")}, timeout=5)
    assert posted.status_code == 204
    # Then staff still open the file that was checked and submitted: the link names its version
    op = staff_token(client, f"operator.{SAMATARING}")
    link = get(client, f"/v1/requests/{response.json_body['id']}/attachments/ktp", op).json_body
    assert f"versionId={checked['version']}" in link["url"]
    assert http.get(link["url"], timeout=5).content == JPEG
    # And the owner's links too
    mine = get(client, f"/v1/requests/{response.json_body['id']}/attachments", citizen["token"]).json_body
    fetched = {i["name"]: http.get(i["url"], timeout=5).content for i in mine["items"]}
    assert fetched["ktp"] == JPEG
    # And when the request is sent back, naming that upload again is refused: it is not the file that was checked
    request = act(client, op, response.json_body, "review").json_body
    request = act(client, op, request, "request_revision", "Foto KTP buram").json_body
    again = post(client, f"/v1/requests/{request['id']}/transitions",
                 {"action": "resubmit", "version": request["version"], "attachments": {"ktp": ktp["upload_id"]}},
                 citizen["token"])
    assert again.status_code == 422 and again.json_body["code"] == "invalid_attachment", again.body
    assert "berubah setelah diajukan" in again.json_body["message"]


def _as_staging(s3_client, bucket: str, refs: dict[str, str]) -> None:
    """Turn fresh uploads into uploads presigned before the deploy: their items name the staging prefix and carry
    no state, their files are there."""
    from chalicelib.domain.attachments import staging_file_key

    for uid in refs.values():
        item = _item(uid)
        staging = staging_file_key(SAMATARING, uid)
        s3_client.copy_object(Bucket=bucket, Key=staging, CopySource={"Bucket": bucket, "Key": item.file_key})
        s3_client.delete_object(Bucket=bucket, Key=item.file_key)
        item.file_key, item.state = staging, None
        item.save()


def test_a_staging_upload_from_before_the_deploy_still_submits_by_copy(client, citizen, s3):
    from chalicelib.domain.attachments import staging_file_key
    from chalicelib.storage import requests as requests_repo
    from chalicelib.workers import retention

    # Given three uploads presigned before the deploy
    refs = _three(client, citizen)
    _as_staging(s3, BUCKET, refs)
    # When the citizen submits within their day
    response = submit(client, citizen, attachments=refs)
    # Then the files are copied to their attachment keys, as before, and the request points there
    assert response.status_code == 201, response.body
    stored = requests_repo.get(response.json_body["id"])
    assert {a["file_key"] for a in stored.attachments.values()} == {_key(uid) for uid in refs.values()}
    assert all(_stored(s3, _key(uid)) for uid in refs.values())
    op = staff_token(client, f"operator.{SAMATARING}")
    link = get(client, f"/v1/requests/{response.json_body['id']}/attachments/pengantar_rt", op).json_body
    assert http.get(link["url"], timeout=5).content == PNG
    # And their TTL removal deletes nothing (the bucket's lifecycle empties the staging prefix)
    records = [_ttl_removal(_item(uid)) for uid in refs.values()]
    assert retention.handle_stream({"Records": records}) == 0
    assert all(_stored(s3, _key(uid)) and _stored(s3, staging_file_key(SAMATARING, uid)) for uid in refs.values())


def _s3_photo(client, citizen) -> str:
    form = post(client, f"/v1/villages/{SAMATARING}/complaint-uploads",
                {"filename": "jalan.jpg", "content_type": "image/jpeg", "size": len(JPEG)}, citizen["token"]).json_body
    assert form["fields"]["key"] == _key(form["upload_id"])
    sent = http.post(form["url"], data=form["fields"], files={"file": ("f", JPEG, "image/jpeg")}, timeout=5)
    assert sent.status_code == 204
    return str(form["upload_id"])


def test_complaint_photos_land_at_their_final_key_serve_one_complaint_and_unused_ones_go(
        client, citizen, s3, monkeypatch):
    from chalicelib.adapters.files import S3FileStore
    from chalicelib.workers import retention

    monkeypatch.setattr(S3FileStore, "copy", lambda *a: (_ for _ in ()).throw(AssertionError("copied")))
    used, abandoned = _s3_photo(client, citizen), _s3_photo(client, citizen)
    filed = file_complaint(client, citizen, photos=[used])
    assert filed.status_code == 201, filed.body
    assert (_item(used).state, _item(used).used_by) == ("used", filed.json_body["id"])
    # the same photo for a second complaint is refused, and that filing writes nothing
    again = file_complaint(client, citizen, photos=[used], title="Kantor desa tutup lagi")
    assert again.status_code == 409 and again.json_body["code"] == "upload_used", again.body
    # the staff's link opens the photo where it landed
    op = staff_token(client, f"operator.{SAMATARING}")
    shown = get(client, f"/v1/complaints/{filed.json_body['id']}/photos/{used}", op)
    assert shown.status_code == 200 and http.get(shown.json_body["url"], timeout=5).content == JPEG
    records = [_ttl_removal(_item(uid)) for uid in (used, abandoned)]
    assert retention.handle_stream({"Records": records}) == 1
    assert _stored(s3, _key(used)) and not _stored(s3, _key(abandoned))


def test_a_staging_upload_in_the_versioned_bucket_is_linked_by_key_not_by_its_staging_version(
        client, citizen, versioned_s3):
    from chalicelib.storage import requests as requests_repo

    forms = {name: s3_upload(client, citizen, name) for name in ("ktp", "kk")}
    forms["pengantar_rt"] = s3_upload(client, citizen, "pengantar_rt", PNG, "image/png")
    refs = {n: f["upload_id"] for n, f in forms.items()}
    _as_staging(versioned_s3, VERSIONED, refs)
    response = submit(client, citizen, attachments=refs)
    assert response.status_code == 201, response.body
    # the copy is a new object: the staging file's version is not the attachment's, so none is recorded
    assert all("version" not in a for a in requests_repo.get(response.json_body["id"]).attachments.values())
    op = staff_token(client, f"operator.{SAMATARING}")
    link = get(client, f"/v1/requests/{response.json_body['id']}/attachments/pengantar_rt", op).json_body
    assert "versionId" not in link["url"] and http.get(link["url"], timeout=5).content == PNG

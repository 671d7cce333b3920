"""Attachment retention (issue 14, UU PDP 27/2022): when a request closes, its files are tagged for the bucket's
lifecycle rule (S3 on moto); past the retention the API answers 410 attachment_expired, the letter stays."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import JPEG, PNG, SAMATARING, act, get, issue_over_api, post, staff_token, submit
from tests.integration import test_attachments_s3 as on_s3

BUCKET, s3_upload = on_s3.BUCKET, on_s3.s3_upload
s3 = on_s3.s3  # the fixture: a moto bucket the file store writes to


def _tags(s3_client, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3_client.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def _submitted(client, citizen, s3_client) -> tuple[dict, list[str]]:
    refs = {name: s3_upload(client, citizen, name)["upload_id"] for name in ("ktp", "kk")}
    refs["pengantar_rt"] = s3_upload(client, citizen, "pengantar_rt", PNG, "image/png")["upload_id"]
    response = submit(client, citizen, attachments=refs)
    assert response.status_code == 201, response.body
    return response.json_body, [f"attachments/{SAMATARING}/{uid}" for uid in refs.values()]


def _later(monkeypatch, days: float) -> None:
    from chalicelib.services import attachments

    moved = datetime.now(UTC) + timedelta(days=days)
    monkeypatch.setattr(attachments, "utcnow", lambda: moved)


def test_an_open_request_keeps_its_files_untagged_and_readable_however_old(client, citizen, s3, monkeypatch):
    # Given a submitted request under review
    request, keys = _submitted(client, citizen, s3)
    op = staff_token(client, f"operator.{SAMATARING}")
    request = act(client, op, request, "review").json_body
    # Then no file carries the retention tag: the lifecycle rule never touches an open request's files
    assert all(_tags(s3, key) == {} for key in keys)
    # When the operator looks a year later
    _later(monkeypatch, 365)
    link = get(client, f"/v1/requests/{request['id']}/attachments/ktp", op)
    # Then the file is still handed out
    assert link.status_code == 200, link.body


def test_issuing_tags_the_files_and_after_the_retention_the_api_answers_410(client, citizen, s3, monkeypatch):
    # Given a request worked to an issued letter
    request, keys = _submitted(client, citizen, s3)
    op, kades = staff_token(client, f"operator.{SAMATARING}"), staff_token(client, f"kades.{SAMATARING}")
    for action in ("review", "verify_identity", "approve"):
        if action == "verify_identity" and request.get("identity_verified", True):
            continue
        extra = {"document": "KTP-el"} if action == "verify_identity" else {}
        answer = post(client, f"/v1/requests/{request['id']}/transitions",
                      {"action": action, "version": request["version"], **extra}, op)
        assert answer.status_code == 200, answer.body
        request = answer.json_body
    issued = issue_over_api(client, kades, request)
    # Then every attachment is tagged for the bucket's retention rule
    assert all(_tags(s3, key) == {"balai-retention": "closed"} for key in keys)
    # And within the retention (30 days by default) staff still open them
    _later(monkeypatch, 29)
    assert get(client, f"/v1/requests/{issued['id']}/attachments/kk", op).status_code == 200
    # When the retention has passed
    _later(monkeypatch, 31)
    before = len(get(client, f"/v1/requests/{issued['id']}", op).json_body["history"])
    gone = get(client, f"/v1/requests/{issued['id']}/attachments/kk", op)
    # Then the API says the file was deleted on purpose, in Bahasa Indonesia, and writes no view event
    assert gone.status_code == 410, gone.body
    assert gone.json_body["code"] == "attachment_expired"
    assert "sudah dihapus" in gone.json_body["message"] and "30 hari" in gone.json_body["message"]
    assert len(get(client, f"/v1/requests/{issued['id']}", op).json_body["history"]) == before
    # And the owner gets the same answer, while the letter itself stays downloadable
    assert get(client, f"/v1/requests/{issued['id']}/attachments/ktp", citizen["token"]).status_code == 410
    assert get(client, f"/v1/requests/{issued['id']}/letter", citizen["token"]).status_code == 200


@pytest.mark.parametrize("close", ["reject", "cancel"])
def test_a_rejected_or_cancelled_request_releases_its_files_too(client, citizen, s3, close):
    # Given a submitted request
    request, keys = _submitted(client, citizen, s3)
    # When the operator rejects it, or the citizen cancels it
    if close == "reject":
        token = staff_token(client, f"operator.{SAMATARING}")
        response = act(client, token, request, "reject", "Bukan warga desa ini.")
    else:
        response = act(client, citizen["token"], request, "cancel")
    assert response.status_code == 200, response.body
    # Then its files are tagged for deletion after the retention
    assert all(_tags(s3, key) == {"balai-retention": "closed"} for key in keys)


def test_the_retention_is_a_setting(client, citizen, s3, monkeypatch):
    from chalicelib.config import reset_caches

    # Given a district that keeps attachments 90 days
    monkeypatch.setenv("BALAI_ATTACHMENT_RETENTION_DAYS", "90")
    reset_caches()
    request, _ = _submitted(client, citizen, s3)
    assert act(client, citizen["token"], request, "cancel").status_code == 200
    # Then 60 days on the file is still there, and 91 days on it is gone
    _later(monkeypatch, 60)
    assert get(client, f"/v1/requests/{request['id']}/attachments/ktp", citizen["token"]).status_code == 200
    _later(monkeypatch, 91)
    gone = get(client, f"/v1/requests/{request['id']}/attachments/ktp", citizen["token"])
    assert gone.status_code == 410 and "90 hari" in gone.json_body["message"]


def test_a_file_whose_tagging_fails_is_kept_and_the_change_stands(client, citizen, s3, monkeypatch):
    from chalicelib.adapters.files import S3FileStore
    from chalicelib.errors import ExternalServiceError

    # Given S3 refusing tag requests
    def refuse(self, key, name, value):
        raise ExternalServiceError("Penyimpanan berkas sedang tidak dapat diakses.", code="file_store_error")

    monkeypatch.setattr(S3FileStore, "tag", refuse)
    request, keys = _submitted(client, citizen, s3)
    # When the citizen cancels
    response = act(client, citizen["token"], request, "cancel")
    # Then the cancellation is recorded and the files stay untagged (kept, never deleted early)
    assert response.status_code == 200 and response.json_body["status"] == "cancelled"
    assert all(_tags(s3, key) == {} for key in keys)
    assert JPEG  # the files are the fixture's JPEG/PNG


def test_every_link_in_one_answer_one_audit_event_and_expired_files_listed(client, citizen, s3, monkeypatch):
    import requests as http

    # Given a request with three attachments
    request, keys = _submitted(client, citizen, s3)
    op = staff_token(client, f"operator.{SAMATARING}")
    before = len(get(client, f"/v1/requests/{request['id']}", op).json_body["history"])
    # When the operator opens them all at once
    answer = get(client, f"/v1/requests/{request['id']}/attachments", op)
    # Then one answer carries a working link per file, in the letter type's order, and one audit event names them
    assert answer.status_code == 200, answer.body
    items = answer.json_body["items"]
    assert [i["name"] for i in items] == ["ktp", "kk", "pengantar_rt"]
    assert http.get(items[2]["url"], timeout=5).content == PNG
    history = get(client, f"/v1/requests/{request['id']}", op).json_body["history"]
    assert len(history) == before + 1 and history[-1]["action"] == "view_attachment"
    # And the owner reads them without an audit event
    assert get(client, f"/v1/requests/{request['id']}/attachments", citizen["token"]).status_code == 200
    assert len(get(client, f"/v1/requests/{request['id']}", op).json_body["history"]) == before + 1
    # When the request was cancelled and the retention has passed
    assert act(client, citizen["token"], get(client, f"/v1/requests/{request['id']}", citizen["token"]).json_body,
               "cancel").status_code == 200
    _later(monkeypatch, 31)
    gone = get(client, f"/v1/requests/{request['id']}/attachments", op)
    # Then the answer is 410 in Bahasa Indonesia
    assert gone.status_code == 410 and gone.json_body["code"] == "attachment_expired", gone.body

"""Attachment retention (issue 14, UU PDP 27/2022): when a request closes, one retention item names its files and,
through the table's TTL, when they go; DynamoDB's TTL removal of it makes the stream handler delete them (S3 on
moto). Past the retention the API answers 410 attachment_expired; the letter stays."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import PNG, SAMATARING, act, get, issue_over_api, post, staff_token, submit
from tests.integration import test_attachments_s3 as on_s3

BUCKET, s3_upload = on_s3.BUCKET, on_s3.s3_upload
s3 = on_s3.s3  # the fixture: a moto bucket the file store writes to


def _stored(s3_client, key: str) -> bool:
    try:
        s3_client.head_object(Bucket=BUCKET, Key=key)
    except ClientError:
        return False
    return True


def _tags(s3_client, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3_client.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def _retention(request_id: str):
    from chalicelib.storage import keys
    from chalicelib.storage.models import RetentionItem

    found = list(RetentionItem.query(keys.retention_pk(request_id)))
    return found[0] if found else None


def _ttl_removal(item, by_ttl: bool = True) -> dict:
    """The stream record DynamoDB writes when its TTL deletes `item` (userIdentity names the service)."""
    image = item.serialize()
    record = {"eventName": "REMOVE", "eventSource": "aws:dynamodb",
              "dynamodb": {"Keys": {"PK": image["PK"], "SK": image["SK"]}, "OldImage": image}}
    if by_ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


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


def _days_from_now(iso_time: str) -> float:
    return (datetime.fromisoformat(iso_time) - datetime.now(UTC)).total_seconds() / 86400


def test_an_open_request_keeps_its_files_and_schedules_nothing(client, citizen, s3, monkeypatch):
    # Given a submitted request under review
    request, keys = _submitted(client, citizen, s3)
    op = staff_token(client, f"operator.{SAMATARING}")
    request = act(client, op, request, "review").json_body
    # Then no deletion is scheduled and no file is tagged: an open request's files are never touched
    assert _retention(request["id"]) is None
    assert all(_stored(s3, key) and _tags(s3, key) == {} for key in keys)
    # When the operator looks a year later
    _later(monkeypatch, 365)
    link = get(client, f"/v1/requests/{request['id']}/attachments/ktp", op)
    # Then the file is still handed out
    assert link.status_code == 200, link.body


def test_issuing_schedules_the_deletion_the_ttl_removal_deletes_and_the_api_answers_410(
        client, citizen, s3, monkeypatch):
    from chalicelib.workers import retention
    from chalicelib.workers.stream import matches

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
    # Then one retention item names every file and expires 30 days after the uploads (the table's TTL)
    item = _retention(issued["id"])
    assert item is not None and sorted(item.file_keys) == sorted(keys) and item.village == SAMATARING
    assert 29.9 < _days_from_now(item.delete_at) < 30.1
    assert abs((item.expires_at - datetime.fromisoformat(item.delete_at)).total_seconds()) < 1
    # And no file was tagged (no S3 request at all when the request closed): they are all still there
    assert all(_stored(s3, key) and _tags(s3, key) == {} for key in keys)
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
    # When DynamoDB's TTL removes the retention item, Lambda hands the record to the stream handler
    record = _ttl_removal(item)
    assert matches(record)
    assert retention.handle_stream({"Records": [record]}) == 3
    # Then the files are deleted from the bucket, and a redelivery of the same record changes nothing
    assert not any(_stored(s3, key) for key in keys)
    assert retention.handle_stream({"Records": [record]}) == 3


def test_a_removal_that_is_not_the_ttl_deletes_nothing(client, citizen, s3):
    from chalicelib.workers import retention
    from chalicelib.workers.stream import matches

    # Given a cancelled request, its deletion scheduled
    request, keys = _submitted(client, citizen, s3)
    assert act(client, citizen["token"], request, "cancel").status_code == 200
    item = _retention(request["id"])
    # When someone, not the TTL, deletes the item (before its time)
    record = _ttl_removal(item, by_ttl=False)
    # Then Lambda's filter drops the record, and the handler would not delete a file either
    assert not matches(record)
    assert retention.handle_stream({"Records": [record]}) == 0
    assert all(_stored(s3, key) for key in keys)


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
    # Then its files are scheduled for deletion after the retention
    item = _retention(request["id"])
    assert item is not None and sorted(item.file_keys) == sorted(keys)
    assert 29.9 < _days_from_now(item.delete_at) < 30.1


def test_the_retention_is_a_setting(client, citizen, s3, monkeypatch):
    from chalicelib.config import reset_caches

    # Given a district that keeps attachments 90 days
    monkeypatch.setenv("BALAI_ATTACHMENT_RETENTION_DAYS", "90")
    reset_caches()
    request, _ = _submitted(client, citizen, s3)
    assert act(client, citizen["token"], request, "cancel").status_code == 200
    # Then the deletion is scheduled 90 days on
    assert 89.9 < _days_from_now(_retention(request["id"]).delete_at) < 90.1
    # And 60 days on the file is still there, and 91 days on it is gone
    _later(monkeypatch, 60)
    assert get(client, f"/v1/requests/{request['id']}/attachments/ktp", citizen["token"]).status_code == 200
    _later(monkeypatch, 91)
    gone = get(client, f"/v1/requests/{request['id']}/attachments/ktp", citizen["token"])
    assert gone.status_code == 410 and "90 hari" in gone.json_body["message"]


def test_a_request_whose_scheduling_fails_keeps_its_files_and_the_change_stands(client, citizen, s3, monkeypatch):
    from chalicelib.errors import ExternalServiceError
    from chalicelib.services import attachments

    # Given the table refusing the retention item
    def refuse(*args, **kwargs):
        raise ExternalServiceError("Basis data sedang tidak dapat diakses.", code="database_error")

    monkeypatch.setattr(attachments.retention_repo, "schedule", refuse)
    request, keys = _submitted(client, citizen, s3)
    # When the citizen cancels
    response = act(client, citizen["token"], request, "cancel")
    # Then the cancellation is recorded and nothing will delete the files (kept, never deleted early)
    assert response.status_code == 200 and response.json_body["status"] == "cancelled"
    assert _retention(request["id"]) is None
    assert all(_stored(s3, key) for key in keys)


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

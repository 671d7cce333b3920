"""Service requests over the API: submit, read, queue, track, transitions and every error."""

import json

import pytest

from tests.conftest import (
    PULAU_HARAPAN,
    SAMATARING,
    SINJAI_BARAT_VILLAGE,
    SKD_FIELDS,
    act,
    citizen_login,
    get,
    post,
    put,
    required_attachments,
    staff_token,
    submit,
    submitted,
)


def test_submit_returns_201_with_tracking_code_and_version(client, citizen):
    response = submit(client, citizen)
    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "submitted" and body["version"] == 1
    assert len(body["tracking_code"]) == 9 and body["letter"] is None
    assert body["applicant"]["nik"] == citizen["nik"]  # the owner sees the full NIK
    assert body["applicant"]["desa"] == "Samataring" and body["applicant"]["kecamatan"] == "Sinjai Timur"
    assert body["history"][0]["action"] == "submit"
    assert body["due_at"] > body["created_at"]


def test_submit_writes_outbox_rows_in_the_same_transaction(client, citizen):
    from chalicelib.storage import keys
    from chalicelib.storage import outbox as outbox_repo
    from chalicelib.storage.models import OutboxItem

    body = submitted(client, citizen)
    # (every new row is in its kabupaten's retry index until it is sent; the index holds keys only)
    rows = [r for r in (OutboxItem.get(e.PK, e.SK) for e in OutboxItem.gsi3.query(keys.outbox_retry_pk("73.07")))
            if r.request_id == body["id"] and r.status == "pending"]
    # One row for the submission, holding its message to the citizen and its message to the operators
    assert [(r.request_id, [(p.event, p.audience["kind"]) for p in outbox_repo.get(r.id).parts]) for r in rows] == [
        (body["id"], [("request_received", "citizen"), ("new_request", "staff")])]


@pytest.mark.parametrize("body,status,code", [
    ({"letter_type": "XYZ", "fields": SKD_FIELDS}, 422, "unknown_letter_type"),
    ({"letter_type": "SKD"}, 400, "missing_field"),
    ({"letter_type": "SKD", "fields": "lima tahun"}, 400, "invalid_field_type"),
    ({"letter_type": 5, "fields": SKD_FIELDS}, 400, "invalid_field_type"),
    ({"letter_type": "SKD", "fields": {"lama_tinggal_tahun": "lima"}}, 400, "invalid_fields"),
])
def test_bad_submissions_write_nothing(client, citizen, body, status, code):
    response = post(client, f"/v1/villages/{SAMATARING}/requests", body, citizen["token"])
    assert response.status_code == status, response.body
    assert response.json_body["code"] == code
    assert get(client, "/v1/me/requests", citizen["token"]).json_body["items"] == []


def test_invalid_fields_lists_each_field(client, citizen):
    response = submit(client, citizen, fields={"lama_tinggal_tahun": -3})
    fields = {f["field"] for f in response.json_body["details"]["fields"]}
    assert fields == {"lama_tinggal_tahun", "keperluan"}


def test_inactive_village_is_422(client, citizen):
    response = submit(client, citizen, village=SINJAI_BARAT_VILLAGE)
    assert response.status_code == 422 and response.json_body["code"] == "village_inactive"


@pytest.mark.parametrize("village", ["73.07.03.9999", "73.07.03", "bukan-kode"])
def test_unknown_or_non_village_is_404(client, citizen, village):
    response = submit(client, citizen, village=village)
    assert response.status_code == 404 and response.json_body["code"] == "village_not_found"


def test_staff_cannot_submit(client):
    token = staff_token(client, f"operator.{SAMATARING}")
    response = post(client, f"/v1/villages/{SAMATARING}/requests", {"letter_type": "SKD", "fields": SKD_FIELDS}, token)
    assert response.status_code == 403 and response.json_body["code"] == "forbidden_role"


def test_profile_must_be_complete_before_submitting(client):
    c = citizen_login(client)
    response = submit(client, c)
    assert response.status_code == 422 and response.json_body["code"] == "profile_incomplete"


def test_profile_must_match_the_nik(client):
    c = citizen_login(client)
    body = {"version": 1, "name": "A", "birth_place": "Sinjai", "birth_date": "2001-01-01", "sex": "P",
            "religion": "Islam", "marital_status": "Kawin", "occupation": "Petani", "address": "Jl. A"}
    response = put(client, "/v1/me/profile", body, c["token"])
    assert response.status_code == 400 and response.json_body["code"] == "profile_mismatch_nik"
    assert {f["field"] for f in response.json_body["details"]["fields"]} == {"birth_date", "sex"}
    assert get(client, "/v1/me/profile", c["token"]).json_body["complete"] is False


def test_profile_round_trip_and_stale_version(client, citizen):
    profile = get(client, "/v1/me/profile", citizen["token"]).json_body
    assert profile["complete"] and profile["version"] == 2 and profile["nik"] == citizen["nik"]
    body = {k: profile[k] for k in ("name", "birth_place", "birth_date", "sex", "religion", "marital_status",
                                    "occupation", "address")}
    response = put(client, "/v1/me/profile", {**body, "version": 1}, citizen["token"])
    assert response.status_code == 409 and response.json_body["code"] == "stale_version"


def test_idempotency_key_returns_the_first_result(client, citizen):
    headers = {"Idempotency-Key": "form-123"}
    refs = required_attachments(client, citizen)
    first = submit(client, citizen, headers=headers, attachments=refs)
    # the retry sends the same body: its uploads, already used by the first request, do not refuse the replay
    again = submit(client, citizen, headers=headers, attachments=refs)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json_body["id"] == first.json_body["id"]
    assert len(get(client, "/v1/me/requests", citizen["token"]).json_body["items"]) == 1
    other = submit(client, citizen, fields={**SKD_FIELDS, "keperluan": "Lain"}, headers=headers)
    assert other.status_code == 422 and other.json_body["code"] == "idempotency_key_reused"


def test_get_request_with_history(client, citizen):
    body = submitted(client, citizen)
    response = get(client, f"/v1/requests/{body['id']}", citizen["token"])
    assert response.status_code == 200 and response.json_body["history"][0]["to"] == "submitted"
    assert get(client, "/v1/requests/01NOTEXISTING000000000000", citizen["token"]).status_code == 404


def test_full_lifecycle_and_history(client, registered_citizen):
    citizen = registered_citizen
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    kades = staff_token(client, f"kades.{SAMATARING}")
    r = act(client, op, r, "review").json_body
    r = act(client, op, r, "request_revision", "Foto KTP buram").json_body
    assert r["status"] == "needs_revision"
    response = post(client, f"/v1/requests/{r['id']}/transitions",
                    {"action": "resubmit", "version": r["version"], "fields": {**SKD_FIELDS, "lama_tinggal_tahun": 6}},
                    citizen["token"])
    assert response.status_code == 200, response.body
    r = response.json_body
    assert r["fields"]["lama_tinggal_tahun"] == 6
    r = act(client, op, r, "review").json_body
    r = act(client, op, r, "approve").json_body
    decided = act(client, kades, r, "issue")
    # The kades' decision is accepted at once (202) and the request is `issuing` until the queue has issued it
    assert decided.status_code == 202 and decided.json_body["status"] == "issuing"
    assert decided.json_body["version"] == 7 and decided.json_body["letter"] is None
    r = issue_over_api_after_decision(client, citizen["token"], r["id"])
    assert r["status"] == "issued" and r["version"] == 8 and r["letter"]["number"]
    assert [h["action"] for h in r["history"]] == ["submit", "review", "request_revision", "resubmit", "review",
                                                   "approve", "issue", "issued"]
    assert [(h["actor"], h["to"]) for h in r["history"][-2:]] == [
        (decided.json_body["history"][-1]["actor"], "issuing"), ("Sistem Balai", "issued")]


def issue_over_api_after_decision(client, token, request_id):
    from tests.helpers import drain_issuing_queue

    assert drain_issuing_queue(client) == 1
    return get(client, f"/v1/requests/{request_id}", token).json_body


def test_issue_by_a_non_signer_is_refused_and_queues_nothing(client, registered_citizen):
    # Given an approved request
    citizen = registered_citizen
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    r = act(client, op, r, "review").json_body
    r = act(client, op, r, "approve").json_body
    # When the operator (not the village's signer) or the kades of another village tries to issue it
    other = staff_token(client, "kades.73.07.09.2001")
    assert act(client, op, r, "issue").status_code == 403
    assert act(client, other, r, "issue").status_code in (403, 404)
    # Then nothing was written and nothing queued
    from tests.helpers import drain_issuing_queue

    assert drain_issuing_queue(client) == 0
    assert get(client, f"/v1/requests/{r['id']}", citizen["token"]).json_body["version"] == r["version"]


def test_reject_needs_a_reason(client, citizen):
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    response = act(client, op, r, "reject")
    assert response.status_code == 400 and response.json_body["code"] == "note_required"
    response = act(client, op, r, "reject", "Bukan warga desa ini")
    assert response.status_code == 200 and response.json_body["history"][-1]["note"] == "Bukan warga desa ini"


def test_stale_version_is_409_and_writes_nothing(client, citizen):
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, op, r, "review").status_code == 200
    response = act(client, op, r, "reject", "terlambat")  # still version 1
    assert response.status_code == 409 and response.json_body["code"] == "stale_version"
    stored = get(client, f"/v1/requests/{r['id']}", op).json_body
    assert stored["status"] == "in_review" and len(stored["history"]) == 2


def test_action_not_allowed_in_state_is_409(client, citizen):
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    response = act(client, op, r, "approve")
    assert response.status_code == 409 and response.json_body["code"] == "invalid_transition"


def test_wrong_role_is_403(client, citizen):
    r = submitted(client, citizen)
    response = act(client, citizen["token"], r, "review")
    assert response.status_code == 403 and response.json_body["code"] == "forbidden_role"


@pytest.mark.parametrize("body,code", [
    ({"action": "teleport", "version": 1}, "invalid_field"),
    ({"action": "review"}, "missing_field"),
    ({"action": "review", "version": "1"}, "invalid_field_type"),
    ({"action": "review", "version": 0}, "invalid_field"),
])
def test_bad_transition_bodies(client, citizen, body, code):
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    response = post(client, f"/v1/requests/{r['id']}/transitions", body, op)
    assert response.status_code == 400 and response.json_body["code"] == code


def test_citizen_cancels(client, citizen):
    r = submitted(client, citizen)
    response = act(client, citizen["token"], r, "cancel")
    assert response.status_code == 200 and response.json_body["status"] == "cancelled"


def test_queue_newest_first_with_status_filter_and_pages(client):
    c = citizen_login(client)
    from tests.conftest import complete_profile

    complete_profile(client, c)
    ids = [submitted(client, c, PULAU_HARAPAN)["id"] for _ in range(3)]
    op = staff_token(client, f"operator.{PULAU_HARAPAN}")
    page1 = get(client, f"/v1/villages/{PULAU_HARAPAN}/requests?limit=2", op).json_body
    assert len(page1["items"]) == 2 and page1["next"]
    page2 = get(client, f"/v1/villages/{PULAU_HARAPAN}/requests?limit=2&cursor={page1['next']}", op).json_body
    seen = [i["id"] for i in page1["items"] + page2["items"]]
    assert seen[:3] == list(reversed(ids))[:3] or set(ids) <= set(seen)
    act(client, op, page1["items"][0], "review")
    in_review = get(client, f"/v1/villages/{PULAU_HARAPAN}/requests?status=in_review", op).json_body["items"]
    assert [i["id"] for i in in_review] == [page1["items"][0]["id"]]
    submitted_ids = {i["id"] for i in get(client, f"/v1/villages/{PULAU_HARAPAN}/requests?status=submitted",
                                             op).json_body["items"]}
    assert page1["items"][0]["id"] not in submitted_ids


@pytest.mark.parametrize("query,code", [
    ("status=flying", "invalid_status"), ("limit=0", "invalid_limit"), ("limit=abc", "invalid_parameter"),
    ("cursor=garbage", "invalid_cursor"),
])
def test_queue_bad_parameters(client, query, code):
    op = staff_token(client, f"operator.{SAMATARING}")
    response = get(client, f"/v1/villages/{SAMATARING}/requests?{query}", op)
    assert response.status_code == 400 and response.json_body["code"] == code


def test_my_requests_lists_only_mine(client, citizen):
    mine = submitted(client, citizen)
    other = citizen_login(client)
    from tests.conftest import complete_profile

    complete_profile(client, other)
    submitted(client, other)
    items = get(client, "/v1/me/requests", citizen["token"]).json_body["items"]
    assert [i["id"] for i in items] == [mine["id"]]


def test_tracking_shows_status_without_personal_data(client, citizen):
    r = submitted(client, citizen)
    response = client.http.get(f"/v1/track/{r['tracking_code'].lower()}")
    assert response.status_code == 200
    raw = response.body.decode()
    assert response.json_body["status"] == "submitted"
    for secret in (citizen["nik"], "Andi", "Persatuan", citizen["nik"][-4:] + '"'):
        assert secret not in raw
    assert client.http.get("/v1/track/ZZZZ-ZZZZ").status_code == 404


def test_staff_sees_full_nik_camat_sees_masked(client, citizen):
    r = submitted(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    camat = staff_token(client, "camat.73.07.03")
    assert get(client, f"/v1/requests/{r['id']}", op).json_body["applicant"]["nik"] == citizen["nik"]
    masked = get(client, f"/v1/requests/{r['id']}", camat).json_body["applicant"]["nik"]
    assert masked.endswith(citizen["nik"][-4:]) and masked.startswith("*")


def test_no_500_on_garbage(client, citizen):
    for body in ("null", "123", '"x"', json.dumps({"letter_type": None, "fields": None})):
        response = client.http.post(f"/v1/villages/{SAMATARING}/requests",
                                    headers={"Authorization": f"Bearer {citizen['token']}",
                                             "Content-Type": "application/json"}, body=body)
        assert 400 <= response.status_code < 500, body


def test_an_event_keeps_its_time_and_version_once_and_one_written_before_reads_the_same(client, citizen):
    from chalicelib.config import get_settings
    from chalicelib.storage import keys
    from chalicelib.storage.table import connection_client

    body = submitted(client, citizen)
    table, pk = get_settings().table_name, keys.request_pk(body["id"])
    db = connection_client()
    (stored,) = [i for i in db.query(TableName=table, KeyConditionExpression="PK = :pk",
                                     ExpressionAttributeValues={":pk": {"S": pk}})["Items"]
                 if i["SK"]["S"].startswith("EVENT#")]
    # Given the submission's event: its time and version are in its sort key only (kept for good: no copies)
    assert "at" not in stored and "version" not in stored
    submitted_at = body["history"][0]["at"]
    assert stored["SK"]["S"] == keys.event_sk(submitted_at, 1)
    # And an event in the shape the release before wrote (time and version as attributes too)
    old_at = "2026-01-02T03:04:05.000+00:00"
    db.put_item(TableName=table, Item={
        "PK": {"S": pk}, "SK": {"S": keys.event_sk(old_at, 2)}, "entity": {"S": "event"}, "at": {"S": old_at},
        "version": {"N": "2"}, "actor": {"S": "Operator Lama"}, "actor_role": {"S": "operator"},
        "action": {"S": "review"}, "from_status": {"S": "submitted"}, "to_status": {"S": "in_review"}})
    # When the history is read, Then both read as they were written
    history = get(client, f"/v1/requests/{body['id']}", citizen["token"]).json_body["history"]
    assert [(h["at"], h["action"], h["version"]) for h in history] == [(old_at, "review", 2), (submitted_at, "submit", 1)]

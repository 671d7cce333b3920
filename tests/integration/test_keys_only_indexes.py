"""Every index holds only keys: transitions write no index entry unless an index key moves, and the readers still
answer whole records (a village's queue and its status lists, a citizen's requests, the SLA sweep's due
requests, the outbox retry index), leaving out an item whose index key has moved since the index was read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice.test import Client

from chalicelib.domain.clock import utcnow
from chalicelib.domain.regions import kabupaten_of
from chalicelib.storage import codec, keys
from chalicelib.storage import sla as sla_repo
from chalicelib.storage.models import RequestItem
from tests.helpers import SAMATARING, act, get, staff_token, submitted

INDEX_KEYS = {"PK", "SK"}


def _entry_attributes(index: str, pk: str) -> list[set[str]]:
    """The attribute names each entry of an index partition holds, as DynamoDB answers the Query."""
    from chalicelib.config import get_settings
    from chalicelib.storage.table import connection_client

    answer = connection_client().query(
        TableName=get_settings().table_name, IndexName=index, KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": f"{index}PK"}, ExpressionAttributeValues={":pk": {"S": pk}})
    return [set(item) for item in answer["Items"]]


def test_the_citizen_index_holds_keys_and_the_list_answers_whole_requests(client: Client,
                                                                           registered_citizen: dict[str, Any]) -> None:
    # Given a citizen's submitted request, reviewed by the operator
    request = submitted(client, registered_citizen)
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, operator, request, "review").status_code == 200
    # Then the citizen index (GSI3) holds the request's keys and nothing else
    entries = _entry_attributes("GSI3", _citizen_pk(request["id"]))
    assert entries and all(e <= INDEX_KEYS | {"GSI3PK", "GSI3SK"} for e in entries)
    # And the citizen's list still answers the whole request, as it is now
    mine = get(client, "/v1/me/requests", registered_citizen["token"]).json_body["items"]
    listed = next(r for r in mine if r["id"] == request["id"])
    assert listed["status"] == "in_review" and listed["fields"] == request["fields"]
    assert listed["applicant"]["name"] and [a["name"] for a in listed["attachments"]] == \
        [a["name"] for a in request["attachments"]]


def test_the_due_index_holds_keys_and_the_sweep_reads_whole_requests(client: Client,
                                                                     registered_citizen: dict[str, Any]) -> None:
    # Given an open request
    request = submitted(client, registered_citizen)
    item = RequestItem.get(keys.request_pk(request["id"]), keys.META)
    assert item.GSI4PK is not None
    # Then the due index (GSI4) holds its keys only
    entries = _entry_attributes("GSI4", item.GSI4PK)
    assert entries and all(e <= INDEX_KEYS | {"GSI4PK", "GSI4SK"} for e in entries)
    # When the sweep looks far enough ahead, it reads the whole request by its key
    # (the item itself no longer keeps the kabupaten its village code gives)
    due = {r.id: r for r in sla_repo.due(kabupaten_of(item.village), utcnow() + timedelta(days=60))}
    assert due[request["id"]].tracking_code == request["tracking_code"]
    assert due[request["id"]].fields == request["fields"] and due[request["id"]].version == request["version"]


def _citizen_pk(request_id: str) -> str:
    return keys.citizen_requests_pk(RequestItem.get(keys.request_pk(request_id), keys.META).nik_hash)


def test_the_village_queue_indexes_hold_keys_and_the_staff_lists_answer_whole_requests(
        client: Client, registered_citizen: dict[str, Any]) -> None:
    # Given a request the operator has reviewed
    request = submitted(client, registered_citizen)
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, operator, request, "review").status_code == 200
    # Then the village queue (GSI1) and its in-review list (GSI2) hold the request's keys and nothing else
    for index, pk in (("GSI1", keys.village_queue_pk(SAMATARING)),
                      ("GSI2", keys.village_status_pk(SAMATARING, "in_review"))):
        entries = _entry_attributes(index, pk)
        assert entries and all(e <= INDEX_KEYS | {f"{index}PK", f"{index}SK"} for e in entries), index
    # And both staff lists answer the whole request as it is now
    for query in ("", "?status=in_review"):
        items = get(client, f"/v1/villages/{SAMATARING}/requests{query}", operator).json_body["items"]
        listed = next(r for r in items if r["id"] == request["id"])
        assert listed["status"] == "in_review" and listed["fields"] == request["fields"], query
        assert listed["version"] == request["version"] + 1
    # And the submitted list no longer holds it
    items = get(client, f"/v1/villages/{SAMATARING}/requests?status=submitted", operator).json_body["items"]
    assert request["id"] not in {r["id"] for r in items}


def test_an_item_whose_index_key_moved_since_the_index_was_read_is_left_out(
        client: Client, registered_citizen: dict[str, Any]) -> None:
    # Given the "submitted" list's index entry of a request, read before the operator reviewed it
    request = submitted(client, registered_citizen)
    entry = RequestItem(keys.request_pk(request["id"]), keys.META)
    submitted_pk = keys.village_status_pk(SAMATARING, "submitted")
    assert [i.PK for i in codec.full_items([entry], still_in=("GSI2PK", submitted_pk))] == [entry.PK]
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, operator, request, "review").status_code == 200
    # When its item is read by key for that list, it is left out (the index lags; the item is the newer truth)
    assert codec.full_items([entry], still_in=("GSI2PK", submitted_pk)) == []
    # And it is found for the list it is in now, with only the attributes asked for (and the keys)
    [item] = codec.full_items([entry], still_in=("GSI2PK", keys.village_status_pk(SAMATARING, "in_review")),
                              attributes=["due_at"])
    assert item.due_at and item.fields is None and item.PK == entry.PK
    # And an item deleted since is left out too
    assert codec.full_items([RequestItem(keys.request_pk("tidak-ada"), keys.META)]) == []

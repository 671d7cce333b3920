"""The transparency counters are added in the transaction of each request or complaint change: the kept figures
equal the ones rebuilt from the records, a conflicting transaction is retried and counts once, a refused one
counts nothing, and the stream handler no longer counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from chalicelib.domain.stats import ISSUE_HIST, RELATIVE_ERROR, RESOLVE_HIST, exact_quantile, quantile, recount
from chalicelib.ops.stats import recompute, scan_records
from chalicelib.storage import keys
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import stats as repo
from chalicelib.storage.table import connection_client
from chalicelib.workers.stream import matches
from tests import complaints_support as complaints
from tests.helpers import SAMATARING, act, drain_issuing_queue, get, post, staff_token, submitted
from tests.integration.streams import record
from tests.stats_workload import Workload

KAB = "73.07"
Kept = dict[tuple[str, str], dict[str, int]]


def kept(kabupaten: str = KAB) -> Kept:
    return {(r.month, r.code): r.counters for r in repo.every_row(kabupaten) if r.counters}


def rebuilt(kabupaten: str = KAB) -> Kept:
    items = recount(scan_records()).get(kabupaten, {})
    return {k: {n: v for n, v in c.items() if v} for k, c in items.items() if any(c.values())}


def village_now(village: str = SAMATARING) -> dict[str, int]:
    return next((r.counters for r in repo.current(KAB) if r.code == village), {})


class Conflicts:
    """moto applies transactions one at a time; DynamoDB cancels one that meets another on the same item. The next
    `pending` transactions that ADD to a counter item are cancelled as DynamoDB would (TransactionConflict on that
    item, nothing applied); `cancelled` names the counter item of each. With `rival`, the cancelled transaction's
    twin commits first: a second writer who sent the same change at the same moment, and won."""

    def __init__(self) -> None:
        self.pending = 0
        self.rival = False
        self.cancelled: list[str] = []


@pytest.fixture()
def conflicts() -> Iterator[Conflicts]:
    original = DynamoDBBackend.transact_write_items
    state = Conflicts()

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        counters = [i for i in transact_items if "Update" in i and i["Update"]["Key"]["PK"]["S"].startswith("STATS#")]
        if counters and state.pending > 0:
            state.pending -= 1
            state.cancelled.append(counters[0]["Update"]["Key"]["SK"]["S"])
            if state.rival:
                original(self, transact_items)
            raise TransactionCanceledException(
                [("TransactionConflict", "Transaction is ongoing for the item", None) if i is counters[0]
                 else (None, None, None) for i in transact_items])
        return original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    try:
        yield state
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def test_a_request_lifecycle_through_the_api_counts_with_each_write(client: Client, registered_citizen: dict) -> None:
    # Given a citizen's request and the village's staff
    op = staff_token(client, f"operator.{SAMATARING}")
    kades = staff_token(client, f"kades.{SAMATARING}")
    r = submitted(client, registered_citizen)
    # Then the submission counted at once: one open request in the village's backlog, one request of its month
    assert village_now()["open_requests"] == 1 and kept() == rebuilt()
    # When it is reviewed, sent back, resubmitted, approved and issued by the queue
    r = act(client, op, r, "review").json_body
    r = act(client, op, r, "request_revision", "Foto KTP buram").json_body
    r = act(client, registered_citizen["token"], r, "resubmit").json_body
    r = act(client, op, r, "review").json_body
    r = act(client, op, r, "approve").json_body
    assert act(client, kades, r, "issue").status_code == 202
    assert drain_issuing_queue(client) == 1
    # Then every step counted exactly once, as the records themselves say
    figures = kept()
    assert figures == rebuilt()
    month = r["created_at"][:7]
    village = figures[(month, SAMATARING)]
    assert village["issued"] == 1 and village["revisions"] == 1 and village["req|SKD|issued"] == 1
    assert figures[(month, "73.07.03")]["issued"] == 1 and not village_now().get("open_requests")
    # ... and another request rejected, a third cancelled by its citizen, count as well
    rejected = act(client, op, act(client, op, submitted(client, registered_citizen), "review").json_body,
                   "reject", "Bukan warga desa ini")
    assert rejected.status_code == 200, rejected.body
    cancelled = act(client, registered_citizen["token"], submitted(client, registered_citizen), "cancel")
    assert cancelled.status_code == 200, cancelled.body
    assert kept() == rebuilt() and kept()[(month, SAMATARING)]["rejections"] == 1


def test_a_complaint_flow_counts_with_each_write(client: Client, citizen: dict) -> None:
    # Given a filed complaint
    c = complaints.filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    # When the village works it, resolves it, the citizen reopens it, it is resolved again, rated and closed
    for action, extra in (("acknowledge", {}), ("start", {}), ("resolve", {"note": "Sudah diumumkan."})):
        assert complaints.act(client, op, c, action, **extra).status_code == 200
    assert complaints.act(client, citizen["token"], c, "reopen", note="Masih tutup.").status_code == 200
    for action, extra in (("acknowledge", {}), ("start", {}), ("resolve", {"note": "Sudah diumumkan lagi."})):
        assert complaints.act(client, op, c, action, **extra).status_code == 200
    assert complaints.act(client, citizen["token"], c, "rate", rating=4).status_code == 200
    assert complaints.act(client, citizen["token"], c, "close").status_code == 200
    # Then the counters say so, exactly as rebuilt from the records
    figures = kept()
    assert figures == rebuilt()
    village = figures[(c["created_at"][:7], SAMATARING)]
    assert village["complaints_opened"] == 1 and village["complaints_reopened"] == 1
    assert village["complaints_resolved"] == 1 and village["rating_count"] == 1


def test_a_conflicting_transaction_is_retried_and_counts_once(client: Client, registered_citizen: dict,
                                                              conflicts: Conflicts) -> None:
    # Given a request in the queue, and the next two writes meeting another transaction on their counter item
    op = staff_token(client, f"operator.{SAMATARING}")
    r = submitted(client, registered_citizen)
    before = kept()
    conflicts.pending = 2
    # When the operator reviews it
    response = act(client, op, r, "review")
    # Then she gets her answer, not an error: the transaction was sent again until it went through ...
    assert response.status_code == 200, response.body
    assert len(conflicts.cancelled) == 2
    # ... and it counted once: the request moved from submitted to in review, nothing twice
    after = kept()
    month = r["created_at"][:7]
    assert after[(month, SAMATARING)]["req|SKD|in_review"] == before[(month, SAMATARING)].get("req|SKD|in_review",
                                                                                               0) + 1
    assert after == rebuilt()


def test_a_stale_transition_is_409_and_counts_nothing(client: Client, registered_citizen: dict) -> None:
    # Given a request already reviewed by one operator
    op = staff_token(client, f"operator.{SAMATARING}")
    r = submitted(client, registered_citizen)
    assert act(client, op, r, "review").status_code == 200
    before = kept()
    # When another acts on the version she read before that
    response = post(client, f"/v1/requests/{r['id']}/transitions", {"action": "cancel", "version": r["version"]},
                    registered_citizen["token"])
    # Then it is the 409 it always was, and no counter moved
    assert response.status_code == 409 and response.json_body["code"] in ("stale_version", "invalid_transition")
    assert kept() == before


def test_a_conflict_lost_to_the_same_change_is_409_and_counts_once(client: Client, registered_citizen: dict,
                                                                   conflicts: Conflicts) -> None:
    # Given a request, and two operators sending its review at the same moment: the other one wins
    op = staff_token(client, f"operator.{SAMATARING}")
    r = submitted(client, registered_citizen)
    month = r["created_at"][:7]
    before = kept()[(month, SAMATARING)]
    conflicts.pending, conflicts.rival = 1, True
    # When this one's transaction, cancelled by the conflict, is sent again
    response = act(client, op, r, "review")
    # Then its version condition decides: the 409 it always was, and the review counted once (the winner's)
    assert len(conflicts.cancelled) == 1
    assert response.status_code == 409 and response.json_body["code"] == "stale_version", response.body
    after = kept()
    assert after[(month, SAMATARING)]["req|SKD|in_review"] == before.get("req|SKD|in_review", 0) + 1
    assert after == rebuilt()


def test_the_stream_handler_ignores_request_and_complaint_records(client: Client, registered_citizen: dict) -> None:
    # Given a request's item as a stream record carries it
    r = submitted(client, registered_citizen)
    raw = connection_client().get_item(TableName=_table(), Key={"PK": {"S": keys.request_pk(r["id"])},
                                                                  "SK": {"S": keys.META}})["Item"]
    event = {"Records": [record("INSERT", raw), record("MODIFY", raw, raw)]}
    before = kept()
    # Then Lambda's filter drops it, and handed to the handler anyway it counts nothing
    assert not any(matches(x) for x in event["Records"])
    client.lambda_.invoke("on_table_stream", event)
    assert kept() == before
    assert get(client, f"/v1/requests/{r['id']}", registered_citizen["token"]).status_code == 200


def _table() -> str:
    from chalicelib.config import get_settings

    return get_settings().table_name


# ---- a random workload: thousands of changes through the same counting --------------------------------------
@pytest.fixture(scope="module")
def workload() -> Workload:
    villages = [v.code for k in ("73.07.03", "73.07.09", "73.07.01") for v in regions_repo.children(k)]
    load = Workload(villages, datetime(2024, 1, 1, tzinfo=UTC), months=13, seed=2026)  # before the API tests' months
    for i in range(700):
        load.request() if i % 3 else load.complaint()
    return load


def test_kept_figures_equal_the_recomputed_ones(workload: Workload) -> None:
    # Given a few thousand changes of requests and complaints, each written with its counters
    assert workload.truth.writes > 3000
    # Then the kept figures are exactly those rebuilt from the records themselves
    assert kept() == rebuilt()


def test_percentiles_are_within_the_stated_bound(workload: Workload) -> None:
    # Given the kept histograms of every village and month with issued letters or resolved complaints
    figures = kept()
    checked = 0
    for truth, prefix in ((workload.truth.issue_minutes, ISSUE_HIST), (workload.truth.resolve_minutes, RESOLVE_HIST)):
        for (village, month), durations in truth.items():
            counters = figures[(month, village)]
            hist = {int(k[len(prefix):]): v for k, v in counters.items() if k.startswith(prefix)}
            for q in (0.5, 0.9):
                exact = exact_quantile(durations, q)
                estimate = quantile(hist, q)
                assert exact is not None and estimate is not None
                # Then each median and 90th percentile is within the relative error bound of the exact one
                assert abs(estimate - exact) <= RELATIVE_ERROR * exact + 1e-9, (village, month, q)
                checked += 1
    assert checked > 100


def test_recompute_repairs_drifted_figures(workload: Workload) -> None:
    # Given kept figures that drifted (a bug, a write from before this release) and a stale item
    expected = rebuilt()
    (month, code), _ = sorted(expected.items())[0]
    client = connection_client()
    for sk in (keys.stats_sk(month, code), keys.stats_sk("2019-01", "73.07.03.1001")):
        client.update_item(TableName=_table(), Key={"PK": {"S": keys.stats_pk(KAB)}, "SK": {"S": sk}},
                           UpdateExpression="SET entity = :e, code = :c, #m = :m, #l = :l ADD issued :n",
                           ExpressionAttributeNames={"#m": "month", "#l": "level"},
                           ExpressionAttributeValues={":e": {"S": "stats"}, ":c": {"S": code},
                                                      ":m": {"S": month}, ":l": {"S": "desa"}, ":n": {"N": "5"}})
    assert kept() != expected
    # When the ops command rebuilds them from the records
    done = recompute(KAB)
    # Then the aggregates are exactly the rebuilt ones again, the stale item gone
    assert kept() == expected
    assert done[KAB][1] >= 1

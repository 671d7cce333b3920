"""The stream's event filter lets through every record the stream handler reads, and only those."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.workers import outbox, retention
from chalicelib.workers.stream import FILTER_PATTERNS, filter_criteria, matches


def s(value: str) -> dict[str, str]:
    return {"S": value}


def record(name: str, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    ddb: dict[str, Any] = {"Keys": {"PK": s("X#1"), "SK": s("META")}}
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    return {"eventName": name, "dynamodb": ddb}


ROW = {"entity": s("outbox"), "id": s("r1")}
REQUEST = {"entity": s("request"), "village": s("73.07.03.1001"), "status": s("submitted")}
COMPLAINT = {"entity": s("complaint"), "status": s("open")}

UPLOAD = {"entity": s("upload"), "state": s("unused"), "file_key": s("attachments/73.07.03.1001/01J")}
TTL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

ACTED_ON = {
    "a new outbox row": record("INSERT", {**ROW, "status": s("pending")}),
    "a failed row put back by a resend": record("MODIFY", {**ROW, "status": s("pending")},
                                                {**ROW, "status": s("failed")}),
    "the TTL removing an unused upload": {**record("REMOVE", old=UPLOAD), "userIdentity": TTL},
}
IGNORED = {
    # requests and complaints: their transparency counters come with their own transaction (storage/stats.py)
    "a new request": record("INSERT", REQUEST),
    "a request transition": record("MODIFY", {**REQUEST, "status": s("in_review")}, REQUEST),
    "a request removed": record("REMOVE", old=REQUEST),
    "a new complaint": record("INSERT", COMPLAINT),
    "a complaint change": record("MODIFY", {**COMPLAINT, "status": s("acknowledged")}, COMPLAINT),
    "a complaint removed": record("REMOVE", old=COMPLAINT),
    "a claim": record("MODIFY", {**ROW, "status": s("sending")}, {**ROW, "status": s("pending")}),
    "an outcome": record("MODIFY", {**ROW, "status": s("sent")}, {**ROW, "status": s("sending")}),
    "an audit event": record("INSERT", {"entity": s("event"), "action": s("review")}),
    "an inbox message": record("INSERT", {"entity": s("inbox")}),
    "a counter": record("MODIFY", {"entity": s("stats"), "issued": {"N": "2"}}, {"entity": s("stats")}),
    "a login throttle": record("MODIFY", {"PK": s("THROTTLE#otp-phone#x"), "hits": {"N": "2"}}),
    "an expired login code": record("REMOVE", old={"entity": s("otp")}),
    "a new upload": record("INSERT", UPLOAD),
    "an upload marked used": record("MODIFY", {**UPLOAD, "state": s("used")}, UPLOAD),
    "the TTL removing a used upload": {**record("REMOVE", old={**UPLOAD, "state": s("used")}), "userIdentity": TTL},
    "the TTL removing an upload of the old layout": {
        **record("REMOVE", old={"entity": s("upload"), "file_key": s("uploads/73.07.03.1001/01J")}),
        "userIdentity": TTL},
    "an unused upload removed by hand": record("REMOVE", old=UPLOAD),
}


@pytest.mark.parametrize("name", sorted(ACTED_ON))
def test_records_the_handler_reads_pass_the_filter(name: str) -> None:
    assert matches(ACTED_ON[name])


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_records_nobody_reads_never_invoke_the_handler(name: str) -> None:
    assert not matches(IGNORED[name])
    # and indeed neither part of the handler would act on them
    assert outbox.wanted(IGNORED[name]) is None
    assert retention.handle_stream({"Records": [IGNORED[name]]}) == 0


def test_the_outbox_sender_never_wants_a_record_the_filter_drops() -> None:
    for r in [*ACTED_ON.values(), *IGNORED.values()]:
        if outbox.wanted(r) is not None:
            assert matches(r)


def test_filter_criteria_carry_each_pattern_as_json() -> None:
    criteria = filter_criteria()
    assert [json.loads(f["Pattern"]) for f in criteria["Filters"]] == FILTER_PATTERNS
    assert len(criteria["Filters"]) <= 5  # Lambda's limit per event source mapping

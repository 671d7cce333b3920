"""The issuing queue handler's batching: runs of one village in queue order, bounded, malformed bodies skipped."""

from __future__ import annotations

import json

from chalicelib.workers.issuing import messages, village_runs


def _body(request_id: str, village: str) -> str:
    return json.dumps({"request_id": request_id, "village": village})


def test_runs_keep_queue_order_and_split_by_village_and_size():
    # Given a batch that mixes two villages (SQS FIFO keeps order within each village's group)
    items = messages([_body("a1", "A"), _body("a2", "A"), _body("b1", "B"), _body("a3", "A"), _body("a4", "A"),
                      _body("a5", "A")])
    # When it is cut into commits of at most 2
    runs = village_runs(items, 2)
    # Then each commit holds one village's consecutive requests, in order
    assert runs == [["a1", "a2"], ["b1"], ["a3", "a4"], ["a5"]]


def test_a_malformed_message_is_skipped_not_retried_forever():
    assert messages(["{not json", json.dumps({"village": "A"}), _body("r1", "A")]) == [("r1", "A")]

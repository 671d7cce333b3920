"""The issuing queue's handler: each message is one request whose letter is numbered, rendered, stored, committed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.observability import logger


def messages(bodies: Iterable[str]) -> list[tuple[str, str]]:
    """(request id, village) of each message, in queue order; a malformed body is logged and skipped (it
    would fail the same way on every retry and hold up its village's queue)."""
    ids = []
    for body in bodies:
        try:
            data = json.loads(body)
            ids.append((str(data["request_id"]), str(data["village"])))
        except (ValueError, KeyError, TypeError):
            logger.error("issuing queue: malformed message skipped", extra={"body": str(body)[:200]})
    return ids


def handle(bodies: Iterable[str]) -> int:
    """Complete the queued requests, one commit per run of consecutive messages of one village (FIFO order
    is per village); returns how many letters were issued.

    An exception leaves the batch on the queue: SQS delivers it again (already issued requests are skipped)
    and, after the queue's maxReceiveCount, moves it to the dead-letter queue, whose alarm tells ops.
    """
    from chalicelib.services import issuing

    issued = 0
    for chunk in village_runs(messages(bodies), issuing.MAX_LETTERS_PER_COMMIT):
        issued += len(issuing.complete_village(chunk))
    return issued


def village_runs(items: list[tuple[str, str]], size: int) -> list[list[str]]:
    """(request id, village) in queue order -> runs of request ids of one village, at most `size` long."""
    runs: list[list[str]] = []
    current_village = None
    for request_id, village in items:
        if village != current_village or len(runs[-1]) >= size:
            runs.append([])
            current_village = village
        runs[-1].append(request_id)
    return runs


def handle_sqs_event(event: Any) -> int:
    """Chalice's SQSEvent (iterable of records with .body) or a raw Lambda event {"Records": [{"body"}]}."""
    records = event.get("Records", []) if isinstance(event, dict) else event
    return handle(r["body"] if isinstance(r, dict) else r.body for r in records)

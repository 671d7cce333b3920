"""The issuing queue's handler: each message is one request whose letter is numbered, rendered, stored, committed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.observability import logger


def request_ids(bodies: Iterable[str]) -> list[str]:
    """The request ids a batch carries, in queue order; a malformed body is logged and skipped (it would
    fail the same way on every retry and hold up its village's queue)."""
    ids = []
    for body in bodies:
        try:
            data = json.loads(body)
            ids.append(str(data["request_id"]))
        except (ValueError, KeyError, TypeError):
            logger.error("issuing queue: malformed message skipped", extra={"body": str(body)[:200]})
    return ids


def handle(bodies: Iterable[str]) -> int:
    """Complete each queued request in order; returns how many letters were issued.

    An exception leaves the batch on the queue: SQS delivers it again (already issued requests are skipped)
    and, after the queue's maxReceiveCount, moves it to the dead-letter queue, whose alarm tells ops.
    """
    from chalicelib.services import issuing

    issued = 0
    for request_id in request_ids(bodies):
        if issuing.complete(request_id) is not None:
            issued += 1
    return issued


def handle_sqs_event(event: Any) -> int:
    """Chalice's SQSEvent (iterable of records with .body) or a raw Lambda event {"Records": [{"body"}]}."""
    records = event.get("Records", []) if isinstance(event, dict) else event
    return handle(r["body"] if isinstance(r, dict) else r.body for r in records)

"""A random workload of request and complaint lifecycles written to the table as the services write them
(item + audit event per change), its stream records read back, and the exact figures it should produce.

Used by the aggregate tests (tests/integration/test_stats_stream.py) and bench/stats.py. Items are written
with the raw client in DynamoDB JSON, shaped as storage/requests.py and the complaints contract shape them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from chalicelib.config import get_settings
from chalicelib.domain.regions import kabupaten_of, kecamatan_of
from chalicelib.domain.stats import minutes_between, month_of
from chalicelib.storage.table import connection_client

_SERIALIZER = TypeSerializer()
LETTER_TYPES = ("SKD", "SKU", "SKTM", "SKCK")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class Truth:
    """What the workload did, counted directly (not through the aggregates)."""

    issue_minutes: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    resolve_minutes: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    writes: int = 0


class StreamReader:
    """Reads the table's stream records from moto's in-process backend (its DynamoDB Streams API answers only
    a server), from the first record written after the reader was made."""

    def __init__(self) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        settings = get_settings()
        self.table = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.aws_region].tables[settings.table_name]
        self.position = len(self.table.stream_shard.items)

    def read(self) -> list[dict[str, Any]]:
        items = self.table.stream_shard.items
        out = [r.to_json() for r in items[self.position:] if r is not None]
        self.position = len(items)
        return out


class Workload:
    def __init__(self, villages: list[str], start: datetime, months: int, seed: int = 13) -> None:
        self.rng = random.Random(seed)
        self.villages = villages
        self.start = start
        self.span = timedelta(days=30 * months)
        self.truth = Truth()
        self.table = get_settings().table_name
        self.client = connection_client()
        self.serial = 0

    # ---- writing ----------------------------------------------------------------------------------
    def _put(self, item: dict[str, Any]) -> None:
        clean = {k: v for k, v in item.items() if v is not None}
        self.client.put_item(TableName=self.table, Item={k: _SERIALIZER.serialize(v) for k, v in clean.items()})
        self.truth.writes += 1

    def _event(self, pk: str, entity: str, at: str, action: str, before: str | None, after: str,
               version: int) -> None:
        self._put({"PK": pk, "SK": f"EVENT#{at}#{version:06d}", "entity": entity, "at": at, "actor": "uji",
                   "actor_role": "operator", "action": action, "from_status": before, "to_status": after,
                   "version": version})

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:08d}{self.rng.randrange(16**6):06x}"

    def _step(self, at: datetime) -> datetime:
        # Log-uniform between 5 minutes and 8 days: medians and tails spread over many histogram buckets.
        return at + timedelta(minutes=5 * (2304 ** self.rng.random()))

    def request(self) -> None:
        rng = self.rng
        village = rng.choice(self.villages)
        rid = self._id("R")
        pk = f"REQ#{rid}"
        at = self.start + timedelta(seconds=rng.randrange(int(self.span.total_seconds())))
        created = _iso(at)
        item: dict[str, Any] = {
            "PK": pk, "SK": "META", "entity": "request", "id": rid, "village": village,
            "kecamatan": kecamatan_of(village), "kabupaten": kabupaten_of(village),
            "letter_type": rng.choice(LETTER_TYPES), "letter_name": "Surat", "status": "submitted", "version": 1,
            "tracking_code": rid[-8:], "nik_hash": "h" * 16, "sla_hours": 24, "created_at": created,
            "updated_at": created, "due_at": _iso(at + timedelta(hours=rng.choice((24, 48, 72)))),
        }
        self._put(item)
        self._event(pk, "event", created, "submit", None, "submitted", 1)

        def move(action: str, status: str, **extra: Any) -> None:
            nonlocal at
            at = self._step(at)
            before = item["status"]
            item.update(status=status, version=item["version"] + 1, updated_at=_iso(at), **extra)
            self._put(dict(item))
            self._event(pk, "event", item["updated_at"], action, before, status, item["version"])

        if rng.random() < 0.08:
            move("cancel", "cancelled")
            return
        if rng.random() < 0.1:
            return  # still waiting
        move("review", "in_review")
        while rng.random() < 0.25:
            move("request_revision", "needs_revision")
            if rng.random() < 0.2:
                return
            move("resubmit", "submitted")
            move("review", "in_review")
        if rng.random() < 0.1:
            move("reject", "rejected")
            return
        move("approve", "approved")
        if rng.random() < 0.1:
            return
        move("issue", "issuing")
        at = self._step(at)
        issued_at = _iso(at)
        move("issued", "issued", letter={"number": "470/1", "issued_at": issued_at})
        self.truth.issue_minutes[(village, month_of(issued_at, village))].append(minutes_between(created, issued_at))

    def complaint(self) -> None:
        rng = self.rng
        village = rng.choice(self.villages)
        cid = self._id("C")
        pk = f"COMPLAINT#{cid}"
        at = self.start + timedelta(seconds=rng.randrange(int(self.span.total_seconds())))
        created = _iso(at)
        item: dict[str, Any] = {
            "PK": pk, "SK": "META", "entity": "complaint", "id": cid, "village": village,
            "kecamatan": kecamatan_of(village), "kabupaten": kabupaten_of(village), "kind": "complaint",
            "category": "jalan", "title": "Jalan rusak", "text": "Jalan berlubang", "public": True,
            "status": "open", "unit": {"type": "village", "code": village}, "version": 1, "created_at": created,
            "updated_at": created, "due_at": _iso(at + timedelta(hours=72)), "resolved_at": None,
            "reopen_count": 0, "rating": None, "hidden": False, "nik_hash": "h" * 16,
        }
        self._put(item)
        self._event(pk, "complaint_event", created, "open", None, "open", 1)

        def move(action: str, status: str, **extra: Any) -> None:
            nonlocal at
            at = self._step(at)
            before = item["status"]
            if extra.get("resolved_at") is True:
                extra["resolved_at"] = _iso(at)
            item.update(status=status, version=item["version"] + 1, updated_at=_iso(at), **extra)
            self._put(dict(item))
            self._event(pk, "complaint_event", item["updated_at"], action, before, status, item["version"])

        if rng.random() < 0.15:
            return
        move("acknowledge", "acknowledged")
        if rng.random() < 0.1:
            move("reject", "rejected")
            return
        move("start", "in_progress")
        for _ in range(3):
            if rng.random() < 0.15:
                return
            move("resolve", "resolved", resolved_at=True)
            if rng.random() < 0.3:
                move("reopen", "in_progress", reopen_count=item["reopen_count"] + 1)
                continue
            break
        else:
            return
        if rng.random() < 0.6:
            move("rate", item["status"], rating=rng.randint(1, 5))
        if rng.random() < 0.5:
            move("close", "closed")
        resolved_at = str(item["resolved_at"])
        self.truth.resolve_minutes[(village, month_of(resolved_at, village))].append(
            minutes_between(created, resolved_at))


def batches(records: list[dict[str, Any]], rng: random.Random,
            replay_share: float = 0.25) -> list[list[dict[str, Any]]]:
    """Stream batches as a worst case delivers them: random sizes, shuffled order (a later change of an item
    before an earlier one), some batches reversed inside, and a share of them delivered twice."""
    out: list[list[dict[str, Any]]] = []
    i = 0
    while i < len(records):
        size = rng.randint(1, 100)
        batch = records[i:i + size]
        if rng.random() < 0.3:
            batch = batch[::-1]
        out.append(batch)
        i += size
    rng.shuffle(out)
    replays = [list(b) for b in out if rng.random() < replay_share]
    for b in replays:
        out.insert(rng.randrange(len(out) + 1), b)
    return out

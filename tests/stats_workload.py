"""A random workload of request and complaint lifecycles written to the table as the storage layer writes them
(each change one transaction of the item, its audit event and the transparency counters it moves), and the exact
figures it should produce.

Used by the aggregate tests (tests/integration/test_stats_counted.py, tests/api/test_stats_api.py) and
bench/stats.py. Items are plain values shaped as storage/codec.py and storage/complaints.py shape them; the
counters are added by storage/stats.py `count_changes`, the function every request and complaint write uses.
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
from chalicelib.storage.stats import count_changes
from chalicelib.storage.transaction import Transaction

_SERIALIZER = TypeSerializer()
LETTER_TYPES = ("SKD", "SKU", "SKTM", "SKCK")


def _plain(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: v for k, v in item.items() if v is not None}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class Truth:
    """What the workload did, counted directly (not through the aggregates)."""

    issue_minutes: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    resolve_minutes: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    writes: int = 0


class Workload:
    def __init__(self, villages: list[str], start: datetime, months: int, seed: int = 13) -> None:
        self.rng = random.Random(seed)
        self.villages = villages
        self.start = start
        self.span = timedelta(days=30 * months)
        self.truth = Truth()
        self.table = get_settings().table_name
        self.serial = 0

    # ---- writing ----------------------------------------------------------------------------------
    def _put(self, tx: Transaction, item: dict[str, Any], purpose: str) -> None:
        clean = {k: v for k, v in item.items() if v is not None}
        tx.add_raw((clean["PK"], clean["SK"]), purpose, {"Put": {
            "TableName": self.table, "Item": {k: _SERIALIZER.serialize(v) for k, v in clean.items()}}})

    def _write(self, entity: str, old: dict[str, Any] | None, new: dict[str, Any], action: str) -> None:
        """One change: the item, its audit event and its counters in one transaction."""
        tx = Transaction()
        self._put(tx, new, entity)
        at, version = str(new["updated_at"]), int(new["version"])
        self._put(tx, {"PK": new["PK"], "SK": f"EVENT#{at}#{version:06d}",
                       "entity": "event" if entity == "request" else "complaint_event", "at": at, "actor": "uji",
                       "actor_role": "operator", "action": action, "from_status": (old or {}).get("status"),
                       "to_status": new["status"], "version": version}, "event")
        count_changes(tx, [(entity, _plain(old), _plain(new))])
        tx.commit()
        self.truth.writes += 1

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
        self._write("request", None, item, "submit")

        def move(action: str, status: str, **extra: Any) -> None:
            nonlocal at
            at = self._step(at)
            before = dict(item)
            item.update(status=status, version=item["version"] + 1, updated_at=_iso(at), **extra)
            self._write("request", before, dict(item), action)

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
        self._write("complaint", None, item, "open")

        def move(action: str, status: str, **extra: Any) -> None:
            nonlocal at
            at = self._step(at)
            before = dict(item)
            if extra.get("resolved_at") is True:
                extra["resolved_at"] = _iso(at)
            item.update(status=status, version=item["version"] + 1, updated_at=_iso(at), **extra)
            self._write("complaint", before, dict(item), action)

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

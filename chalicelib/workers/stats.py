"""Transparency aggregates kept by the table's stream: each request or complaint change adds its difference.

Every stream record of a request (`entity = "request"`) or complaint (`entity = "complaint"`, the contract
in domain/complaints.py) adds `contribution(new) - contribution(old) + transition(old, new)` to its village,
kecamatan and kabupaten for the months concerned (domain/stats.py). Additions commute, so batches may come
in any order; a marker per (item, version) written in the same transaction makes a replayed record add
nothing. A record that cannot be read (malformed image) is logged and skipped (`recompute-stats` repairs
the figures); a storage failure raises, so the batch is retried: the markers make that safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.regions import kabupaten_of
from chalicelib.domain.stats import change, rollup
from chalicelib.observability import logger
from chalicelib.storage import stats as repo
from chalicelib.storage.codec import stream_records

ENTITIES = ("request", "complaint")


@dataclass
class StatsRunResult:
    counted: int = 0
    replayed: int = 0
    unchanged: int = 0
    malformed: int = 0
    ignored: int = 0
    keys: list[str] = field(default_factory=list)


def count_record(record: Mapping[str, Any], result: StatsRunResult) -> None:
    ddb = record.get("dynamodb") or {}
    new_image, old_image = ddb.get("NewImage"), ddb.get("OldImage")
    entity = ((new_image or old_image or {}).get("entity") or {}).get("S")
    if entity not in ENTITIES:
        result.ignored += 1
        return
    try:
        new = repo.plain(new_image) if new_image else None
        old = repo.plain(old_image) if old_image else None
        ref = new or old
        assert ref is not None
        delta = change(str(entity), old, new)
        village = str(ref["village"])
        version = str(new["version"]) if new else f"{ref['version']}-removed"
        marker = (str(ref["PK"]), str(ref["SK"]), version)
    except (KeyError, ValueError, TypeError, AssertionError) as exc:
        result.malformed += 1
        keys = ddb.get("Keys") or {}
        logger.warning("stats: unreadable record skipped", extra={
            "pk": (keys.get("PK") or {}).get("S"), "error": f"{type(exc).__name__}: {exc}"})
        return
    if not delta:
        result.unchanged += 1
        return
    if repo.add_once(marker, kabupaten_of(village), rollup(village, delta)):
        result.counted += 1
        result.keys.append(marker[0])
    else:
        result.replayed += 1


def handle_stream(event: Any) -> StatsRunResult:
    """The stream handler's aggregate part: count every request and complaint change of the batch once."""
    result = StatsRunResult()
    for record in stream_records(event):
        count_record(record, result)
    if result.counted or result.replayed or result.malformed:
        logger.info("stats batch", extra={"counted": result.counted, "replayed": result.replayed,
                                          "unchanged": result.unchanged, "malformed": result.malformed})
    return result

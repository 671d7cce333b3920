"""`recompute-stats`: rebuild the transparency aggregates from the records (reads the whole table: ops only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.regions import level_of
from chalicelib.domain.stats import recount
from chalicelib.storage import stats as repo
from chalicelib.storage.keys import event_time_and_version
from chalicelib.storage.table import connection_client


def scan_records() -> Iterator[dict[str, Any]]:
    """Every request, complaint and audit event of the table. A Scan: it lives here, in the operator CLI
    (run with the operator's credentials), so no module a Lambda function runs can reach it, and the
    Lambda role has no dynamodb:Scan (tests/unit/test_iam_policy.py)."""
    start = None
    values = {f":e{i}": {"S": e} for i, e in enumerate(repo.RECORD_ENTITIES)}
    while True:
        page = connection_client().scan(
            TableName=get_settings().table_name, FilterExpression=f"entity IN ({', '.join(values)})",
            ExpressionAttributeValues=values, **({"ExclusiveStartKey": start} if start else {}))
        for item in page.get("Items", []):
            record = repo.plain(item)
            if record.get("entity") in repo.EVENT_ENTITIES and "at" not in record:
                # events written since issue 14 keep their time only in their sort key
                record["at"] = event_time_and_version(str(record["SK"]))[0]
            yield record
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def recompute(kabupaten: str | None = None) -> dict[str, tuple[int, int]]:
    """Rebuild every kabupaten's aggregates (or one), replacing what the stream handler kept.
    Returns {kabupaten: (items written, stale items deleted)}.

    Run it while the table is quiet (or pause the stream's event source mapping): a change the stream
    handler counts between the scan and the write is overwritten by the rebuilt figures (and is then
    counted by the rebuild itself only if the scan saw it)."""
    rebuilt = recount(scan_records())
    if kabupaten is not None:
        rebuilt = {kabupaten: rebuilt.get(kabupaten, {})}
    done = {}
    for kab, items in sorted(rebuilt.items()):
        rows = [repo.StatsRow(code=code, month=month, level=level_of(code), counters=counters)
                for (month, code), counters in items.items()]
        done[kab] = repo.replace_all(kab, rows)
    return done

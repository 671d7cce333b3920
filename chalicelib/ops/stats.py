"""`recompute-stats`: rebuild the transparency aggregates from the records (reads the whole table: ops only)."""

from __future__ import annotations

from chalicelib.domain.regions import level_of
from chalicelib.domain.stats import recount
from chalicelib.storage import stats as repo


def recompute(kabupaten: str | None = None) -> dict[str, tuple[int, int]]:
    """Rebuild every kabupaten's aggregates (or one), replacing what the stream handler kept.
    Returns {kabupaten: (items written, stale items deleted)}.

    Run it while the table is quiet (or pause the stream's event source mapping): a change the stream
    handler counts between the scan and the write is overwritten by the rebuilt figures (and is then
    counted by the rebuild itself only if the scan saw it)."""
    rebuilt = recount(repo.scan_records())
    if kabupaten is not None:
        rebuilt = {kabupaten: rebuilt.get(kabupaten, {})}
    done = {}
    for kab, items in sorted(rebuilt.items()):
        rows = [repo.StatsRow(code=code, month=month, level=level_of(code), counters=counters)
                for (month, code), counters in items.items()]
        done[kab] = repo.replace_all(kab, rows)
    return done

"""The stream-kept aggregates equal the ones rebuilt from the records, whatever the batches' order and replays."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from chalicelib.domain.stats import (
    ISSUE_HIST,
    RELATIVE_ERROR,
    RESOLVE_HIST,
    change,
    exact_quantile,
    quantile,
    recount,
)
from chalicelib.ops.stats import recompute, scan_records
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import stats as repo
from chalicelib.workers import stats as worker
from tests.stats_workload import StreamReader, Workload, batches

KAB = "73.07"


def kept(kabupaten: str) -> dict[tuple[str, str], dict[str, int]]:
    rows = repo.every_row(kabupaten)
    return {(r.month, r.code): r.counters for r in rows if r.counters}


def rebuilt(kabupaten: str) -> dict[tuple[str, str], dict[str, int]]:
    items = recount(scan_records()).get(kabupaten, {})
    return {k: {n: v for n, v in c.items() if v} for k, c in items.items() if any(c.values())}


@pytest.fixture(scope="module")
def villages() -> list[str]:
    codes = []
    for kecamatan in ("73.07.03", "73.07.09", "73.07.01"):
        codes += [v.code for v in regions_repo.children(kecamatan)]
    return codes


@pytest.fixture(scope="module")
def workload(villages: list[str]) -> tuple[Workload, list[dict]]:
    reader = StreamReader()
    load = Workload(villages, datetime(2025, 11, 1, tzinfo=UTC), months=13, seed=2026)
    records: list[dict] = []
    for i in range(700):
        load.request() if i % 3 else load.complaint()
        if i % 50 == 49:
            records += reader.read()  # moto keeps the newest 5 000 records of a shard
    records += reader.read()
    return load, records


def test_stream_kept_figures_equal_the_recomputed_ones(workload: tuple[Workload, list[dict]]) -> None:
    # Given a few thousand record changes of requests and complaints, as the table's stream carries them
    load, records = workload
    assert len(records) > 3000
    # When they reach the handler in shuffled batches, some reversed inside, a quarter of them twice
    rng = random.Random(7)
    result = worker.StatsRunResult()
    for batch in batches(records, rng):
        step = worker.handle_stream({"Records": batch})
        result.counted += step.counted
        result.replayed += step.replayed
        result.unchanged += step.unchanged
        result.malformed += step.malformed
    # Then every change counted once (the replays added nothing) ...
    assert result.replayed > 100 and result.malformed == 0
    changes = [r for r in records if (r["dynamodb"].get("NewImage") or {}).get("entity", {}).get("S")
               in ("request", "complaint")]
    with_effect = [r for r in changes if change(r["dynamodb"]["NewImage"]["entity"]["S"],
                                                 repo.plain(r["dynamodb"].get("OldImage") or {}) or None,
                                                 repo.plain(r["dynamodb"]["NewImage"]))]
    assert result.counted == len(with_effect) > 2500
    # ... and the kept figures are exactly those rebuilt from the records themselves
    assert kept(KAB) == rebuilt(KAB)


def test_percentiles_are_within_the_stated_bound(workload: tuple[Workload, list[dict]]) -> None:
    # Given the kept histograms of every village and month with issued letters or resolved complaints
    load, _ = workload
    figures = kept(KAB)
    checked = 0
    for truth, prefix in ((load.truth.issue_minutes, ISSUE_HIST), (load.truth.resolve_minutes, RESOLVE_HIST)):
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


def test_recompute_repairs_drifted_figures(workload: tuple[Workload, list[dict]]) -> None:
    # Given kept figures that drifted (a lost batch, a bug) and a stale item of a month with no records
    expected = rebuilt(KAB)
    (month, code), counters = sorted(expected.items())[0]
    repo.add_once(("TEST", "DRIFT", "1"), KAB, {(month, code): {"issued": 5},
                                                 ("2019-01", "73.07.03.1001"): {"issued": 1}})
    assert kept(KAB) != expected
    # When the ops command rebuilds them from the records
    done = recompute(KAB)
    # Then the aggregates are exactly the rebuilt ones again, the stale item gone
    assert kept(KAB) == expected
    assert done[KAB][1] >= 1

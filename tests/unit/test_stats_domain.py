"""Transparency figures: contributions of a record change, histogram percentiles, strict month ranges."""

from __future__ import annotations

import random

import pytest

from chalicelib.domain.stats import (
    RELATIVE_ERROR,
    bucket,
    bucket_value,
    change,
    exact_quantile,
    figures,
    month_range,
    quantile,
)
from chalicelib.errors import ValidationError

VILLAGE = "73.07.03.1001"  # Sinjai: WITA (UTC+8)


def request(status: str, version: int, updated_at: str, **extra: object) -> dict[str, object]:
    return {"village": VILLAGE, "letter_type": "SKD", "status": status, "version": version,
            "created_at": "2026-01-31T17:00:00+00:00", "updated_at": updated_at,
            "due_at": "2026-02-02T17:00:00+00:00", **extra}


def test_a_submission_counts_in_the_local_month_and_the_backlog() -> None:
    # Given a request made at 01:00 WITA on 1 February (17:00 UTC on 31 January)
    new = request("submitted", 1, "2026-01-31T17:00:00+00:00")
    # Then it counts in February and as one open request
    assert change("request", None, new) == {"2026-02": {"req|SKD|submitted": 1}, "current": {"open_requests": 1}}


def test_a_transition_moves_the_count_and_records_the_revision() -> None:
    old = request("in_review", 2, "2026-02-01T01:00:00+00:00")
    new = request("needs_revision", 3, "2026-03-01T01:00:00+00:00")
    assert change("request", old, new) == {
        "2026-02": {"req|SKD|in_review": -1, "req|SKD|needs_revision": 1},
        "2026-03": {"revisions": 1},
        "current": {"open_requests": -1},
    }


def test_issuing_counts_the_letter_its_time_and_the_sla() -> None:
    old = request("issuing", 5, "2026-02-01T09:00:00+00:00")
    new = request("issued", 6, "2026-02-01T10:00:00+00:00", letter={"issued_at": "2026-02-01T10:00:00+00:00"})
    delta = change("request", old, new)
    assert delta["2026-02"]["issued"] == 1 and delta["2026-02"]["in_sla"] == 1
    (hist,) = [k for k in delta["2026-02"] if k.startswith("hi|")]
    assert abs(bucket_value(int(hist[3:])) - 17 * 60) <= RELATIVE_ERROR * 17 * 60


def test_a_change_that_moves_nothing_counts_nothing() -> None:
    old = request("in_review", 2, "2026-02-01T01:00:00+00:00")
    new = request("in_review", 3, "2026-02-03T01:00:00+00:00", sla={"level": 1})
    assert change("request", old, new) == {}


def test_writes_outside_the_counted_transactions_move_no_figure() -> None:
    # Given the request and complaint writes that add no counters (storage/sla.py and storage/complaints.py
    # set_level and escalate, storage/letters.py revoke): an SLA level reached, a letter revoked
    letter = {"number": "470/1", "issued_at": "2026-02-03T01:00:00+00:00", "status": "valid"}
    issued = request("issued", 8, "2026-02-03T01:00:00+00:00", letter=letter, sla={"level": 0})
    revoked = request("issued", 9, "2026-04-01T01:00:00+00:00", sla={"level": 0},
                      letter={**letter, "status": "revoked", "revoked_at": "2026-04-01T01:00:00+00:00"})
    waiting = request("submitted", 1, "2026-02-01T01:00:00+00:00", sla={"level": 0})
    complaint = {"village": VILLAGE, "status": "open", "created_at": "2026-02-01T01:00:00+00:00",
                 "updated_at": "2026-02-01T01:00:00+00:00", "version": 1, "reopen_count": 0, "sla": {"level": 0}}
    # Then none of them changes a counter
    assert change("request", issued, revoked) == {}
    assert change("request", waiting, {**waiting, "sla": {"level": 2}}) == {}
    assert change("complaint", complaint, {**complaint, "sla": {"level": 1}}) == {}


def test_complaint_resolution_reopening_and_rating() -> None:
    base = {"village": VILLAGE, "created_at": "2026-03-01T00:00:00+00:00", "reopen_count": 0, "rating": None}
    resolved = {**base, "status": "resolved", "version": 4, "updated_at": "2026-03-03T00:00:00+00:00",
                "resolved_at": "2026-03-03T00:00:00+00:00"}
    reopened = {**resolved, "status": "in_progress", "version": 5, "reopen_count": 1,
                "updated_at": "2026-04-02T00:00:00+00:00"}
    delta = change("complaint", resolved, reopened)
    assert delta["2026-03"]["complaints_resolved"] == -1 and delta["2026-04"] == {"complaints_reopened": 1}
    assert delta["current"] == {"open_complaints": 1}
    rated = {**resolved, "status": "closed", "version": 6, "rating": 4}
    assert change("complaint", resolved, rated)["2026-03"] == {"rating_sum": 4, "rating_count": 1}


def test_histogram_quantiles_stay_within_the_bound() -> None:
    rng = random.Random(1)
    for _ in range(200):
        values = [rng.lognormvariate(6, 2) for _ in range(rng.randint(1, 300))]
        hist: dict[int, int] = {}
        for v in values:
            hist[bucket(v)] = hist.get(bucket(v), 0) + 1
        for q in (0.5, 0.9):
            exact = exact_quantile(values, q)
            assert exact is not None
            assert abs((quantile(hist, q) or 0) - exact) <= RELATIVE_ERROR * exact + 1e-9


def test_figures_read_back_shares_and_means() -> None:
    f = figures({"issued": 4, "in_sla": 3, "rating_sum": 9, "rating_count": 2, "req|SKD|issued": 4})
    assert f["share_within_sla"] == 0.75 and f["mean_rating"] == 4.5 and f["requests"] == 4
    assert figures({})["share_within_sla"] is None and figures({})["median_hours_to_issue"] is None


def test_month_ranges_default_and_limits() -> None:
    assert month_range(None, None, "2026-03")[0] == "2025-04" and len(month_range(None, None, "2026-03")) == 12
    assert month_range("2025-11", "2026-02", "2026-12") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    for start, end in (("2026-3", "2026-04"), ("2026-00", "2026-01"), ("٢٠٢٦-01", "2026-02"), ("2026-01\n", None),
                       ("2026-05", "2026-04"), ("2024-01", "2026-01")):
        with pytest.raises(ValidationError):
            month_range(start, end, "2026-12")


def test_a_month_counts_for_village_and_kecamatan_the_backlog_for_the_village_only() -> None:
    from chalicelib.domain.stats import CURRENT, rollup

    # Given a submitted request's contribution: one request in its month, one open request in the backlog
    contribution = {"2026-11": {"req|SKD|submitted": 1}, CURRENT: {"open_requests": 1}}
    # Then the month goes to the village and its kecamatan, the backlog to the village alone (a kecamatan's
    # backlog is its villages' added when read, so a backlog change writes one counter item)
    assert rollup("73.07.03.1001", contribution) == {
        ("2026-11", "73.07.03.1001"): {"req|SKD|submitted": 1}, ("2026-11", "73.07.03"): {"req|SKD|submitted": 1},
        (CURRENT, "73.07.03.1001"): {"open_requests": 1}}

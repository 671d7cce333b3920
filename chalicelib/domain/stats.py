"""Transparency figures: what a request or complaint contributes to its village's monthly counters, and the
figures (medians, shares, means) read back from merged counters. Pure: no I/O.

Counters are flat `name -> int` maps, so a contribution is added with DynamoDB's atomic ADD and counters of
villages, months or whole regions merge by adding. A change of a record contributes
`contribution(new) - contribution(old) + transition(old, new)`: additions commute, so stream batches may
arrive in any order, and a per-record marker (storage/stats.py) keeps a replayed record from counting twice.

Durations (time to issue, time to resolve) are kept in log-spaced histogram buckets (the DDSketch mapping):
bucket i holds durations in (GAMMA^(i-1), GAMMA^i] minutes and reads back as 2*GAMMA^i/(GAMMA+1), which is
within RELATIVE_ERROR of every duration in the bucket. Durations under one minute count as one minute.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.regions import timezone_for
from chalicelib.errors import ValidationError

RELATIVE_ERROR = 0.05
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(GAMMA)

# Statuses in which the village (or the unit a complaint is routed to) still has to act: the backlog.
REQUEST_BACKLOG = ("submitted", "in_review", "approved")
COMPLAINT_RESOLVED = ("resolved", "closed")
COMPLAINT_FINAL = ("resolved", "closed", "rejected")

# The pseudo-month of the counters that describe now, not a month (backlog).
CURRENT = "current"
MAX_MONTHS = 24

Counters = dict[str, int]
Contribution = dict[str, Counters]  # month ("YYYY-MM" or CURRENT) -> counters of one village

ISSUE_HIST = "hi|"
RESOLVE_HIST = "hr|"


def bucket(minutes: float) -> int:
    """The histogram bucket of a duration in minutes."""
    return max(0, math.ceil(math.log(max(minutes, 1.0)) / _LOG_GAMMA - 1e-9))


def bucket_value(index: int) -> float:
    """The duration (minutes) a bucket reads back as: within RELATIVE_ERROR of all it holds."""
    return 2 * GAMMA**index / (GAMMA + 1)


def quantile(histogram: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (nearest rank: the ceil(q*n)-th smallest) of a bucketed distribution, in minutes."""
    n = sum(c for c in histogram.values() if c > 0)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for index in sorted(histogram):
        seen += max(0, histogram[index])
        if seen >= rank:
            return bucket_value(index)
    return None  # pragma: no cover - unreachable: ranks never exceed n


def exact_quantile(values: Iterable[float], q: float) -> float | None:
    """The same nearest-rank quantile over raw values (what the histogram approximates; tests, recompute)."""
    ordered = sorted(max(v, 1.0) for v in values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _parse(at: str) -> datetime:
    value = datetime.fromisoformat(at.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without offset: {at!r}")
    return value


def month_of(at: str, region: str) -> str:
    """The month (YYYY-MM) of a timestamp in the region's own time zone (WIB/WITA/WIT)."""
    return _parse(at).astimezone(ZoneInfo(timezone_for(region))).strftime("%Y-%m")


def minutes_between(start: str, end: str) -> float:
    return max(0.0, (_parse(end) - _parse(start)).total_seconds() / 60)


def _add(out: Contribution, month: str, name: str, value: int = 1) -> None:
    counters = out.setdefault(month, {})
    counters[name] = counters.get(name, 0) + value


def request_key(letter_type: str, status: str) -> str:
    return f"req|{letter_type}|{status}"


def request_contribution(r: Mapping[str, Any] | None) -> Contribution:
    """What a request in its current state adds: one request of its type and status in the month it was
    made; when issued, a letter in the month of issuing with its time to issue and whether within SLA;
    one open request in the backlog while the village must act."""
    out: Contribution = {}
    if not r:
        return out
    village = str(r["village"])
    _add(out, month_of(str(r["created_at"]), village), request_key(str(r["letter_type"]), str(r["status"])))
    if r["status"] == "issued":
        letter = r.get("letter") or {}
        issued_at = str(letter.get("issued_at") or r["updated_at"])
        month = month_of(issued_at, village)
        _add(out, month, "issued")
        _add(out, month, f"{ISSUE_HIST}{bucket(minutes_between(str(r['created_at']), issued_at))}")
        if r.get("due_at") and _parse(issued_at) <= _parse(str(r["due_at"])):
            _add(out, month, "in_sla")
    if r["status"] in REQUEST_BACKLOG:
        _add(out, CURRENT, "open_requests")
    return out


def request_transition(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Contribution:
    """What the change itself counts, in the month it happened: a revision asked, a rejection."""
    out: Contribution = {}
    if not new:
        return out
    before = (old or {}).get("status")
    for status, name in (("needs_revision", "revisions"), ("rejected", "rejections")):
        if new["status"] == status and before != status:
            _add(out, month_of(str(new["updated_at"]), str(new["village"])), name)
    return out


def complaint_contribution(c: Mapping[str, Any] | None) -> Contribution:
    """What a complaint in its current state adds: opened in its month; resolved (with its time to resolve
    and rating) in the month it was last resolved; one open complaint in the backlog until final."""
    out: Contribution = {}
    if not c:
        return out
    village = str(c["village"])
    created = str(c["created_at"])
    _add(out, month_of(created, village), "complaints_opened")
    resolved_at = c.get("resolved_at")
    if c["status"] in COMPLAINT_RESOLVED and resolved_at:
        month = month_of(str(resolved_at), village)
        _add(out, month, "complaints_resolved")
        _add(out, month, f"{RESOLVE_HIST}{bucket(minutes_between(created, str(resolved_at)))}")
    rating = c.get("rating")
    if rating is not None and int(rating) > 0:
        month = month_of(str(resolved_at or created), village)
        _add(out, month, "rating_sum", int(rating))
        _add(out, month, "rating_count")
    if c["status"] not in COMPLAINT_FINAL:
        _add(out, CURRENT, "open_complaints")
    return out


def complaint_transition(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Contribution:
    """Reopenings, in the month of the change."""
    out: Contribution = {}
    if not new:
        return out
    more = int(new.get("reopen_count") or 0) - int((old or {}).get("reopen_count") or 0)
    if more > 0:
        _add(out, month_of(str(new["updated_at"]), str(new["village"])), "complaints_reopened", more)
    return out


CONTRIBUTIONS = {"request": (request_contribution, request_transition),
                 "complaint": (complaint_contribution, complaint_transition)}


def change(entity: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Contribution:
    """The counters one record change adds (negative where the old state stops counting); zeros dropped."""
    state, transition = CONTRIBUTIONS[entity]
    out: Contribution = defaultdict(dict)
    for sign, part in ((1, state(new)), (-1, state(old)), (1, transition(old, new))):
        for month, counters in part.items():
            for name, value in counters.items():
                out[month][name] = out[month].get(name, 0) + sign * value
    return {m: {k: v for k, v in c.items() if v} for m, c in out.items() if any(c.values())}


def merge(into: Counters, other: Mapping[str, Any]) -> Counters:
    for name, value in other.items():
        into[name] = into.get(name, 0) + int(value)
    return into


def _histogram(counters: Mapping[str, int], prefix: str) -> dict[int, int]:
    return {int(k[len(prefix):]): v for k, v in counters.items() if k.startswith(prefix) and v > 0}


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


def figures(counters: Mapping[str, int]) -> dict[str, Any]:
    """The published figures of merged counters (no personal data: counts, durations, shares)."""
    by_type: dict[str, dict[str, int]] = {}
    for name, value in counters.items():
        if name.startswith("req|") and value:
            _, letter_type, status = name.split("|", 2)
            by_type.setdefault(letter_type, {})[status] = value
    issued = counters.get("issued", 0)
    issue_hist = _histogram(counters, ISSUE_HIST)
    resolve_hist = _histogram(counters, RESOLVE_HIST)
    rating_count = counters.get("rating_count", 0)
    return {
        "requests": sum(sum(s.values()) for s in by_type.values()),
        "requests_by_type": {t: dict(sorted(s.items())) for t, s in sorted(by_type.items())},
        "letters_issued": issued,
        "issued_within_sla": counters.get("in_sla", 0),
        "share_within_sla": round(counters.get("in_sla", 0) / issued, 4) if issued else None,
        "median_hours_to_issue": _hours(quantile(issue_hist, 0.5)),
        "p90_hours_to_issue": _hours(quantile(issue_hist, 0.9)),
        "revisions": counters.get("revisions", 0),
        "rejections": counters.get("rejections", 0),
        "complaints_opened": counters.get("complaints_opened", 0),
        "complaints_resolved": counters.get("complaints_resolved", 0),
        "complaints_reopened": counters.get("complaints_reopened", 0),
        "median_hours_to_resolve": _hours(quantile(resolve_hist, 0.5)),
        "mean_rating": round(counters.get("rating_sum", 0) / rating_count, 2) if rating_count else None,
        "ratings": rating_count,
    }


def backlog(counters: Mapping[str, int]) -> dict[str, int]:
    return {"open_requests": max(0, counters.get("open_requests", 0)),
            "open_complaints": max(0, counters.get("open_complaints", 0))}


_MONTH_RE = re.compile(r"[0-9]{4}-[0-9]{2}")


def parse_month(value: str | None, name: str) -> tuple[int, int]:
    """A strict YYYY-MM (ASCII digits, month 01-12, years 2000-2999); anything else is a 400."""
    if value is None or not value.isascii() or not _MONTH_RE.fullmatch(value):
        raise ValidationError(f"Parameter {name} harus berformat TTTT-BB, misalnya 2026-01.", code="invalid_month")
    year, month = int(value[:4]), int(value[5:])
    if not (1 <= month <= 12 and 2000 <= year <= 2999):
        raise ValidationError(f"Parameter {name} bukan bulan yang valid.", code="invalid_month")
    return year, month


def month_range(start: str | None, end: str | None, default_end: str) -> list[str]:
    """The months from `start` to `end` inclusive (default: the 12 months up to `default_end`); a reversed
    range or one longer than MAX_MONTHS is a 400."""
    ey, em = parse_month(end if end is not None else default_end, "to")
    if start is None:
        index = ey * 12 + em - 1 - 11
        sy, sm = index // 12, index % 12 + 1
    else:
        sy, sm = parse_month(start, "from")
    first, last = sy * 12 + sm - 1, ey * 12 + em - 1
    if first > last:
        raise ValidationError("Bulan awal (from) tidak boleh setelah bulan akhir (to).", code="invalid_range")
    if last - first + 1 > MAX_MONTHS:
        raise ValidationError(f"Rentang paling panjang {MAX_MONTHS} bulan.", code="range_too_long")
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(first, last + 1)]


def rollup(village: str, contribution: Contribution) -> dict[tuple[str, str], Counters]:
    """A village's contribution added to the village and, for months, to its kecamatan: {(month, code): counters}.
    The kabupaten's figures are its kecamatan's added at read time (9 to 20 items a month, exact: counters merge).
    The backlog (CURRENT) is kept per village only: a kabupaten's villages' backlogs are one Query, so a
    kecamatan's is added at read time too, and a change of the backlog writes one counter item, not two."""
    from chalicelib.domain.regions import kecamatan_of

    out: dict[tuple[str, str], Counters] = {}
    for month, counters in contribution.items():
        for code in (village,) if month == CURRENT else (village, kecamatan_of(village)):
            out[(month, code)] = dict(counters)
    return out


# What an audit event counts when the figures are rebuilt from the records (the stream counts the same
# changes from the request's or complaint's images: see request_transition and complaint_transition).
EVENT_COUNTERS = {("event", "request_revision"): "revisions", ("event", "reject"): "rejections",
                  ("complaint_event", "reopen"): "complaints_reopened"}


def recount(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[tuple[str, str], Counters]]:
    """Every kabupaten's aggregates rebuilt from the records themselves: requests and complaints (their
    state) and their audit events (the changes), as {kabupaten: {(month, code): counters}}."""
    from chalicelib.domain.regions import kabupaten_of

    records = list(records)
    village_of = {str(r["PK"]): str(r["village"]) for r in records if r.get("entity") in CONTRIBUTIONS}
    out: dict[str, dict[tuple[str, str], Counters]] = {}

    def add(village: str, contribution: Contribution) -> None:
        target = out.setdefault(kabupaten_of(village), {})
        for key, counters in rollup(village, contribution).items():
            merge(target.setdefault(key, {}), counters)

    for r in records:
        entity = r.get("entity")
        if entity in CONTRIBUTIONS:
            add(str(r["village"]), CONTRIBUTIONS[str(entity)][0](r))
        name = EVENT_COUNTERS.get((str(entity), str(r.get("action"))))
        village = village_of.get(str(r.get("PK")))
        if name and village:
            add(village, {month_of(str(r["at"]), village): {name: 1}})
    return out

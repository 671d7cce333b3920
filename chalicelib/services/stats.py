"""Transparency use cases: public figures of a region, open-data rows, the district view for staff.

Every figure comes from the aggregate items the stream handler keeps (storage/stats.py): a region's page
is a GetItem of the region, a Query of its children and one Query of the kabupaten's aggregates for the
months asked, never a scan of requests or complaints.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.regions import (
    Region,
    is_village,
    kabupaten_of,
    kecamatan_of,
    level_of,
    timezone_for,
    validate_code,
    within,
)
from chalicelib.domain.requests import Principal
from chalicelib.domain.stats import RELATIVE_ERROR, Counters, backlog, figures, merge, month_range
from chalicelib.errors import ForbiddenError, NotFoundError
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import stats as repo

DISTRICT_ROLES = ("admin", "camat")
OVERDUE_SHOWN = 20
CHILD_LEVEL = {"kabupaten": ("kecamatan",), "kecamatan": ("desa", "kelurahan")}
METHOD = {
    "relative_error": RELATIVE_ERROR,
    "note": "Median dan persentil ke-90 dihitung dari histogram berskala logaritmik; galat relatif paling "
            f"banyak {int(RELATIVE_ERROR * 100)}%. Bulan dihitung menurut zona waktu kabupaten.",
}


def _this_month(code: str, now: datetime | None = None) -> str:
    return (now or utcnow()).astimezone(ZoneInfo(timezone_for(code))).strftime("%Y-%m")


def _region(code: str) -> Region:
    validate_code(code)
    region = regions_repo.get(code) if level_of(code) != "provinsi" else None
    if region is None:
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    return region


def _brief(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "level": region.level, "active": region.active}


def _merged(rows: Iterable[repo.StatsRow]) -> Counters:
    total: Counters = {}
    for row in rows:
        merge(total, row.counters)
    return total


def _rows_of(region: Region, first: str, last: str) -> list[repo.StatsRow]:
    """The counter items a region's figures are made of: its kecamatan (a kabupaten), its villages (a
    kecamatan) or its own (a village): one Query each."""
    if region.level == "kabupaten":
        return repo.kecamatan_months(region.code, first, last)
    if region.level == "kecamatan":
        return repo.village_months(region.code, first, last)
    return repo.village_months(kecamatan_of(region.code), first, last, village=region.code)


def region_stats(code: str, start: str | None, end: str | None, now: datetime | None = None) -> dict[str, Any]:
    """A region's figures per month and in total for the range, with each child's total (for a ranking).
    Raises ValidationError (bad months, reversed or too long range) and NotFoundError (unknown region).
    DynamoDB: GetItem of the region, Query of its children (not for a village), Query of the counters."""
    validate_code(code)
    months = month_range(start, end, _this_month(code, now))
    region = _region(code)
    children = regions_repo.children(code) if not is_village(code) else []
    rows = _rows_of(region, months[0], months[-1])
    by_month: dict[str, Counters] = {}
    by_child: dict[str, Counters] = {}
    for r in rows:
        merge(by_month.setdefault(r.month, {}), r.counters)
        if r.code != code:
            merge(by_child.setdefault(r.code, {}), r.counters)
    ranking = [{**_brief(child), **figures(by_child.get(child.code, {}))} for child in children]
    ranking.sort(key=lambda c: (c["share_within_sla"] is None, -(c["share_within_sla"] or 0),
                                -c["letters_issued"], c["code"]))
    return {
        "region": {**_brief(region), "parent": region.parent},
        "from": months[0], "to": months[-1],
        "totals": figures(_merged_counters(by_month.values())),
        "months": [{"month": m, **figures(by_month.get(m, {}))} for m in months],
        "children": ranking,
        "method": METHOD,
    }


def _merged_counters(parts: Iterable[Counters]) -> Counters:
    total: Counters = {}
    for part in parts:
        merge(total, part)
    return total


def etag(body: Any) -> str:
    """A weak validator of an answer's content: the same figures give the same tag, whether the answer goes out as
    it is or gzip-coded (chalicelib/api/compression.py), so If-None-Match matches either (weak comparison)."""
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    return 'W/"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


# ---- open data ----------------------------------------------------------------------------------------
EXPORT_COLUMNS = (
    "kabupaten_code", "kecamatan_code", "kecamatan_name", "village_code", "village_name", "village_level",
    "month", "requests", "letters_issued", "issued_within_sla", "share_within_sla", "median_hours_to_issue",
    "p90_hours_to_issue", "revisions", "rejections", "complaints_opened", "complaints_resolved",
    "complaints_reopened", "median_hours_to_resolve", "ratings", "mean_rating",
)


def _villages_under(region: Region) -> list[tuple[Region, Region]]:
    """(kecamatan, village) pairs under a region, in code order (one Query per kecamatan)."""
    if is_village(region.code):
        return [(regions_repo.get(region.parent or "") or region, region)]
    kecamatan = [region] if region.level == "kecamatan" else regions_repo.children(region.code)
    return [(k, v) for k in sorted(kecamatan, key=lambda r: r.code)
            for v in sorted(regions_repo.children(k.code), key=lambda r: r.code)]


def _village_rows(region: Region, first: str, last: str) -> list[repo.StatsRow]:
    if region.level == "kabupaten":
        return [r for k in regions_repo.children(region.code) for r in repo.village_months(k.code, first, last)]
    return _rows_of(region, first, last)


def export_rows(code: str, start: str | None, end: str | None, now: datetime | None = None) -> dict[str, Any]:
    """One row per village and month under the region (villages without activity included, with zeros)."""
    validate_code(code)
    months = month_range(start, end, _this_month(code, now))
    region = _region(code)
    pairs = _villages_under(region)
    rows = _village_rows(region, months[0], months[-1])
    counters = {(r.code, r.month): r.counters for r in rows}
    out = []
    for kecamatan, village in pairs:
        for month in months:
            f = figures(counters.get((village.code, month), {}))
            out.append({"kabupaten_code": kabupaten_of(code), "kecamatan_code": kecamatan.code,
                        "kecamatan_name": kecamatan.name, "village_code": village.code,
                        "village_name": village.name, "village_level": village.level, "month": month,
                        **{c: f[c] for c in EXPORT_COLUMNS[7:]}, "requests_by_type": f["requests_by_type"]})
    return {"region": _brief(region), "from": months[0], "to": months[-1], "columns": list(EXPORT_COLUMNS),
            "licence": LICENCE, "attribution": ATTRIBUTION, "method": METHOD, "rows": out}


LICENCE = "ODbL-1.0"
ATTRIBUTION = ("Angka: Balai (pemerintah kabupaten). Kode dan nama wilayah: idn-area-data contributors "
               "(github.com/fityannugroho/idn-area-data), ODbL 1.0.")


def export_csv(export: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in export["rows"]:
        writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
    return buffer.getvalue()


# ---- district view (staff) ----------------------------------------------------------------------------
def _ensure_district_reader(principal: Principal, code: str) -> None:
    if principal.role not in DISTRICT_ROLES:
        raise ForbiddenError("Hanya admin kabupaten dan camat yang dapat melihat ringkasan wilayah.",
                             code="forbidden_role")
    if not within(principal.region, code) or is_village(code):
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")


def district_view(principal: Principal, code: str, start: str | None, end: str | None,
                  now: datetime | None = None) -> dict[str, Any]:
    """For the bupati/Diskominfo (admin, the kabupaten) and a camat (their kecamatan): villages ranked by
    share within SLA and by backlog, the oldest overdue requests, per-kecamatan totals."""
    from chalicelib.storage.sla import due

    _ensure_district_reader(principal, code)
    now = now or utcnow()
    months = month_range(start, end, _this_month(code, now))
    region = _region(code)
    kab = kabupaten_of(code)
    rows = _village_rows(region, months[0], months[-1])
    # The backlog is kept per village (domain/stats.py rollup); items of a kecamatan written before are ignored.
    current = {r.code: r.counters for r in repo.current(kab) if within(code, r.code) and is_village(r.code)}
    pairs = _villages_under(region)
    per_code: dict[str, list[repo.StatsRow]] = {}
    for r in rows:
        per_code.setdefault(r.code, []).append(r)
    villages = []
    for kecamatan, village in pairs:
        f = figures(_merged(per_code.get(village.code, [])))
        villages.append({**_brief(village), "kecamatan": kecamatan.code, "kecamatan_name": kecamatan.name,
                         **_ranked(f), **backlog(current.get(village.code, {}))})
    by_sla = sorted(villages, key=lambda v: (v["share_within_sla"] is None, -(v["share_within_sla"] or 0),
                                             -v["letters_issued"], v["code"]))
    by_backlog = sorted(villages, key=lambda v: (-v["open_requests"] - v["open_complaints"], v["code"]))
    kecamatan_codes = sorted({k.code: k for k, _ in pairs}.items())
    totals = [{**_brief(k), **_ranked(figures(_merged(r for r in rows if kecamatan_of(r.code) == k.code))),
               **backlog(_merged_counters(c for v, c in current.items() if kecamatan_of(v) == k.code))}
              for _, k in kecamatan_codes]
    overdue = []
    for request in due(kab, now, limit=500):
        if within(code, request.village) and request.due_at < iso(now):
            overdue.append(request)
    overdue.sort(key=lambda r: r.due_at)
    names = {v.code: v.name for _, v in pairs}
    return {
        "region": _brief(region), "from": months[0], "to": months[-1], "generated_at": iso(now),
        "totals": {**_ranked(figures(_merged(r for r in rows if r.level in ("desa", "kelurahan")))),
                   **backlog(_merged_counters(c for k, c in current.items() if is_village(k)))},
        "by_share_within_sla": by_sla, "by_backlog": by_backlog, "kecamatan": totals,
        "overdue": [{"id": r.id, "tracking_code": r.tracking_code, "village": r.village,
                     "village_name": names.get(r.village, r.village), "letter_type": r.letter_type,
                     "letter_name": r.letter_name, "status": r.status, "created_at": r.created_at,
                     "due_at": r.due_at} for r in overdue[:OVERDUE_SHOWN]],
        "overdue_total": len(overdue),
        "method": METHOD,
    }


def _ranked(f: dict[str, Any]) -> dict[str, Any]:
    """The figures a ranking shows (the per-type breakdown stays on the public page)."""
    return {k: v for k, v in f.items() if k != "requests_by_type"}

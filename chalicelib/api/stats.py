"""Transparency routes: public figures and open data of a region, the district view for staff."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import endpoint, principal, query_param, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
# Figures change as the stream handler counts; five minutes of staleness is fine for a public page and lets a
# CDN or browser keep the answer. The (weak) ETag lets them revalidate for a 304 without the body.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
RANGE_QUERY = (("from", "first month, YYYY-MM (default: 11 months before `to`)"),
               ("to", "last month, YYYY-MM (default: this month); at most 24 months"))


def _cached(request: Request, body: Any, text: str | None = None, content_type: str | None = None) -> Response:
    from chalicelib.services import stats
    tag = stats.etag(body)
    headers: dict[str, str | list[str]] = {**PUBLIC_CACHE, "ETag": tag}
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" and "x" are the same tag.
    wanted = [t.strip().removeprefix("W/") for t in (request.headers.get("if-none-match") or "").split(",")]
    if tag.removeprefix("W/") in wanted or "*" in wanted:
        return Response(body="", status_code=304, headers=headers)
    if text is not None:
        return Response(body=text, status_code=200, headers={**headers, "Content-Type": content_type or "text/plain"})
    return respond(body, headers={**PUBLIC_CACHE, "ETag": tag})


def _range(request: Request) -> tuple[str | None, str | None]:
    return query_param(request, "from"), query_param(request, "to")


@doc("GET", "/v1/stats/regions/{code}", "Transparency figures of a region per month, with its children's",
     response="RegionStats", errors=(404,), query=RANGE_QUERY,
     headers=(("If-None-Match", "the ETag of an earlier answer: 304 when unchanged"),))
@bp.route("/v1/stats/regions/{code}", methods=["GET"])
@endpoint
def region_stats(code: str) -> Response:
    from chalicelib.services import stats
    request = bp.current_request
    return _cached(request, stats.region_stats(code, *_range(request)))


@doc("GET", "/v1/stats/regions/{code}/export.json", "Open data: one row per village and month (JSON)",
     response="StatsExport", errors=(404,), query=RANGE_QUERY)
@bp.route("/v1/stats/regions/{code}/export.json", methods=["GET"])
@endpoint
def export_json(code: str) -> Response:
    from chalicelib.services import stats
    request = bp.current_request
    return _cached(request, stats.export_rows(code, *_range(request)))


@doc("GET", "/v1/stats/regions/{code}/export.csv", "Open data: one row per village and month (CSV)",
     errors=(404,), query=RANGE_QUERY, content_type="text/csv")
@bp.route("/v1/stats/regions/{code}/export.csv", methods=["GET"])
@endpoint
def export_csv(code: str) -> Response:
    from chalicelib.services import stats
    request = bp.current_request
    export = stats.export_rows(code, *_range(request))
    return _cached(request, export, stats.export_csv(export), "text/csv; charset=utf-8")


@doc("GET", "/v1/stats/district/{code}", "District view: villages ranked by SLA share and backlog, overdue",
     response="DistrictView", auth="admin (its kabupaten), camat (its kecamatan)", errors=(404,), query=RANGE_QUERY)
@bp.route("/v1/stats/district/{code}", methods=["GET"])
@endpoint
def district(code: str) -> Response:
    from chalicelib.services import stats
    request = bp.current_request
    return respond(stats.district_view(principal(request), code, *_range(request)),
                   headers={"Cache-Control": "no-store"})

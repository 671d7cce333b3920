"""Public transparency figures, open data and the district view over HTTP (aggregates kept with each write)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.clock import utcnow
from chalicelib.domain.stats import month_of
from chalicelib.storage import regions as regions_repo
from tests.helpers import (
    KECAMATAN_SINJAI_TIMUR,
    PULAU_HARAPAN,
    SAMATARING,
    act,
    get,
    staff_token,
    submitted,
)
from tests.stats_workload import Workload

KAB = "73.07"


@pytest.fixture(scope="module")
def figures_kept() -> dict[str, Any]:
    """A year of requests and complaints in two kecamatan, each change written with its counters."""
    villages = [v.code for k in (KECAMATAN_SINJAI_TIMUR, "73.07.09") for v in regions_repo.children(k)]
    load = Workload(villages, datetime(2026, 1, 1, tzinfo=UTC), months=10, seed=5)
    for i in range(240):
        load.request() if i % 4 else load.complaint()
    return {"load": load}


def test_kabupaten_figures_with_kecamatan_ranking(client: Client, figures_kept: dict[str, Any]) -> None:
    # Given aggregates kept for the kabupaten; When anyone asks for 2026-01..2026-12 without logging in
    response = client.http.get(f"/v1/stats/regions/{KAB}?from=2026-01&to=2026-12")
    # Then they get the kabupaten's months and totals, and every kecamatan's figures for a ranking
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["region"]["code"] == KAB and len(body["months"]) == 12
    assert body["totals"]["requests"] == sum(m["requests"] for m in body["months"]) > 100
    children = {c["code"]: c for c in body["children"]}
    assert len(children) == 9 and children["73.07.01"]["requests"] == 0
    assert body["totals"]["letters_issued"] == sum(c["letters_issued"] for c in body["children"])
    shares = [c["share_within_sla"] for c in body["children"] if c["share_within_sla"] is not None]
    assert shares == sorted(shares, reverse=True)
    assert body["totals"]["median_hours_to_issue"] > 0 and body["totals"]["mean_rating"] is not None
    # ... and no personal data: no NIK hash, tracking code or applicant anywhere
    assert "nik" not in response.body.decode() and "tracking" not in response.body.decode()


def test_kecamatan_and_village_figures_add_up(client: Client, figures_kept: dict[str, Any]) -> None:
    kec = client.http.get(f"/v1/stats/regions/{KECAMATAN_SINJAI_TIMUR}?from=2026-01&to=2026-12").json_body
    villages = kec["children"]
    assert kec["totals"]["requests"] == sum(v["requests"] for v in villages)
    one = client.http.get(f"/v1/stats/regions/{SAMATARING}?from=2026-01&to=2026-12").json_body
    assert one["children"] == [] and one["totals"]["requests"] == next(
        v["requests"] for v in villages if v["code"] == SAMATARING)


def test_etag_answers_304_and_cache_control(client: Client, figures_kept: dict[str, Any]) -> None:
    # Given a first answer with its ETag
    first = client.http.get(f"/v1/stats/regions/{KAB}?from=2026-01&to=2026-06")
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    tag = first.headers["ETag"]
    # When the browser or CDN revalidates with it
    again = client.http.get(f"/v1/stats/regions/{KAB}?from=2026-01&to=2026-06", headers={"If-None-Match": tag})
    # Then 304 without a body; another range has another tag
    assert again.status_code == 304 and again.body in (b"", "")
    other = client.http.get(f"/v1/stats/regions/{KAB}?from=2026-02&to=2026-06")
    assert other.status_code == 200 and other.headers["ETag"] != tag


@pytest.mark.parametrize("query", [
    "from=2026-13&to=2026-12", "from=2026-1&to=2026-12", "from=２０２６-01&to=2026-12", "from=2026-01%0A&to=2026-02",
    "from=2026-01&to=2026-12%00", "from=2026-05&to=2026-04", "from=2024-01&to=2026-01", "from=+2026-01",
    "from=2026-01-01", "from=1999-12&to=2000-01",
])
def test_bad_months_are_400(client: Client, query: str) -> None:
    response = client.http.get(f"/v1/stats/regions/{KAB}?{query}")
    assert response.status_code == 400, (query, response.body)
    assert response.json_body["code"] in ("invalid_month", "invalid_range", "range_too_long")
    assert response.json_body["message"]


@pytest.mark.parametrize("code", ["73.07.99", "73", "73.07.03.9999", "99.99"])
def test_unknown_regions_are_404(client: Client, code: str) -> None:
    assert client.http.get(f"/v1/stats/regions/{code}").status_code == 404


@pytest.mark.parametrize("code", ["73.O7", "73.07%0A", "73.07.03.1001%20"])
def test_look_alike_codes_are_rejected(client: Client, code: str) -> None:
    assert client.http.get(f"/v1/stats/regions/{code}").status_code in (400, 404)


def test_open_data_csv_and_json_one_row_per_village_and_month(client: Client, figures_kept: dict[str, Any]) -> None:
    # When the open data of a kecamatan for three months is downloaded as CSV and as JSON
    csv_answer = client.http.get(f"/v1/stats/regions/{KECAMATAN_SINJAI_TIMUR}/export.csv?from=2026-01&to=2026-03")
    json_answer = client.http.get(f"/v1/stats/regions/{KECAMATAN_SINJAI_TIMUR}/export.json?from=2026-01&to=2026-03")
    assert csv_answer.status_code == 200 and csv_answer.headers["Content-Type"].startswith("text/csv")
    assert csv_answer.headers["ETag"]
    rows = list(csv.DictReader(io.StringIO(csv_answer.body.decode())))
    villages = regions_repo.children(KECAMATAN_SINJAI_TIMUR)
    # Then one row per village and month, quiet villages with zeros, the same rows in both formats
    assert len(rows) == len(villages) * 3
    body = json_answer.json_body
    assert body["licence"] == "ODbL-1.0" and "idn-area-data" in body["attribution"]
    assert [r["village_code"] for r in body["rows"]] == [r["village_code"] for r in rows]
    assert sum(int(r["requests"]) for r in rows) == sum(r["requests"] for r in body["rows"]) > 0
    assert list(rows[0]) == body["columns"]


def test_district_view_for_admin_and_camat(client: Client, figures_kept: dict[str, Any]) -> None:
    admin = staff_token(client, "admin")
    response = get(client, f"/v1/stats/district/{KAB}?from=2026-01&to=2026-12", admin)
    assert response.status_code == 200, response.body
    body = response.json_body
    assert len(body["kecamatan"]) == 9 and len(body["by_share_within_sla"]) > 50
    backlog = [v["open_requests"] + v["open_complaints"] for v in body["by_backlog"]]
    assert backlog == sorted(backlog, reverse=True) and backlog[0] > 0
    assert body["totals"]["open_requests"] == sum(k["open_requests"] for k in body["kecamatan"])
    # The camat sees their kecamatan, not the kabupaten nor another kecamatan
    camat = staff_token(client, f"camat.{KECAMATAN_SINJAI_TIMUR}")
    mine = get(client, f"/v1/stats/district/{KECAMATAN_SINJAI_TIMUR}", camat)
    assert mine.status_code == 200 and {v["kecamatan"] for v in mine.json_body["by_backlog"]} == {
        KECAMATAN_SINJAI_TIMUR}
    assert get(client, f"/v1/stats/district/{KAB}", camat).status_code == 404
    assert get(client, "/v1/stats/district/73.07.09", camat).status_code == 404


def test_district_view_refuses_village_staff_and_the_public(client: Client) -> None:
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert get(client, f"/v1/stats/district/{KAB}", operator).status_code == 403
    assert client.http.get(f"/v1/stats/district/{KAB}").status_code == 401
    other_kab_admin_sees = get(client, "/v1/stats/district/73.08", staff_token(client, "admin"))
    assert other_kab_admin_sees.status_code == 404


def test_district_view_lists_the_oldest_overdue_requests(client: Client, registered_citizen: dict[str, Any]) -> None:
    # Given a real request past its due time (submitted over the API, its due time moved into the past)
    request = submitted(client, registered_citizen, SAMATARING)
    operator = staff_token(client, f"operator.{SAMATARING}")
    assert act(client, operator, request, "review").status_code == 200
    from chalicelib.storage.sla import due

    later = datetime(2099, 1, 1, tzinfo=UTC)
    assert any(r.id == request["id"] for r in due(KAB, later))
    from chalicelib.domain.requests import Principal
    from chalicelib.services import stats as service

    # When the admin looks at the district view at a time past its due time
    view = service.district_view(Principal("admin", KAB, "admin"), KAB, None, None, now=later)
    # Then it is listed among the overdue, with no applicant data
    ids = [o["id"] for o in view["overdue"]]
    assert request["id"] in ids
    assert set(view["overdue"][0]) == {"id", "tracking_code", "village", "village_name", "letter_type",
                                       "letter_name", "status", "created_at", "due_at"}


def test_a_real_request_is_counted_with_its_writes(client: Client, registered_citizen: dict[str, Any]) -> None:
    # Given the village's figures of this month
    month = month_of(utcnow().isoformat(), PULAU_HARAPAN)
    before = client.http.get(f"/v1/stats/regions/{PULAU_HARAPAN}?from={month}&to={month}").json_body
    # When a request is submitted and reviewed over the API
    request = submitted(client, registered_citizen, PULAU_HARAPAN)
    act(client, staff_token(client, f"operator.{PULAU_HARAPAN}"), request, "review")
    # Then the village shows one more request, in review, at once (no stream batch to wait for)
    after = client.http.get(f"/v1/stats/regions/{PULAU_HARAPAN}?from={month}&to={month}").json_body
    assert after["totals"]["requests"] == before["totals"]["requests"] + 1
    by_type = after["totals"]["requests_by_type"]["SKD"]
    assert by_type.get("in_review", 0) == before["totals"]["requests_by_type"].get("SKD", {}).get("in_review", 0) + 1


def test_a_real_complaint_is_counted_opened_resolved_and_rated(client: Client, citizen: dict[str, Any]) -> None:
    # Given a complaint filed, worked to resolved and rated over the API (the complaints feature's own items)
    from chalicelib.ops.stats import recompute
    from chalicelib.storage import stats as repo
    from tests.complaints_support import act as complaint_act
    from tests.complaints_support import filed

    month = month_of(utcnow().isoformat(), SAMATARING)
    before = client.http.get(f"/v1/stats/regions/{SAMATARING}?from={month}&to={month}").json_body["totals"]
    c = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    for action in ("acknowledge", "start"):
        assert complaint_act(client, op, c, action).status_code == 200
    assert complaint_act(client, op, c, "resolve", note="Sudah diperbaiki.").status_code == 200
    assert complaint_act(client, citizen["token"], c, "rate", rating=4).status_code == 200
    # Then the village shows one more complaint opened and resolved, with its rating
    after = client.http.get(f"/v1/stats/regions/{SAMATARING}?from={month}&to={month}").json_body["totals"]
    assert after["complaints_opened"] == before["complaints_opened"] + 1
    assert after["complaints_resolved"] == before["complaints_resolved"] + 1
    assert after["ratings"] == before["ratings"] + 1 and after["median_hours_to_resolve"] is not None
    # And a rebuild from the records gives the same complaint figures
    def complaint_figures() -> dict[tuple[str, str], dict[str, int]]:
        wanted = ("complaints_", "hr|", "rating_", "open_complaints")
        return {(r.month, r.code): {k: v for k, v in r.counters.items() if k.startswith(wanted)}
                for r in repo.every_row(KAB)}

    kept = complaint_figures()
    recompute(KAB)
    rebuilt = complaint_figures()
    assert {k: v for k, v in rebuilt.items() if v} == {k: v for k, v in kept.items() if v}

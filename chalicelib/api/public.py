"""Public routes: regions, village letter catalogue, tracking, the OpenAPI description."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, optional_principal, query_param, respond
from chalicelib.api.openapi import build_spec, doc
from chalicelib.services import regions, requests

bp = Blueprint(__name__)


@doc("GET", "/v1/regions/{code}", "A region with its children", response="Region", errors=(404,))
@bp.route("/v1/regions/{code}", methods=["GET"])
@endpoint
def get_region(code: str) -> Response:
    return respond(regions.get_region(code))


@doc("GET", "/v1/villages/{desa}/letter-types", "Letter types a village offers", response="LetterTypeList",
     errors=(404,), query=(("include_disabled", "`true`: the disabled types too (operator, kades, admin)"),))
@bp.route("/v1/villages/{desa}/letter-types", methods=["GET"])
@endpoint
def letter_types(desa: str) -> Response:
    request = bp.current_request
    include_disabled = query_param(request, "include_disabled") == "true"
    who = optional_principal(request) if include_disabled else None
    return respond(regions.letter_types(desa, who, include_disabled))


@doc("GET", "/v1/track/{tracking_code}", "Status of a request by its tracking code (no personal data)",
     response="Tracking", errors=(404,))
@bp.route("/v1/track/{tracking_code}", methods=["GET"])
@endpoint
def track(tracking_code: str) -> Response:
    return respond(requests.to_tracking(requests.track(tracking_code)))


@doc("GET", "/openapi.json", "This OpenAPI description")
@bp.route("/openapi.json", methods=["GET"])
@endpoint
def openapi() -> Response:
    return respond(build_spec())

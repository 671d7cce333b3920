"""Public routes: regions, village letter catalogue, tracking, the OpenAPI description."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, optional_principal, query_param, respond
from chalicelib.api.openapi import build_spec, doc
from chalicelib.errors import ValidationError

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
# Regions and a village's letter catalogue change seldom (an activation, an adjusted type): a browser keeps them
# for minutes, so a page that needs them again (the form after the list, the queue after a request) answers
# itself and the request never reaches API Gateway (issue 14: ~US$3.50 per million requests).
REGION_CACHE = {"Cache-Control": "public, max-age=600"}
CATALOGUE_CACHE = {"Cache-Control": "public, max-age=300"}


@doc("GET", "/v1/regions/{code}", "A region with its children", response="Region", errors=(400, 404),
     query=(("siblings", "`true`: also `siblings`, the parent's children (this region among them)"),))
@bp.route("/v1/regions/{code}", methods=["GET"])
@endpoint
def get_region(code: str) -> Response:
    from chalicelib.services import regions
    siblings = query_param(bp.current_request, "siblings")
    if siblings not in (None, "true", "false"):
        raise ValidationError("Parameter siblings harus true atau false.", code="invalid_parameter")
    return respond(regions.get_region(code, siblings=siblings == "true"), headers=REGION_CACHE)


@doc("GET", "/v1/villages/{desa}/letter-types", "Letter types a village offers", response="LetterTypeList",
     errors=(404,), query=(("include_disabled", "`true`: the disabled types too (operator, kades, admin)"),))
@bp.route("/v1/villages/{desa}/letter-types", methods=["GET"])
@endpoint
def letter_types(desa: str) -> Response:
    from chalicelib.services import regions
    request = bp.current_request
    include_disabled = query_param(request, "include_disabled") == "true"
    who = optional_principal(request) if include_disabled else None
    return respond(regions.letter_types(desa, who, include_disabled),
                   headers={"Cache-Control": "private, no-store"} if include_disabled else CATALOGUE_CACHE)


@doc("GET", "/v1/track/{tracking_code}", "Status of a request by its tracking code (no personal data)",
     response="Tracking", errors=(404,))
@bp.route("/v1/track/{tracking_code}", methods=["GET"])
@endpoint
def track(tracking_code: str) -> Response:
    from chalicelib.services import requests
    return respond(requests.to_tracking(requests.track(tracking_code)))


@doc("GET", "/openapi.json", "This OpenAPI description")
@bp.route("/openapi.json", methods=["GET"])
@endpoint
def openapi() -> Response:
    return respond(build_spec())

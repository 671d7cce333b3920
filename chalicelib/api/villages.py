"""Village administration routes: staged activation and the village's letter catalogue."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, parse, principal, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)


@doc("PUT", "/v1/villages/{desa}/activation", "Activate or deactivate a village (staged roll-out)",
     body="VillageActivation", response="Region", auth="admin", errors=(404,))
@bp.route("/v1/villages/{desa}/activation", methods=["PUT"])
@endpoint
def activation(desa: str) -> Response:
    from chalicelib.services import regions
    request = bp.current_request
    who = principal(request)
    body = parse(request, "VillageActivation")
    return respond(regions.set_village_active(who, desa, body.active))


@doc("PUT", "/v1/villages/{desa}/letter-types/{code}", "Enable, disable or adjust a letter type",
     body="LetterTypeAdjust", response="LetterTypeAdjusted", auth="operator, kades, admin",
     errors=(404, 409, 422))
@bp.route("/v1/villages/{desa}/letter-types/{code}", methods=["PUT"])
@endpoint
def adjust_letter_type(desa: str, code: str) -> Response:
    from chalicelib.services import regions
    request = bp.current_request
    who = principal(request)
    body = parse(request, "LetterTypeAdjust")
    changes = body.model_dump(exclude={"version"}, exclude_none=True)
    return respond(regions.adjust_letter_type(who, desa, code, changes, body.version))

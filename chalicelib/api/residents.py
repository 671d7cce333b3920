"""Resident register routes (data penduduk): list, read, add, edit, import an OpenSID export."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, int_param, parse, principal, query_param, respond
from chalicelib.api.openapi import doc
from chalicelib.errors import ValidationError

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
_STAFF = "operator, kades of the village; camat (read, masked); admin of the kabupaten (masked)"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@doc("GET", "/v1/villages/{desa}/residents", "The village's residents by name, paginated", response="ResidentList",
     auth=_STAFF, errors=(404,), query=(("limit", "Page size, 1–100 (default 20)"),
                                        ("cursor", "The `next` value of the previous page")))
@bp.route("/v1/villages/{desa}/residents", methods=["GET"])
@endpoint
def list_residents(desa: str) -> Response:
    from chalicelib.services import residents
    request = bp.current_request
    return respond(residents.list_residents(principal(request), desa, int_param(request, "limit"),
                                            query_param(request, "cursor")))


@doc("POST", "/v1/villages/{desa}/residents", "Add one resident (audited)", body="ResidentCreate",
     response="ResidentDetail", status=201, auth="operator, kades of the village; admin", errors=(404, 409))
@bp.route("/v1/villages/{desa}/residents", methods=["POST"])
@endpoint
def add_resident(desa: str) -> Response:
    from chalicelib.services import residents
    request = bp.current_request
    who = principal(request)
    body = parse(request, "ResidentCreate")
    return respond(residents.add_resident(who, desa, body.model_dump(exclude_none=True)), status=201)


@doc("GET", "/v1/villages/{desa}/residents/{resident_id}", "One resident with its audit history",
     response="ResidentDetail", auth=_STAFF, errors=(404,))
@bp.route("/v1/villages/{desa}/residents/{resident_id}", methods=["GET"])
@endpoint
def get_resident(desa: str, resident_id: str) -> Response:
    from chalicelib.services import residents
    return respond(residents.get_resident(principal(bp.current_request), desa, resident_id))


@doc("PUT", "/v1/villages/{desa}/residents/{resident_id}", "Change a resident (version-checked, audited)",
     body="ResidentUpdate", response="ResidentDetail", auth="operator, kades of the village; admin",
     errors=(404, 409))
@bp.route("/v1/villages/{desa}/residents/{resident_id}", methods=["PUT"])
@endpoint
def update_resident(desa: str, resident_id: str) -> Response:
    from chalicelib.services import residents
    request = bp.current_request
    who = principal(request)
    body = parse(request, "ResidentUpdate")
    changes = body.model_dump(exclude={"version"}, exclude_unset=True)
    return respond(residents.update_resident(who, desa, resident_id, changes, body.version))


@doc("POST", "/v1/villages/{desa}/residents/import", "Import residents from an OpenSID export (.xlsx) or a CSV "
     "with its column names; all rows checked first, per-row errors, idempotent", response="ResidentImport",
     auth="operator, kades of the village; admin", errors=(404, 413, 415, 422),
     body_types=(XLSX, "text/csv", "application/octet-stream"),
     query=(("dry_run", "true: check and count, write nothing"),))
@bp.route("/v1/villages/{desa}/residents/import", methods=["POST"],
          content_types=[XLSX, "text/csv", "application/octet-stream"])
@endpoint
def import_residents(desa: str) -> Response:
    from chalicelib.services import residents
    request = bp.current_request
    who = principal(request)
    dry_run = query_param(request, "dry_run")
    if dry_run not in (None, "true", "false"):
        raise ValidationError("dry_run harus true atau false.", code="invalid_parameter")
    raw = request.raw_body or b""
    content = raw.encode() if isinstance(raw, str) else raw
    return respond(residents.import_file(who, desa, content, request.headers.get("content-type"), dry_run == "true"))

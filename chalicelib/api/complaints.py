"""Complaint routes: file, read, act, the citizen's own, queues per village and per OPD, the public list, photos,
and the kabupaten's categories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, int_param, optional_principal, parse, principal, query_param, respond
from chalicelib.api.openapi import doc

if TYPE_CHECKING:
    from chalicelib.services import complaints

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
_PAGING = (("limit", "Page size, 1–100 (default 20)"), ("cursor", "The `next` value of the previous page"))
_STATUS = (("status", "open (default), acknowledged, in_progress, resolved, closed or rejected"),)


def _page(items: list[complaints.Complaint], cursor: str | None, who: complaints.Principal | None) -> Response:
    from chalicelib.services import complaints
    return respond({"items": [complaints.to_view(c, who) for c in items], "next": cursor})


@doc("POST", "/v1/villages/{desa}/complaint-uploads", "Presign one complaint photo upload (citizen)",
     body="PhotoUploadRequest", response="UploadForm", status=201, auth="citizen", errors=(404, 422))
@bp.route("/v1/villages/{desa}/complaint-uploads", methods=["POST"])
@endpoint
def create_photo_upload(desa: str) -> Response:
    from chalicelib.services import attachments
    request = bp.current_request
    who = principal(request)
    body = parse(request, "PhotoUploadRequest")
    return respond(attachments.create_photo_upload(who, desa, body.filename, body.content_type, body.size),
                   status=201)


@doc("POST", "/v1/villages/{desa}/complaints", "File a complaint or aspiration (citizen)", body="ComplaintFile",
     response="Complaint", status=201, auth="citizen", errors=(404, 409, 422, 429),
     headers=(("Idempotency-Key", "Repeat-safe key: a retry returns the first result"),))
@bp.route("/v1/villages/{desa}/complaints", methods=["POST"])
@endpoint
def file_complaint(desa: str) -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    who = principal(request)
    body = parse(request, "ComplaintFile")
    result, created = complaints.file(who, desa, body.model_dump(), request.headers.get("idempotency-key"))
    return respond(complaints.to_view(result, who), status=201 if created else 200)


@doc("GET", "/v1/villages/{desa}/complaints", "The complaints the village handles, in one status, newest first",
     response="ComplaintList", auth="operator, kades, camat, admin", errors=(404,), query=(*_STATUS, *_PAGING))
@bp.route("/v1/villages/{desa}/complaints", methods=["GET"])
@endpoint
def village_queue(desa: str) -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    who = principal(request)
    items, cursor = complaints.list_village(who, desa, query_param(request, "status"), int_param(request, "limit"),
                                            query_param(request, "cursor"))
    return _page(items, cursor, who)


@doc("GET", "/v1/villages/{desa}/complaints/public", "The village's public complaints, newest first",
     response="ComplaintList", query=_PAGING)
@bp.route("/v1/villages/{desa}/complaints/public", methods=["GET"])
@endpoint
def public_list(desa: str) -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    items, cursor = complaints.list_public(desa, int_param(request, "limit"), query_param(request, "cursor"))
    return _page(items, cursor, None)


@doc("GET", "/v1/kabupaten/{code}/opds/{opd}/complaints", "An OPD's complaints in one status, newest first",
     response="ComplaintList", auth="the OPD's officers, admin", errors=(404,), query=(*_STATUS, *_PAGING))
@bp.route("/v1/kabupaten/{code}/opds/{opd}/complaints", methods=["GET"])
@endpoint
def opd_queue(code: str, opd: str) -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    who = principal(request)
    items, cursor = complaints.list_opd(who, code, opd, query_param(request, "status"), int_param(request, "limit"),
                                        query_param(request, "cursor"))
    return _page(items, cursor, who)


@doc("GET", "/v1/complaints/{complaint_id}", "A complaint in the view the caller may see", response="Complaint",
     auth="owner, staff in scope; anyone when public", errors=(404,))
@bp.route("/v1/complaints/{complaint_id}", methods=["GET"])
@endpoint
def get_complaint(complaint_id: str) -> Response:
    from chalicelib.services import complaints
    who = optional_principal(bp.current_request)
    return respond(complaints.to_view(complaints.get(who, complaint_id), who),
                   headers={"Cache-Control": "private, no-store"})


@doc("POST", "/v1/complaints/{complaint_id}/transitions", "Act on a complaint (version-checked)",
     body="ComplaintTransition", response="Complaint", auth="by action", errors=(403, 404, 409, 422))
@bp.route("/v1/complaints/{complaint_id}/transitions", methods=["POST"])
@endpoint
def act(complaint_id: str) -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    who = principal(request)
    body = parse(request, "ComplaintTransition")
    unit = body.unit.model_dump(exclude_none=True) if body.unit is not None else None
    result = complaints.transition(who, complaint_id, body.action, body.version, body.note, body.rating, unit,
                                   body.target)
    return respond(complaints.to_view(result, who))


@doc("GET", "/v1/complaints/{complaint_id}/photos/{photo_id}", "Short-lived link to one photo",
     response="PhotoLink", auth="as reading the complaint; withheld photos staff and owner only", errors=(404,))
@bp.route("/v1/complaints/{complaint_id}/photos/{photo_id}", methods=["GET"])
@endpoint
def photo(complaint_id: str, photo_id: str) -> Response:
    from chalicelib.services import complaints
    who = optional_principal(bp.current_request)
    return respond(complaints.photo_link(who, complaint_id, photo_id), headers={"Cache-Control": "private, no-store"})


@doc("GET", "/v1/me/complaints", "The citizen's own complaints, newest first", response="ComplaintList",
     auth="citizen", query=_PAGING)
@bp.route("/v1/me/complaints", methods=["GET"])
@endpoint
def my_complaints() -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    who = principal(request)
    items, cursor = complaints.list_mine(who, int_param(request, "limit"), query_param(request, "cursor"))
    return _page(items, cursor, who)


@doc("GET", "/v1/kabupaten/{code}/complaint-categories", "The kabupaten's OPDs and complaint categories",
     response="ComplaintConfig", errors=(404,))
@bp.route("/v1/kabupaten/{code}/complaint-categories", methods=["GET"])
@endpoint
def get_categories(code: str) -> Response:
    from chalicelib.services import complaints
    return respond(complaints.get_config(code).to_dict())


@doc("PUT", "/v1/kabupaten/{code}/complaint-categories", "Replace the kabupaten's OPDs and categories",
     body="ComplaintConfigUpdate", response="ComplaintConfig", auth="admin of the kabupaten", errors=(403, 404, 409))
@bp.route("/v1/kabupaten/{code}/complaint-categories", methods=["PUT"])
@endpoint
def put_categories(code: str) -> Response:
    from chalicelib.services import complaints
    request = bp.current_request
    who = principal(request)
    body = parse(request, "ComplaintConfigUpdate")
    return respond(complaints.put_config(who, code, body.opds, body.categories, body.version).to_dict())

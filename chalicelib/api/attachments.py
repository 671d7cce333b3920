"""Attachment routes: presigned uploads, the local upload endpoint (local mode), view links."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, parse, principal, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)


@doc("POST", "/v1/villages/{desa}/uploads", "Presign an attachment upload straight to storage (citizen)",
     body="UploadRequest", response="UploadForm", status=201, auth="citizen", errors=(404, 422))
@bp.route("/v1/villages/{desa}/uploads", methods=["POST"])
@endpoint
def create_upload(desa: str) -> Response:
    from chalicelib.services import attachments
    request = bp.current_request
    who = principal(request)
    body = parse(request, "UploadRequest")
    return respond(attachments.create_upload(who, desa, body.letter_type, body.attachment, body.filename,
                                             body.content_type, body.size), status=201)


@doc("POST", "/v1/local-uploads", "Local mode's stand-in for S3's presigned POST: a multipart/form-data form "
     "with an upload form's fields, then `file`", status=204, errors=(403,))
@bp.route("/v1/local-uploads", methods=["POST"], content_types=["multipart/form-data"])
@endpoint
def local_upload() -> Response:
    from chalicelib.services import attachments
    request = bp.current_request
    body = request.raw_body or b""
    attachments.accept_local_post(request.headers.get("content-type", ""),
                                  body.encode() if isinstance(body, str) else body)
    return Response(body="", status_code=204)


@doc("GET", "/v1/requests/{request_id}/attachments/{name}", "Short-lived link to one attachment",
     response="AttachmentLink", auth="owner, or staff of its region", errors=(404, 410))
@bp.route("/v1/requests/{request_id}/attachments/{name}", methods=["GET"])
@endpoint
def attachment_link(request_id: str, name: str) -> Response:
    from chalicelib.services import attachments
    return respond(attachments.link(principal(bp.current_request), request_id, name),
                   headers={"Cache-Control": "private, no-store"})


@doc("GET", "/v1/requests/{request_id}/attachments", "Short-lived links to every attachment of a request, in one "
     "answer (one audit event for staff); files past the retention are listed `expired`",
     response="AttachmentLinks", auth="owner, or staff of its region", errors=(404, 410))
@bp.route("/v1/requests/{request_id}/attachments", methods=["GET"])
@endpoint
def attachment_links(request_id: str) -> Response:
    from chalicelib.services import attachments
    return respond(attachments.links(principal(bp.current_request), request_id),
                   headers={"Cache-Control": "private, no-store"})

"""Service-request routes: submit, queue, read, transitions, the citizen's own list and profile."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, int_param, parse, principal, query_param, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
_PAGING = (("limit", "Page size, 1–100 (default 20)"), ("cursor", "The `next` value of the previous page"))


@doc("POST", "/v1/villages/{desa}/requests", "Submit a request (citizen)", body="SubmitRequest",
     response="ServiceRequest", status=201, auth="citizen", errors=(404, 409, 422),
     headers=(("Idempotency-Key", "Repeat-safe key: a retry returns the first result"),))
@bp.route("/v1/villages/{desa}/requests", methods=["POST"])
@endpoint
def submit(desa: str) -> Response:
    from chalicelib.services import requests
    request = bp.current_request
    who = principal(request)
    body = parse(request, "SubmitRequest")
    key = request.headers.get("idempotency-key")
    result, created = requests.submit(who, desa, body.letter_type, body.fields, key, body.attachments)
    return respond(requests.to_public(result, who), status=201 if created else 200)


@doc("GET", "/v1/villages/{desa}/requests", "The village's work queue, newest first",
     response="ServiceRequestList", auth="operator, kades, camat, admin", errors=(404,),
     query=(("status", "Only requests in this status"), *_PAGING))
@bp.route("/v1/villages/{desa}/requests", methods=["GET"])
@endpoint
def queue(desa: str) -> Response:
    from chalicelib.services import requests
    request = bp.current_request
    who = principal(request)
    items, cursor = requests.list_village(who, desa, query_param(request, "status"), int_param(request, "limit"),
                                          query_param(request, "cursor"))
    return respond({"items": [requests.to_public(r, who) for r in items], "next": cursor})


@doc("GET", "/v1/requests/{request_id}", "A request with its history", response="ServiceRequest",
     auth="owner, or staff of its region", errors=(404,))
@bp.route("/v1/requests/{request_id}", methods=["GET"])
@endpoint
def get_request(request_id: str) -> Response:
    from chalicelib.services import letters
    return respond(letters.request_view(principal(bp.current_request), request_id))


@doc("POST", "/v1/requests/{request_id}/transitions", "Move a request through its states",
     body="TransitionRequest", response="ServiceRequest", auth="by action", errors=(404, 409, 502),
     also=((202, "Accepted: `issue` recorded the decision; the request is `issuing` until its letter is "
                 "numbered and stored (a second or two), then `issued`"),))
@bp.route("/v1/requests/{request_id}/transitions", methods=["POST"])
@endpoint
def transition(request_id: str) -> Response:
    from chalicelib.services import requests
    request = bp.current_request
    who = principal(request)
    body = parse(request, "TransitionRequest")
    result = requests.transition(who, request_id, body.action, body.version, body.note, fields=body.fields,
                                 document=body.document, attachment_refs=body.attachments)
    return respond(requests.to_public(result, who), status=202 if result.status == "issuing" else 200)


@doc("GET", "/v1/me/requests", "The citizen's own requests", response="ServiceRequestList", auth="citizen",
     query=_PAGING)
@bp.route("/v1/me/requests", methods=["GET"])
@endpoint
def my_requests() -> Response:
    from chalicelib.services import requests
    request = bp.current_request
    who = principal(request)
    items, cursor = requests.list_mine(who, int_param(request, "limit"), query_param(request, "cursor"))
    return respond({"items": [requests.to_public(r, who) for r in items], "next": cursor})


@doc("GET", "/v1/me/profile", "The citizen's applicant data", response="Profile", auth="citizen")
@bp.route("/v1/me/profile", methods=["GET"])
@endpoint
def get_profile() -> Response:
    from chalicelib.services import profile
    return respond(profile.get_profile(principal(bp.current_request)))


@doc("PUT", "/v1/me/profile", "Update the citizen's applicant data", body="ProfileUpdate", response="Profile",
     auth="citizen", errors=(409,))
@bp.route("/v1/me/profile", methods=["PUT"])
@endpoint
def put_profile() -> Response:
    from chalicelib.services import profile
    request = bp.current_request
    who = principal(request)
    body = parse(request, "ProfileUpdate")
    data = body.model_dump(exclude={"version"}, mode="json")
    return respond(profile.update_profile(who, data, body.version))

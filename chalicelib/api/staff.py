"""Staff account routes: accounts of a region, one account, password reset, own password and profile."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, parse, principal, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
NO_STORE = {"Cache-Control": "no-store"}


@doc("GET", "/v1/regions/{code}/staff", "Staff accounts scoped to this region", response="StaffList",
     auth="admin (its kabupaten), camat (operators and kades of its kecamatan's villages)", errors=(404,))
@bp.route("/v1/regions/{code}/staff", methods=["GET"])
@endpoint
def list_staff(code: str) -> Response:
    from chalicelib.services import staff
    return respond(staff.list_staff(principal(bp.current_request), code))


@doc("POST", "/v1/regions/{code}/staff", "Create a staff account in this region", body="StaffCreate",
     response="StaffAccount", status=201, auth="admin (its kabupaten), camat (operator/kades of its villages)",
     errors=(404, 409))
@bp.route("/v1/regions/{code}/staff", methods=["POST"])
@endpoint
def create_staff(code: str) -> Response:
    from chalicelib.services import staff
    request = bp.current_request
    who = principal(request)
    body = parse(request, "StaffCreate")
    return respond(staff.create(who, code, body.model_dump()), status=201)


@doc("GET", "/v1/staff/{username}", "A staff account with its audit history", response="StaffAccount",
     auth="its manager (admin, camat) or the account holder", errors=(404,))
@bp.route("/v1/staff/{username}", methods=["GET"])
@endpoint
def get_staff(username: str) -> Response:
    from chalicelib.services import staff
    return respond(staff.get(principal(bp.current_request), username))


@doc("PATCH", "/v1/staff/{username}", "Change name, jabatan, NIP, or disable/enable an account",
     body="StaffUpdate", response="StaffAccount", auth="its manager (admin, camat)", errors=(404, 409))
@bp.route("/v1/staff/{username}", methods=["PATCH"])
@endpoint
def patch_staff(username: str) -> Response:
    from chalicelib.services import staff
    request = bp.current_request
    who = principal(request)
    body = parse(request, "StaffUpdate")
    return respond(staff.update(who, username, body.model_dump(exclude_unset=True, exclude={"version"}),
                                body.version))


@doc("POST", "/v1/staff/{username}/password-reset", "Set a new random password and end the account's sessions",
     response="PasswordReset", auth="its manager (admin, camat)", errors=(404, 409))
@bp.route("/v1/staff/{username}/password-reset", methods=["POST"])
@endpoint
def reset_password(username: str) -> Response:
    from chalicelib.services import staff
    return respond(staff.reset_password(principal(bp.current_request), username), headers=NO_STORE)


@doc("PUT", "/v1/me/password", "Change your own password (needs the current one); ends your other sessions",
     body="PasswordChange", response="PasswordChanged", auth="staff", errors=(409,))
@bp.route("/v1/me/password", methods=["PUT"])
@endpoint
def change_password() -> Response:
    from chalicelib.services import staff
    request = bp.current_request
    who = principal(request)
    body = parse(request, "PasswordChange")
    return respond(staff.change_own_password(who, body.current_password, body.new_password), headers=NO_STORE)


@doc("GET", "/v1/me/staff-profile", "Your staff profile: full name, jabatan, NIP", response="StaffAccount",
     auth="staff", errors=(404,))
@bp.route("/v1/me/staff-profile", methods=["GET"])
@endpoint
def get_profile() -> Response:
    from chalicelib.services import staff
    return respond(staff.get_own_profile(principal(bp.current_request)))


@doc("PUT", "/v1/me/staff-profile", "Change your full name or jabatan (the NIP is set by your admin/camat)",
     body="StaffProfileUpdate", response="StaffAccount", auth="staff", errors=(404, 409))
@bp.route("/v1/me/staff-profile", methods=["PUT"])
@endpoint
def put_profile() -> Response:
    from chalicelib.services import staff
    request = bp.current_request
    who = principal(request)
    body = parse(request, "StaffProfileUpdate")
    return respond(staff.update_own_profile(who, body.model_dump(exclude_unset=True, exclude={"version"}),
                                            body.version))

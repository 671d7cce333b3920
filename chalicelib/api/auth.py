"""Login routes: staff password login and the citizen's SMS one-time code."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import client_ip, endpoint, parse, respond
from chalicelib.api.openapi import doc
from chalicelib.services import auth, signin_links

bp = Blueprint(__name__)


@doc("POST", "/v1/auth/login", "Staff login", body="StaffLogin", response="Token", errors=(401, 429))
@bp.route("/v1/auth/login", methods=["POST"])
@endpoint
def login() -> Response:
    request = bp.current_request
    body = parse(request, "StaffLogin")
    return respond(auth.staff_login(body.username, body.password, client_ip(request)))


@doc("POST", "/v1/auth/otp", "Send a one-time login code (SMS; a returning citizen's confirmed e-mail)",
     body="OtpSend", response="OtpSent", status=202, errors=(403, 429, 502))
@bp.route("/v1/auth/otp", methods=["POST"])
@endpoint
def otp() -> Response:
    request = bp.current_request
    body = parse(request, "OtpSend")
    return respond(auth.request_otp(body.nik, body.phone, client_ip(request), body.via), status=202)


@doc("POST", "/v1/auth/otp/verify", "Trade the code for a citizen token", body="OtpVerify", response="Token",
     errors=(401, 429))
@bp.route("/v1/auth/otp/verify", methods=["POST"])
@endpoint
def otp_verify() -> Response:
    request = bp.current_request
    body = parse(request, "OtpVerify")
    device = request.headers.get("user-agent") if body.remember else None
    return respond(auth.verify_otp(body.nik, body.phone, body.code, remember=body.remember, device=device))


@doc("POST", "/v1/auth/link", "Sign in with the one-time link of a status SMS (no login code needed)",
     body="SigninLinkRedeem", response="SigninLinkToken", errors=(401, 429))
@bp.route("/v1/auth/link", methods=["POST"])
@endpoint
def signin_link() -> Response:
    request = bp.current_request
    body = parse(request, "SigninLinkRedeem")
    device = request.headers.get("user-agent") if body.remember else None
    return respond(signin_links.redeem(body.token, client_ip(request), remember=body.remember, device=device))

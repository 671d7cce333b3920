"""Login routes: staff password login, the citizen's SMS one-time code, sign-in links and WhatsApp login."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import client_ip, endpoint, parse, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)


@doc("POST", "/v1/auth/login", "Staff login", body="StaffLogin", response="Token", errors=(401, 429))
@bp.route("/v1/auth/login", methods=["POST"])
@endpoint
def login() -> Response:
    from chalicelib.services import auth
    request = bp.current_request
    body = parse(request, "StaffLogin")
    return respond(auth.staff_login(body.username, body.password, client_ip(request)))


@doc("POST", "/v1/auth/otp", "Send a one-time login code (SMS; a returning citizen's confirmed e-mail)",
     body="OtpSend", response="OtpSent", status=202, errors=(403, 429, 502))
@bp.route("/v1/auth/otp", methods=["POST"])
@endpoint
def otp() -> Response:
    from chalicelib.services import auth
    request = bp.current_request
    body = parse(request, "OtpSend")
    return respond(auth.request_otp(body.nik, body.phone, client_ip(request), body.via), status=202)


@doc("POST", "/v1/auth/otp/verify", "Trade the code for a citizen token", body="OtpVerify", response="Token",
     errors=(401, 429))
@bp.route("/v1/auth/otp/verify", methods=["POST"])
@endpoint
def otp_verify() -> Response:
    from chalicelib.services import auth
    request = bp.current_request
    body = parse(request, "OtpVerify")
    device = request.headers.get("user-agent") if body.remember else None
    return respond(auth.verify_otp(body.nik, body.phone, body.code, remember=body.remember, device=device))


@doc("POST", "/v1/auth/link", "Sign in with the one-time link of a status SMS (no login code needed)",
     body="SigninLinkRedeem", response="SigninLinkToken", errors=(401, 429))
@bp.route("/v1/auth/link", methods=["POST"])
@endpoint
def signin_link() -> Response:
    from chalicelib.services import signin_links
    request = bp.current_request
    body = parse(request, "SigninLinkRedeem")
    device = request.headers.get("user-agent") if body.remember else None
    return respond(signin_links.redeem(body.token, client_ip(request), remember=body.remember, device=device))


@doc("GET", "/v1/auth/whatsapp", "Whether the portal offers login by WhatsApp message", response="WhatsappAvailability")
@bp.route("/v1/auth/whatsapp", methods=["GET"])
@endpoint
def whatsapp_available() -> Response:
    from chalicelib.services import whatsapp_login
    # The login page asks once per visit; the answer changes only with the stage's configuration.
    return respond(whatsapp_login.availability(), headers={"Cache-Control": "public, max-age=3600"})


@doc("POST", "/v1/auth/whatsapp", "Start a login by WhatsApp message: a code, its wa.me link and a login id",
     body="WhatsappStart", response="WhatsappStarted", status=201, errors=(403, 404, 429))
@bp.route("/v1/auth/whatsapp", methods=["POST"])
@endpoint
def whatsapp_start() -> Response:
    from chalicelib.services import whatsapp_login
    request = bp.current_request
    body = parse(request, "WhatsappStart")
    return respond(whatsapp_login.start(body.nik, body.phone, client_ip(request)), status=201)


@doc("POST", "/v1/auth/whatsapp/verify", "Poll a WhatsApp login: 202 until the message arrived, then the tokens "
     "(once)", body="WhatsappVerify", response="Token", also=((202, "Pending: the message has not arrived yet"),),
     errors=(401, 403, 409, 410))
@bp.route("/v1/auth/whatsapp/verify", methods=["POST"])
@endpoint
def whatsapp_verify() -> Response:
    from chalicelib.services import whatsapp_login
    request = bp.current_request
    body = parse(request, "WhatsappVerify")
    device = request.headers.get("user-agent") if body.remember else None
    status, answer = whatsapp_login.verify(body.login_id, remember=body.remember, device=device)
    return respond(answer, status=status)

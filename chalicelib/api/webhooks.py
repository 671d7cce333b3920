"""Webhooks of outside services: WhatsApp Cloud API deliveries (a citizen's login message)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, query_param, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
PATH = "/v1/webhooks/whatsapp"


@doc("GET", PATH, "WhatsApp webhook subscription check (Meta): answers hub.challenge for the right verify token",
     content_type="text/plain", errors=(403, 404),
     query=(("hub.mode", "subscribe"), ("hub.verify_token", "the token set in the Meta app"),
            ("hub.challenge", "echoed back")))
@bp.route(PATH, methods=["GET"])
@endpoint
def whatsapp_handshake() -> Response:
    from chalicelib.services import whatsapp_login
    request = bp.current_request
    challenge = whatsapp_login.handshake(query_param(request, "hub.mode"), query_param(request, "hub.verify_token"),
                                         query_param(request, "hub.challenge"))
    return Response(body=challenge, status_code=200, headers={"Content-Type": "text/plain; charset=utf-8"})


@doc("POST", PATH, "WhatsApp webhook deliveries (Meta, signed with X-Hub-Signature-256): a text message carrying "
     "a login code proves that login for its sender", response="WhatsappDelivery",
     headers=(("X-Hub-Signature-256", "sha256=<HMAC-SHA256 of the raw body with the app secret>"),),
     errors=(401, 403, 404, 413))
@bp.route(PATH, methods=["POST"])
@endpoint
def whatsapp_delivery() -> Response:
    from chalicelib.services import whatsapp_login
    request = bp.current_request
    raw = request.raw_body
    if isinstance(raw, str):
        raw = raw.encode()
    return respond(whatsapp_login.handle_delivery(raw, request.headers.get("x-hub-signature-256")))

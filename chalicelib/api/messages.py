"""Message routes: citizen sessions (refresh, logout, devices), inbox, e-mail and Web Push subscriptions; the
kabupaten's message policy and the message bill for staff."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, int_param, parse, principal, query_param, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)


@doc("POST", "/v1/auth/refresh", "Trade a citizen's refresh token for a new access token (rotated)",
     body="RefreshTokenBody", response="Token", errors=(401,))
@bp.route("/v1/auth/refresh", methods=["POST"])
@endpoint
def refresh() -> Response:
    from chalicelib.services import sessions
    return respond(sessions.refresh(parse(bp.current_request, "RefreshTokenBody").refresh_token))


@doc("POST", "/v1/auth/logout", "End the refresh session of this device", body="RefreshTokenBody",
     response="LoggedOut", errors=(401,))
@bp.route("/v1/auth/logout", methods=["POST"])
@endpoint
def logout() -> Response:
    from chalicelib.services import sessions
    return respond(sessions.logout(parse(bp.current_request, "RefreshTokenBody").refresh_token))


@doc("GET", "/v1/me/devices", "The devices that stay logged in", response="DeviceList", auth="citizen")
@bp.route("/v1/me/devices", methods=["GET"])
@endpoint
def devices() -> Response:
    from chalicelib.services import sessions
    return respond(sessions.devices(principal(bp.current_request)))


@doc("DELETE", "/v1/me/devices/{device_id}", "Log one device out", response="Device", auth="citizen",
     errors=(404,))
@bp.route("/v1/me/devices/{device_id}", methods=["DELETE"])
@endpoint
def revoke_device(device_id: str) -> Response:
    from chalicelib.services import sessions
    return respond(sessions.revoke_device(principal(bp.current_request), device_id))


@doc("GET", "/v1/me/inbox", "The citizen's messages, newest first, with the unread count", response="Inbox",
     auth="citizen", query=(("limit", "Page size, 1–50 (default 20)"), ("cursor", "The `next` of the previous page")))
@bp.route("/v1/me/inbox", methods=["GET"])
@endpoint
def inbox() -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    return respond(messages.inbox(principal(request), int_param(request, "limit"), query_param(request, "cursor")))


@doc("POST", "/v1/me/inbox/{message_id}/read", "Mark a message read", response="InboxMessage", auth="citizen",
     errors=(404,))
@bp.route("/v1/me/inbox/{message_id}/read", methods=["POST"])
@endpoint
def inbox_read(message_id: str) -> Response:
    from chalicelib.services import messages
    return respond(messages.mark_read(principal(bp.current_request), message_id))


@doc("GET", "/v1/me/contact", "The citizen's e-mail for status messages", response="CitizenContact",
     auth="citizen")
@bp.route("/v1/me/contact", methods=["GET"])
@endpoint
def get_contact() -> Response:
    from chalicelib.services import messages
    return respond(messages.get_contact(principal(bp.current_request)))


@doc("PUT", "/v1/me/contact", "Set or remove the citizen's e-mail for status messages", body="CitizenContactUpdate",
     response="CitizenContact", auth="citizen")
@bp.route("/v1/me/contact", methods=["PUT"])
@endpoint
def put_contact() -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    return respond(messages.put_contact(principal(request), parse(request, "CitizenContactUpdate").email))


@doc("POST", "/v1/me/contact/confirm", "Confirm the citizen's e-mail with the code sent to it",
     body="CitizenEmailConfirm", response="CitizenContact", auth="citizen", errors=(400, 429))
@bp.route("/v1/me/contact/confirm", methods=["POST"])
@endpoint
def confirm_contact() -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    return respond(messages.confirm_email(principal(request), parse(request, "CitizenEmailConfirm").code))


@doc("GET", "/v1/push/vapid-public-key", "The application server key the portal subscribes with",
     response="VapidPublicKey")
@bp.route("/v1/push/vapid-public-key", methods=["GET"])
@endpoint
def vapid_public_key() -> Response:
    from chalicelib.services import messages
    return respond(messages.vapid_public_key())


@doc("POST", "/v1/me/push-subscriptions", "Receive status messages as Web Push on this device",
     body="PushSubscriptionIn", response="PushSubscribed", status=201, auth="citizen")
@bp.route("/v1/me/push-subscriptions", methods=["POST"])
@endpoint
def subscribe() -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    who = principal(request)
    body = parse(request, "PushSubscriptionIn")
    return respond(messages.subscribe(who, body.endpoint, body.keys.p256dh, body.keys.auth), status=201)


@doc("DELETE", "/v1/me/push-subscriptions", "Stop Web Push on this device", body="PushSubscriptionDelete",
     response="LoggedOut", auth="citizen", errors=(404,))
@bp.route("/v1/me/push-subscriptions", methods=["DELETE"])
@endpoint
def unsubscribe() -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    who = principal(request)
    return respond(messages.unsubscribe(who, parse(request, "PushSubscriptionDelete").endpoint))


@doc("GET", "/v1/admin/message-policy/{kabupaten}", "The kabupaten's message policy table",
     response="MessagePolicy", auth="admin", errors=(404,))
@bp.route("/v1/admin/message-policy/{kabupaten}", methods=["GET"])
@endpoint
def get_policy(kabupaten: str) -> Response:
    from chalicelib.services import messages
    return respond(messages.get_policy(principal(bp.current_request), kabupaten))


@doc("PUT", "/v1/admin/message-policy/{kabupaten}", "Override the default message policy for the kabupaten",
     body="MessagePolicyUpdate", response="MessagePolicy", auth="admin", errors=(404,))
@bp.route("/v1/admin/message-policy/{kabupaten}", methods=["PUT"])
@endpoint
def put_policy(kabupaten: str) -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    who = principal(request)
    body = parse(request, "MessagePolicyUpdate")
    return respond(messages.put_policy(who, kabupaten, body.model_dump()))


@doc("GET", "/v1/admin/message-bill/{region}", "Messages sent per channel and their cost, per village and month",
     response="MessageBill", auth="admin, camat, kades, operator (their region)", errors=(404,),
     query=(("month", "YYYY-MM (default: this month)"),))
@bp.route("/v1/admin/message-bill/{region}", methods=["GET"])
@endpoint
def message_bill(region: str) -> Response:
    from chalicelib.services import messages
    request = bp.current_request
    return respond(messages.bill(principal(request), region, query_param(request, "month")))

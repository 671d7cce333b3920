"""Notification routes: a village's outbox by status, resend a failed one, staff notification preferences."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, int_param, parse, principal, query_param, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)


@doc("GET", "/v1/villages/{desa}/notifications", "The village's notifications by delivery status",
     response="NotificationList", auth="operator, kades, camat, admin", errors=(404,),
     query=(("status", "failed (default), pending or sent"), ("limit", "Page size, 1–100 (default 20)"),
            ("cursor", "The `next` value of the previous page")))
@bp.route("/v1/villages/{desa}/notifications", methods=["GET"])
@endpoint
def village_notifications(desa: str) -> Response:
    from chalicelib.services import notifications
    request = bp.current_request
    return respond(notifications.list_village(principal(request), desa, query_param(request, "status"),
                                              int_param(request, "limit"), query_param(request, "cursor")))


@doc("POST", "/v1/notifications/{notification_id}/resend", "Send a failed notification again",
     response="Notification", auth="operator, kades (of its village), admin", errors=(404, 409))
@bp.route("/v1/notifications/{notification_id}/resend", methods=["POST"])
@endpoint
def notification_resend(notification_id: str) -> Response:
    from chalicelib.services import notifications
    return respond(notifications.resend(principal(bp.current_request), notification_id))


@doc("GET", "/v1/me/notification-preferences", "The staff member's channels, quiet hours and contacts",
     response="NotificationPreferences", auth="staff", errors=(404,))
@bp.route("/v1/me/notification-preferences", methods=["GET"])
@endpoint
def get_notification_preferences() -> Response:
    from chalicelib.services import notifications
    return respond(notifications.get_preferences(principal(bp.current_request)))


@doc("PUT", "/v1/me/notification-preferences", "Set channels (sms, email or both), quiet hours and contacts",
     body="NotificationPreferencesUpdate", response="NotificationPreferences", auth="staff", errors=(404,))
@bp.route("/v1/me/notification-preferences", methods=["PUT"])
@endpoint
def put_notification_preferences() -> Response:
    from chalicelib.services import notifications
    request = bp.current_request
    who = principal(request)
    body = parse(request, "NotificationPreferencesUpdate")
    quiet = body.quiet_hours.model_dump() if body.quiet_hours else None
    return respond(notifications.put_preferences(who, list(body.channels), quiet, body.phone, body.email,
                                                   body.mode))

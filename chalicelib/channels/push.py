"""The Web Push channel: the message goes to every push subscription of the citizen's installed portal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.channels import Channel, ChannelSender, Outgoing

if TYPE_CHECKING:
    from chalicelib.config import Settings


def _build(settings: Settings) -> ChannelSender:
    from chalicelib.adapters.webpush import get_push_sender

    return PushChannelSender(get_push_sender(settings))


class PushChannelSender:
    """Sends to each subscription of the citizen; a subscription the push service no longer knows (404/410)
    is removed. Returns the number of pushes made."""

    def __init__(self, adapter: object) -> None:
        self.adapter = adapter

    def deliver(self, outgoing: Outgoing) -> int:
        import json

        from chalicelib.adapters.webpush import GoneError, PushSender
        from chalicelib.storage import push_subscriptions

        adapter: PushSender = self.adapter  # type: ignore[assignment]
        payload = json.dumps({"title": outgoing.message.subject or "Balai", "body": outgoing.message.text,
                              "tracking_code": outgoing.payload.get("tracking_code"),
                              "url": open_url(outgoing.payload)}, ensure_ascii=False).encode("utf-8")
        sent = 0
        for sub in push_subscriptions.list_for(outgoing.address):
            try:
                adapter.send(sub.endpoint, sub.p256dh, sub.auth, payload, message_id=outgoing.message_id)
                sent += 1
            except GoneError:
                push_subscriptions.remove(outgoing.address, sub.id)
        return sent


def open_url(payload: Any) -> str:
    """Where a tap on the notification opens the portal: the request it is about (the page she comes back for,
    one API call), else the inbox."""
    request_id = str(payload.get("request_id") or "")
    return f"/#permohonan/{request_id}" if request_id.isalnum() else "/#kotak-pesan"


def wrap(adapter: object) -> ChannelSender:
    return PushChannelSender(adapter)


CHANNEL = Channel(name="push", label="Notifikasi aplikasi (Web Push)", contact="citizen", form="short",
                  staff_choice=False, price_setting="push_price_usd", build_sender=_build)

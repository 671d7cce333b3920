"""The portal inbox channel: the message is written to the citizen's inbox (free; read in the portal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.channels import Channel, ChannelSender, Outgoing

if TYPE_CHECKING:
    from chalicelib.config import Settings


class InboxChannelSender:
    """Writes one inbox item per outbox row (its id derives from the row's, so a retry writes nothing twice)."""

    def deliver(self, outgoing: Outgoing) -> int:
        from chalicelib.storage import inbox

        inbox.deliver(outgoing.address, outgoing.message_id.split(":", 1)[0], outgoing.created_at,
                      event=outgoing.event,
                      title=outgoing.message.subject or "Balai", text=outgoing.message.text,
                      request_id=str(outgoing.payload.get("request_id") or "") or None,
                      tracking_code=str(outgoing.payload.get("tracking_code") or "") or None)
        return 1


def _build(settings: Settings) -> ChannelSender:
    return InboxChannelSender()


CHANNEL = Channel(name="inbox", label="Kotak pesan portal", contact="citizen", form="short", staff_choice=False,
                  price_setting=None, build_sender=_build)

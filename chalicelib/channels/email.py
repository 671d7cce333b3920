"""The e-mail channel: subject, text and HTML parts, through the e-mail adapter (SES or a local file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.adapters.email import EmailSender
from chalicelib.channels import Channel, ChannelSender, Outgoing

if TYPE_CHECKING:
    from chalicelib.config import Settings


class EmailChannelSender:
    def __init__(self, adapter: EmailSender) -> None:
        self.adapter = adapter

    def deliver(self, outgoing: Outgoing) -> int:
        message = outgoing.message
        self.adapter.send(outgoing.address, message.subject or "Balai", message.text, message.html,
                          message_id=outgoing.message_id)
        return 1


def wrap(adapter: EmailSender) -> ChannelSender:
    return EmailChannelSender(adapter)


def _build(settings: Settings) -> ChannelSender:
    from chalicelib.adapters.email import get_email_sender

    return EmailChannelSender(get_email_sender(settings))


CHANNEL = Channel(name="email", label="Email", contact="email", form="email", staff_choice=True,
                  price_setting="email_price_usd", build_sender=_build)

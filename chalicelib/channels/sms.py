"""The SMS channel: one GSM-7 part where the text allows, through the SMS adapter (SNS or a local file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.adapters.sms import SmsSender
from chalicelib.channels import Channel, ChannelSender, Outgoing

if TYPE_CHECKING:
    from chalicelib.config import Settings


class SmsChannelSender:
    def __init__(self, adapter: SmsSender) -> None:
        self.adapter = adapter

    def deliver(self, outgoing: Outgoing) -> int:
        from chalicelib.templates.messages import sms_segments

        self.adapter.send(outgoing.address, outgoing.message.text, message_id=outgoing.message_id)
        return sms_segments(outgoing.message.text)


def wrap(adapter: SmsSender) -> ChannelSender:
    return SmsChannelSender(adapter)


def _build(settings: Settings) -> ChannelSender:
    from chalicelib.adapters.sms import get_sms_sender

    return SmsChannelSender(get_sms_sender(settings))


CHANNEL = Channel(name="sms", label="SMS", contact="phone", form="sms", staff_choice=True,
                  price_setting="sms_price_usd", build_sender=_build)

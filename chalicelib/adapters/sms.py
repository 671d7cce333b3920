"""SMS sending behind one Protocol: Amazon SNS in the cloud, a JSONL file locally."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.adapters.messaging import (
    LocalFileSender,
    PermanentSendError,
    SendError,
    TransientSendError,
    translate_boto_error,
)

if TYPE_CHECKING:
    from chalicelib.config import Settings

__all__ = [
    "LocalFileSmsSender",
    "PermanentSendError",
    "SendError",
    "SmsSender",
    "SnsSmsSender",
    "TransientSendError",
    "get_sms_sender",
]


class SmsSender(Protocol):
    def send(self, phone_e164: str, text: str, *, message_id: str) -> str:
        """Hand one SMS to the provider and return the provider's message id.

        `message_id` is the outbox id, kept with the message for tracing. Raises TransientSendError when a
        retry may succeed and PermanentSendError when it cannot.
        """
        ...


class SnsSmsSender:
    """Amazon SNS direct-to-phone publish, marked Transactional so it is routed for reliability, not price."""

    def __init__(self, client: Any, *, sender_id: str | None = None, max_price_usd: str | None = None) -> None:
        self._client = client
        self._attributes: dict[str, dict[str, str]] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        }
        if sender_id:
            self._attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        if max_price_usd:
            self._attributes["AWS.SNS.SMS.MaxPrice"] = {"DataType": "Number", "StringValue": max_price_usd}

    def send(self, phone_e164: str, text: str, *, message_id: str) -> str:
        try:
            response = self._client.publish(PhoneNumber=phone_e164, Message=text, MessageAttributes=self._attributes)
        except Exception as exc:  # botocore raises ClientError and BotoCoreError subclasses
            raise translate_boto_error(exc, "SNS Publish") from exc
        return str(response["MessageId"])


class LocalFileSmsSender(LocalFileSender):
    """Appends each SMS as one JSON line to a file (default .balai/outbox/sms.jsonl) for local runs."""

    def send(self, phone_e164: str, text: str, *, message_id: str) -> str:
        return self.write(message_id, to=phone_e164, text=text)


def get_sms_sender(settings: Settings | None = None) -> SmsSender:
    """The sender the stage's settings choose (`sms_channel`: "local" or "sns"), built once per settings."""
    from chalicelib.config import get_settings

    return _build_sms_sender(settings or get_settings())


@lru_cache(maxsize=4)
def _build_sms_sender(settings: Settings) -> SmsSender:
    if settings.sms_channel == "local":
        return LocalFileSmsSender(settings.outbox_dir / "sms.jsonl")
    if settings.sms_channel == "sns":
        # aws_client imports boto3 (~250 ms) here, only in the sending worker, and traces its calls.
        from chalicelib.observability import aws_client

        return SnsSmsSender(aws_client("sns", region_name=settings.sms_region or settings.aws_region))
    raise ValueError(f"unknown sms_channel {settings.sms_channel!r}")


def reset_sms_sender() -> None:
    """Forget built senders (tests switch settings and moto mocks between cases)."""
    _build_sms_sender.cache_clear()

"""Email sending behind one Protocol: Amazon SES in the cloud, a JSONL file locally."""

from __future__ import annotations

import re
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
    "EmailSender",
    "LocalFileEmailSender",
    "PermanentSendError",
    "SendError",
    "SesEmailSender",
    "TransientSendError",
    "get_email_sender",
]

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


class EmailSender(Protocol):
    def send(self, to: str, subject: str, text: str, html: str | None, *, message_id: str) -> str:
        """Hand one email (plain text, optionally HTML) to the provider and return the provider's id.

        `message_id` is the outbox id, kept with the message for tracing. Raises TransientSendError when a
        retry may succeed and PermanentSendError when it cannot.
        """
        ...


class SesEmailSender:
    """Amazon SES SendEmail from a verified sender, with text and HTML bodies in UTF-8."""

    def __init__(self, client: Any, sender: str, *, configuration_set: str | None = None) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, to: str, subject: str, text: str, html: str | None, *, message_id: str) -> str:
        body: dict[str, Any] = {"Text": {"Data": text, "Charset": "UTF-8"}}
        if html is not None:
            body["Html"] = {"Data": html, "Charset": "UTF-8"}
        kwargs: dict[str, Any] = {
            "Source": self._sender,
            "Destination": {"ToAddresses": [to]},
            "Message": {"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": body},
            # The outbox id travels as a tag so SES delivery/bounce events can be matched to the outbox row.
            "Tags": [{"Name": "outbox_id", "Value": _TAG_UNSAFE.sub("_", message_id)[:256] or "none"}],
        }
        if self._configuration_set:
            kwargs["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**kwargs)
        except Exception as exc:  # botocore raises ClientError and BotoCoreError subclasses
            raise translate_boto_error(exc, "SES SendEmail") from exc
        return str(response["MessageId"])


class LocalFileEmailSender(LocalFileSender):
    """Appends each email as one JSON line to a file (default .balai/outbox/email.jsonl) for local runs."""

    def send(self, to: str, subject: str, text: str, html: str | None, *, message_id: str) -> str:
        return self.write(message_id, to=to, subject=subject, text=text, html=html)


def get_email_sender(settings: Settings | None = None) -> EmailSender:
    """The sender the stage's settings choose (`email_channel`: "local" or "ses"), built once per settings."""
    from chalicelib.config import get_settings

    return _build_email_sender(settings or get_settings())


@lru_cache(maxsize=4)
def _build_email_sender(settings: Settings) -> EmailSender:
    if settings.email_channel == "local":
        return LocalFileEmailSender(settings.outbox_dir / "email.jsonl")
    if settings.email_channel == "ses":
        # aws_client imports boto3 (~250 ms) here, only in the sending worker, and traces its calls.
        from chalicelib.observability import aws_client

        return SesEmailSender(aws_client("ses", region_name=settings.aws_region), settings.email_sender)
    raise ValueError(f"unknown email_channel {settings.email_channel!r}")


def reset_email_sender() -> None:
    """Forget built senders (tests switch settings and moto mocks between cases)."""
    _build_email_sender.cache_clear()

"""Helpers for WhatsApp login tests: the stage's configuration, Cloud API deliveries signed as Meta signs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.config import get_secrets, reset_caches
from chalicelib.domain.whatsapp_login import sign

SINJAI_NUMBER = "6281100007307"  # the WhatsApp Business number of Kabupaten Sinjai (73.07) in these tests
OTHER_NUMBER = "6281100003509"  # another kabupaten's (35.09) number on the same stage
NUMBERS = f"73.07={SINJAI_NUMBER},35.09={OTHER_NUMBER}"
WEBHOOK = "/v1/webhooks/whatsapp"


@contextmanager
def whatsapp_numbers(monkeypatch: pytest.MonkeyPatch, numbers: str = NUMBERS) -> Iterator[None]:
    """Turn WhatsApp login on for the test (the settings are parsed again before and after)."""
    monkeypatch.setenv("BALAI_WHATSAPP_NUMBERS", numbers)
    reset_caches()
    try:
        yield
    finally:
        monkeypatch.delenv("BALAI_WHATSAPP_NUMBERS", raising=False)
        reset_caches()


def delivery(sender: str, text: Any, to_number: str = SINJAI_NUMBER, message_id: str = "wamid.TEST1",
             kind: str = "text") -> dict[str, Any]:
    """A Cloud API `messages` webhook payload with one message (shape of Meta's reference example)."""
    message: dict[str, Any] = {"from": sender, "id": message_id, "timestamp": "1764680000", "type": kind}
    if kind == "text":
        message["text"] = {"body": text}
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": to_number, "phone_number_id": "106540352242922"},
                  "contacts": [{"profile": {"name": "Warga"}, "wa_id": sender}],
                  "messages": [message]},
        "field": "messages"}]}]}


def status_update(to_number: str = SINJAI_NUMBER) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": to_number, "phone_number_id": "1"},
                  "statuses": [{"id": "wamid.X", "status": "delivered", "timestamp": "1764680000",
                                "recipient_id": "6281234567890"}]},
        "field": "messages"}]}]}


def post_signed(client: Any, payload: Any, secret: str | None = None, raw: bytes | None = None,
                signature: str | None = "sign") -> Any:
    """POST a delivery as Meta does: the raw JSON bytes and X-Hub-Signature-256 over exactly them."""
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(secret or str(get_secrets().whatsapp_app_secret), body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.http.post(WEBHOOK, headers=headers, body=body)


def wa_id(phone: str) -> str:
    """The sender's wa_id for a local number "08…": country code and number, digits only."""
    return "62" + phone[1:]

"""Login by a WhatsApp message the citizen sends (reverse OTP): the code, the wa.me link, the webhook's payload.

Pure Python: no boto3, no HTTP. The service (services/whatsapp_login.py) stores and proves; this module only
says what a code looks like, finds one in a message text, checks Meta's signature and reads the Cloud API's
`messages` webhook payload (entry[].changes[].value.{metadata, messages[]}).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# No 0/O, 1/I/L or U: a code read off a desktop screen and typed on a phone is not misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 30^8 = 6.6e11 codes: guessing a live one is hopeless at the per-sender limit
_CHAR = "[2-9A-HJKMNP-TV-Z]"
# ASCII classes only (re.ASCII also keeps IGNORECASE to ASCII letters): a fullwidth or other Unicode look-alike
# never matches. A code stands alone: not glued to other letters or digits.
_CODE_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9])({_CHAR}{{4}})-?({_CHAR}{{4}})(?![A-Za-z0-9])",
                           re.ASCII | re.IGNORECASE)
LOGIN_ID = re.compile(rf"wa1\.({_CHAR}{{{CODE_LENGTH}}})\.([A-Za-z0-9_-]{{22}})", re.ASCII)
MAX_TEXT_CHARS = 1000  # the code is in the first line of the prefilled message; the rest is not read
MAX_CODES_PER_TEXT = 3
MAX_MESSAGES_PER_DELIVERY = 100
_NUMBER = re.compile(r"[1-9][0-9]{7,14}", re.ASCII)  # E.164 digits without "+"
_KABUPATEN = re.compile(r"[0-9]{2}\.[0-9]{2}", re.ASCII)


def new_code() -> str:
    """A random eight-character code, `K7QX-3M9P` as shown (the canonical form has no hyphen)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def new_login_id(code: str) -> tuple[str, str]:
    """The login id only the browser holds (`wa1.{code}.{secret}`) and its secret (128 random bits)."""
    secret = secrets.token_urlsafe(16)
    return f"wa1.{code}.{secret}", secret


def parse_login_id(value: object) -> tuple[str, str] | None:
    """(code, secret) of a well-formed login id, else None."""
    match = LOGIN_ID.fullmatch(value) if isinstance(value, str) else None
    return (match.group(1), match.group(2)) if match else None


def prefilled_text(code: str) -> str:
    """The message WhatsApp opens with (Bahasa Indonesia): the citizen only presses send."""
    return f"Kode masuk Balai: {shown(code)}\nKirim pesan ini untuk masuk ke layanan desa."


def wa_link(number: str, code: str) -> str:
    """https://wa.me/<number>?text=<prefilled message>: opens WhatsApp (app or web) with the message typed."""
    return f"https://wa.me/{number}?text={quote(prefilled_text(code), safe='')}"


def find_codes(text: object) -> list[str]:
    """The canonical codes a message text carries (at most three, first first). A text with control or
    format characters (other than line breaks and the emoji joiner) carries none: it was not typed by the
    prefilled link, and a code split by an invisible character must not match."""
    if not isinstance(text, str) or not text:
        return []
    head = text[:MAX_TEXT_CHARS]
    for ch in head:
        if ch in "\n\r\t\u200d":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            return []
    found: list[str] = []
    for match in _CODE_IN_TEXT.finditer(head):
        code = (match.group(1) + match.group(2)).upper()
        if code not in found:
            found.append(code)
        if len(found) == MAX_CODES_PER_TEXT:
            break
    return found


# ---- configuration --------------------------------------------------------------------------------------
def parse_numbers(entries: tuple[str, ...]) -> dict[str, str]:
    """BALAI_WHATSAPP_NUMBERS entries -> {kabupaten or "*": number}. An entry is `73.07=6281100000001` (that
    kabupaten's WhatsApp Business number) or a bare number (every kabupaten without its own). Raises ValueError."""
    numbers: dict[str, str] = {}
    for entry in entries:
        kabupaten, sep, number = entry.rpartition("=")
        key = kabupaten.strip() if sep else "*"
        number = number.strip().lstrip("+")
        if key != "*" and not _KABUPATEN.fullmatch(key):
            raise ValueError(f"not a kabupaten code (NN.NN): {key!r}")
        if not _NUMBER.fullmatch(number):
            raise ValueError(f"not a WhatsApp number in E.164 digits (e.g. 6281100000001): {number!r}")
        if key in numbers:
            raise ValueError(f"two WhatsApp numbers for {key!r}")
        numbers[key] = number
    return numbers


def number_for(numbers: dict[str, str], kabupaten: str) -> str | None:
    return numbers.get(kabupaten) or numbers.get("*")


# ---- the webhook ------------------------------------------------------------------------------------------
def signature_valid(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`, compared in
    constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode("ascii", "replace"))


def sign(app_secret: str, raw_body: bytes) -> str:
    """The header value Meta sends for this body (local mode's helper and the tests sign with it)."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class InboundText:
    """One text message a citizen sent to a business number."""

    message_id: str
    sender: str  # the sender's wa_id: country code and number, digits only
    text: str
    to_number: str  # metadata.display_phone_number, digits only


def _digits(value: object) -> str:
    if not isinstance(value, str):
        return ""
    digits = re.sub(r"[ +\-()]", "", value)
    return digits if digits.isascii() and digits.isdigit() else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def inbound_texts(payload: object) -> list[InboundText]:
    """The text messages of a Cloud API webhook delivery (object "whatsapp_business_account"); statuses, other
    message types and anything malformed are skipped, never raised on."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return []
    out: list[InboundText] = []
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            to_number = _digits(metadata.get("display_phone_number")) if isinstance(metadata, dict) else ""
            for message in _list(value.get("messages")):
                if len(out) >= MAX_MESSAGES_PER_DELIVERY:
                    return out
                if not isinstance(message, dict) or message.get("type") != "text":
                    continue
                text = message.get("text")
                body = text.get("body") if isinstance(text, dict) else None
                sender = _digits(message.get("from"))
                message_id = message.get("id")
                if isinstance(body, str) and sender and to_number and isinstance(message_id, str):
                    out.append(InboundText(message_id=message_id[:200], sender=sender, text=body,
                                           to_number=to_number))
    return out

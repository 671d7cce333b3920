"""Identifiers: time-ordered request ids and short, unambiguous tracking codes."""

from __future__ import annotations

import secrets
import time

# Crockford's base32 without I, L, O, U: easy to read aloud and to type on a phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, 26 characters, sorts by creation time."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_tracking_code() -> str:
    """Eight random characters (40 bits) shown as two groups of four, e.g. K7QX-3M9P."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"

"""Canonical identifiers and safe free text: what may reach a key, a log line or a signed letter.

One canonical form per identifier, checked once at the edge. Python's `\\d` matches every Unicode digit
(fullwidth "７", Arabic-Indic "٧") and `$` matches before a trailing newline, so every pattern here
uses explicit ASCII classes with `fullmatch`; nothing is stripped or folded silently, so a look-alike
never hashes or keys differently from the real identifier.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from chalicelib.errors import NotFoundError, ValidationError

VILLAGE_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
# Path parameters without a stricter rule (letter-type codes, tokens): URL-safe ASCII only.
PATH_TOKEN = re.compile(r"[A-Za-z0-9._~-]{1,1024}")
TRACKING_CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")

# Characters a KTP name can hold besides letters: space . , ' - (and the typographic apostrophe).
_NAME_PUNCTUATION = frozenset(" .,'-\u2019")
# Format characters that change how text is shown (bidi overrides, zero-width space, BOM) are
# refused; the zero-width joiner is kept because emoji sequences in free text use it.
_ALLOWED_FORMAT = frozenset("\u200d")
_LINE_BREAKS = frozenset("\n\r\t")


def ascii_digits(value: object, length: int) -> bool:
    """True when `value` is a str of exactly `length` ASCII digits (no Unicode digits, no whitespace)."""
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def canonical_tracking_code(value: object) -> str | None:
    """`K7QX-3M9P` from what people type (lower case, no hyphen, O for 0, I/L for 1); None when it cannot be
    one. Only ASCII letters, digits, one hyphen or space are read: no other Unicode, no control characters."""
    if not isinstance(value, str) or not value.isascii() or len(value) > 16:
        return None
    if not re.fullmatch(r"[A-Za-z0-9]{4}[- ]?[A-Za-z0-9]{4}", value):
        return None
    cleaned = value.upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    code = f"{cleaned[:4]}-{cleaned[4:]}"
    return code if TRACKING_CODE.fullmatch(code) else None


def check_path_parameter(name: str, value: object) -> str:
    """The one check of every URL path parameter before it reaches a key: a village code by its
    pattern (else 404 village_not_found), everything else URL-safe ASCII (else 400
    invalid_path_parameter)."""
    if name == "desa":
        # A code that cannot be a village's is answered like an unknown village, without a lookup.
        if not isinstance(value, str) or not value.isascii() or not VILLAGE_CODE.fullmatch(value):
            raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
        return value
    if not isinstance(value, str) or not value.isascii() or not PATH_TOKEN.fullmatch(value):
        raise ValidationError("Alamat (URL) memuat pengenal yang tidak valid.", code="invalid_path_parameter",
                              parameter=name)
    return value


# ---- free text ---------------------------------------------------------------------------------------
def _forbidden_char(ch: str, multiline: bool) -> bool:
    if ch in _LINE_BREAKS:
        return not multiline
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
        return True
    return category == "Cf" and ch not in _ALLOWED_FORMAT


def find_forbidden_char(text: str, multiline: bool = True) -> str | None:
    """The first control, bidi/format, private-use or unassigned character in `text`, or None."""
    for ch in text:
        if _forbidden_char(ch, multiline):
            return ch
    return None


def describe_char(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def is_person_name(text: str) -> bool:
    """What a KTP name can hold: Latin letters (accents included), spaces and . , ' -; at least one letter."""
    if not text or text != text.strip() or "  " in text:
        return False
    has_letter = False
    for ch in unicodedata.normalize("NFC", text):
        if ch in _NAME_PUNCTUATION:
            continue
        category = unicodedata.category(ch)
        if category.startswith("L") and "LATIN" in unicodedata.name(ch, ""):
            has_letter = True
            continue
        if category == "Mn" and ch in "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u030c\u0327\u0328":
            continue  # a combining accent on a Latin letter (NFD input)
        return False
    return has_letter


class JsonLimits:
    """Limits on a request body: bytes, nesting depth and how many strings/keys it may hold."""

    max_bytes = 64 * 1024
    max_depth = 16
    max_nodes = 5000


def parse_json(raw: bytes | str) -> Any:
    """A request body's JSON value. Raises ValidationError (body_too_deep, malformed_json): a 400, nothing read."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValidationError("Isi permintaan terlalu dalam bersarang.", code="body_too_deep") from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("Isi permintaan bukan JSON yang valid.", code="malformed_json") from None


def check_json_shape(body: Any, limits: type[JsonLimits] = JsonLimits) -> None:
    """Walk a parsed JSON body without recursion: nesting depth, node count, and every string (keys too)
    free of control, bidi and other format characters. Raises ValidationError with a small answer."""
    stack: list[tuple[Any, int, str]] = [(body, 1, "")]
    nodes = 0
    while stack:
        value, depth, path = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise ValidationError("Isi permintaan memuat terlalu banyak isian.", code="body_too_complex")
        if isinstance(value, dict):
            if depth > limits.max_depth:
                raise ValidationError("Isi permintaan terlalu dalam bersarang.", code="body_too_deep")
            for key, item in value.items():
                _check_string(key, path or "(nama isian)")
                stack.append((item, depth + 1, f"{path}.{key}" if path else str(key)))
        elif isinstance(value, list):
            if depth > limits.max_depth:
                raise ValidationError("Isi permintaan terlalu dalam bersarang.", code="body_too_deep")
            for index, item in enumerate(value):
                stack.append((item, depth + 1, f"{path}.{index}" if path else str(index)))
        elif isinstance(value, str):
            _check_string(value, path)


def _check_string(text: str, path: str) -> None:
    bad = find_forbidden_char(text)
    if bad is not None:
        raise ValidationError(
            "Isian memuat karakter yang tidak diizinkan (karakter kontrol atau pengatur arah teks).",
            code="invalid_character", field=path[:100], character=describe_char(bad))

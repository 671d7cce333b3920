"""Indonesian phone numbers: normalise to E.164 for SMS and mask them for logs."""

from __future__ import annotations

import re

from chalicelib.errors import ValidationError

DEFAULT_REGION = "ID"
# ASCII only: `\s` and `\d` would let newlines, no-break spaces and Unicode digits through, and
# phonenumbers folds fullwidth digits into ASCII, so a look-alike would reach the same key.
_SEPARATORS = re.compile(r"[ \-.()/]")
_DIALABLE = re.compile(r"\+?[0-9]{6,17}")
_INVALID_MESSAGE = (
    "Nomor HP tidak valid. Gunakan nomor seluler Indonesia, contoh 0812 3456 7890 atau +62 812 3456 7890."
)


def normalize_phone(raw: str) -> str:
    """Return the E.164 form (+62...) of an Indonesian mobile number.

    Accepts "0812...", "812...", "62812..." and "+62 812-...". Raises ValidationError(code="invalid_phone")
    for anything else, including fixed lines and foreign numbers: only Indonesian mobiles receive SMS.
    """
    # Imported here: phonenumbers loads its metadata at import (~20 ms), and most cold starts parse no phone.
    import phonenumbers
    from phonenumbers import PhoneNumberType

    if not isinstance(raw, str) or not raw.isascii() or len(raw) > 32:
        raise ValidationError(_INVALID_MESSAGE, code="invalid_phone")
    compact = _SEPARATORS.sub("", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("62"):
        # Without "+" phonenumbers reads 62812... as a national number; people mean the country code.
        compact = "+" + compact
    # Letters would be read as a keypad vanity number by phonenumbers; nobody types those for SMS.
    if not _DIALABLE.fullmatch(compact):
        raise ValidationError(_INVALID_MESSAGE, code="invalid_phone")
    try:
        number = phonenumbers.parse(compact, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_INVALID_MESSAGE, code="invalid_phone") from exc
    if number.country_code != 62 or not phonenumbers.is_valid_number_for_region(number, DEFAULT_REGION):
        raise ValidationError(_INVALID_MESSAGE, code="invalid_phone")
    if phonenumbers.number_type(number) not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValidationError(
            "Nomor HP harus nomor seluler (bukan telepon rumah/kantor) agar dapat menerima SMS.",
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """Hide all but the country code and the last four digits: "+6281234567890" -> "+62******7890"."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 6:
        return "*" * len(digits)
    prefix = "+" + digits[:2] if phone.startswith("+") else digits[:2]
    return f"{prefix}******{digits[-4:]}"

"""NIK (Nomor Induk Kependudukan) validation, masking and keyed hashing."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from chalicelib.domain.inputs import ascii_digits
from chalicelib.errors import ValidationError


@dataclass(frozen=True)
class NikInfo:
    nik: str
    kecamatan_code: str  # "73.07.03": where the NIK was first registered
    birth_date: date
    sex: str  # "L" or "P"; women's birth day is stored as day + 40


def parse_nik(nik: str, today: date | None = None) -> NikInfo:
    """Check a NIK's structure and embedded birth date; raise ValidationError(invalid_nik) if wrong.

    The NIK must already be canonical: 16 ASCII digits, nothing around them. A fullwidth or
    Arabic-Indic NIK, or one with a trailing newline, is refused, never folded, so it cannot hash to
    another citizen's key or slip past the phone bound to the real one."""
    if not ascii_digits(nik, 16):
        raise ValidationError("NIK harus terdiri dari 16 angka.", code="invalid_nik")
    province, kabupaten, kecamatan = nik[0:2], nik[2:4], nik[4:6]
    if not (11 <= int(province) <= 99) or kabupaten == "00" or kecamatan == "00":
        raise ValidationError("Kode wilayah pada NIK tidak valid.", code="invalid_nik")
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "L"
    if day > 40:
        day -= 40
        sex = "P"
    today = today or date.today()
    # A two-digit year is this century unless that would put the birth in the future.
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValidationError("Tanggal lahir pada NIK tidak valid.", code="invalid_nik") from None
    if born > today:
        raise ValidationError("Tanggal lahir pada NIK tidak valid.", code="invalid_nik")
    if nik[12:16] == "0000":
        raise ValidationError("Nomor urut pada NIK tidak valid.", code="invalid_nik")
    return NikInfo(nik=nik, kecamatan_code=f"{province}.{kabupaten}.{kecamatan}", birth_date=born, sex=sex)


def mask_nik(nik: str | None) -> str:
    """All but the last four digits hidden: safe for logs and for people other than the owner."""
    if not nik:
        return ""
    return "*" * max(len(nik) - 4, 0) + nik[-4:]


def nik_hash(nik: str, key: str) -> str:
    """Keyed hash used in keys, so a table dump does not reveal which NIKs exist."""
    return hmac.new(key.encode(), nik.encode(), hashlib.sha256).hexdigest()[:40]

"""Kemendagri region codes: levels, parents, time zones and scope checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib.errors import ValidationError

_CODE_RE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")

# Province code -> IANA zone. WIB: Sumatra, Java, Kalimantan Barat/Tengah; WITA: Bali, Nusa
# Tenggara, Kalimantan Selatan/Timur/Utara, Sulawesi; WIT: Maluku and Papua.
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT_PREFIX = ("8", "9")
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def validate_code(code: str) -> str:
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise ValidationError("Kode wilayah tidak valid.", code="invalid_region_code")
    return code


def level_of(code: str, name: str = "") -> str:
    parts = code.split(".")
    if len(parts) == 1:
        return "provinsi"
    if len(parts) == 2:
        return "kabupaten"
    if len(parts) == 3:
        return "kecamatan"
    # The four-digit village part starts with 1 for a kelurahan and 2 for a desa.
    return "kelurahan" if parts[3].startswith("1") else "desa"


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def kabupaten_of(code: str) -> str:
    return ".".join(code.split(".")[:2])


def kecamatan_of(code: str) -> str:
    return ".".join(code.split(".")[:3])


def timezone_for(code: str) -> str:
    province = code[:2]
    if province in _WITA:
        return "Asia/Makassar"
    if province.startswith(_WIT_PREFIX):
        return "Asia/Jayapura"
    if province == "61":
        return "Asia/Pontianak"
    return "Asia/Jakarta"


def is_village(code: str) -> bool:
    return len(code.split(".")) == 4


def within(scope: str, code: str) -> bool:
    """True when `code` is the region `scope` or lies under it."""
    return code == scope or code.startswith(scope + ".")


@dataclass
class Region:
    code: str
    name: str
    level: str
    parent: str | None
    active: bool
    timezone: str
    letter_types: dict[str, dict[str, object]] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    version: int = 1

"""Staff accounts: which region level each role works at, who may manage whom, and profile validation."""

from __future__ import annotations

import re
import unicodedata

from chalicelib.domain.regions import level_of, within
from chalicelib.errors import ForbiddenError, NotFoundError, ValidationError

# The region level an account of each role is scoped to (issue 9.6).
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    "admin": ("kabupaten",),
    "opd": ("kabupaten",),
    "camat": ("kecamatan",),
    "operator": ("desa", "kelurahan"),
    "kades": ("desa", "kelurahan"),
}
STAFF_ROLES = tuple(ROLE_LEVELS)
# Who manages which accounts: the admin every staff account of the kabupaten, the camat the village
# staff of the kecamatan. Nobody else manages accounts.
MANAGED_ROLES: dict[str, tuple[str, ...]] = {
    "admin": STAFF_ROLES,
    "camat": ("operator", "kades"),
}
MIN_PASSWORD = 10
MAX_PASSWORD = 200

_USERNAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{1,62})[a-z0-9]")
_NIP_RE = re.compile(r"[0-9]{18}")
# What a name or jabatan on a KTP/SK can hold: letters (accents too), spaces and . , ' - ( ) /
_NAME_PUNCT = set(" .,'-")
_JABATAN_PUNCT = set(" .,'-()/")


def check_role_region(role: str, region_code: str) -> None:
    """An admin works at a kabupaten, a camat at a kecamatan, village staff at a desa/kelurahan.

    Raises ValidationError(invalid_role, region_level_mismatch).
    """
    if role not in ROLE_LEVELS:
        raise ValidationError(f"Peran tidak dikenal: {role}.", code="invalid_role")
    level = level_of(region_code)
    if level not in ROLE_LEVELS[role]:
        expected = " atau ".join(ROLE_LEVELS[role])
        raise ValidationError(f"Akun {role} harus berada di tingkat {expected}, bukan {level}.",
                              code="region_level_mismatch")


def normalize_username(username: str) -> str:
    """Usernames are lower-case ASCII letters, digits and . _ - (3 to 64 characters).

    Raises ValidationError(invalid_username); no look-alike or control characters reach a key.
    """
    if not isinstance(username, str) or not username.isascii():
        raise ValidationError("Nama pengguna hanya boleh huruf, angka, titik, garis bawah dan tanda hubung.",
                              code="invalid_username")
    candidate = username.lower()
    if not _USERNAME_RE.fullmatch(candidate):
        raise ValidationError("Nama pengguna hanya boleh huruf, angka, titik, garis bawah dan tanda hubung "
                              "(3 sampai 64 karakter).", code="invalid_username")
    return candidate


def validate_nip(nip: str | None) -> str | None:
    """NIP (Nomor Induk Pegawai) is 18 ASCII digits; None or "" means the person has none.

    Spaces between the groups as printed (`19780412 200501 1 003`) are accepted and dropped; any other
    character, a Unicode digit or a trailing newline is refused. Raises ValidationError(invalid_nip).
    """
    if nip is None:
        return None
    if not isinstance(nip, str):
        raise ValidationError("NIP harus berupa teks.", code="invalid_nip")
    compact = nip.replace(" ", "")
    if compact == "":
        return None
    if not _NIP_RE.fullmatch(compact) or not compact.isascii():
        raise ValidationError("NIP harus 18 angka.", code="invalid_nip")
    return compact


def format_nip(nip: str | None) -> str | None:
    """Print a NIP in its official groups: birth date, appointment month, sex, serial."""
    if not nip or len(nip) != 18:
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


def _clean_text(value: str, *, field: str, label: str, allowed: set[str], max_len: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{label} harus berupa teks.", code=f"invalid_{field}")
    text = unicodedata.normalize("NFC", value)
    if any(c not in allowed and not c.isalpha() and not (field == "position" and c.isdigit() and c.isascii())
           for c in text):
        raise ValidationError(f"{label} memuat karakter yang tidak diizinkan.", code=f"invalid_{field}")
    text = " ".join(text.split())
    if not 2 <= len(text) <= max_len:
        raise ValidationError(f"{label} harus 2 sampai {max_len} karakter.", code=f"invalid_{field}")
    return text


def clean_name(name: str) -> str:
    """A person's full name with academic titles ("Hj. Andi Nurhaedah, S.Sos."): what a KTP name can hold, as
    for citizens (Latin letters with accents, spaces, . , ' -), since it is printed under a signature.
    Raises ValidationError."""
    from chalicelib.domain.inputs import is_person_name

    text = _clean_text(name, field="name", label="Nama lengkap", allowed=_NAME_PUNCT, max_len=120)
    if not is_person_name(text):
        raise ValidationError("Nama lengkap hanya boleh memuat huruf Latin, spasi dan tanda . , ' -.",
                              code="invalid_name")
    return text


def clean_position(position: str) -> str:
    """A jabatan ("Kepala Desa Pulau Harapan", "Kasi Pemerintahan"). Raises ValidationError."""
    return _clean_text(position, field="position", label="Jabatan", allowed=_JABATAN_PUNCT, max_len=120)


def check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(f"Kata sandi harus {MIN_PASSWORD} sampai {MAX_PASSWORD} karakter.",
                              code="weak_password")
    if any(unicodedata.category(c).startswith("C") for c in password):
        raise ValidationError("Kata sandi memuat karakter kendali.", code="weak_password")


def ensure_manages(manager_role: str, manager_region: str, target_role: str, target_region: str) -> None:
    """The manager may act on an account of `target_role` at `target_region`.

    An account outside the manager's region is a 404 (its existence is not revealed); inside the region
    but of a role the manager does not manage is a 403. Raises NotFoundError, ForbiddenError.
    """
    if manager_role not in MANAGED_ROLES:
        raise ForbiddenError("Peran Anda tidak boleh mengelola akun petugas.", code="forbidden_role")
    if not within(manager_region, target_region):
        raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found")
    if target_role not in MANAGED_ROLES[manager_role]:
        raise ForbiddenError("Peran Anda tidak boleh mengelola akun dengan peran ini.", code="forbidden_role")

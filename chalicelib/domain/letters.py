"""Letters: number formats, Indonesian dates, body templates, the printable document and its signed facts."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import ValidationError

DEFAULT_NUMBER_FORMAT = "{classification}/{seq:03}/{village_code}/{roman_month}/{year}"

NUMBER_PLACEHOLDERS = frozenset(
    {
        "classification",
        "seq",
        "village_code",
        "roman_month",
        "month",
        "year",
        "letter_type",
    }
)

SEQUENCE_MODES = ("village", "per_type")

MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

_ROMAN_MONTHS = (
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
)

_FORMATTER = string.Formatter()
# The number-format grammar: printable ASCII letters, digits and . / - _ space around {placeholders};
# a placeholder's spec is at most an optional zero and one width digit.
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9 ./_{}:-]+")
_SAFE_SPEC = re.compile(r"0?[1-9]")


# ---------------------------------------------------------------------------------------------- numbers


def roman_month(month: int) -> str:
    """1 -> "I" … 12 -> "XII" (archive numbering writes the month in Roman numerals)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month out of range: {month}")
    return _ROMAN_MONTHS[month - 1]


def _parse_fields(
    text: str, *, code: str, what: str
) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(_FORMATTER.parse(text))
    except ValueError as exc:  # unbalanced braces
        raise ValidationError(
            f"{what} tidak valid: kurung kurawal tidak seimbang.", code=code
        ) from exc


def validate_number_format(fmt: str) -> None:
    """Reject formats with unknown placeholders, attribute/index access, or no {seq} (numbers must differ).

    Raises ValidationError(code="invalid_number_format").
    """
    code = "invalid_number_format"
    if not fmt or len(fmt) > 120:
        raise ValidationError(
            "Format nomor surat kosong atau terlalu panjang.", code=code
        )
    if not _SAFE_LITERAL.fullmatch(fmt):
        raise ValidationError(
            "Format nomor surat hanya boleh memuat huruf, angka, spasi dan . / - _ di luar isian.",
            code=code,
        )
    seen: set[str] = set()
    for _literal, name, spec, conversion in _parse_fields(
        fmt, code=code, what="Format nomor surat"
    ):
        if name is None:
            continue
        if name not in NUMBER_PLACEHOLDERS:
            raise ValidationError(
                f"Format nomor surat memuat isian tidak dikenal: {{{name}}}.",
                code=code,
                placeholder=name,
            )
        if conversion:
            raise ValidationError(
                "Format nomor surat tidak boleh memakai konversi (!r, !s).", code=code
            )
        if spec and name not in ("seq", "month", "year"):
            raise ValidationError(
                f"Isian {{{name}}} tidak boleh memakai format angka.", code=code
            )
        if spec and not _SAFE_SPEC.fullmatch(spec):
            # Only zero padding to a small width ({seq:03}): `{seq:0>50000000}` would make a 50 MB
            # number and `{seq:c}` a control character in a signed letter.
            raise ValidationError(
                "Format angka hanya boleh berupa lebar 1–9 dengan nol di depan, contoh {seq:03}.",
                code=code,
            )
        seen.add(name)
    if "seq" not in seen:
        raise ValidationError("Format nomor surat harus memuat {seq}.", code=code)
    # A bad format spec ({seq:zz}) only shows when applied: try it once with sample values.
    try:
        fmt.format(**_number_values("470", 1, "DS-2001", datetime(2026, 1, 1), "SKD"))
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            "Format nomor surat tidak valid.", code=code
        ) from exc


def _number_values(
    classification: str,
    seq: int,
    village_code: str,
    issued_local: datetime,
    letter_type: str,
) -> dict[str, object]:
    return {
        "classification": classification,
        "seq": seq,
        "village_code": village_code,
        "roman_month": roman_month(issued_local.month),
        "month": issued_local.month,
        "year": issued_local.year,
        "letter_type": letter_type,
    }


def format_number(
    fmt: str,
    *,
    classification: str,
    seq: int,
    village_code: str,
    issued_local: datetime,
    letter_type: str = "",
) -> str:
    """Render a letter number, e.g. "470/012/DS-2001/XI/2026"; issued_local is already in the kabupaten's zone."""
    validate_number_format(fmt)
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1, got {seq}")
    return fmt.format(
        **_number_values(classification, seq, village_code, issued_local, letter_type)
    )


def village_number_code(region_code: str) -> str:
    """Short code used in letter numbers: "73.07.09.2001" -> "DS-2001", "73.07.03.1001" -> "KL-1001"."""
    last = region_code.rsplit(".", 1)[-1]
    if len(last) != 4 or not last.isdigit():
        raise ValueError(f"not a desa/kelurahan code: {region_code}")
    return ("KL-" if last.startswith("1") else "DS-") + last


def _zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"Zona waktu tidak dikenal: {tz_name}.", code="invalid_timezone"
        ) from exc


def to_local(moment_utc: datetime, tz_name: str) -> datetime:
    """A stored UTC moment in the kabupaten's zone (naive datetimes are taken as UTC, as stored)."""
    if moment_utc.tzinfo is None:
        moment_utc = moment_utc.replace(tzinfo=UTC)
    return moment_utc.astimezone(_zone(tz_name))


def counter_year(issued_utc: datetime, tz_name: str) -> int:
    """The numbering year: counters restart at local midnight on 1 January, not at UTC midnight."""
    return to_local(issued_utc, tz_name).year


def counter_scope(sequence_mode: str, letter_type: str) -> str:
    """Which counter a letter draws from: one for the whole village ("ALL") or one per letter type."""
    if sequence_mode == "village":
        return "ALL"
    if sequence_mode == "per_type":
        if not letter_type:
            raise ValidationError(
                "Jenis surat wajib diisi untuk penomoran per jenis.",
                code="invalid_sequence_mode",
            )
        return letter_type.upper()
    raise ValidationError(
        f"Mode penomoran tidak dikenal: {sequence_mode}.",
        code="invalid_sequence_mode",
        allowed=list(SEQUENCE_MODES),
    )


# ---------------------------------------------------------------------------------------------- dates


def format_date_id(d: date) -> str:
    """23 November 2026 (Indonesian month names, no leading zero on the day)."""
    return f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"


def format_datetime_id(dt: datetime, tz_name: str | None = None) -> str:
    """23 November 2026 pukul 14.05 WITA; converts to tz_name first when given."""
    if tz_name:
        dt = to_local(dt, tz_name)
    text = f"{format_date_id(dt)} pukul {dt.hour:02}.{dt.minute:02}"
    zone = dt.tzname() if dt.tzinfo else None
    # Indonesian zones abbreviate as WIB/WITA/WIT; skip numeric abbreviations such as "+08".
    if zone and zone.isalpha():
        text += f" {zone}"
    return text


# ---------------------------------------------------------------------------------------------- templates


def template_placeholders(template: str) -> set[str]:
    """The placeholder names a body template uses (for checking a catalogue entry against its fields)."""
    names: set[str] = set()
    for _literal, name, _spec, _conv in _parse_fields(
        template, code="template_error", what="Templat surat"
    ):
        if name is not None:
            names.add(name)
    return names


def _render_value(value: object, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):  # before int: bool is an int
        return "Ya" if value else "Tidak"
    if isinstance(value, datetime):
        return format_datetime_id(value)
    if isinstance(value, date):
        return format_date_id(value)
    if spec:
        return format(value, spec)
    return str(value)


def fill_template(template: str, values: Mapping[str, object]) -> str:
    """Fill a letter body template; only plain {name} or {name:spec} placeholders are allowed.

    Attribute and index access ({x.__class__}, {x[0]}) and conversions are refused so a template edited
    by a village cannot reach into Python objects. Raises ValidationError(code="template_error").
    """
    code = "template_error"
    out: list[str] = []
    for literal, name, spec, conversion in _parse_fields(
        template, code=code, what="Templat surat"
    ):
        out.append(literal)
        if name is None:
            continue
        if not name.isidentifier():
            raise ValidationError(
                f"Isian templat tidak valid: {{{name}}}.", code=code, placeholder=name
            )
        if conversion:
            raise ValidationError(
                "Templat surat tidak boleh memakai konversi (!r, !s).", code=code
            )
        if spec and ("{" in spec or "}" in spec):
            raise ValidationError("Templat surat tidak boleh bersarang.", code=code)
        if name not in values:
            raise ValidationError(
                f"Templat surat memuat isian tidak dikenal: {{{name}}}.",
                code=code,
                placeholder=name,
            )
        try:
            out.append(_render_value(values[name], spec or ""))
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                f"Format isian {{{name}}} tidak valid.", code=code, placeholder=name
            ) from exc
    return "".join(out)


# ---------------------------------------------------------------------------------------------- document


@dataclass(frozen=True, kw_only=True)
class LetterDocument:
    """Everything printed on one letter, already resolved to text: the PDF renderer makes no decisions."""

    paper: str = "A4"  # "A4" | "F4"
    kabupaten_name: str  # "Sinjai" (a leading "Kabupaten"/"Kota" is kept as written)
    kecamatan_name: str
    village_name: str
    village_kind: str = "desa"  # "desa" | "kelurahan"
    village_address: str
    logo_png: bytes | None = None
    title: str
    number: str
    opening: str
    applicant_rows: Sequence[tuple[str, str]] = field(default_factory=list)
    body: str  # paragraphs separated by blank lines
    closing: str
    place: str
    issued_date: date
    signer_position: str  # "Kepala Desa Pulau Harapan"
    signer_name: str
    signer_nip: str | None = None
    verify_url: str
    # Issued electronically through Balai: a footer says so and where to verify (old letters: False).
    electronic: bool = False

    def __post_init__(self) -> None:
        if self.paper not in ("A4", "F4"):
            raise ValidationError(
                f"Ukuran kertas tidak dikenal: {self.paper}.", code="invalid_paper"
            )
        if self.village_kind not in ("desa", "kelurahan"):
            raise ValidationError(
                f"Jenis wilayah tidak dikenal: {self.village_kind}.",
                code="invalid_village_kind",
            )

    def letterhead_lines(self) -> list[str]:
        """The kop surat's three bold lines, upper case."""
        return [
            _with_prefix(
                "PEMERINTAH KABUPATEN", self.kabupaten_name, ("KABUPATEN ", "KOTA ")
            ),
            _with_prefix("KECAMATAN", self.kecamatan_name, ("KECAMATAN ", "DISTRIK ")),
            _with_prefix(
                self.village_kind.upper(), self.village_name, ("DESA ", "KELURAHAN ")
            ),
        ]

    def body_paragraphs(self) -> list[str]:
        """Paragraphs split on blank lines; single newlines inside a paragraph become spaces."""
        paragraphs = []
        for block in self.body.replace("\r\n", "\n").split("\n\n"):
            text = " ".join(line.strip() for line in block.splitlines() if line.strip())
            if text:
                paragraphs.append(text)
        return paragraphs

    def date_line(self) -> str:
        return f"{self.place}, {format_date_id(self.issued_date)}"

    def electronic_note(self) -> str:
        """The footer of an electronically issued letter: what it is and where to check it."""
        return (f"Dokumen ini ditandatangani secara elektronik oleh {self.signer_name} ({self.signer_position}) "
                "melalui Balai. Keaslian dan isinya dapat diperiksa dengan memindai kode QR atau membuka halaman "
                f"verifikasi: {self.verify_url}")


_POSTCODE_RE = re.compile(r"[1-9][0-9]{4}")
_OFFICE_PHONE_RE = re.compile(r"[0-9+() -]{5,30}")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")
_WEBSITE_RE = re.compile(r"(https?://)?[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+(/[A-Za-z0-9._~/-]*)?")


def clean_office(changes: Mapping[str, object]) -> dict[str, object]:
    """Check the office fields of the letter settings (kop surat): street address, postcode (5 digits),
    phone, e-mail, website. "" or None clears one. Raises ValidationError(invalid_setting) naming the field."""
    out = dict(changes)
    rules = {"postcode": (_POSTCODE_RE, "Kode pos harus 5 angka."),
             "phone": (_OFFICE_PHONE_RE, "Nomor telepon kantor hanya boleh angka, spasi, +, -, ( )."),
             "email": (_EMAIL_RE, "Alamat pos-el tidak valid."),
             "website": (_WEBSITE_RE, "Alamat laman tidak valid.")}
    for key, value in changes.items():
        if value in (None, ""):
            out[key] = None
            continue
        if key == "address":
            text = str(value)
            if any(unicodedata.category(c).startswith("C") for c in text):
                raise ValidationError("Alamat kantor memuat karakter kendali.", code="invalid_setting",
                                      field="address")
            out[key] = " ".join(text.split())
        elif key in rules:
            pattern, message = rules[key]
            if not isinstance(value, str) or not value.isascii() or not pattern.fullmatch(value):
                raise ValidationError(message, code="invalid_setting", field=key)
    return out


def kop_address(settings: Mapping[str, object]) -> str:
    """The kop surat's address lines from the office settings: street and postcode, then the contacts.

    The kop's first lines already name the kabupaten, kecamatan and village, so they are not repeated here.
    Empty when the village has set no office address or contact yet.
    """
    first = ", ".join(str(v) for v in (settings.get("address"),) if v)
    if settings.get("postcode"):
        first = f"{first}, Kode Pos {settings['postcode']}" if first else f"Kode Pos {settings['postcode']}"
    contacts = [f"{label} {settings[key]}" for key, label in (("phone", "Telp."), ("email", "Pos-el"),
                                                              ("website", "Laman")) if settings.get(key)]
    return "\n".join(line for line in (first, " \u00b7 ".join(contacts)) if line)


def _with_prefix(prefix: str, name: str, already: tuple[str, ...]) -> str:
    """Upper-case a region name, adding its level unless the name already carries one ("Kota Makassar")."""
    upper = " ".join(name.split()).upper()
    if upper.startswith(already):
        # "PEMERINTAH" still leads the first line even when the name says "KOTA …" itself.
        return f"PEMERINTAH {upper}" if prefix.startswith("PEMERINTAH") else upper
    return f"{prefix} {upper}"


# ---------------------------------------------------------------------------------------------- wording

# The fixed sentences of a surat keterangan (Bahasa Indonesia); the body comes from the letter type's template.
CLOSING = "Demikian surat keterangan ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya."
SEX_LABELS = {"L": "Laki-laki", "P": "Perempuan"}


def village_kind(level: str) -> str:
    return "kelurahan" if level == "kelurahan" else "desa"


def head_title(level: str, village_name: str) -> str:
    """The head of the village as a letter names them: "Kepala Desa Biroro" / "Lurah Samataring"."""
    return f"{'Lurah' if level == 'kelurahan' else 'Kepala Desa'} {village_name}"


def opening_sentence(position: str, kecamatan_name: str, kabupaten_name: str) -> str:
    return (f"Yang bertanda tangan di bawah ini, {position}, Kecamatan {kecamatan_name}, {kabupaten_name}, "
            "menerangkan dengan sebenarnya bahwa:")


@dataclass(frozen=True)
class Signer:
    """Who signs a letter, as printed under the signature and signed into its QR token.

    Resolved once, when the signer decides to issue, and carried as a value to the numbering and rendering
    step (the issuing queue), so the printed signer is the person who decided.
    """

    name: str
    position: str
    nip: str | None = None
    username: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Signer:
        nip, username = data.get("nip"), data.get("username")
        return cls(name=str(data["name"]), position=str(data["position"]),
                   nip=str(nip) if nip else None, username=str(username) if username else None)


# ---------------------------------------------------------------------------------------------- signed facts


def mask_name(name: str) -> str:
    """ "Andi Baso Tenri" -> "A*** B*** T****": enough to recognise a letter, not enough to identify a person."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


@dataclass(frozen=True)
class LetterFacts:
    """The essential, non-personal facts a letter's signature covers and the verification page shows."""

    letter_id: str
    number: str
    letter_type: str
    village_code: str
    issued_date: str  # ISO date, in the kabupaten's zone
    signer_name: str
    applicant_masked: str  # shown by the verification page
    applicant_hash: (
        str  # binds the full name: masks alone cannot tell "Tenri" from "Tenro"
    )

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def signed_facts(
    *,
    letter_id: str,
    number: str,
    letter_type: str,
    village_code: str,
    issued_date: date,
    signer_name: str,
    applicant_name: str,
) -> dict[str, str]:
    """The dict to sign and, later, to verify against: built only from data stored with the letter."""
    return LetterFacts(
        letter_id=letter_id,
        number=number,
        letter_type=letter_type,
        village_code=village_code,
        issued_date=issued_date.isoformat(),
        signer_name=" ".join(signer_name.split()),
        applicant_masked=mask_name(applicant_name),
        applicant_hash=applicant_name_hash(letter_id, applicant_name),
    ).to_dict()


def applicant_name_hash(letter_id: str, name: str) -> str:
    """SHA-256 of the case- and space-normalised name, salted with the letter id (no cross-letter lookups).

    The printed letter carries the full name anyway; this only lets the signature cover it without the
    verification page showing it.
    """
    normalised = " ".join(name.split()).casefold()
    return hashlib.sha256(f"{letter_id}\n{normalised}".encode()).hexdigest()[:32]


VERIFY_PATH = "/v1/letters/verify/"


def verify_prefix(public_base_url: str) -> str:
    """What precedes the token in a letter's verification URL (the QR code): kept with the letter's document,
    because a regenerated PDF must print the URL it was issued with even after the deployment's base moves."""
    return f"{public_base_url}{VERIFY_PATH}"


def letter_file_key(village: str, year: int, letter_id: str) -> str:
    """Where a letter's PDF is stored: derived from the letter, so new letter items need not keep it."""
    return f"letters/{village}/{year}/{letter_id}.pdf"


@dataclass
class Letter:
    """An issued letter: its number in its counter (scope, local year), signed facts and stored document."""

    id: str
    request_id: str
    village: str
    kabupaten: str
    letter_type: str
    letter_name: str
    number: str
    seq: int
    counter_scope: str
    year: int
    issued_at: str
    facts: dict[str, str]
    token: str
    verify_url: str
    file_key: str
    document: dict[str, Any] = field(default_factory=dict)
    status: str = "valid"
    revoked_at: str | None = None
    revoked_reason: str | None = None
    revoked_by: str | None = None
    verification_count: int = 0


def applicant_village_label(applicant: Mapping[str, object]) -> str | None:
    """ "Desa Pulau Harapan" / "Kelurahan Samataring": how a letter names the applicant's village."""
    if not applicant.get("desa"):
        return None
    kind = "Kelurahan" if applicant.get("desa_kind") == "kelurahan" else "Desa"
    return f"{kind} {applicant['desa']}"


def _as_date(value: object) -> object:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


def applicant_rows(applicant: Mapping[str, object]) -> list[tuple[str, str]]:
    """The applicant block printed under the opening sentence: (label, value) in the letter's order."""
    a = applicant
    born = _as_date(a.get("birth_date"))
    born_text = format_date_id(born) if isinstance(born, date) else str(born or "-")
    address = str(a.get("address") or "-")
    if a.get("rt") or a.get("rw"):
        address += f", RT {a.get('rt') or '-'}/RW {a.get('rw') or '-'}"
    if a.get("desa"):
        address += f", {applicant_village_label(a)}"
    if a.get("kecamatan"):
        address += f", Kecamatan {a['kecamatan']}"
    return [
        ("Nama", str(a.get("name") or "-")), ("NIK", str(a.get("nik") or "-")),
        ("Tempat/Tanggal Lahir", f"{a.get('birth_place') or '-'}, {born_text}"),
        ("Jenis Kelamin", SEX_LABELS.get(str(a.get("sex")), str(a.get("sex") or "-"))),
        ("Agama", str(a.get("religion") or "-")), ("Status Perkawinan", str(a.get("marital_status") or "-")),
        ("Pekerjaan", str(a.get("occupation") or "-")), ("Alamat", address),
    ]


def template_values(applicant: Mapping[str, object], fields: Mapping[str, object],
                    date_fields: Sequence[str] = (), field_names: Sequence[str] = ()) -> dict[str, object]:
    """The values a letter body template may name: the applicant's data (Indonesian placeholder names) and
    the request's fields (`date_fields` of them parsed as dates, so they print as Indonesian dates)."""
    a = applicant
    values: dict[str, object] = {
        "nama": a.get("name"), "nik": a.get("nik"), "tempat_lahir": a.get("birth_place"),
        "tanggal_lahir": _as_date(a.get("birth_date")),
        "jenis_kelamin": SEX_LABELS.get(str(a.get("sex")), a.get("sex")),
        "agama": a.get("religion"), "status_perkawinan": a.get("marital_status"), "pekerjaan": a.get("occupation"),
        "alamat": a.get("address"), "rt": a.get("rt"), "rw": a.get("rw"), "desa": applicant_village_label(a),
        "kecamatan": a.get("kecamatan"), "kabupaten": a.get("kabupaten"),
    }
    for name in field_names:
        value = fields.get(name)
        values[name] = _as_date(value) if name in date_fields else value
    return values

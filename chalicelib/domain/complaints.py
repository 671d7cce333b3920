"""Complaints and aspirations (pengaduan): the record, routing by category, the state machine, who may do what,
moderation, and what each change announces. Pure: no I/O."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.inputs import find_forbidden_char
from chalicelib.domain.regions import kabupaten_of, kecamatan_of, within
from chalicelib.domain.requests import HistoryEntry, Principal
from chalicelib.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError

KINDS = ("complaint", "aspiration")
STATUSES = ("open", "acknowledged", "in_progress", "resolved", "closed", "rejected")
# The unit must act: the SLA runs (reminder, escalation) while a complaint is in one of these.
ACTIVE_STATUSES = ("open", "acknowledged", "in_progress")
FINAL_STATUSES = ("closed", "rejected")
VILLAGE_STAFF = ("operator", "kades")
MAX_TITLE = 150
MAX_TEXT = 4000
MAX_NOTE = 1000
MAX_PHOTOS = 3
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
DEFAULT_REOPEN_DAYS = 5
# Indonesia's extent with a margin (Sabang to Merauke, Miangas to Rote): a point outside is not a village's.
LAT_RANGE = (-11.5, 6.5)
LON_RANGE = (94.5, 141.5)

STATUS_LABELS = {
    "open": "terbuka",
    "acknowledged": "diterima petugas",
    "in_progress": "sedang ditangani",
    "resolved": "selesai ditangani",
    "closed": "ditutup",
    "rejected": "ditolak",
}
ACTION_LABELS = {
    "file": "ajukan",
    "acknowledge": "terima",
    "start": "tangani",
    "resolve": "selesaikan",
    "close": "tutup",
    "reject": "tolak",
    "reopen": "buka kembali",
    "rate": "beri penilaian",
    "reroute": "alihkan",
    "hide": "sembunyikan",
    "redact": "sunting",
}
KIND_LABELS = {"complaint": "Pengaduan", "aspiration": "Aspirasi"}

_OPD_CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")
_CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_-]{1,31}")


# ---------------------------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class Opd:
    """An agency (Organisasi Perangkat Daerah) of the kabupaten: code ("dpupr") and name ("Dinas PUPR")."""

    code: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class Category:
    """A complaint category of a kabupaten: where it is routed ("village" or "opd:<code>") and its SLA."""

    code: str
    name: str
    routes_to: str
    sla_hours: int

    def unit(self, village: str) -> dict[str, str]:
        if self.routes_to == "village":
            return {"type": "village", "code": village}
        return {"type": "opd", "code": self.routes_to.split(":", 1)[1]}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "routes_to": self.routes_to, "sla_hours": self.sla_hours}


@dataclass(frozen=True)
class ComplaintConfig:
    """A kabupaten's OPDs and complaint categories (admin-managed, version-checked)."""

    kabupaten: str
    opds: tuple[Opd, ...]
    categories: tuple[Category, ...]
    version: int = 1
    updated_at: str | None = None

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def opd(self, code: str) -> Opd | None:
        return next((o for o in self.opds if o.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {"kabupaten": self.kabupaten, "opds": [o.to_dict() for o in self.opds],
                "categories": [c.to_dict() for c in self.categories], "version": self.version,
                "updated_at": self.updated_at}


def _clean_name(value: Any, label: str) -> str:
    if not isinstance(value, str) or find_forbidden_char(value, multiline=False) is not None:
        raise ValidationError(f"{label} harus berupa teks satu baris.", code="invalid_config")
    text = " ".join(value.split())
    if not 2 <= len(text) <= 80:
        raise ValidationError(f"{label} harus 2 sampai 80 karakter.", code="invalid_config")
    return text


def validate_config(kabupaten: str, opds: Any, categories: Any, version: int = 1,
                    updated_at: str | None = None) -> ComplaintConfig:
    """Check an admin's configuration: unique ASCII codes, names, every category routed to the village or an OPD
    listed here, SLA 1..720 working hours. Raises ValidationError(invalid_config)."""
    if not isinstance(opds, list) or not isinstance(categories, list) or len(opds) > 50 or not 1 <= len(
            categories) <= 100:
        raise ValidationError("opds (≤ 50) dan categories (1–100) harus berupa daftar.", code="invalid_config")
    parsed_opds: list[Opd] = []
    for raw in opds:
        if not isinstance(raw, dict) or set(raw) != {"code", "name"}:
            raise ValidationError("Setiap OPD berisi tepat code dan name.", code="invalid_config")
        code = raw["code"]
        if not isinstance(code, str) or not code.isascii() or not _OPD_CODE.fullmatch(code):
            raise ValidationError("Kode OPD: huruf kecil, angka dan '-', 2–32 karakter.", code="invalid_config",
                                  opd=str(code)[:40])
        if any(o.code == code for o in parsed_opds):
            raise ValidationError(f"Kode OPD {code} ganda.", code="invalid_config")
        parsed_opds.append(Opd(code, _clean_name(raw["name"], "Nama OPD")))
    parsed: list[Category] = []
    for raw in categories:
        if not isinstance(raw, dict) or set(raw) != {"code", "name", "routes_to", "sla_hours"}:
            raise ValidationError("Setiap kategori berisi tepat code, name, routes_to dan sla_hours.",
                                  code="invalid_config")
        code = raw["code"]
        if not isinstance(code, str) or not code.isascii() or not _CATEGORY_CODE.fullmatch(code):
            raise ValidationError("Kode kategori: huruf kecil, angka, '_' dan '-', 2–32 karakter.",
                                  code="invalid_config", category=str(code)[:40])
        if any(c.code == code for c in parsed):
            raise ValidationError(f"Kode kategori {code} ganda.", code="invalid_config")
        routes_to = raw["routes_to"]
        if not isinstance(routes_to, str) or not (routes_to == "village" or (
                routes_to.startswith("opd:") and any(o.code == routes_to[4:] for o in parsed_opds))):
            raise ValidationError(f"Kategori {code}: routes_to harus \"village\" atau \"opd:<kode OPD terdaftar>\".",
                                  code="invalid_config", category=code)
        sla = raw["sla_hours"]
        if isinstance(sla, bool) or not isinstance(sla, int) or not 1 <= sla <= 720:
            raise ValidationError(f"Kategori {code}: sla_hours harus 1 sampai 720 jam kerja.",
                                  code="invalid_config", category=code)
        parsed.append(Category(code, _clean_name(raw["name"], "Nama kategori"), routes_to, sla))
    return ComplaintConfig(kabupaten, tuple(parsed_opds), tuple(parsed), version, updated_at)


# ---------------------------------------------------------------------------------------------- the record
@dataclass
class Complaint:
    """One complaint or aspiration. `unit` is who handles it: {"type": "village"|"opd", "code": ...}."""

    id: str
    village: str
    kecamatan: str
    kabupaten: str
    kind: str
    category: str
    category_name: str
    title: str
    text: str
    public: bool
    status: str
    unit: dict[str, str]
    version: int
    created_at: str
    updated_at: str
    due_at: str
    sla_hours: int
    nik_hash: str
    village_name: str = ""
    lat: float | None = None
    lon: float | None = None
    photos: list[dict[str, Any]] = field(default_factory=list)
    resolved_at: str | None = None
    reopen_count: int = 0
    rating: int | None = None
    rating_comment: str | None = None
    hidden: bool = False
    # Who filed it, for staff only: name from the profile (may be empty), NIK masked, phone for notifications.
    reporter: dict[str, Any] = field(default_factory=dict)
    contact_phone: str | None = None
    # SLA escalation state {"for": due_at, "level": n}, as requests' (domain/escalation.py).
    sla: dict[str, Any] | None = None
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def unit_key(self) -> str:
        """"73.07.03.1001" for a village, "opd:dpupr" for an OPD."""
        return self.unit["code"] if self.unit["type"] == "village" else f"opd:{self.unit['code']}"


def unit_label(unit: dict[str, str], config: ComplaintConfig | None = None, village_name: str = "") -> str:
    if unit["type"] == "opd":
        opd = config.opd(unit["code"]) if config else None
        return opd.name if opd else unit["code"]
    return village_name or unit["code"]


# ---------------------------------------------------------------------------------------------- input checks
def clean_title(value: Any) -> str:
    if not isinstance(value, str) or find_forbidden_char(value, multiline=False) is not None:
        raise ValidationError("Judul satu baris, tanpa karakter kontrol.", code="invalid_title")
    text = " ".join(value.split())
    if not 5 <= len(text) <= MAX_TITLE:
        raise ValidationError(f"Judul harus 5 sampai {MAX_TITLE} karakter.", code="invalid_title")
    return text


def clean_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("Isi pengaduan harus berupa teks.", code="invalid_text")
    bad = find_forbidden_char(value.replace("\r\n", "\n"), multiline=True)
    if bad is not None or "\r" in value.replace("\r\n", ""):
        raise ValidationError("Isi pengaduan memuat karakter yang tidak diizinkan.", code="invalid_text")
    text = value.replace("\r\n", "\n").replace("\t", " ").strip()
    if len(text) < 10:
        raise ValidationError("Isi pengaduan paling sedikit 10 karakter.", code="invalid_text")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"Isi pengaduan paling banyak {MAX_TEXT} karakter.", code="text_too_long",
                              max_length=MAX_TEXT)
    return text


def check_location(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    """Both or neither; finite numbers inside Indonesia's bounds. Raises ValidationError(invalid_location)."""
    if lat is None and lon is None:
        return None, None
    for value in (lat, lon):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError("Lokasi harus berupa lat dan lon (angka), atau dikosongkan.",
                                  code="invalid_location")
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        raise ValidationError("Lokasi berada di luar wilayah Indonesia.", code="location_outside_indonesia")
    return round(float(lat), 6), round(float(lon), 6)


def check_note(note: Any, required: bool, label: str = "Catatan/alasan") -> str | None:
    if note is not None and not isinstance(note, str):
        raise ValidationError(f"{label} harus berupa teks.", code="invalid_note")
    text = (note or "").strip() or None
    if required and not text:
        raise ValidationError(f"{label} wajib diisi untuk aksi ini.", code="note_required")
    if text and len(text) > MAX_NOTE:
        raise ValidationError(f"{label} paling banyak {MAX_NOTE} karakter.", code="note_too_long")
    return text


# ---------------------------------------------------------------------------------------------- who may do what
@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the status stays
    actors: tuple[str, ...]  # "owner", "unit" (the handling unit's staff), "admin" (the kabupaten's admin)
    note_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("acknowledge", ("open",), "acknowledged", ("unit",)),
        Transition("start", ("open", "acknowledged"), "in_progress", ("unit",)),
        Transition("resolve", ("acknowledged", "in_progress"), "resolved", ("unit",), note_required=True),
        Transition("close", ("resolved",), "closed", ("owner", "unit")),
        Transition("reject", ACTIVE_STATUSES, "rejected", ("unit",), note_required=True),
        Transition("reopen", ("resolved",), "open", ("owner",), note_required=True),
        Transition("rate", ("resolved", "closed"), None, ("owner",)),
        Transition("reroute", ACTIVE_STATUSES, "open", ("unit", "admin"), note_required=True),
        Transition("hide", STATUSES, None, ("unit", "admin"), note_required=True),
        Transition("redact", STATUSES, None, ("unit", "admin"), note_required=True),
    )
}


def is_owner(principal: Principal, complaint: Complaint) -> bool:
    return principal.is_citizen and principal.subject == complaint.nik_hash


def is_unit_staff(principal: Principal, complaint: Complaint) -> bool:
    """The handling unit's officers: the village's operator/kades, or the assigned OPD's officers of the kabupaten."""
    if complaint.unit["type"] == "village":
        return principal.role in VILLAGE_STAFF and principal.region == complaint.unit["code"]
    return (principal.role == "opd" and principal.region == complaint.kabupaten
            and principal.unit == complaint.unit["code"])


def is_staff_reader(principal: Principal, complaint: Complaint) -> bool:
    """Staff who see the full record (reporter, moderation originals): the unit, the village's own staff, the camat
    of its kecamatan, the admin of its kabupaten. Everyone else sees at most the public view."""
    if is_unit_staff(principal, complaint):
        return True
    if principal.role in VILLAGE_STAFF:
        return principal.region == complaint.village
    if principal.role == "camat":
        return principal.region == complaint.kecamatan
    if principal.role == "admin":
        return within(principal.region, complaint.village)
    return False


def is_publicly_visible(complaint: Complaint) -> bool:
    return complaint.public and not complaint.hidden


def can_read(principal: Principal | None, complaint: Complaint) -> bool:
    if principal is not None and (is_owner(principal, complaint) or is_staff_reader(principal, complaint)):
        return True
    return is_publicly_visible(complaint)


def authorize(principal: Principal, complaint: Complaint, action: str) -> Transition:
    """Check the action exists, the actor may take it and the state allows it. Unreadable complaints are a 404.
    Raises ValidationError, NotFoundError, ForbiddenError, ConflictError."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError("Aksi tidak dikenal.", code="unknown_action", allowed=sorted(TRANSITIONS))
    if not can_read(principal, complaint):
        raise NotFoundError("Pengaduan tidak ditemukan.", code="complaint_not_found")
    allowed = (("owner" in transition.actors and is_owner(principal, complaint))
               or ("unit" in transition.actors and is_unit_staff(principal, complaint))
               or ("admin" in transition.actors and principal.role == "admin"
                   and within(principal.region, complaint.village)))
    if not allowed:
        raise ForbiddenError("Peran Anda tidak boleh melakukan aksi ini pada pengaduan ini.", code="forbidden_role")
    if complaint.status not in transition.sources:
        raise ConflictError(
            f"Pengaduan berstatus \u201c{STATUS_LABELS[complaint.status]}\u201d; aksi "
            f"\u201c{ACTION_LABELS[action]}\u201d tidak dapat dilakukan.",
            code="invalid_transition", status=complaint.status, action=action)
    return transition


def check_reopen_window(complaint: Complaint, now: datetime, days: int) -> None:
    """A resolved complaint can be reopened by its owner within `days` days of resolved_at."""
    if complaint.resolved_at is None or now > datetime.fromisoformat(complaint.resolved_at) + timedelta(days=days):
        raise ConflictError(f"Pengaduan hanya dapat dibuka kembali dalam {days} hari setelah selesai ditangani.",
                            code="reopen_window_closed", days=days)


def check_rating(rating: Any, comment: Any, complaint: Complaint) -> tuple[int, str | None]:
    if complaint.rating is not None:
        raise ConflictError("Penanganan pengaduan ini sudah dinilai.", code="already_rated")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError("Nilai harus bilangan bulat 1 sampai 5.", code="invalid_rating")
    return rating, check_note(comment, required=False, label="Komentar")


def check_reroute(complaint: Complaint, target: Any, config: ComplaintConfig) -> dict[str, str]:
    """The new unit: the complaint's own village, or an OPD of its kabupaten; not the current unit."""
    if not isinstance(target, dict) or set(target) - {"type", "code"} or target.get("type") not in ("village",
                                                                                                   "opd"):
        raise ValidationError("unit harus {\"type\": \"village\"} atau {\"type\": \"opd\", \"code\": ...}.",
                              code="invalid_unit")
    if target["type"] == "village":
        unit = {"type": "village", "code": complaint.village}
    else:
        code = target.get("code")
        if not isinstance(code, str) or config.opd(code) is None:
            raise UnprocessableError("OPD tidak dikenal di kabupaten ini.", code="unknown_opd")
        unit = {"type": "opd", "code": code}
    if unit == complaint.unit:
        raise ConflictError("Pengaduan sudah ditangani unit ini.", code="same_unit")
    return unit


REDACTED_TEXT = "[Isi disunting petugas: {reason}]"


def redaction_target(complaint: Complaint, target: Any) -> str:
    """"text", "title" or "photo:<id>" of a photo the complaint has. Raises ValidationError/NotFoundError."""
    if target in ("text", "title"):
        return str(target)
    if isinstance(target, str) and target.startswith("photo:"):
        photo_id = target[6:]
        if any(p.get("id") == photo_id for p in complaint.photos):
            return target
        raise NotFoundError("Foto tidak ditemukan.", code="photo_not_found")
    raise ValidationError("target harus \"text\", \"title\" atau \"photo:<id>\".", code="invalid_target")


def next_version(current: int) -> int:
    if current < 1:
        raise ValueError("versions start at 1")
    return current + 1


# ---------------------------------------------------------------------------------------------- notifications
def unit_audience(complaint: Complaint) -> dict[str, Any]:
    """The handling unit's staff: the village's operators, or the OPD's officers of the kabupaten."""
    if complaint.unit["type"] == "village":
        return {"kind": "staff", "region": complaint.unit["code"], "role": "operator"}
    return {"kind": "staff", "region": complaint.kabupaten, "role": "opd", "opd": complaint.unit["code"]}


def escalation_audience(level: int, complaint: Complaint) -> dict[str, Any]:
    """Reminder to the unit; past the SLA the camat (a village's complaint) or the admin (an OPD's); twice, the
    admin kabupaten."""
    if level <= 1:
        return unit_audience(complaint)
    if level == 2 and complaint.unit["type"] == "village":
        return {"kind": "staff", "region": kecamatan_of(complaint.village), "role": "camat"}
    return {"kind": "staff", "region": kabupaten_of(complaint.village), "role": "admin"}


def announcements(action: str, complaint: Complaint, note: str | None,
                  village_name: str = "", unit_name: str = "") -> list[dict[str, Any]]:
    """The outbox rows a change causes: (event, audience, payload). The citizen hears of every status change;
    the unit's staff of a new (or re-routed, or reopened) complaint."""
    citizen = {"kind": "citizen", "nik_hash": complaint.nik_hash, "phone": complaint.contact_phone}
    base = {"complaint_id": complaint.id, "village": complaint.village, "village_name": village_name or
            complaint.village, "title": complaint.title, "kind_label": KIND_LABELS[complaint.kind],
            "unit_name": unit_name or complaint.unit["code"], "category_name": complaint.category_name,
            # The short reference people read out (last 8 of the id).
            "reference": complaint.id[-8:]}
    rows: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if action == "file":
        rows = [("complaint_received", citizen, {}), ("new_complaint", unit_audience(complaint), {})]
    elif action in ("reroute", "reopen"):
        rows = [("complaint_status", citizen, {"status_label": STATUS_LABELS[complaint.status], "note": note or ""}),
                ("new_complaint", unit_audience(complaint), {"note": note or ""})]
    elif action in ("acknowledge", "start", "resolve", "close", "reject"):
        rows = [("complaint_status", citizen, {"status_label": STATUS_LABELS[complaint.status], "note": note or ""})]
    elif action == "hide":
        rows = [("complaint_moderated", citizen, {"note": note or ""})]
    return [{"event": event, "audience": audience, "payload": {**base, **extra}} for event, audience, extra in rows]


# ---------------------------------------------------------------------------------------------- defaults
# What a kabupaten starts with (local mode seeds it for the demo kabupaten; an admin adjusts it with
# PUT /v1/kabupaten/{code}/complaint-categories). Names as the agencies of a South Sulawesi kabupaten are called.
DEFAULT_OPDS: tuple[Opd, ...] = (
    Opd("dpupr", "Dinas Pekerjaan Umum dan Penataan Ruang (PUPR)"),
    Opd("dinkes", "Dinas Kesehatan"),
    Opd("disdik", "Dinas Pendidikan"),
    Opd("dlh", "Dinas Lingkungan Hidup"),
    Opd("dinsos", "Dinas Sosial"),
    Opd("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil"),
    Opd("dishub", "Dinas Perhubungan"),
)
DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("jalan_jembatan", "Jalan dan jembatan rusak", "opd:dpupr", 40),
    Category("drainase_banjir", "Drainase dan banjir", "opd:dpupr", 40),
    Category("air_bersih", "Air bersih", "opd:dpupr", 24),
    Category("kesehatan", "Layanan kesehatan dan puskesmas", "opd:dinkes", 16),
    Category("pendidikan", "Sekolah dan pendidikan", "opd:disdik", 40),
    Category("sampah_lingkungan", "Sampah dan lingkungan", "opd:dlh", 24),
    Category("bantuan_sosial", "Bantuan sosial", "opd:dinsos", 40),
    Category("adminduk", "KTP-el, KK dan akta", "opd:disdukcapil", 24),
    Category("lampu_jalan", "Lampu jalan dan perhubungan", "opd:dishub", 40),
    Category("pelayanan_desa", "Pelayanan kantor desa/kelurahan", "village", 16),
    Category("keamanan_ketertiban", "Keamanan dan ketertiban lingkungan", "village", 16),
    Category("infrastruktur_desa", "Sarana desa (jalan lingkungan, balai, posyandu)", "village", 40),
    Category("lainnya", "Lainnya", "village", 40),
)


def default_config(kabupaten: str, at: str | None = None) -> ComplaintConfig:
    return ComplaintConfig(kabupaten, DEFAULT_OPDS, DEFAULT_CATEGORIES, 1, at)

"""Open311 GeoReport v2 over complaints: pure rules (status map, W3C dates, query window, shapes, XML).

The specification (wiki.open311.org/GeoReport_v2, frozen) defines six methods; Balai serves discovery,
the service list and definitions, the request list and one request, and POST for partners with an api_key.
Everything here is pure: the services layer reads the data and hands it in; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.etree import ElementTree

from chalicelib.domain.inputs import find_forbidden_char

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The discovery document's changeset: raise it when the service list's shape or the definitions change.
CHANGESET = "2026-12-02 00:00"
FORMATS = {"json": "application/json", "xml": "text/xml"}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# "Default query limit is a span of 90 days or first 1000 requests returned, whichever is smallest."
WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
# service_request_id "overrides all other arguments": one BatchGetItem reads at most 100 keys.
MAX_IDS = 100
MAX_DESCRIPTION = 4000

# Balai's complaint states on the spec's two: open (it has been reported) and closed (it has been resolved).
OPEN_STATES = frozenset({"open", "acknowledged", "in_progress"})
CLOSED_STATES = frozenset({"resolved", "closed", "rejected"})
STATUSES = ("open", "closed")

SERVICE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
REQUEST_ID = re.compile(r"[0-9A-Za-z]{1,64}")
# W3C NOTE-datetime with a zone, as the spec demands: YYYY-MM-DDThh:mm[:ss[.s+]]TZD, ASCII digits only.
# A "+" left unencoded in a query string arrives as a space; it is read as the "+" it was.
_W3C = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?"
                  r"(Z|[+ -][0-9]{2}:[0-9]{2})")
# Characters XML 1.0 cannot carry at all (escaping does not help): they are dropped from XML output.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(Exception):
    """A failure answered as the spec's error array; `status` is the HTTP status (400, 403 or 404)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": self.description}]


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def forbidden(description: str) -> Open311Error:
    return Open311Error(403, description)


# ---- dates ----------------------------------------------------------------------------------------------
def parse_w3c(name: str, value: str) -> datetime:
    """A W3C date-time with its zone (the spec's "w3 format, eg 2010-01-01T00:00:00Z"); 400 otherwise."""
    match = _W3C.fullmatch(value) if value.isascii() else None
    if match is None:
        raise bad_request(f"{name} harus berformat W3C dengan zona waktu, mis. 2026-01-01T00:00:00Z "
                          f"atau 2026-01-01T08:00:00+08:00.")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if zone == "Z":
            tz = UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 14 or minutes > 59:
                raise ValueError("offset")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        micro = int((fraction or "0").ljust(6, "0")[:6])
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz)
    except ValueError:
        raise bad_request(f"{name} bukan tanggal dan jam yang ada.") from None


def w3c(value: datetime | None, zone: timezone | Any) -> str | None:
    """An instant in the kabupaten's zone with its offset, to the second (2026-12-01T09:30:00+08:00)."""
    if value is None:
        return None
    return value.astimezone(zone).replace(microsecond=0).isoformat()


# ---- the request list's query -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestQuery:
    """What GET requests asks for: either ids (which override everything else) or a window and filters."""

    ids: tuple[str, ...] = ()
    service_codes: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    limit: int = MAX_REQUESTS

    def matches(self, status: str, service_code: str) -> bool:
        """Whether a report in the window passes the status and service_code filters."""
        if self.statuses and open311_status(status) not in self.statuses:
            return False
        return not self.service_codes or service_code in self.service_codes


def _comma_list(name: str, value: str | None, pattern: re.Pattern[str], limit: int) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    parts = value.split(",")
    if len(parts) > limit:
        raise bad_request(f"{name} memuat lebih dari {limit} nilai.")
    for part in parts:
        if not part.isascii() or not pattern.fullmatch(part):
            raise bad_request(f"{name} memuat nilai yang tidak valid.")
    return tuple(dict.fromkeys(parts))


def parse_request_query(params: Mapping[str, str], now: datetime) -> RequestQuery:
    """The filters of GET requests, checked: the default window is the 90 days up to now; a window given
    by start_date and end_date may not span more than 90 days; one given by one end only extends 90 days
    from it. An empty parameter counts as absent ("Optional Arguments"). Raises Open311Error (400)."""
    ids = _comma_list("service_request_id", params.get("service_request_id"), REQUEST_ID, MAX_IDS)
    if ids:
        return RequestQuery(ids=ids)
    codes = _comma_list("service_code", params.get("service_code"), SERVICE_CODE, 50)
    statuses = _comma_list("status", params.get("status"), re.compile(r"[a-z]{1,16}"), 2)
    for status in statuses:
        if status not in STATUSES:
            raise bad_request("status hanya boleh open atau closed (dipisah koma).")
    start_raw, end_raw = params.get("start_date") or None, params.get("end_date") or None
    start = parse_w3c("start_date", start_raw) if start_raw else None
    end = parse_w3c("end_date", end_raw) if end_raw else None
    if start is None and end is None:
        end, start = now, now - WINDOW
    elif start is None and end is not None:
        start = end - WINDOW
    elif end is None and start is not None:
        end = start + WINDOW
    assert start is not None and end is not None
    if end < start:
        raise bad_request("end_date tidak boleh lebih awal dari start_date.")
    if end - start > WINDOW:
        raise bad_request("Rentang start_date sampai end_date tidak boleh lebih dari 90 hari.")
    return RequestQuery(service_codes=frozenset(codes), statuses=frozenset(statuses), start=start, end=end,
                        limit=MAX_REQUESTS)


def open311_status(status: str) -> str:
    """Balai's complaint state on the spec's open/closed."""
    return "closed" if status in CLOSED_STATES else "open"


# ---- shapes ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    """One complaint category as a GeoReport service."""

    code: str
    name: str
    description: str
    group: str
    keywords: str | None = None


@dataclass(frozen=True)
class Report:
    """What GeoReport publishes of one public complaint (nothing personal: no name, NIK or phone)."""

    id: str
    status: str
    service_code: str
    service_name: str
    description: str
    requested: datetime
    updated: datetime
    status_notes: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    expected: datetime | None = None
    address: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    media_url: str | None = None


def service_view(service: Service) -> dict[str, Any]:
    """A GET services entry, fields in the spec's order."""
    return {"service_code": service.code, "service_name": service.name, "description": service.description,
            "metadata": True, "type": "realtime", "keywords": service.keywords, "group": service.group}


@dataclass(frozen=True)
class Attribute:
    """A service definition attribute; `values` are (key, name) pairs for the list datatypes."""

    code: str
    datatype: str
    required: bool
    order: int
    description: str
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = field(default_factory=tuple)


# The attributes every complaint category takes besides description and location (POST requests.json).
ATTRIBUTES = (
    Attribute("title", "string", False, 1, "Judul singkat laporan (paling banyak 120 karakter).",
              "Teks satu baris; bila kosong, diambil dari awal deskripsi."),
    Attribute("kind", "singlevaluelist", False, 2, "Jenis laporan.", None,
              (("complaint", "Pengaduan"), ("aspiration", "Aspirasi"))),
    Attribute("public", "singlevaluelist", False, 3,
              "Tampilkan laporan ini untuk umum (tanpa nama dan kontak pelapor)?", None,
              (("true", "Ya, publik"), ("false", "Tidak, hanya petugas"))),
)


def service_definition(code: str) -> dict[str, Any]:
    return {"service_code": code, "attributes": [
        {"variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
         "datatype_description": a.datatype_description, "order": a.order, "description": a.description,
         "values": [{"key": k, "name": n} for k, n in a.values]} for a in ATTRIBUTES]}


def request_view(report: Report, zone: Any) -> dict[str, Any]:
    """A GET requests entry, fields in the spec's order; absent values are null (XML: empty elements)."""
    return {
        "service_request_id": report.id,
        "status": open311_status(report.status),
        "status_notes": report.status_notes,
        "service_name": report.service_name,
        "service_code": report.service_code,
        "description": report.description[:MAX_DESCRIPTION],
        "agency_responsible": report.agency_responsible,
        "service_notice": report.service_notice,
        "requested_datetime": w3c(report.requested, zone),
        "updated_datetime": w3c(report.updated, zone),
        "expected_datetime": w3c(report.expected, zone),
        "address": report.address,
        "address_id": None,
        "zipcode": report.zipcode,
        "lat": report.lat,
        "long": report.lon,
        "media_url": report.media_url,
    }


def discovery(endpoint_url: str, contact: str, key_service: str) -> dict[str, Any]:
    return {"changeset": CHANGESET, "contact": contact, "key_service": key_service,
            "endpoints": [{"specification": SPECIFICATION, "url": endpoint_url, "changeset": CHANGESET,
                           "type": "production", "formats": [FORMATS["xml"], FORMATS["json"]]}]}


# ---- POST requests.json -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewReport:
    """A partner's POST, checked: what the complaint is made of, and who reported it (for the daily limit)."""

    service_code: str
    description: str
    title: str
    kind: str
    public: bool
    lat: float | None
    lon: float | None
    address_string: str | None
    # Who reported it, as the partner knows them ("phone:0812…", "email:…", "account:…", "device:…"): the
    # service keys the daily limit on a keyed hash of it; it is never stored as is.
    reporter: str | None


_ATTRIBUTE_KEY = re.compile(r"attribute\[([A-Za-z0-9_]{1,32})\](\[\])?")
POST_FIELDS = frozenset({"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                         "email", "device_id", "account_id", "first_name", "last_name", "phone", "description",
                         "media_url"})


def _one(form: Mapping[str, list[str]], name: str, max_len: int, multiline: bool = False) -> str | None:
    values = form.get(name) or []
    if len(values) > 1:
        raise bad_request(f"{name} dikirim lebih dari sekali.")
    if not values or values[0] == "":
        return None
    value = values[0]
    if len(value) > max_len:
        raise bad_request(f"{name} terlalu panjang (paling banyak {max_len} karakter).")
    if find_forbidden_char(value, multiline) is not None:
        raise bad_request(f"{name} memuat karakter kontrol yang tidak diizinkan.")
    return value


_DECIMAL = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?")
# Indonesia's bounding box (WGS84), as the complaints' own location check.
LAT_RANGE = (-11.5, 6.5)
LON_RANGE = (94.5, 141.5)


def parse_new_report(form: Mapping[str, list[str]]) -> NewReport:
    """A POST requests body (form fields, each a list of values as parse_qs gives them), checked.

    The spec's location rule holds: lat & long together, or address_string, or address_id. Names and
    the device/account ids are not kept (see docs/open311.md). Raises Open311Error (400)."""
    attributes: dict[str, str] = {}
    for name in form:
        match = _ATTRIBUTE_KEY.fullmatch(name) if name.isascii() else None
        if match:
            if match.group(1) not in {a.code for a in ATTRIBUTES}:
                raise bad_request(f"attribute[{match.group(1)}] tidak dikenal untuk layanan ini.")
            value = _one(form, name, 120)
            if value is not None:
                attributes[match.group(1)] = value
        elif name not in POST_FIELDS:
            raise bad_request(f"Parameter {name[:40]!r} tidak dikenal.")
    service_code = _one(form, "service_code", 64)
    if service_code is None:
        raise bad_request("service_code wajib diisi.")
    if not service_code.isascii() or not SERVICE_CODE.fullmatch(service_code):
        raise not_found("service_code tidak ditemukan.")
    description = _one(form, "description", MAX_DESCRIPTION, multiline=True)
    if description is None or not description.strip():
        raise bad_request("description wajib diisi: uraikan masalahnya.")
    lat_raw, lon_raw = _one(form, "lat", 20), _one(form, "long", 20)
    address_string = _one(form, "address_string", 300)
    address_id = _one(form, "address_id", 64)
    lat = lon = None
    if lat_raw is not None or lon_raw is not None:
        if lat_raw is None or lon_raw is None:
            raise bad_request("lat dan long harus dikirim bersama.")
        if not (_DECIMAL.fullmatch(lat_raw) and _DECIMAL.fullmatch(lon_raw)):
            raise bad_request("lat dan long harus berupa angka desimal (WGS84).")
        lat, lon = float(lat_raw), float(lon_raw)
        if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
            raise bad_request("Lokasi (lat, long) berada di luar wilayah Indonesia.")
    elif address_string is None and address_id is None:
        raise bad_request("Lokasi wajib dikirim: lat dan long, atau address_string, atau address_id.")
    if address_id is not None and address_string is None and lat is None:
        address_string = f"address_id {address_id}"
    title = attributes.get("title") or _title_from(description)
    kind = attributes.get("kind", "complaint")
    if kind not in ("complaint", "aspiration"):
        raise bad_request("attribute[kind] hanya boleh complaint atau aspiration.")
    public_raw = attributes.get("public", "true")
    if public_raw not in ("true", "false"):
        raise bad_request("attribute[public] hanya boleh true atau false.")
    phone, email = _one(form, "phone", 32), _one(form, "email", 254)
    account_id, device_id = _one(form, "account_id", 128), _one(form, "device_id", 128)
    for name in ("first_name", "last_name", "media_url"):
        _one(form, name, 500)  # checked for size and control characters, then not kept
    reporter = (f"phone:{''.join(ch for ch in phone if ch.isascii() and ch.isdigit())}" if phone
                else f"email:{email.strip().lower()}" if email
                else f"account:{account_id}" if account_id else f"device:{device_id}" if device_id else None)
    return NewReport(service_code=service_code, description=description.strip(), title=title, kind=kind,
                     public=public_raw == "true", lat=lat, lon=lon, address_string=address_string,
                     reporter=reporter)


def _title_from(description: str) -> str:
    first = description.strip().splitlines()[0].strip()
    return first if len(first) <= 80 else first[:77].rstrip() + "..."


# ---- partner API keys -----------------------------------------------------------------------------------
KEY_ID = re.compile(r"[0-9a-f]{16}")
_KEY = re.compile(r"b311_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


def new_api_key() -> tuple[str, str, str]:
    """(key id, the key to hand to the partner once, the hash to store). The key is 256 random bits, so a
    plain SHA-256 is enough to store it: nothing to brute-force."""
    key_id = secrets.token_hex(8)
    key = f"b311_{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, key, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str | None) -> str | None:
    """The id a well-formed key names (to look its hash up by), or None for anything else."""
    if not key or not key.isascii():
        return None
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(key_hash(key), stored_hash)


# ---- XML ------------------------------------------------------------------------------------------------
# The Spark convention's element names for each list: the JSON array `services` is <services><service>…
LIST_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
              "values": "value", "endpoints": "endpoint", "formats": "format"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, list):
                container = ElementTree.SubElement(element, key)
                for entry in item:
                    _fill(ElementTree.SubElement(container, LIST_ITEMS[key]), entry)
            else:
                _fill(ElementTree.SubElement(element, key), item)
    else:
        element.text = _text(value)


def to_xml(root: str, body: Any) -> str:
    """XML with the declaration the spec asks for; a list body becomes <root><item>… (Spark convention).
    ElementTree escapes &, < and >; characters XML cannot carry at all are dropped."""
    element = ElementTree.Element(root)
    if isinstance(body, list):
        for entry in body:
            _fill(ElementTree.SubElement(element, LIST_ITEMS[root]), entry)
    else:
        _fill(element, body)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="unicode")


def render(fmt: str, root: str, body: Any) -> str:
    """The body in the asked format: JSON as the spec's examples (a list at the top), or XML."""
    import json

    if fmt == "xml":
        return to_xml(root, body)
    return json.dumps(body, ensure_ascii=False)


def services_of(services: Iterable[Service]) -> list[dict[str, Any]]:
    return [service_view(s) for s in services]


@dataclass(frozen=True)
class ApiKey:
    """A partner's key as stored: its hash, never the key itself."""

    key_id: str
    kabupaten: str
    partner: str
    key_hash: str
    active: bool
    created_at: str
    created_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None

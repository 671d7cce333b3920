"""Open311 GeoReport v2 use cases: discovery, services, requests (list, one, POST by partners), partner keys.

Every failure a GeoReport client can get is an Open311Error (the spec's error array and HTTP status); the
partner-key admin API, which Balai's own console uses, raises AppError like the rest of /v1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.config import get_settings
from chalicelib.domain import open311 as rules
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.complaints import STATUS_LABELS, Complaint, ComplaintConfig, is_publicly_visible, unit_label
from chalicelib.domain.inputs import VILLAGE_CODE, find_forbidden_char
from chalicelib.domain.regions import Region, kabupaten_of, kecamatan_of, level_of, within
from chalicelib.domain.requests import Principal
from chalicelib.errors import AppError, ForbiddenError, NotFoundError, ValidationError
from chalicelib.storage import complaints as complaints_repo
from chalicelib.storage import open311 as repo

# Shown in discovery.json: how to reach the kabupaten's Diskominfo and how a partner gets a key.
CONTACT = "Diskominfo kabupaten pengelola Balai (lihat profil desa untuk alamat dan telepon kantor)."
KEY_SERVICE = ("Kunci API (api_key) diberikan admin kabupaten (Diskominfo) kepada mitra melalui konsol petugas "
               "Balai; hanya diperlukan untuk POST requests.")


# ---- jurisdiction -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Jurisdiction:
    """An active village serving GeoReport, with what its reports show (names, zone, categories)."""

    village: Region
    address: str
    zone: ZoneInfo
    config: ComplaintConfig | None


def jurisdiction(value: str | None) -> Jurisdiction:
    """The active village a jurisdiction_id names (the endpoint serves every village, so it is required):
    400 when absent, 404 when it is not an active village."""
    if value is None or value == "":
        raise rules.bad_request("jurisdiction_id wajib diisi: kode desa/kelurahan, mis. 73.07.03.1001.")
    if not value.isascii() or not VILLAGE_CODE.fullmatch(value):
        raise rules.not_found("jurisdiction_id tidak ditemukan: gunakan kode desa/kelurahan, mis. 73.07.03.1001.")
    found = repo.place(value, kecamatan_of(value), kabupaten_of(value))
    village = found.village
    if village is None or not village.active or level_of(village.code) not in ("desa", "kelurahan"):
        raise rules.not_found(f"jurisdiction_id {value} tidak ditemukan atau belum aktif di Balai.")
    parts = [f"{village.level.capitalize()} {village.name}"]
    if found.kecamatan is not None:
        parts.append(f"Kecamatan {found.kecamatan.name}")
    if found.kabupaten is not None:
        parts.append(found.kabupaten.name)
    return Jurisdiction(village, ", ".join(parts), ZoneInfo(village.timezone), found.config)


def _services(place: Jurisdiction) -> list[rules.Service]:
    config = place.config
    if config is None:
        return []
    found = []
    for c in config.categories:
        unit = unit_label(c.unit(place.village.code), config, place.village.name)
        found.append(rules.Service(code=c.code, name=c.name, group=unit,
                                   description=f"{c.name}: ditangani {unit}, target {c.sla_hours} jam kerja."))
    return found


def services(jurisdiction_id: str | None) -> list[dict[str, Any]]:
    return rules.services_of(_services(jurisdiction(jurisdiction_id)))


def service_definition(jurisdiction_id: str | None, code: str) -> dict[str, Any]:
    place = jurisdiction(jurisdiction_id)
    if not any(s.code == code for s in _services(place)):
        raise rules.not_found(f"service_code {code} tidak ditemukan di {place.village.name}.")
    return rules.service_definition(code)


def discovery() -> dict[str, Any]:
    return rules.discovery(f"{get_settings().public_base_url}/open311/v2", CONTACT, KEY_SERVICE)


# ---- requests -------------------------------------------------------------------------------------------------
def media_url(complaint: Complaint) -> str | None:
    """A stable public URL of the complaint's first photo not withheld by moderation (it answers with a short-lived
    link to the image), or None."""
    photo = next((p for p in complaint.photos if not p.get("hidden")), None)
    if photo is None:
        return None
    return f"{get_settings().public_base_url}/open311/v2/media/{complaint.id}/{photo['id']}"


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def report(complaint: Complaint, place: Jurisdiction) -> rules.Report:
    """What GeoReport shows of a public complaint: the moderated title and text, no reporter, no notes."""
    unit = unit_label(complaint.unit, place.config, place.village.name)
    category = place.config.category(complaint.category) if place.config else None
    hours = complaint.sla_hours
    notice = (f"Ditangani {unit}; target penyelesaian {hours} jam kerja sejak laporan diterima."
              if complaint.status in rules.OPEN_STATES else None)
    return rules.Report(
        id=complaint.id, status=complaint.status, service_code=complaint.category,
        service_name=category.name if category else complaint.category_name,
        description=f"{complaint.title}\n\n{complaint.text}",
        requested=datetime.fromisoformat(complaint.created_at), updated=datetime.fromisoformat(complaint.updated_at),
        status_notes=STATUS_LABELS.get(complaint.status, complaint.status).capitalize(),
        agency_responsible=unit, service_notice=notice,
        expected=_parse_time(complaint.due_at) if complaint.status in rules.OPEN_STATES else None,
        address=place.address, zipcode=_postcode(place.village), lat=complaint.lat, lon=complaint.lon,
        media_url=media_url(complaint))


def _postcode(village: Region) -> str | None:
    value = village.settings.get("postcode") if village.settings else None
    return str(value) if value else None


def list_requests(params: Mapping[str, str]) -> list[dict[str, Any]]:
    """GET requests: the village's public complaints in the window (default the last 90 days), newest first, at
    most 1 000; or the public ones among the ids asked for (which override every other filter)."""
    place = jurisdiction(params.get("jurisdiction_id"))
    query = rules.parse_request_query(params, utcnow())
    if query.ids:
        found = [c for c in repo.by_ids(query.ids) if c.village == place.village.code and is_publicly_visible(c)]
    else:
        assert query.start is not None and query.end is not None
        statuses: set[str] = set()
        for status in query.statuses:
            statuses |= rules.OPEN_STATES if status == "open" else rules.CLOSED_STATES
        found = list(repo.public_window(place.village.code, iso(query.start), iso(query.end), frozenset(statuses),
                                        query.service_codes, query.limit))
    return [rules.request_view(report(c, place), place.zone) for c in found if is_publicly_visible(c)]


def get_request(jurisdiction_id: str | None, request_id: str) -> list[dict[str, Any]]:
    """GET requests/{id}: one public complaint of the village (a list of one, as the spec shows); 404 otherwise,
    the same for a private, hidden, unknown or another village's complaint."""
    place = jurisdiction(jurisdiction_id)
    if not request_id.isascii() or not rules.REQUEST_ID.fullmatch(request_id):
        raise rules.not_found("service_request_id tidak ditemukan.")
    complaint = complaints_repo.get(request_id, consistent=False)
    if complaint is None or complaint.village != place.village.code or not is_publicly_visible(complaint):
        raise rules.not_found(f"service_request_id {request_id} tidak ditemukan.")
    return [rules.request_view(report(complaint, place), place.zone)]


# ---- partner keys (admin API, /v1) ------------------------------------------------------------------------------
def _key_view(key: rules.ApiKey) -> dict[str, Any]:
    return {"id": key.key_id, "kabupaten": key.kabupaten, "partner": key.partner, "active": key.active,
            "created_at": key.created_at, "created_by": key.created_by, "revoked_at": key.revoked_at,
            "revoked_by": key.revoked_by}


def _admin_of(principal: Principal, kabupaten: str) -> None:
    if principal.role != "admin":
        raise ForbiddenError("Hanya admin kabupaten yang mengelola kunci API Open311.", code="forbidden_role")
    if level_of(kabupaten) != "kabupaten" or not within(principal.region, kabupaten):
        raise NotFoundError("Kabupaten tidak ditemukan.", code="region_not_found")


def create_key(principal: Principal, kabupaten: str, partner: Any) -> dict[str, Any]:
    """Issue a key for a partner of the admin's kabupaten. The key is in this answer only: Balai keeps its hash.
    Raises ForbiddenError, NotFoundError, ValidationError(invalid_partner)."""
    _admin_of(principal, kabupaten)
    if (not isinstance(partner, str) or find_forbidden_char(partner, multiline=False) is not None
            or not 2 <= len(" ".join(partner.split())) <= 80):
        raise ValidationError("Nama mitra harus 2 sampai 80 karakter, satu baris.", code="invalid_partner")
    key_id, key, stored_hash = rules.new_api_key()
    record = rules.ApiKey(key_id=key_id, kabupaten=kabupaten, partner=" ".join(partner.split()),
                          key_hash=stored_hash, active=True, created_at=iso(utcnow()), created_by=principal.subject)
    repo.put(record)
    return {**_key_view(record), "api_key": key}


def list_keys(principal: Principal, kabupaten: str) -> dict[str, Any]:
    _admin_of(principal, kabupaten)
    return {"items": [_key_view(k) for k in repo.list_for(kabupaten)], "next": None}


def revoke_key(principal: Principal, kabupaten: str, key_id: str) -> dict[str, Any]:
    """Revoke at once: the next POST with it is a 403. Another kabupaten's key is a 404."""
    _admin_of(principal, kabupaten)
    existing = repo.get(key_id) if rules.KEY_ID.fullmatch(key_id) else None
    if existing is None or existing.kabupaten != kabupaten:
        raise NotFoundError("Kunci API tidak ditemukan.", code="api_key_not_found")
    revoked = repo.revoke(key_id, iso(utcnow()), principal.subject)
    assert revoked is not None
    return _key_view(revoked)


def partner_for(api_key: str | None, village: str) -> rules.ApiKey:
    """The active key a POST carries, if it belongs to the village's kabupaten; 403 otherwise (the spec's status
    for a missing or invalid api_key)."""
    key_id = rules.key_id_of(api_key)
    if api_key is None or api_key == "":
        raise rules.forbidden("api_key wajib dikirim untuk membuat laporan.")
    record = repo.get(key_id) if key_id else None
    assert api_key is not None
    if record is None or not rules.key_matches(api_key, record.key_hash) or not record.active:
        raise rules.forbidden("api_key tidak valid atau sudah dicabut.")
    if record.kabupaten != kabupaten_of(village):
        raise rules.forbidden("api_key ini tidak berlaku untuk jurisdiction_id tersebut.")
    return record


# ---- POST requests (partners) -----------------------------------------------------------------------------------
def _reporter_subject(partner: rules.ApiKey, new: rules.NewReport) -> str:
    """Who the daily limit counts: the reporter as the partner knows them (phone, e-mail, account or device id),
    keyed-hashed so neither Balai's table nor its logs hold the contact in clear."""
    import hashlib
    import hmac

    from chalicelib.config import get_secrets

    assert new.reporter is not None
    digest = hmac.new(get_secrets().jwt_key.encode(), f"open311-reporter:{partner.key_id}:{new.reporter}".encode(),
                      hashlib.sha256).hexdigest()[:40]
    return f"open311:{partner.key_id}:{digest}"


def post_request(form: Mapping[str, list[str]], idempotency_key: str | None) -> list[dict[str, Any]]:
    """POST requests: a partner files a complaint in the village for one of its users. The spec's answer: the new
    service_request_id (realtime) with its service_notice; account_id stays null (Balai keeps no partner account).
    The daily limit counts per reporter; an Idempotency-Key header makes a retry return the first report."""
    from chalicelib.services import complaints as filing

    jurisdiction_values = form.get("jurisdiction_id") or []
    if len(jurisdiction_values) > 1:
        raise rules.bad_request("jurisdiction_id dikirim lebih dari sekali.")
    place = jurisdiction(jurisdiction_values[0] if jurisdiction_values else None)
    api_keys = form.get("api_key") or []
    partner = partner_for(api_keys[0] if len(api_keys) == 1 else None, place.village.code)
    new = rules.parse_new_report(form)
    if place.config is None or place.config.category(new.service_code) is None:
        raise rules.not_found(f"service_code {new.service_code} tidak ditemukan di {place.village.name}.")
    if new.reporter is None:
        raise rules.bad_request("Kirim phone, email, account_id atau device_id pelapor: batas laporan harian "
                                "dihitung per pelapor.")
    who = Principal(role="citizen", region=place.village.code, subject=_reporter_subject(partner, new), name="")
    text = new.description if new.address_string is None else f"{new.description}\n\nLokasi: {new.address_string}"
    body: dict[str, Any] = {"kind": new.kind, "category": new.service_code, "title": new.title, "text": text,
                            "lat": new.lat, "lon": new.lon, "photos": [], "public": new.public}
    try:
        complaint, _created = filing.file(who, place.village.code, body, idempotency_key)
    except AppError as exc:
        raise _as_open311(exc) from None
    notice = report(complaint, place).service_notice
    return [{"service_request_id": complaint.id, "service_notice": notice, "account_id": None}]


def _as_open311(exc: AppError) -> rules.Open311Error:
    """Balai's errors on the spec's statuses: 403 and 404 stay, a rate limit stays 429, the rest is 400."""
    status = exc.status if exc.status in (403, 404, 429) or exc.status >= 500 else 400
    return rules.Open311Error(status, exc.message)


def media_link(complaint_id: str, photo_id: str) -> str:
    """A short-lived link to a public complaint's photo that moderation has not withheld; 404 otherwise."""
    from chalicelib.services import complaints as complaints_service

    try:
        link = complaints_service.photo_link(None, complaint_id, photo_id)
    except AppError as exc:
        raise _as_open311(exc) from None
    return str(link["url"])

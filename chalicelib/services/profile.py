"""The citizen's applicant profile: read, update (checked against the NIK), snapshot for requests."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.nik import parse_nik
from chalicelib.domain.regions import Region
from chalicelib.domain.requests import Principal
from chalicelib.domain.residents import Resident
from chalicelib.errors import ForbiddenError, NotFoundError, UnprocessableError, ValidationError
from chalicelib.storage import people

PROFILE_FIELDS = ("name", "birth_place", "birth_date", "sex", "religion", "marital_status", "occupation",
                  "address", "rt", "rw", "kk_number")
PROFILE_REQUIRED = ("name", "birth_place", "birth_date", "sex", "religion", "marital_status", "occupation",
                    "address")
RELIGIONS = ("Islam", "Kristen", "Katolik", "Hindu", "Buddha", "Khonghucu", "Kepercayaan")
MARITAL = ("Belum Kawin", "Kawin", "Cerai Hidup", "Cerai Mati")
SEX_LABEL = {"L": "Laki-laki", "P": "Perempuan"}


def _citizen(principal: Principal) -> people.Citizen:
    if not principal.is_citizen:
        raise ForbiddenError("Hanya untuk warga.", code="forbidden_role")
    citizen = people.get_citizen(principal.subject)
    if citizen is None:
        raise NotFoundError("Data warga tidak ditemukan; silakan masuk kembali.", code="citizen_not_found")
    return citizen


def merged_profile(citizen: people.Citizen, resident: Resident | None) -> dict[str, Any]:
    """What a letter prints: the village register's data where it has them, the citizen's own entries elsewhere."""
    return {**citizen.profile, **(resident.profile() if resident else {})}


def _register_row(citizen: people.Citizen) -> Resident | None:
    from chalicelib.services.residents import register_record

    return register_record(citizen.nik_hash)


def get_profile(principal: Principal) -> dict[str, Any]:
    """The applicant data. A citizen whose NIK is in a village register gets the register's data, which they
    cannot change themselves (`register.locked_fields`); the village office corrects the register."""
    citizen = _citizen(principal)
    resident = _register_row(citizen)
    profile = merged_profile(citizen, resident)
    register = None
    if resident is not None:
        register = {"village": resident.village, "locked_fields": sorted(resident.profile()),
                    "updated_at": resident.updated_at}
    return {"nik": citizen.nik, "phone": citizen.phone, "version": citizen.version,
            **{k: profile.get(k) for k in PROFILE_FIELDS},
            "complete": all(profile.get(k) for k in PROFILE_REQUIRED), "in_register": resident is not None,
            "register_entry": register}


def _same(field: str, a: Any, b: Any) -> bool:
    if field in ("rt", "rw") and str(a).isdigit() and str(b).isdigit():
        return int(a) == int(b)
    return str(a).strip() == str(b).strip()


def update_profile(principal: Principal, data: dict[str, Any], version: int) -> dict[str, Any]:
    """Replace the profile; birth date and sex must agree with the NIK, and fields the village register holds
    cannot be changed here (422 register_field_locked). Raises ValidationError, UnprocessableError, ConflictError."""
    citizen = _citizen(principal)
    resident = _register_row(citizen)
    locked = resident.profile() if resident else {}
    differing = [k for k, v in locked.items() if data.get(k) not in (None, "") and not _same(k, data[k], v)]
    if differing:
        raise UnprocessableError(
            "Data ini tercatat dalam data penduduk desa dan hanya dapat diubah oleh kantor desa/kelurahan.",
            code="register_field_locked",
            fields=[{"field": k, "message": "sesuai data penduduk desa: tidak dapat diubah sendiri"}
                    for k in differing])
    info = parse_nik(citizen.nik)
    errors = []
    birth = date.fromisoformat(data["birth_date"]) if data.get("birth_date") else None
    if birth and birth != info.birth_date:
        errors.append({"field": "birth_date", "message": "Tanggal lahir tidak sesuai dengan NIK."})
    if data.get("sex") and data["sex"] != info.sex:
        errors.append({"field": "sex", "message": "Jenis kelamin tidak sesuai dengan NIK."})
    if data.get("kk_number") and not re.fullmatch(r"\d{16}", data["kk_number"]):
        errors.append({"field": "kk_number", "message": "Nomor KK harus 16 angka."})
    if errors:
        raise ValidationError("Profil tidak sesuai dengan NIK.", code="profile_mismatch_nik", fields=errors)
    profile = {k: data.get(k) for k in PROFILE_FIELDS if data.get(k) not in (None, "")}
    new_version = people.save_profile(principal.subject, profile, version, iso(utcnow()))
    return {**get_profile(principal), "version": new_version}


def applicant_snapshot(citizen: people.Citizen, village: Region, resident: Resident | None = None) -> dict[str, Any]:
    """The applicant block as it was at submission (register data first); letters print this, not the live profile."""
    p = merged_profile(citizen, resident)
    return {
        "nik": citizen.nik, "name": p.get("name"), "birth_place": p.get("birth_place"),
        "birth_date": p.get("birth_date"), "sex": p.get("sex"), "religion": p.get("religion"),
        "marital_status": p.get("marital_status"), "occupation": p.get("occupation"),
        "address": p.get("address"), "rt": p.get("rt"), "rw": p.get("rw"), "kk_number": p.get("kk_number"),
        "desa": village.name, "desa_kind": village.level,
        "kecamatan": village.settings.get("kecamatan_name", ""),
        "kabupaten": village.settings.get("kabupaten_name", ""),
    }

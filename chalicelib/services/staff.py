"""Staff accounts: sessions, the accounts API (create, disable, enable, reset), own password and profile."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib import auth
from chalicelib.domain import staff as rules
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.regions import validate_code, within
from chalicelib.domain.requests import Principal
from chalicelib.errors import ForbiddenError, NotFoundError, UnauthorizedError, ValidationError
from chalicelib.observability import logger
from chalicelib.storage import people
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import staff as repo
from chalicelib.storage.staff import StaffEvent

# ---------------------------------------------------------------------------------------------- sessions


def ensure_session(principal: Principal) -> None:
    """A staff token is good only while its account is active and its session version is current: one
    GetItem per request, so deactivation and password changes end sessions at once.

    Raises UnauthorizedError(session_ended).
    """
    if principal.is_citizen:
        return
    state = repo.session_state(principal.subject)
    if state is None or not state.active or state.session_version != principal.session_version:
        raise UnauthorizedError("Sesi Anda telah berakhir, silakan masuk kembali.", code="session_ended")


# ---------------------------------------------------------------------------------------------- views


def _view(staff: people.Staff, with_history: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": staff.username, "role": staff.role, "region": staff.region, "name": staff.name,
        "position": staff.position, "nip": staff.nip, "active": staff.active, "version": staff.version,
    }
    if staff.opd:
        body["opd"] = staff.opd
    if with_history:
        body["history"] = repo.history(staff.username)
    return body


def _event(principal: Principal, action: str, changes: tuple[str, ...] = ()) -> StaffEvent:
    return StaffEvent(at=iso(utcnow()), actor=principal.subject, actor_role=principal.role, action=action,
                      changes=changes)


def _managed(principal: Principal, username: str) -> people.Staff:
    """The account, if the caller manages it: outside the caller's region it does not exist (404)."""
    name = rules.normalize_username(username)
    if principal.role not in rules.MANAGED_ROLES:
        raise ForbiddenError("Peran Anda tidak boleh mengelola akun petugas.", code="forbidden_role")
    staff = people.get_staff(name)
    if staff is None or not within(principal.region, staff.region):
        raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found")
    rules.ensure_manages(principal.role, principal.region, staff.role, staff.region)
    return staff


def _region_for(role: str, region_code: str) -> None:
    """The region exists and suits the role's level (issue 9.6). Raises ValidationError, NotFoundError."""
    validate_code(region_code)
    region = regions_repo.get(region_code)
    if region is None:
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    rules.check_role_region(role, region.code)


# ---------------------------------------------------------------------------------------------- accounts


def new_account(username: str, password: str, role: str, region: str, name: str, position: str,
                nip: str | None = None, phone: str | None = None, email: str | None = None,
                opd: str | None = None) -> people.Staff:
    """A validated account (not yet stored): for the API and the ops CLI alike. An `opd` officer names an OPD of
    the kabupaten's complaint configuration; no other role has one. Raises ValidationError,
    NotFoundError(region_not_found)."""
    _region_for(role, region)
    rules.check_password(password)
    if role == "opd":
        from chalicelib.storage import complaints as complaints_repo

        config = complaints_repo.get_config(region, consistent=True)
        if not isinstance(opd, str) or config is None or config.opd(opd) is None:
            raise ValidationError("Akun opd harus menyebut kode OPD yang terdaftar di kabupaten ini.",
                                  code="invalid_opd")
    elif opd is not None:
        raise ValidationError("Hanya akun opd yang menyebut kode OPD.", code="invalid_opd")
    return people.Staff(rules.normalize_username(username), auth.hash_password(password), role, region,
                        rules.clean_name(name), position=rules.clean_position(position), phone=phone, email=email,
                        nip=rules.validate_nip(nip), opd=opd)


def list_staff(principal: Principal, region_code: str) -> dict[str, Any]:
    """The accounts scoped to exactly this region (one Query), for whoever manages that region."""
    validate_code(region_code)
    if principal.role not in rules.MANAGED_ROLES:
        raise ForbiddenError("Peran Anda tidak boleh mengelola akun petugas.", code="forbidden_role")
    if not within(principal.region, region_code) or regions_repo.get(region_code) is None:
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    managed = rules.MANAGED_ROLES[principal.role]
    items = [_view(s) for s in people.staff_in_region(region_code) if s.role in managed]
    return {"region": region_code, "items": sorted(items, key=lambda s: (s["role"], s["username"])), "next": None}


def create(principal: Principal, region_code: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a staff account in a region the caller manages. Raises ForbiddenError, NotFoundError,
    ValidationError, ConflictError(username_taken)."""
    validate_code(region_code)
    if principal.role not in rules.MANAGED_ROLES:
        raise ForbiddenError("Peran Anda tidak boleh mengelola akun petugas.", code="forbidden_role")
    if not within(principal.region, region_code):
        raise NotFoundError("Wilayah tidak ditemukan.", code="region_not_found")
    rules.ensure_manages(principal.role, principal.region, data["role"], region_code)
    staff = new_account(data["username"], data["password"], data["role"], region_code, data["name"],
                        data["position"], data.get("nip"), opd=data.get("opd"))
    repo.create(staff, _event(principal, "create", ("name", "position", "nip", "role", "region")))
    logger.info("staff created", extra={"username": staff.username, "role": staff.role, "region": staff.region,
                                        "by": principal.subject})
    return _view(staff, with_history=True)


def get(principal: Principal, username: str) -> dict[str, Any]:
    """One account with its audit history: its manager, or the account holder."""
    if not principal.is_citizen and rules.normalize_username(username) == principal.subject:
        staff = people.get_staff(principal.subject)
        if staff is None:
            raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found")
        return _view(staff, with_history=True)
    return _view(_managed(principal, username), with_history=True)


def update(principal: Principal, username: str, changes: dict[str, Any], version: int) -> dict[str, Any]:
    """The manager changes name, jabatan, NIP or active (disable/enable). Disabling ends the account's
    sessions at once. Raises ForbiddenError, NotFoundError, ValidationError, ConflictError(stale_version)."""
    staff = _managed(principal, username)
    if not changes:
        raise ValidationError("Tidak ada perubahan.", code="no_changes")
    if "active" in changes and staff.username == principal.subject:
        raise ForbiddenError("Anda tidak dapat menonaktifkan akun Anda sendiri.", code="own_account")
    kwargs = _profile_kwargs(changes)
    active = changes.get("active")
    if active is not None:
        kwargs["active"] = bool(active)
        kwargs["end_sessions"] = not active
    action = "update_profile"
    if active is False and staff.active:
        action = "disable"
    elif active is True and not staff.active:
        action = "enable"
    repo.update(staff.username, version, _event(principal, action, tuple(sorted(changes))), **kwargs)
    logger.info("staff changed", extra={"username": staff.username, "action": action, "by": principal.subject,
                                        "changes": sorted(changes)})
    return get(principal, staff.username)


def _profile_kwargs(changes: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if changes.get("name") is not None:
        kwargs["name"] = rules.clean_name(changes["name"])
    if changes.get("position") is not None:
        kwargs["position"] = rules.clean_position(changes["position"])
    if "nip" in changes:
        nip = rules.validate_nip(changes["nip"])
        kwargs["nip"] = nip
        kwargs["clear_nip"] = nip is None
    return kwargs


def reset_password(principal: Principal, username: str) -> dict[str, Any]:
    """The manager sets a fresh random password (shown once) and ends the account's sessions."""
    staff = _managed(principal, username)
    if staff.username == principal.subject:
        raise ForbiddenError("Ubah kata sandi Anda sendiri melalui /v1/me/password.", code="own_account")
    password = secrets.token_urlsafe(12)
    repo.update(staff.username, staff.version, _event(principal, "password_reset", ("password",)),
                password_hash=auth.hash_password(password), end_sessions=True)
    logger.info("staff password reset", extra={"username": staff.username, "by": principal.subject})
    return {"username": staff.username, "temporary_password": password,
            "message": "Sampaikan kata sandi sementara ini langsung kepada petugas; sesi lamanya telah diakhiri."}


# ---------------------------------------------------------------------------------------------- own account


def _own(principal: Principal) -> people.Staff:
    if principal.is_citizen:
        raise ForbiddenError("Hanya untuk petugas.", code="forbidden_role")
    staff = people.get_staff(principal.subject)
    if staff is None:
        raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found")
    return staff


def change_own_password(principal: Principal, current: str, new: str) -> dict[str, Any]:
    """Needs the current password; ends every session of the account, this one included, and answers a
    fresh token so the caller stays signed in. Raises UnauthorizedError(invalid_credentials), ValidationError."""
    staff = _own(principal)
    if not auth.verify_password(current, staff.password_hash):
        logger.info("own password change refused", extra={"username": staff.username})
        raise UnauthorizedError("Kata sandi saat ini salah.", code="invalid_credentials")
    rules.check_password(new)
    if new == current:
        raise ValidationError("Kata sandi baru harus berbeda.", code="weak_password")
    repo.update(staff.username, staff.version, _event(principal, "password_change", ("password",)),
                password_hash=auth.hash_password(new), end_sessions=True)
    logger.info("own password changed", extra={"username": staff.username})
    renewed = Principal(role=staff.role, region=staff.region, subject=staff.username, name=staff.name,
                        session_version=staff.session_version + 1, unit=staff.opd or "")
    token, ttl = auth.issue_token(renewed)
    return {"changed": True, "token": token, "expires_in": ttl, "role": staff.role, "region": staff.region}


def get_own_profile(principal: Principal) -> dict[str, Any]:
    return _view(_own(principal))


def update_own_profile(principal: Principal, changes: dict[str, Any], version: int) -> dict[str, Any]:
    """Name and jabatan; the NIP is an official identifier checked against the appointment decree, so only
    the account's manager (admin/camat) sets it. Raises ValidationError, ForbiddenError, ConflictError."""
    staff = _own(principal)
    if "nip" in changes:
        raise ForbiddenError("NIP hanya dapat diubah oleh admin kabupaten atau camat.", code="nip_managed")
    if not changes:
        raise ValidationError("Tidak ada perubahan.", code="no_changes")
    repo.update(staff.username, version, _event(principal, "update_profile", tuple(sorted(changes))),
                **_profile_kwargs(changes))
    logger.info("own staff profile changed", extra={"username": staff.username, "changes": sorted(changes)})
    return get_own_profile(principal)

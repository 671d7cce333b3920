"""Repository of citizens (profile, phone binding), one-time codes and staff accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.errors import ConflictError, TooManyRequestsError
from chalicelib.storage import keys
from chalicelib.storage.codec import indexed_items, plain
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import CitizenItem, CodeItem, EmailCodeItem, OtpItem, StaffItem


@dataclass
class Citizen:
    nik_hash: str
    nik: str
    phone: str | None
    profile: dict[str, Any]
    version: int
    email: str | None = None
    email_verified: bool = False  # the citizen typed the code sent to `email`


@dataclass
class Staff:
    username: str
    password_hash: str
    role: str
    region: str
    name: str
    position: str | None = None
    phone: str | None = None
    email: str | None = None
    active: bool = True
    preferences: dict[str, Any] | None = None
    nip: str | None = None
    session_version: int = 1
    version: int = 1
    # Role `opd` only: the OPD's code within the kabupaten.
    opd: str | None = None


def citizen_from_item(item: CitizenItem, nik_hash: str) -> Citizen:
    return Citizen(nik_hash=nik_hash, nik=item.nik, phone=item.phone, profile=plain(item.profile) or {},
                   version=int(item.version or 1), email=item.email,
                   email_verified=bool(item.email and item.email_verified_at))


def get_citizen(nik_hash: str) -> Citizen | None:
    try:
        return citizen_from_item(CitizenItem.get(keys.citizen_pk(nik_hash), keys.PROFILE,
                                                 consistent_read=True), nik_hash)
    except DoesNotExist:
        return None


def bind_citizen(nik_hash: str, nik: str, phone: str, now: str, rebind: bool = False) -> Citizen:
    """Create the citizen on first login, binding the phone; an existing binding is kept unless `rebind` (the
    village register names this phone, which overrides an earlier binding)."""
    item = CitizenItem(keys.citizen_pk(nik_hash), keys.PROFILE, entity="citizen", nik=nik, phone=phone,
                       profile={}, created_at=now, updated_at=now, version=1)
    try:
        item.save(condition=CitizenItem.PK.does_not_exist())
    except PutError as exc:
        if aws_code(exc) != "ConditionalCheckFailedException":
            raise translate_errors(exc) from exc
        if rebind:
            try:
                CitizenItem(keys.citizen_pk(nik_hash), keys.PROFILE).update(
                    actions=[CitizenItem.phone.set(phone), CitizenItem.updated_at.set(now)],
                    condition=CitizenItem.phone != phone)
            except UpdateError as update_exc:
                if aws_code(update_exc) != "ConditionalCheckFailedException":
                    raise translate_errors(update_exc) from update_exc
    citizen = get_citizen(nik_hash)
    assert citizen is not None
    return citizen


def save_profile(nik_hash: str, profile: dict[str, Any], expected_version: int, now: str) -> int:
    try:
        CitizenItem(keys.citizen_pk(nik_hash), keys.PROFILE).update(
            actions=[CitizenItem.profile.set(profile), CitizenItem.updated_at.set(now),
                     CitizenItem.version.add(1)],
            condition=CitizenItem.version == expected_version)
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise ConflictError("Profil telah diubah; muat ulang dan coba lagi.", code="stale_version") from exc
        raise translate_errors(exc) from exc
    return expected_version + 1


def save_citizen_email(nik_hash: str, email: str | None, now: str) -> bool:
    """Set (or with None remove) the citizen's e-mail; False when there is no such citizen."""
    action = CitizenItem.email.set(email) if email else CitizenItem.email.remove()
    try:
        # A new address is unconfirmed until its code is typed (confirm_citizen_email).
        CitizenItem(keys.citizen_pk(nik_hash), keys.PROFILE).update(
            actions=[action, CitizenItem.email_verified_at.remove(), CitizenItem.updated_at.set(now)],
            condition=CitizenItem.PK.exists())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc
    return True


def confirm_citizen_email(nik_hash: str, email: str, now: str) -> bool:
    """Mark the citizen's e-mail confirmed, if it is still `email` (False when it changed meanwhile)."""
    try:
        CitizenItem(keys.citizen_pk(nik_hash), keys.PROFILE).update(
            actions=[CitizenItem.email_verified_at.set(now), CitizenItem.updated_at.set(now)],
            condition=CitizenItem.email == email)
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc
    return True


def _save_code(item: CodeItem, min_interval_iso: str) -> None:
    """Store a new code unless one was issued after `min_interval_iso` (429 otp_throttled: one a minute)."""
    model = type(item)
    try:
        item.save(condition=model.PK.does_not_exist() | (model.created_at < min_interval_iso))
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise TooManyRequestsError("Kode baru saja dikirim; tunggu sebentar sebelum meminta lagi.",
                                       code="otp_throttled") from exc
        raise translate_errors(exc) from exc


def _count_attempt(item: CodeItem, max_attempts: int) -> int:
    """Atomically count a try of the code; refuse (429) once `max_attempts` were used."""
    model = type(item)
    try:
        item.update(actions=[model.attempts.add(1)], condition=model.PK.exists() & (model.attempts < max_attempts))
        return int(item.attempts)
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise TooManyRequestsError("Terlalu banyak percobaan; minta kode baru.",
                                       code="otp_attempts_exceeded") from exc
        raise translate_errors(exc) from exc


def put_email_code(nik_hash: str, code_hash: str, email: str, now: str, expires_at: datetime,
                   min_interval_iso: str) -> None:
    """Store a new e-mail confirmation code unless one was made after `min_interval_iso`."""
    _save_code(EmailCodeItem(keys.otp_pk(nik_hash), keys.EMAIL_CONFIRM, entity="email_code", code_hash=code_hash,
                             email=email, attempts=0, created_at=now, expires_at=expires_at), min_interval_iso)


def get_email_code(nik_hash: str) -> EmailCodeItem | None:
    try:
        return EmailCodeItem.get(keys.otp_pk(nik_hash), keys.EMAIL_CONFIRM, consistent_read=True)
    except DoesNotExist:
        return None


def count_email_code_attempt(nik_hash: str, max_attempts: int) -> int:
    return _count_attempt(EmailCodeItem(keys.otp_pk(nik_hash), keys.EMAIL_CONFIRM), max_attempts)


def delete_email_code(nik_hash: str) -> None:
    EmailCodeItem(keys.otp_pk(nik_hash), keys.EMAIL_CONFIRM).delete()


def put_otp(nik_hash: str, code_hash: str, phone: str, now: str, expires_at: datetime, min_interval_iso: str) -> None:
    """Store a new code unless one was issued after `min_interval_iso` (resend throttle)."""
    _save_code(OtpItem(keys.otp_pk(nik_hash), keys.META, entity="otp", code_hash=code_hash, phone=phone,
                       attempts=0, created_at=now, expires_at=expires_at), min_interval_iso)


def get_otp(nik_hash: str) -> OtpItem | None:
    try:
        return OtpItem.get(keys.otp_pk(nik_hash), keys.META, consistent_read=True)
    except DoesNotExist:
        return None


def count_otp_attempt(nik_hash: str, max_attempts: int) -> int:
    """Atomically count a verification try; refuse once the limit is reached."""
    return _count_attempt(OtpItem(keys.otp_pk(nik_hash), keys.META), max_attempts)


def delete_otp(nik_hash: str) -> None:
    OtpItem(keys.otp_pk(nik_hash), keys.META).delete()


def staff_from_item(item: StaffItem) -> Staff:
    return Staff(username=item.username, password_hash=item.password_hash, role=item.role, region=item.region,
                 name=item.name, position=item.position, phone=item.phone, email=item.email,
                 active=bool(item.active), preferences=plain(item.preferences), nip=item.nip,
                 session_version=int(item.session_version or 1), version=int(item.version or 1), opd=item.opd)


def get_staff(username: str) -> Staff | None:
    try:
        return staff_from_item(StaffItem.get(keys.staff_pk(username), keys.META))
    except DoesNotExist:
        return None


def staff_item(staff: Staff, now: str) -> StaffItem:
    return StaffItem(keys.staff_pk(staff.username), keys.META, entity="staff", username=staff.username,
                     password_hash=staff.password_hash, role=staff.role, region=staff.region, name=staff.name,
                     position=staff.position, phone=staff.phone, email=staff.email, active=staff.active,
                     preferences=staff.preferences, created_at=now, nip=staff.nip,
                     session_version=staff.session_version, version=staff.version, opd=staff.opd,
                     GSI1PK=keys.staff_region_pk(staff.region),
                     GSI1SK=keys.staff_region_sk(staff.role, staff.username))


def create_staff(staff: Staff, now: str, overwrite: bool = False) -> bool:
    """Create an account; returns False if the username exists (and overwrite is off)."""
    try:
        staff_item(staff, now).save(condition=None if overwrite else StaffItem.PK.does_not_exist())
        return True
    except PutError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            return False
        raise translate_errors(exc) from exc


def create_staff_many(staff: list[Staff], now: str) -> None:
    with StaffItem.batch_write() as batch:
        for s in staff:
            batch.save(staff_item(s, now))


def staff_in_region(region: str, role: str | None = None) -> list[Staff]:
    condition = StaffItem.GSI1SK.startswith(f"{role}#") if role else None
    return [staff_from_item(i) for i in indexed_items(StaffItem.gsi1, keys.staff_region_pk(region), condition)]


def save_contact_preferences(username: str, phone: str | None, email: str | None,
                             preferences: dict[str, Any]) -> Staff:
    """Replace a staff member's phone, email and notification preferences (the account must exist)."""
    item = StaffItem(keys.staff_pk(username), keys.META)
    actions: list[Action] = [StaffItem.preferences.set(preferences),
               StaffItem.phone.set(phone) if phone else StaffItem.phone.remove(),
               StaffItem.email.set(email) if email else StaffItem.email.remove()]
    try:
        item.update(actions=actions, condition=StaffItem.PK.exists())
    except UpdateError as exc:
        if aws_code(exc) == "ConditionalCheckFailedException":
            from chalicelib.errors import NotFoundError

            raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found") from exc
        raise translate_errors(exc) from exc
    return staff_from_item(item)

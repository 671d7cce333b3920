"""Notification rules: who receives an outbox row on which channel, quiet hours, retry backoff, preferences."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.message_policy import DEFAULT_POLICY, STAFF_CHANNELS, Policy, Reach, route, staff_reach
from chalicelib.errors import ValidationError

CHANNELS = STAFF_CHANNELS  # what staff may choose in their preferences
STAFF_MODES = ("each", "digest_only")
# Row states. "pending" covers new rows, retries waiting for their time and quiet-hours deferrals;
# "sending" is a row claimed by one sender (a lease); "sent" and "failed" are final until a resend.
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
LISTED_STATUSES = (PENDING, SENT, FAILED)  # what staff can list; a "sending" row is listed as pending
MAX_BACKOFF = timedelta(hours=1)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")


def listed_status(status: str) -> str:
    return PENDING if status == SENDING else status


@dataclass(frozen=True)
class Recipient:
    """A staff member (username) or the citizen of a request: their contacts by kind ("phone", "email",
    "citizen" for the NIK hash the inbox and push subscriptions are kept under) and what reaches them."""

    id: str
    kind: str
    contacts: Mapping[str, str]
    reach: Reach
    quiet_hours: tuple[time, time] | None = None

    @property
    def phone(self) -> str | None:
        return self.contacts.get("phone")

    @property
    def email(self) -> str | None:
        return self.contacts.get("email")


@dataclass(frozen=True)
class Delivery:
    """One message to one recipient on one channel; `key` is what the outbox row records once sent."""

    key: str
    recipient: str
    channel: str
    address: str
    not_before: datetime | None = None  # set while the recipient is in quiet hours


def retry_delay(attempts: int, base_seconds: int) -> timedelta:
    """Exponential backoff after the n-th failed try: base, 2x, 4x ... capped at an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def parse_hhmm(value: str) -> time:
    match = _HHMM.match(value or "")
    if not match:
        raise ValidationError("Jam harus berformat JJ:MM, contoh 21:00.", code="invalid_quiet_hours")
    return time(int(match.group(1)), int(match.group(2)))


def quiet_until(now_utc: datetime, quiet: tuple[time, time] | None, tz: str) -> datetime | None:
    """The end of the quiet period `now_utc` falls in (UTC), or None outside quiet hours.

    A period whose start is after its end spans midnight (21:00-06:00)."""
    if quiet is None:
        return None
    start, end = quiet
    zone = ZoneInfo(tz)
    local = now_utc.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def staff_recipient(username: str, phone: str | None, email: str | None,
                    preferences: Mapping[str, Any] | None) -> Recipient:
    """Channels from the staff member's preferences; without preferences, every channel they have a contact
    for. `mode` "digest_only" holds the alerts the daily digest counts (message_policy.DIGESTIBLE)."""
    prefs = preferences or {}
    chosen = prefs.get("channels")
    preferred = tuple(c for c in chosen if c in CHANNELS) if chosen else None
    quiet = prefs.get("quiet_hours")
    quiet_hours = (parse_hhmm(quiet["start"]), parse_hhmm(quiet["end"])) if quiet else None
    contacts = {k: v for k, v in (("phone", phone), ("email", email)) if v}
    reach = staff_reach(phone=bool(phone), email=bool(email), preferred=preferred,
                        digest_only=prefs.get("mode") == "digest_only")
    return Recipient(id=username, kind="staff", contacts=contacts, reach=reach, quiet_hours=quiet_hours)


def citizen_recipient(phone: str | None, nik_hash: str | None = None, email: str | None = None,
                      push: bool = False, session: bool = False) -> Recipient:
    """The citizen of a request: the SMS number they logged in with, the inbox and push subscriptions kept
    under their NIK hash, the e-mail they gave. Only OTPs bypass the outbox."""
    contacts = {k: v for k, v in (("phone", phone), ("email", email), ("citizen", nik_hash)) if v}
    reach = Reach(phone=bool(phone), email=bool(email), push=bool(push and nik_hash), inbox=bool(nik_hash),
                  session=session)
    return Recipient(id="citizen", kind="citizen", contacts=contacts, reach=reach)


def deliveries(recipients: Iterable[Recipient], now_utc: datetime, tz: str, event: str,
               contact_of: Mapping[str, str], policy: Policy = DEFAULT_POLICY) -> list[Delivery]:
    """Every (recipient, channel) the message policy routes `event` to, with its address (`contact_of`: the
    contact kind each channel is addressed by); quiet hours postpone a staff member's messages."""
    result: list[Delivery] = []
    for r in recipients:
        not_before = quiet_until(now_utc, r.quiet_hours, tz)
        for channel in route(event, r.reach, policy):
            address = r.contacts.get(contact_of.get(channel, ""))
            if address:
                result.append(Delivery(f"{channel}:{r.id}", r.id, channel, address, not_before))
    return result


def validate_preferences(channels: list[str], quiet_hours: Mapping[str, str] | None, phone: str | None,
                         email: str | None, mode: str | None = None) -> dict[str, Any]:
    """Check a staff member's new preferences; raises ValidationError with a code per problem.

    `phone` must already be normalised; a channel needs its contact (sms -> phone, email -> email)."""
    if not channels or len(set(channels)) != len(channels) or any(c not in CHANNELS for c in channels):
        raise ValidationError("Pilih saluran: sms, email, atau keduanya.", code="invalid_channels")
    if "sms" in channels and not phone:
        raise ValidationError("Isi nomor HP untuk menerima SMS.", code="phone_required")
    if "email" in channels and not email:
        raise ValidationError("Isi alamat email untuk menerima email.", code="email_required")
    prefs: dict[str, Any] = {"channels": [c for c in CHANNELS if c in channels]}
    if mode is not None:
        if mode not in STAFF_MODES:
            raise ValidationError("Mode harus each (setiap kejadian) atau digest_only (ringkasan harian saja).",
                                  code="invalid_mode")
        prefs["mode"] = mode
    if quiet_hours:
        start, end = parse_hhmm(quiet_hours.get("start", "")), parse_hhmm(quiet_hours.get("end", ""))
        if start == end:
            raise ValidationError("Jam mulai dan selesai waktu tenang tidak boleh sama.", code="invalid_quiet_hours")
        prefs["quiet_hours"] = {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
    return prefs


def validate_email(value: str) -> str:
    value = value.strip()
    # ASCII only: SES sends to neither a non-ASCII local part nor an un-encoded non-ASCII domain.
    if len(value) > 254 or not value.isascii() or not _EMAIL.match(value):
        raise ValidationError("Alamat email tidak valid.", code="invalid_email")
    return value.lower()

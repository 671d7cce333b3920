"""Which channels a message goes to: the per-kabupaten message policy table and its rules (pure, no I/O).

One entry point, `route()`: for an event, its audience and what the recipient can be reached on (`Reach`),
the channels the message goes to. The default table lives here; a kabupaten's admin may override it
(`validate_overrides`), within rules no override can break:
- SMS costs real money: a citizen gets an SMS only for a login code, or for an event whose rule says
  `sms="fallback"` and only when neither e-mail nor Web Push reaches them (the inbox waits for a visit;
  SMS is then their only channel that arrives by itself).
- Every citizen-facing status change lands in the citizen's portal inbox.
- E-mail where the citizen gave one; Web Push where the portal (PWA) subscribed.
- Staff get their chosen channels; with `digest_only` the per-event alerts that the daily digest also
  covers wait for the digest instead of arriving one SMS per event.
bench/cost.py drives a simulated month through `route()`; the outbox worker uses the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from chalicelib.errors import ValidationError

SMS, EMAIL, PUSH, INBOX = "sms", "email", "push", "inbox"
# Every channel Balai knows, cheapest first; adapters for each are registered in chalicelib/channels/.
ALL_CHANNELS: tuple[str, ...] = (INBOX, PUSH, EMAIL, SMS)
CITIZEN, STAFF = "citizen", "staff"
AUDIENCES = (CITIZEN, STAFF)
SmsRule = Literal["always", "fallback", "never"]
SMS_RULES: tuple[str, ...] = ("always", "fallback", "never")
# Channels that reach a citizen without them opening the portal (what makes SMS unnecessary).
OUT_OF_BAND = (EMAIL, PUSH)
# Events a staff member on "digest only" does not get one by one: the daily digest counts them.
DIGESTIBLE = ("new_request", "awaiting_signature", "sla_reminder")
STAFF_CHANNELS: tuple[str, ...] = (SMS, EMAIL)
STAFF_MODES = ("each", "digest_only")


@dataclass(frozen=True)
class Reach:
    """What one recipient can be reached on right now.

    `inbox` is true for every citizen (the portal keeps it); `session` says the citizen has a live
    refresh session on a device (they stay logged in and need no SMS code to read the inbox). For staff,
    `preferred` are the channels they chose and `digest_only` their choice of the daily digest."""

    phone: bool = False
    email: bool = False
    push: bool = False
    inbox: bool = False
    session: bool = False
    preferred: tuple[str, ...] | None = None
    digest_only: bool = False

    def has(self, channel: str) -> bool:
        return {SMS: self.phone, EMAIL: self.email, PUSH: self.push, INBOX: self.inbox}.get(channel, False)


def citizen_reach(*, phone: bool, email: bool = False, push: bool = False, session: bool = False) -> Reach:
    """A citizen: the inbox always, plus whatever contacts they gave."""
    return Reach(phone=phone, email=email, push=push, inbox=True, session=session)


def staff_reach(*, phone: bool, email: bool, preferred: tuple[str, ...] | None = None,
                digest_only: bool = False) -> Reach:
    return Reach(phone=phone, email=email, preferred=preferred, digest_only=digest_only)


@dataclass(frozen=True)
class EventRule:
    """One row of the policy table: who the event is for, the channels it may use and when SMS is used."""

    audience: str
    channels: tuple[str, ...]
    sms: str = "never"
    status_change: bool = False  # a citizen's request changed state: always in the inbox

    def to_dict(self) -> dict[str, Any]:
        return {"audience": self.audience, "channels": list(self.channels), "sms": self.sms,
                "status_change": self.status_change}


_CITIZEN_OOB = (INBOX, PUSH, EMAIL)

DEFAULT_RULES: dict[str, EventRule] = {
    # A login code goes by SMS whatever else the citizen has: it proves the phone.
    "otp": EventRule(CITIZEN, (SMS,), sms="always"),
    # The citizen is looking at the tracking code on screen when this is written: no SMS.
    "request_received": EventRule(CITIZEN, _CITIZEN_OOB + (SMS,), sms="never", status_change=True),
    # The citizen must act: SMS when nothing else reaches them.
    "needs_revision": EventRule(CITIZEN, _CITIZEN_OOB + (SMS,), sms="fallback", status_change=True),
    # A step on the way: "issued" follows within a day, so no SMS for it.
    "approved": EventRule(CITIZEN, _CITIZEN_OOB + (SMS,), sms="never", status_change=True),
    "issued": EventRule(CITIZEN, _CITIZEN_OOB + (SMS,), sms="fallback", status_change=True),
    "rejected": EventRule(CITIZEN, _CITIZEN_OOB + (SMS,), sms="fallback", status_change=True),
    "new_request": EventRule(STAFF, STAFF_CHANNELS, sms="always"),
    "awaiting_signature": EventRule(STAFF, STAFF_CHANNELS, sms="always"),
    "sla_reminder": EventRule(STAFF, STAFF_CHANNELS, sms="always"),
    "sla_escalation": EventRule(STAFF, STAFF_CHANNELS, sms="always"),
    "daily_digest": EventRule(STAFF, STAFF_CHANNELS, sms="always"),
}


@dataclass(frozen=True)
class Policy:
    """A kabupaten's table: the defaults with its admin's overrides applied."""

    rules: Mapping[str, EventRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def rule(self, event: str) -> EventRule:
        try:
            return self.rules[event]
        except KeyError:
            raise ValueError(f"no message policy for event {event!r}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"events": {name: rule.to_dict() for name, rule in self.rules.items()},
                "overrides": {k: dict(v) for k, v in self.overrides.items()}}


DEFAULT_POLICY = Policy()


def route(event: str, reach: Reach, policy: Policy = DEFAULT_POLICY) -> tuple[str, ...]:
    """The channels a message for `event` goes to for a recipient with `reach` (cheapest first).

    Raises ValueError for an event the table does not know (a programming error)."""
    rule = policy.rule(event)
    if rule.audience == STAFF:
        return _route_staff(event, rule, reach)
    chosen = [c for c in rule.channels if c != SMS and reach.has(c)]
    if rule.status_change and INBOX not in chosen and reach.inbox:
        chosen.insert(0, INBOX)
    if SMS in rule.channels and reach.phone:
        if rule.sms == "always" or (rule.sms == "fallback" and not any(c in chosen for c in OUT_OF_BAND)):
            chosen.append(SMS)
    return tuple(c for c in ALL_CHANNELS if c in chosen)


def _route_staff(event: str, rule: EventRule, reach: Reach) -> tuple[str, ...]:
    if reach.digest_only and event in DIGESTIBLE:
        return ()
    preferred = reach.preferred if reach.preferred is not None else STAFF_CHANNELS
    allowed = [c for c in rule.channels if c in preferred and reach.has(c)]
    if rule.sms == "never":
        allowed = [c for c in allowed if c != SMS]
    return tuple(c for c in ALL_CHANNELS if c in allowed)


def validate_overrides(raw: Any) -> Policy:
    """An admin's overrides `{"events": {event: {"channels": [...], "sms": "fallback"}}}` checked against
    the rules no override may break; returns the resulting policy. Raises ValidationError."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("events"), Mapping) or set(raw) - {"events"}:
        raise ValidationError('Kirim {"events": {nama_peristiwa: {...}}}.', code="invalid_policy")
    events: Mapping[str, Any] = raw["events"]
    if len(events) > len(DEFAULT_RULES):
        raise ValidationError("Terlalu banyak peristiwa.", code="invalid_policy")
    rules = dict(DEFAULT_RULES)
    kept: dict[str, dict[str, Any]] = {}
    for name, change in events.items():
        if name not in DEFAULT_RULES:
            raise ValidationError(f"Peristiwa tidak dikenal: {str(name)[:40]}.", code="unknown_event")
        if not isinstance(change, Mapping) or not change or set(change) - {"channels", "sms"}:
            raise ValidationError(f"Aturan {name}: hanya channels dan sms yang dapat diubah.",
                                  code="invalid_policy")
        base = DEFAULT_RULES[name]
        channels = base.channels
        if "channels" in change:
            given = change["channels"]
            if not isinstance(given, list) or not given or not all(isinstance(c, str) for c in given) \
                    or len(set(given)) != len(given) or any(c not in base.channels for c in given):
                raise ValidationError(f"Aturan {name}: saluran harus dipilih dari {', '.join(base.channels)}.",
                                      code="invalid_channels")
            channels = tuple(c for c in ALL_CHANNELS if c in given)
        sms = change.get("sms", base.sms)
        if sms not in SMS_RULES:
            raise ValidationError(f"Aturan {name}: sms harus always, fallback atau never.", code="invalid_sms_rule")
        if name == "otp" and (sms != "always" or SMS not in channels):
            raise ValidationError("Kode masuk selalu dikirim lewat SMS.", code="otp_needs_sms")
        if base.audience == CITIZEN and name != "otp" and sms == "always":
            raise ValidationError(f"Aturan {name}: SMS ke warga hanya sebagai saluran terakhir (fallback).",
                                  code="sms_only_as_fallback")
        if base.status_change and INBOX not in channels:
            raise ValidationError(f"Aturan {name}: perubahan status selalu masuk kotak pesan warga.",
                                  code="inbox_required")
        rules[name] = replace(base, channels=channels, sms=str(sms))
        kept[str(name)] = {"channels": list(channels), "sms": sms}
    return Policy(rules=rules, overrides=kept)


def policy_from_overrides(stored: Mapping[str, Any] | None) -> Policy:
    """The policy a kabupaten's stored overrides give (already validated when saved)."""
    if not stored:
        return DEFAULT_POLICY
    return validate_overrides({"events": stored})

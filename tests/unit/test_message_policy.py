"""The message policy table: which channels an event goes to for a recipient's reach (pure)."""

import pytest

from chalicelib.domain.message_policy import (
    DEFAULT_POLICY,
    citizen_reach,
    policy_from_overrides,
    route,
    staff_reach,
    validate_overrides,
)
from chalicelib.errors import ValidationError

STATUS_EVENTS = ("request_received", "needs_revision", "approved", "issued", "rejected")


def test_login_code_goes_by_sms_whatever_else_the_citizen_has():
    # Given a citizen with every channel
    reach = citizen_reach(phone=True, email=True, push=True, session=True)
    # When a login code is routed, Then it goes by SMS only
    assert route("otp", reach) == ("sms",)


@pytest.mark.parametrize("event", STATUS_EVENTS)
def test_every_status_change_lands_in_the_inbox(event):
    assert "inbox" in route(event, citizen_reach(phone=True))
    assert "inbox" in route(event, citizen_reach(phone=False, email=True, push=True))


def test_sms_only_where_it_is_the_citizens_only_channel():
    # Given a citizen with a phone only, When the letter is issued, Then SMS is added to the inbox
    assert route("issued", citizen_reach(phone=True)) == ("inbox", "sms")
    # Given the same citizen with e-mail, Then e-mail replaces the SMS
    assert route("issued", citizen_reach(phone=True, email=True)) == ("inbox", "email")
    # Given a subscribed PWA, Then push replaces the SMS
    assert route("issued", citizen_reach(phone=True, push=True)) == ("inbox", "push")


def test_intermediate_steps_never_cost_an_sms():
    phone_only = citizen_reach(phone=True)
    assert route("request_received", phone_only) == ("inbox",)
    assert route("approved", phone_only) == ("inbox",)


def test_staff_get_their_preferred_channels_and_digest_only_waits_for_the_digest():
    each = staff_reach(phone=True, email=True, preferred=("email",))
    assert route("new_request", each) == ("email",)
    digest = staff_reach(phone=True, email=False, preferred=("sms",), digest_only=True)
    assert route("new_request", digest) == ()
    assert route("awaiting_signature", digest) == ()
    assert route("daily_digest", digest) == ("sms",)
    # an escalation is never held back for the digest
    assert route("sla_escalation", digest) == ("sms",)


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError):
        route("nonsense", citizen_reach(phone=True))


def test_admin_override_can_drop_sms_fallback_for_a_kabupaten():
    # Given an override: issued never by SMS
    policy = validate_overrides({"events": {"issued": {"sms": "never"}}})
    # Then a phone-only citizen gets only the inbox
    assert route("issued", citizen_reach(phone=True), policy) == ("inbox",)
    # and the stored overrides give the same policy back
    assert policy_from_overrides(policy.overrides).rule("issued") == policy.rule("issued")
    assert route("issued", citizen_reach(phone=True), DEFAULT_POLICY) == ("inbox", "sms")


@pytest.mark.parametrize(("raw", "code"), [
    ({"events": {"otp": {"sms": "never"}}}, "otp_needs_sms"),
    ({"events": {"issued": {"sms": "always"}}}, "sms_only_as_fallback"),
    ({"events": {"issued": {"channels": ["email", "sms"]}}}, "inbox_required"),
    ({"events": {"issued": {"channels": ["whatsapp"]}}}, "invalid_channels"),
    ({"events": {"issued": {"channels": ["inbox", "inbox"]}}}, "invalid_channels"),
    ({"events": {"issued": {"sms": "sometimes"}}}, "invalid_sms_rule"),
    ({"events": {"issued": {"audience": "staff"}}}, "invalid_policy"),
    ({"events": {"hacked": {"sms": "never"}}}, "unknown_event"),
    ({"events": []}, "invalid_policy"),
    ({"rules": {}}, "invalid_policy"),
    ({"events": {"new_request": {"channels": ["inbox"]}}}, "invalid_channels"),
])
def test_overrides_that_break_the_rules_are_refused(raw, code):
    with pytest.raises(ValidationError) as err:
        validate_overrides(raw)
    assert err.value.code == code

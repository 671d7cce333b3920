"""Staff notification preferences: channels, quiet hours, validated phone and email."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.storage.people import get_staff, save_contact_preferences
from tests.conftest import PULAU_HARAPAN, get, put, staff_token

KADES = f"kades.{PULAU_HARAPAN}"
PATH = "/v1/me/notification-preferences"


@pytest.fixture()
def kades(client: Any) -> Any:
    before = get_staff(KADES)
    assert before is not None
    yield staff_token(client, KADES)
    save_contact_preferences(KADES, before.phone, before.email, before.preferences or {})


def test_get_shows_defaults_in_the_kabupaten_zone(client: Any, kades: str) -> None:
    body = get(client, PATH, kades).json_body
    assert body["timezone"] == "Asia/Makassar" and body["timezone_label"] == "WITA"
    assert body["quiet_hours"] is None


def test_put_both_channels_with_quiet_hours_normalises_the_phone(client: Any, kades: str) -> None:
    response = put(client, PATH, {"channels": ["email", "sms"], "quiet_hours": {"start": "21:00", "end": "06:00"},
                                  "phone": "0812-3456-7890", "email": "Kades.Harapan@Desa.example.id"}, kades)
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["channels"] == ["sms", "email"]
    assert body["phone"] == "+6281234567890" and body["email"] == "kades.harapan@desa.example.id"
    assert body["quiet_hours"] == {"start": "21:00", "end": "06:00"}
    assert get(client, PATH, kades).json_body == body
    staff = get_staff(KADES)
    assert staff is not None and staff.preferences == {"channels": ["sms", "email"],
                                                       "quiet_hours": {"start": "21:00", "end": "06:00"}}


@pytest.mark.parametrize(("body", "code"), [
    ({"channels": ["sms"], "phone": "021-555-1234"}, "invalid_phone"),
    ({"channels": ["sms"], "phone": "12ab"}, "invalid_phone"),
    ({"channels": ["sms"]}, "phone_required"),
    ({"channels": ["email"], "email": "bukan-email"}, "invalid_email"),
    ({"channels": ["email"]}, "email_required"),
    ({"channels": ["sms", "sms"], "phone": "081234567890"}, "invalid_channels"),
    ({"channels": []}, "invalid_field"),
    ({"channels": ["fax"]}, "invalid_field"),
    ({"channels": ["sms"], "phone": "081234567890", "quiet_hours": {"start": "25:00", "end": "06:00"}},
     "invalid_field"),
    ({"channels": ["sms"], "phone": "081234567890", "quiet_hours": {"start": "06:00", "end": "06:00"}},
     "invalid_quiet_hours"),
])
def test_invalid_preferences_are_400_with_their_own_code(client: Any, kades: str, body: dict[str, Any],
                                                         code: str) -> None:
    response = put(client, PATH, body, kades)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == code


def test_citizens_have_no_notification_preferences(client: Any, citizen: dict[str, Any]) -> None:
    assert get(client, PATH, citizen["token"]).status_code == 403

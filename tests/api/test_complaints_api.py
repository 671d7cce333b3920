"""Complaints over HTTP: filing (photos, idempotency, daily limit, bad input), the state machine per role, routing
and re-routing, reopen window, rating, moderation, lists and notifications."""

from __future__ import annotations

import pytest

from tests.complaints_support import ROAD, act, body, file, filed, photo, read
from tests.conftest import KECAMATAN_SINJAI_TIMUR, PULAU_HARAPAN, SAMATARING, citizen_login, get, post, staff_token


def test_a_citizen_files_a_public_complaint_routed_to_the_village(client, citizen):
    # Given a logged-in citizen; When they file a complaint in a category the village handles
    response = file(client, citizen)
    # Then it is open, routed to the village, with an SLA due time and version 1
    assert response.status_code == 201, response.body
    c = response.json_body
    assert c["status"] == "open" and c["version"] == 1
    assert c["unit"] == {"type": "village", "code": SAMATARING, "name": "Samataring"}
    assert c["due_at"] > c["created_at"] and c["public"] is True
    assert "reporter" not in c  # the owner's view has no staff-only fields
    # And the village operator finds it in the open queue
    op = staff_token(client, f"operator.{SAMATARING}")
    queue = get(client, f"/v1/villages/{SAMATARING}/complaints?status=open", op).json_body
    assert c["id"] in [i["id"] for i in queue["items"]]

"""SLA sweep (reminder, camat, admin; each once, in the audit trail), due-index reads, and the daily digest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.escalation import checkpoints
from chalicelib.domain.sla import calendar_for, next_local_time
from chalicelib.storage import keys
from chalicelib.storage import outbox as outbox_repo
from chalicelib.storage import requests as requests_repo
from chalicelib.storage.models import RequestItem
from chalicelib.storage.people import get_staff, save_contact_preferences
from chalicelib.workers import digest, outbox, sla
from tests.conftest import get, other_village_same_kecamatan, staff_token, submitted
from tests.fakes import RecordingEmailSender, RecordingSmsSender
from tests.integration.streams import inserts


@pytest.fixture()
def fakes() -> outbox.Senders:
    return outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender())


@pytest.fixture()
def camat_contacts() -> Iterator[str]:
    username = "camat.73.07.03"
    before = get_staff(username)
    assert before is not None
    save_contact_preferences(username, "+6281377778888", None, {"channels": ["sms"]})
    yield "+6281377778888"
    save_contact_preferences(username, before.phone, before.email, before.preferences or {})


def history_actions(request_id: str) -> list[str]:
    request = requests_repo.get(request_id)
    assert request is not None
    return [h.action for h in request.history]


def sla_rows(request: Any) -> dict[int, outbox_repo.OutboxRow]:
    found = {}
    for level in (1, 2, 3):
        row = outbox_repo.get(sla.outbox_id(request, level))
        if row is not None:
            found[level] = row
    return found


def test_reminder_then_camat_then_admin_each_once_and_in_the_audit_trail(
        client: Any, citizen: dict[str, Any], fakes: outbox.Senders, camat_contacts: str) -> None:
    # Given a submitted request and its SLA checkpoints (working time, WITA)
    created = submitted(client, citizen)
    request = requests_repo.get(created["id"])
    assert request is not None
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    assert points.near_at < points.due_at < points.twice_at
    # When the sweep runs just before the reminder point: nothing for this request
    sla.run(now=points.near_at - timedelta(minutes=1))
    assert sla_rows(request) == {}
    # When it runs past the near point, twice
    for _ in range(2):
        sla.run(now=points.near_at + timedelta(minutes=1))
    # Then the operators' reminder is queued once, and the audit trail shows it once
    rows = sla_rows(request)
    assert list(rows) == [1] and rows[1].event == "sla_reminder"
    assert rows[1].audience == {"kind": "staff", "region": request.village, "role": "operator"}
    assert history_actions(request.id).count("sla_reminder") == 1
    # When it runs past the due time, twice
    for _ in range(2):
        sla.run(now=points.due_at + timedelta(hours=1))
    # Then the camat of the kecamatan is told once, with the overdue working hours
    rows = sla_rows(request)
    assert rows[2].audience == {"kind": "staff", "region": "73.07.03", "role": "camat"}
    assert rows[2].event == "sla_escalation" and rows[2].payload["overdue_hours"] >= 0
    assert history_actions(request.id).count("sla_escalation_kecamatan") == 1
    # And the stream handler sends it to the camat's phone
    outbox.handle_stream(inserts([rows[2].id]), senders=fakes, now=points.due_at + timedelta(hours=1))
    (sms,) = [m for m in fakes.sms.sent if m.message_id.startswith(rows[2].id)]
    assert sms.to == camat_contacts and request.tracking_code in sms.text and "terlambat" in sms.text
    # When it runs past twice the SLA, twice
    for _ in range(2):
        sla.run(now=points.twice_at + timedelta(minutes=1))
    # Then the admin kabupaten is told once, and the request has left the due index
    rows = sla_rows(request)
    assert rows[3].audience == {"kind": "staff", "region": "73.07", "role": "admin"}
    assert history_actions(request.id).count("sla_escalation_kabupaten") == 1
    item = RequestItem.get(keys.request_pk(request.id), keys.META)
    assert item.GSI4PK is None and item.sla.as_dict() == {"for": request.due_at, "level": 3}
    # And the escalation is visible in the request's history through the API
    token = staff_token(client, f"operator.{request.village}")
    history = get(client, f"/v1/requests/{request.id}", token).json_body["history"]
    assert [h["action"] for h in history if h["actor_role"] == "system"] == [
        "sla_reminder", "sla_escalation_kecamatan", "sla_escalation_kabupaten"]


def test_a_late_sweep_catches_up_every_level_at_once(client: Any, citizen: dict[str, Any]) -> None:
    request = requests_repo.get(submitted(client, citizen)["id"])
    assert request is not None
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    sla.run(now=points.twice_at + timedelta(hours=1))
    assert sorted(sla_rows(request)) == [1, 2, 3]
    assert history_actions(request.id).count("sla_escalation_kabupaten") == 1


def test_a_transition_keeps_the_level_and_a_resubmission_restarts_it(client: Any, citizen: dict[str, Any]) -> None:
    from tests.conftest import act

    request = requests_repo.get(submitted(client, citizen)["id"])
    assert request is not None
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    sla.run(now=points.near_at + timedelta(minutes=1))
    # When the operator starts the review (a full write of the request item)
    token = staff_token(client, f"operator.{request.village}")
    reviewed = act(client, token, {"id": request.id, "version": 1}, "review")
    assert reviewed.status_code == 200, reviewed.body
    # Then the recorded level survives and the next sweep at the same time tells nobody again
    sla.run(now=points.near_at + timedelta(minutes=2))
    assert list(sla_rows(request)) == [1]
    item = RequestItem.get(keys.request_pk(request.id), keys.META)
    assert int(item.sla["level"]) == 1 and item.GSI4SK.startswith(points.due_at.isoformat(timespec="milliseconds"))


def test_the_sweep_reads_only_requests_with_a_checkpoint_due(client: Any, citizen: dict[str, Any]) -> None:
    # Given a fresh request, whose first checkpoint (reminder) is hours of working time away
    request = requests_repo.get(submitted(client, citizen)["id"])
    assert request is not None
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    # When the sweep runs before it, the request is not read at all (the Query's key condition excludes it)
    before = [r.id for r in requests_repo_due(points.near_at - timedelta(seconds=1))]
    after = [r.id for r in requests_repo_due(points.near_at + timedelta(seconds=1))]
    assert request.id not in before and request.id in after


def requests_repo_due(now: datetime) -> list[Any]:
    from chalicelib.storage import sla as sla_repo

    return list(sla_repo.due("73.07", now))


def test_daily_digest_counts_and_is_sent_once_per_day(client: Any, citizen: dict[str, Any],
                                                      fakes: outbox.Senders) -> None:
    # Given a village with two open requests and an operator who takes email
    village = other_village_same_kecamatan()
    first = requests_repo.get(submitted(client, citizen, village)["id"])
    submitted(client, citizen, village)
    assert first is not None
    operator = f"operator.{village}"
    before = get_staff(operator)
    save_contact_preferences(operator, None, "operator@desa.example.id", {"channels": ["email"]})
    try:
        # When the hourly schedule runs at 07:05 WITA on the first working day after the first one's due time
        points = checkpoints(first.due_at, first.sla_hours, village)
        cal = calendar_for(village)
        seven = next_local_time(points.due_at, cal.tz, 7, 5, cal=cal)
        assert seven.astimezone(cal.tz).hour == 7
        expected = digest.village_counts(village, seven)
        assert expected.waiting >= 2 and expected.overdue >= 1
        result = digest.run(now=seven, kabupaten=["73.07"])
        again = digest.run(now=seven + timedelta(hours=1), kabupaten=["73.07"])
        # Then the village's digest is queued once, with the counts
        day = seven.astimezone(cal.tz).date().isoformat()
        assert village in result.queued and village not in again.queued
        row = outbox_repo.get(digest.digest_id(village, day))
        assert row is not None and row.audience == {"kind": "staff", "region": village, "role": "operator"}
        assert (row.payload["waiting"], row.payload["near_sla"], row.payload["overdue"]) == (
            expected.waiting, expected.near_sla, expected.overdue)
        # And the email says so
        outbox.handle_stream(inserts([row.id]), senders=fakes, now=seven)
        (mail,) = [m for m in fakes.email.sent if m.message_id.startswith(row.id)]
        assert mail.subject.startswith("Ringkasan harian")
        assert f"Menunggu diproses: {expected.waiting}" in mail.text
        assert f"Terlambat: {expected.overdue}" in mail.text
    finally:
        assert before is not None
        save_contact_preferences(operator, before.phone, before.email, before.preferences or {})


def test_digest_waits_for_seven_local_time_and_skips_non_working_days() -> None:
    six = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # Wednesday 06:00 WITA
    assert digest.run(now=six, kabupaten=["73.07"]).skipped == {"outside_window": 1}
    sunday = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # Sunday 07:30 WITA
    assert digest.run(now=sunday, kabupaten=["73.07"]).skipped == {"outside_window": 1}

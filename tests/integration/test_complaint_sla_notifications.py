"""Complaints through the SLA sweep (reminder, escalation desa -> kecamatan -> kabupaten, once each, in the audit
trail) and through the outbox sender (the citizen and only the handling unit's staff are told)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.escalation import checkpoints
from chalicelib.storage import complaints as repo
from chalicelib.storage import outbox as outbox_repo
from chalicelib.storage.people import get_staff, save_contact_preferences
from chalicelib.workers import complaint_sla, outbox, sla
from tests.complaints_support import ROAD, act, filed
from tests.conftest import SAMATARING, e164, staff_token
from tests.fakes import RecordingEmailSender, RecordingSmsSender
from tests.helpers import unsent_rows
from tests.integration.streams import inserts


@pytest.fixture()
def fakes() -> outbox.Senders:
    return outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender())


@pytest.fixture()
def phones() -> Iterator[dict[str, str]]:
    """SMS numbers for the PUPR and Dinkes officers, the village operator and the camat."""
    numbers = {"opd.dpupr": "+6281300000001", "opd.dinkes": "+6281300000002",
               f"operator.{SAMATARING}": "+6281300000003", "camat.73.07.03": "+6281300000004",
               "admin": "+6281300000005"}
    before = {u: get_staff(u) for u in numbers}
    for username, phone in numbers.items():
        save_contact_preferences(username, phone, None, {"channels": ["sms"]})
    yield numbers
    for username, staff in before.items():
        assert staff is not None
        save_contact_preferences(username, staff.phone, staff.email, staff.preferences or {})


def rows(complaint: repo.Complaint) -> dict[int, outbox_repo.OutboxRow]:
    found = {}
    for level in (1, 2, 3):
        row = outbox_repo.get(complaint_sla.outbox_id(complaint, level))
        if row is not None:
            found[level] = row
    return found


def actions(complaint_id: str) -> list[str]:
    c = repo.get(complaint_id)
    assert c is not None
    return [h.action for h in c.history]


def test_a_village_complaint_is_reminded_then_escalated_to_camat_and_admin_once_each(client, citizen):
    # Given a complaint the village handles, and its SLA checkpoints in working time
    c = repo.get(filed(client, citizen)["id"])
    assert c is not None
    points = checkpoints(c.due_at, c.sla_hours, c.village)
    # When the sweep runs before the reminder point: nothing
    sla.run(now=points.near_at - timedelta(minutes=1))
    assert rows(c) == {}
    # When it runs past each point twice
    for moment in (points.near_at, points.due_at, points.twice_at):
        for _ in range(2):
            sla.run(now=moment + timedelta(minutes=1))
    # Then the operators, the camat and the admin were each told once, and the trail shows each step once
    found = rows(c)
    assert [found[level].audience for level in (1, 2, 3)] == [
        {"kind": "staff", "region": SAMATARING, "role": "operator"},
        {"kind": "staff", "region": "73.07.03", "role": "camat"},
        {"kind": "staff", "region": "73.07", "role": "admin"}]
    assert [found[level].event for level in (1, 2, 3)] == ["complaint_sla_reminder", "complaint_sla_escalation",
                                                           "complaint_sla_escalation"]
    history = actions(c.id)
    for step in ("sla_reminder", "sla_escalation_kecamatan", "sla_escalation_kabupaten"):
        assert history.count(step) == 1
    # And after the last step the complaint has left the due index: a later sweep reads nothing of it
    assert c.id not in [d.id for d in repo.due("73.07", points.twice_at + timedelta(days=30))]


def test_resolving_stops_the_clock_and_reopening_restarts_it(client, citizen):
    created = filed(client, citizen)
    c = repo.get(created["id"])
    assert c is not None
    points = checkpoints(c.due_at, c.sla_hours, c.village)
    op = staff_token(client, f"operator.{SAMATARING}")
    act(client, op, created, "start")
    act(client, op, created, "resolve", note="Selesai.")
    sla.run(now=points.twice_at + timedelta(hours=1))
    assert rows(c) == {}
    assert c.id not in [d.id for d in repo.due("73.07", points.twice_at + timedelta(hours=1))]
    reopened = act(client, citizen["token"], created, "reopen", note="Belum beres.")
    assert reopened.status_code == 200
    again = repo.get(created["id"])
    # The clock restarts at the reopening: a later due time, or the same one when filing and reopening both
    # fall outside office hours (the clock then starts at the next opening)
    assert again is not None and again.due_at >= c.due_at
    assert again.id in [d.id for d in repo.due("73.07", checkpoints(again.due_at, again.sla_hours,
                                                                    again.village).near_at + timedelta(minutes=1))]


def test_an_opd_complaint_escalates_to_the_admin_and_tells_only_that_opd(client, citizen, fakes, phones):
    # Given a road complaint (Dinas PUPR)
    created = filed(client, citizen, category=ROAD, title="Jembatan kayu patah")
    c = repo.get(created["id"])
    assert c is not None
    # When its outbox rows are sent
    filing_rows = [r for r in unsent_rows(SAMATARING)
                   if r.payload.get("complaint_id") == c.id]
    # (one row for the filing, holding both of its messages)
    assert [[p.event for p in r.parts] for r in filing_rows] == [["complaint_received", "new_complaint"]]
    outbox.handle_stream(inserts([r.id for r in filing_rows]), senders=fakes)
    sms = fakes.sms
    # Then the citizen, who is looking at the complaint on screen, finds it in the portal inbox (no SMS: the
    # message policy); PUPR's officer gets an SMS; Dinkes and the village operator do not
    delivered = outbox_repo.get(filing_rows[0].id).delivered  # type: ignore[union-attr]
    # (the citizen's part is the first, keyed as before parts existed; the officer's is the second)
    assert {k for k in delivered if "/" not in k} == {"inbox:citizen"}
    assert any(k.startswith("1/sms:") for k in delivered)
    assert sms.texts_to(e164(citizen["phone"])) == []
    inbox = client.http.get("/v1/me/inbox", headers={"Authorization": f"Bearer {citizen['token']}"}).json_body
    assert any("Jembatan kayu patah" in str(m) for m in inbox["items"])
    assert sms.texts_to(phones["opd.dpupr"]) and "Jembatan kayu patah" in sms.texts_to(phones["opd.dpupr"])[0]
    assert sms.texts_to(phones["opd.dinkes"]) == [] and sms.texts_to(phones[f"operator.{SAMATARING}"]) == []
    # And past its SLA the admin kabupaten is told (an OPD has no camat)
    points = checkpoints(c.due_at, c.sla_hours, c.village)
    sla.run(now=points.due_at + timedelta(minutes=1))
    found = rows(c)
    assert found[1].audience["opd"] == "dpupr"
    assert found[2].audience == {"kind": "staff", "region": "73.07", "role": "admin"}
    outbox.handle_stream(inserts([found[1].id, found[2].id]), senders=fakes, now=points.due_at + timedelta(minutes=2))
    assert any("terlambat" in t for t in sms.texts_to(phones["admin"]))
    assert sms.texts_to(phones["camat.73.07.03"]) == []


def test_each_status_change_tells_the_citizen(client, citizen, fakes):
    created = filed(client, citizen)
    op = staff_token(client, f"operator.{SAMATARING}")
    act(client, op, created, "acknowledge")
    status_rows = [r for r in unsent_rows(SAMATARING)
                   if r.payload.get("complaint_id") == created["id"] and r.event == "complaint_status"]
    assert len(status_rows) == 1 and status_rows[0].audience["kind"] == "citizen"
    outbox.handle_stream(inserts([status_rows[0].id]), senders=fakes)
    assert "diterima petugas" in fakes.sms.texts_to(e164(citizen["phone"]))[0]


def test_two_officers_acting_on_the_same_version_one_wins_the_other_gets_409(client, citizen, monkeypatch):
    import threading

    from chalicelib.domain.requests import Principal
    from chalicelib.errors import ConflictError
    from chalicelib.services import complaints as service
    from tests.moto_locking import serialized_moto_writes

    created = filed(client, citizen)
    # Both read version 1 before either writes
    barrier = threading.Barrier(2, timeout=10)
    real_get = repo.get

    def get_then_wait(complaint_id: str, consistent: bool = True) -> Any:
        found = real_get(complaint_id, consistent)
        barrier.wait()
        return found

    monkeypatch.setattr(repo, "get", get_then_wait)
    results: dict[str, object] = {}
    actors = {"acknowledge": Principal("operator", SAMATARING, f"operator.{SAMATARING}", "Operator"),
              "reject": Principal("kades", SAMATARING, f"kades.{SAMATARING}", "Kades")}

    def run(action: str) -> None:
        try:
            results[action] = service.transition(actors[action], created["id"], action, 1,
                                                 "Bukan urusan desa" if action == "reject" else None)
        except ConflictError as exc:
            results[action] = exc

    with serialized_moto_writes():
        threads = [threading.Thread(target=run, args=(a,)) for a in actors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    monkeypatch.setattr(repo, "get", real_get)
    conflicts = [o for o in results.values() if isinstance(o, ConflictError)]
    assert len(conflicts) == 1 and conflicts[0].code == "stale_version"
    stored = repo.get(created["id"])
    assert stored is not None and stored.version == 2 and stored.status in ("acknowledged", "rejected")
    assert len([h for h in stored.history if h.action in ("acknowledge", "reject")]) == 1

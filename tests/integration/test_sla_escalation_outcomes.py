"""The SLA escalation transaction's outcomes, read by item: done, stale (the request moved), repaired."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id, new_tracking_code
from chalicelib.domain.operations import ChangeRequest, CreateRequest, PutOutbox
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.storage import outbox as outbox_repo
from chalicelib.storage import requests as requests_repo
from chalicelib.storage import sla as sla_repo
from chalicelib.storage.unit_of_work import DynamoUnitOfWork

VILLAGE = "73.07.03.1001"


def _stored() -> ServiceRequest:
    at = iso(utcnow() - timedelta(days=3))
    request = ServiceRequest(
        id=new_id(), village=VILLAGE, kecamatan="73.07.03", kabupaten="73.07", letter_type="SKD",
        letter_name="Surat Keterangan Domisili", status="submitted", version=1, tracking_code=new_tracking_code(),
        nik_hash="h" * 64, fields={}, applicant={"name": "Siti"}, sla_hours=8, created_at=at, updated_at=at,
        due_at=at, history=[HistoryEntry(at, "warga", "citizen", "submit", None, "submitted", None, 1)])
    uow = DynamoUnitOfWork()
    uow.add(CreateRequest(request))
    uow.commit()
    stored = requests_repo.get(request.id)
    assert stored is not None
    return stored


def _escalation(request: ServiceRequest, level: int) -> tuple[HistoryEntry, OutboxMessage]:
    at = iso(utcnow())
    event = HistoryEntry(at, "Sistem Balai", "system", "sla_escalation", request.status, request.status, None,
                         request.version)
    message = OutboxMessage(f"SLA-{request.id}-{level}", "sla_escalation", {"kind": "staff", "region": VILLAGE},
                            VILLAGE, {"request_id": request.id, "level": level}, at)
    return event, message


def test_an_escalation_records_the_level_its_event_and_its_message():
    request = _stored()
    event, message = _escalation(request, 2)
    assert sla_repo.escalate(request, 2, None, event, [message]) == "done"
    assert requests_repo.get(request.id).sla["level"] == 2
    assert outbox_repo.get(message.id) is not None
    assert [h.action for h in requests_repo.get(request.id).history] == ["submit", "sla_escalation"]


def test_an_escalation_of_a_request_that_moved_meanwhile_is_stale_and_tells_nobody():
    # Given the request was reviewed after the sweep read it
    request = _stored()
    uow = DynamoUnitOfWork()
    uow.add(ChangeRequest(request, replace(request, status="in_review", version=2, history=[])))
    uow.commit()
    # When the sweep's escalation commits, then it is stale, and its message is not written
    event, message = _escalation(request, 2)
    assert sla_repo.escalate(request, 2, None, event, [message]) == "stale"
    assert outbox_repo.get(message.id) is None


def test_an_escalation_whose_message_exists_repairs_the_level_and_tells_nobody_twice():
    # Given this level's message already exists (a transition had overwritten the recorded level)
    request = _stored()
    event, message = _escalation(request, 2)
    uow = DynamoUnitOfWork()
    uow.add(PutOutbox(message))
    uow.commit()
    # When the escalation commits with the same deterministic message (the request item first, the message last)
    outcome = sla_repo.escalate(request, 2, None, event, [message])
    # Then the level is written again, without a second message or audit event
    assert outcome == "repaired"
    assert requests_repo.get(request.id).sla["level"] == 2
    assert [h.action for h in requests_repo.get(request.id).history] == ["submit"]

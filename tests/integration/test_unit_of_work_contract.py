"""The in-memory unit of work keeps the DynamoDB one's contract: the same scenarios pass on both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id, new_tracking_code
from chalicelib.domain.operations import (
    ChangeRequest,
    CreateRequest,
    IdempotencyGuard,
    IdempotentReplay,
    NumberLetters,
    PutEvent,
    PutOutbox,
    TrackingCodeTaken,
)
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.errors import ConflictError
from chalicelib.storage.unit_of_work import DynamoUnitOfWork
from tests.fakes import FakeStore, FakeUnitOfWork

VILLAGE = "73.07.03.1001"


@pytest.fixture(params=["dynamodb", "fake"])
def new_uow(request: pytest.FixtureRequest) -> Callable[[], Any]:
    if request.param == "dynamodb":
        return DynamoUnitOfWork
    store = FakeStore()
    return lambda: FakeUnitOfWork(store)


def _request(tracking_code: str | None = None) -> ServiceRequest:
    at = iso(utcnow())
    return ServiceRequest(
        id=new_id(), village=VILLAGE, kecamatan="73.07.03", kabupaten="73.07", letter_type="SKD",
        letter_name="Surat Keterangan Domisili", status="submitted", version=1,
        tracking_code=tracking_code or new_tracking_code(), nik_hash="h" * 64, fields={"keperluan": "x"},
        applicant={"name": "Siti"}, sla_hours=8, created_at=at, updated_at=at,
        due_at=iso(utcnow() + timedelta(hours=8)),
        history=[HistoryEntry(at, "warga", "citizen", "submit", None, "submitted", None, 1)])


def _create(new_uow: Callable[[], Any], request: ServiceRequest, guard: IdempotencyGuard | None = None) -> None:
    uow = new_uow()
    uow.add(CreateRequest(request, guard))
    uow.commit()


def _review(before: ServiceRequest, status: str = "in_review") -> list[Any]:
    after = replace(before, status=status, version=before.version + 1, history=[])
    at = iso(utcnow() + timedelta(seconds=before.version))
    return [ChangeRequest(before, after),
            PutEvent(before.id, HistoryEntry(at, "Op", "operator", "review", before.status, status, None,
                                             after.version))]


def test_a_created_request_reads_back_with_its_history(new_uow):
    request = _request()
    _create(new_uow, request)
    stored = new_uow().requests.get(request.id)
    assert (stored.status, stored.version, [h.action for h in stored.history]) == ("submitted", 1, ["submit"])


def test_a_taken_tracking_code_and_a_used_idempotency_key(new_uow):
    guard = IdempotencyGuard("h" * 64, f"k-{new_id()}", "hash", utcnow() + timedelta(hours=1))
    first = _request()
    _create(new_uow, first, guard)
    with pytest.raises(TrackingCodeTaken):
        _create(new_uow, _request(tracking_code=first.tracking_code))
    with pytest.raises(IdempotentReplay) as caught:
        _create(new_uow, _request(), guard)
    assert caught.value.request_id == first.id


def test_a_change_from_an_old_version_is_stale_and_all_or_nothing(new_uow):
    request = _request()
    _create(new_uow, request)
    before = new_uow().requests.get(request.id)
    uow = new_uow()
    uow.add(*_review(before))
    uow.commit()
    message = OutboxMessage(new_id(), "rejected", {"kind": "citizen"}, VILLAGE, {"request_id": request.id},
                            iso(utcnow()))
    late = new_uow()
    late.add(PutOutbox(message), *_review(before, "rejected"))
    with pytest.raises(ConflictError) as caught:
        late.commit()
    assert caught.value.code == "stale_version"
    # Nothing of the refused commit was written: the message can still be written on its own
    ok = new_uow()
    ok.add(PutOutbox(message))
    ok.commit()
    assert new_uow().requests.get(request.id).status == "in_review"


def test_a_counter_moved_past_the_number_read_is_a_number_conflict(new_uow):
    scope = f"S-{new_id()}"
    first = new_uow()
    first.add(NumberLetters(VILLAGE, scope, 2030, 0, 2, "a", iso(utcnow())))
    first.commit()
    assert new_uow().letters.last_number(VILLAGE, scope, 2030) == 2
    again = new_uow()
    again.add(NumberLetters(VILLAGE, scope, 2030, 0, 1, "b", iso(utcnow())))
    with pytest.raises(ConflictError) as caught:
        again.commit()
    assert caught.value.code == "number_conflict"
    assert new_uow().letters.last_number(VILLAGE, scope, 2030) == 2


def test_an_outbox_message_is_written_once(new_uow):
    message = OutboxMessage(f"DIGEST-{new_id()}", "daily_digest", {"kind": "staff"}, VILLAGE, {}, iso(utcnow()))
    uow = new_uow()
    uow.add(PutOutbox(message))
    uow.commit()
    again = new_uow()
    again.add(PutOutbox(message))
    with pytest.raises(ConflictError) as caught:
        again.commit()
    assert caught.value.code == "duplicate_outbox"

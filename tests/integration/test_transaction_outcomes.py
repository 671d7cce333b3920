"""Transaction outcomes are read by item identity: an unrelated item added anywhere changes no outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id, new_tracking_code
from chalicelib.domain.operations import (
    ChangeRequest,
    CreateRequest,
    IdempotencyGuard,
    IdempotentReplay,
    NumberLetters,
    Operation,
    PutEvent,
    PutOutbox,
    TrackingCodeTaken,
)
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage import letters as letters_repo
from chalicelib.storage import requests as requests_repo
from chalicelib.storage.connection import transaction_connection
from chalicelib.storage.models import LetterCounterItem, OutboxItem
from chalicelib.storage.outbox import outbox_item
from chalicelib.storage.transaction import Transaction, TransactionCancelled
from chalicelib.storage.unit_of_work import DynamoUnitOfWork, writes

VILLAGE = "73.07.03.1001"
# Where the unrelated item goes in each transaction: before everything, after everything.
PLACES = ["first", "last"]


def _request(status: str = "submitted", version: int = 1, tracking_code: str | None = None) -> ServiceRequest:
    at = iso(utcnow())
    return ServiceRequest(
        id=new_id(), village=VILLAGE, kecamatan="73.07.03", kabupaten="73.07", letter_type="SKD",
        letter_name="Surat Keterangan Domisili", status=status, version=version,
        tracking_code=tracking_code or new_tracking_code(), nik_hash="h" * 64, fields={}, applicant={"name": "Siti"},
        sla_hours=8, created_at=at, updated_at=at, due_at=iso(utcnow() + timedelta(hours=8)),
        history=[HistoryEntry(at, "warga", "citizen", "submit", None, "submitted", None, 1)])


def _unrelated() -> list[Operation]:
    """Items another feature might add: an outbox message (a put) and an aggregate-like counter (an update)."""
    message = OutboxMessage(new_id(), "new_request", {"kind": "staff", "region": VILLAGE, "role": "operator"},
                            VILLAGE, {"request_id": "unrelated"}, iso(utcnow()))
    return [PutOutbox(message), NumberLetters(VILLAGE, f"AGG-{new_id()}", 2030, 0, 1, "x", iso(utcnow()))]


def _commit(place: str, *operations: Operation) -> None:
    uow = DynamoUnitOfWork()
    extra = _unrelated()
    uow.add(*(extra + list(operations) if place == "first" else list(operations) + extra))
    uow.commit()


def _stored(status: str = "submitted", version: int = 1) -> ServiceRequest:
    request = replace(_request(), status=status, version=version)
    _commit("last", CreateRequest(request))
    stored = requests_repo.get(request.id)
    assert stored is not None
    return stored


def _changed(before: ServiceRequest, status: str) -> tuple[ChangeRequest, PutEvent]:
    after = replace(before, status=status, version=before.version + 1, updated_at=iso(utcnow()), history=[])
    event = HistoryEntry(iso(utcnow()), "Operator", "operator", "review", before.status, status, None, after.version)
    return ChangeRequest(before, after), PutEvent(before.id, event)


def test_pynamodb_transactwrite_does_not_send_items_in_the_order_added():
    # Given PynamoDB's TransactWrite with a failing update added before a put
    request = _stored()
    counter = LetterCounterItem(keys.letter_counter_pk(VILLAGE, f"T-{new_id()}", 2030), keys.META)
    fresh = outbox_item(OutboxMessage(new_id(), "e", {}, VILLAGE, {}, iso(utcnow())))
    with pytest.raises(TransactWriteError) as caught:
        with TransactWrite(connection=transaction_connection()) as tw:
            tw.update(counter, actions=[LetterCounterItem.seq.add(1)], condition=LetterCounterItem.seq == 41)
            tw.save(fresh, condition=OutboxItem.PK.does_not_exist())
    # Then the refused update's reason is the *second* one: PynamoDB sent the put first (it groups puts before
    # updates), so reading reasons by the order items were added names the wrong item
    codes = [getattr(r, "code", None) for r in caught.value.cancellation_reasons]
    assert codes == [None, "ConditionalCheckFailed"]
    assert requests_repo.get(request.id) is not None


def test_our_transaction_names_the_refused_item_whatever_its_kind_or_place():
    # Given the same two items in our Transaction (sent in the order added)
    counter = LetterCounterItem(keys.letter_counter_pk(VILLAGE, f"T-{new_id()}", 2030), keys.META)
    fresh = outbox_item(OutboxMessage(new_id(), "e", {}, VILLAGE, {}, iso(utcnow())))
    tx = Transaction()
    tx.update(counter, [LetterCounterItem.seq.add(1)], "letter_counter", LetterCounterItem.seq == 41)
    tx.put(fresh, "outbox", OutboxItem.PK.does_not_exist())
    with pytest.raises(TransactionCancelled) as caught:
        tx.commit()
    # Then the refusal is the counter's, by its key
    assert [(f.entry.purpose, f.code) for f in caught.value.failures] == [("letter_counter", "ConditionalCheckFailed")]
    assert caught.value.failures[0].entry.key == (counter.PK, counter.SK)


@pytest.mark.parametrize("place", PLACES)
def test_create_reports_a_taken_tracking_code(place):
    # Given a request holding a tracking code
    taken = _stored()
    # When another request with the same code is created, an unrelated item in its transaction
    with pytest.raises(TrackingCodeTaken):
        _commit(place, CreateRequest(_request(tracking_code=taken.tracking_code)))


def test_the_positional_rule_of_before_misreads_a_create_with_an_item_in_front():
    # Given a create whose tracking code is taken, with one unrelated put added in front of it
    taken = _stored()
    request = _request(tracking_code=taken.tracking_code)
    uow = DynamoUnitOfWork()
    uow.add(_unrelated()[0], CreateRequest(request))
    tx, _ = uow.transaction()
    with pytest.raises(TransactionCancelled) as caught:
        tx.commit()
    codes = [getattr(r, "code", None) for r in caught.value.cause.cancellation_reasons]
    # Then the old rule (the tracking item at 1 + len(history)) reads another item's reason...
    assert codes[1 + len(request.history)] != "ConditionalCheckFailed"
    # ...while reading by identity names the tracking code
    assert [f.entry.purpose for f in caught.value.failures] == ["tracking_code"]


@pytest.mark.parametrize("place", PLACES)
def test_create_with_a_used_idempotency_key_is_a_replay(place):
    # Given a first submission under an Idempotency-Key
    guard = IdempotencyGuard("h" * 64, f"key-{new_id()}", "hash-1", utcnow() + timedelta(hours=24))
    first = _request()
    _commit(place, CreateRequest(first, guard))
    # When the same key comes again (a new request id and tracking code), then it is the first request's replay
    with pytest.raises(IdempotentReplay) as caught:
        _commit(place, CreateRequest(_request(), guard))
    assert (caught.value.request_id, caught.value.payload_hash) == (first.id, "hash-1")


@pytest.mark.parametrize("place", PLACES)
def test_transition_of_a_moved_request_is_a_stale_version(place):
    # Given a request read at version 1, then moved by someone else
    before = _stored()
    _commit("last", *_changed(before, "in_review"))
    # When a transition from the old version commits, with unrelated items around it
    with pytest.raises(ConflictError) as caught:
        _commit(place, *_changed(before, "rejected"))
    # Then it is a stale version, and nothing of it (nor of the unrelated items) is written
    assert caught.value.code == "stale_version"
    assert requests_repo.get(before.id).status == "in_review"


@pytest.mark.parametrize("place", PLACES)
def test_a_refused_unrelated_item_is_named_and_not_taken_for_a_stale_request(place):
    # Given a current request and an outbox message that already exists (deterministic id)
    before = _stored()
    existing = OutboxMessage(f"SLA-{new_id()}", "sla_reminder", {"kind": "staff"}, VILLAGE, {}, iso(utcnow()))
    _commit("last", PutOutbox(existing))
    # When a transition of the current version is committed with that message
    uow = DynamoUnitOfWork()
    change = list(_changed(before, "in_review"))
    uow.add(*([PutOutbox(existing)] + change if place == "first" else change + [PutOutbox(existing)]))
    with pytest.raises(ConflictError) as caught:
        uow.commit()
    # Then the refusal is the message's (not stale_version), and the request did not move
    assert caught.value.code == "duplicate_outbox"
    assert requests_repo.get(before.id).version == 1


@pytest.mark.parametrize("place", PLACES)
def test_transition_many_names_the_stale_request_among_several(place):
    # Given two requests, the second moved since it was read
    first, second = _stored(), _stored()
    _commit("last", *_changed(second, "in_review"))
    # When both change in one transaction
    with pytest.raises(ConflictError) as caught:
        _commit(place, *_changed(first, "in_review"), *_changed(second, "rejected"))
    # Then it is a stale version and neither moved
    assert caught.value.code == "stale_version"
    assert requests_repo.get(first.id).status == "submitted"


@pytest.mark.parametrize("place", PLACES)
def test_issue_with_a_moved_counter_is_a_number_conflict_wherever_the_counter_is(place):
    # Given an `issuing` request and a letter counter that moved past the number read (1 instead of 0)
    before = _stored(status="issuing", version=4)
    scope = f"S-{new_id()}"
    _commit("last", NumberLetters(VILLAGE, scope, 2030, 0, 1, "someone-else", iso(utcnow())))
    # When the issue commit (counter first, then the request; unrelated items around) expects the old number
    with pytest.raises(ConflictError) as caught:
        _commit(place, NumberLetters(VILLAGE, scope, 2030, 0, 1, "mine", iso(utcnow())), *_changed(before, "issued"))
    # Then it is a number conflict (the request was current), and the counter holds its number
    assert caught.value.code == "number_conflict"
    assert letters_repo.last_number(VILLAGE, scope, 2030) == 1
    assert requests_repo.get(before.id).status == "issuing"


@pytest.mark.parametrize("place", PLACES)
def test_issue_of_a_moved_request_is_a_stale_version_even_with_a_current_counter(place):
    before = _stored(status="issuing", version=4)
    _commit("last", *_changed(before, "issued"))
    with pytest.raises(ConflictError) as caught:
        _commit(place, *_changed(before, "issued"),
                NumberLetters(VILLAGE, f"S-{new_id()}", 2030, 0, 1, "mine", iso(utcnow())))
    assert caught.value.code == "stale_version"


@dataclass(frozen=True)
class CountRequest(Operation):
    """A feature's own operation (an aggregate counter, as transparency will keep): no condition."""

    village: str
    scope: str


@writes(CountRequest)
def _count_request(tx: Transaction, op: CountRequest) -> None:
    item = LetterCounterItem(keys.letter_counter_pk(op.village, op.scope, 2030), keys.META)
    tx.update(item, [LetterCounterItem.seq.add(1)], "aggregate")


def test_a_features_own_operation_joins_the_transaction_and_changes_no_outcome():
    # Given a feature that counts every transition with an operation of its own
    before = _stored()
    scope = f"AGG-{new_id()}"
    # When a transition commits with it, then both are written
    _commit("first", CountRequest(VILLAGE, scope), *_changed(before, "in_review"))
    assert letters_repo.last_number(VILLAGE, scope, 2030) == 1
    # And when a stale transition carries it (first in the transaction), it is still a stale version, uncounted
    with pytest.raises(ConflictError) as caught:
        _commit("first", CountRequest(VILLAGE, scope), *_changed(before, "rejected"))
    assert caught.value.code == "stale_version"
    assert letters_repo.last_number(VILLAGE, scope, 2030) == 1

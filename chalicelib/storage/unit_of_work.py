"""The DynamoDB unit of work: domain operations in, one TransactWriteItems out, failures named by item.

Each operation becomes its items, each added with its key and purpose (storage/transaction.py); a cancelled
transaction is read by the purposes of the refused items, in the precedence order of domain/operations.py.
A new kind of item (a complaint, an aggregate counter) is a new Operation subclass plus a `@writes(...)`
function in its own storage module (imported before use) and, if its condition failing means something of
its own, one row in domain/operations.py's REFUSALS. The request changes (CreateRequest, ChangeRequest) add
the transparency counters they move to the same transaction (storage/stats.py `count_changes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import PynamoDBException

from chalicelib.domain.operations import (
    ChangeRequest,
    CreateRequest,
    NumberLetters,
    Operation,
    PutEvent,
    PutOutbox,
    RecordSlaLevel,
    StoreLetter,
    UseUpload,
    refusal,
)
from chalicelib.storage import codec, keys, people
from chalicelib.storage import letters as letters_repo
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import requests as requests_repo
from chalicelib.storage import stats as stats_repo
from chalicelib.storage import uploads as uploads_repo
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import (
    EventItem,
    IdempotencyItem,
    LetterCounterItem,
    LetterItem,
    OutboxItem,
    RequestItem,
    TrackingItem,
)
from chalicelib.storage.outbox import outbox_item
from chalicelib.storage.transaction import Transaction, TransactionCancelled

Writer = Callable[[Transaction, Any], None]
_WRITERS: dict[type[Operation], Writer] = {}


def writes(operation: type[Operation]) -> Callable[[Writer], Writer]:
    """Register the function that adds an operation's items (each with its purpose and condition)."""

    def register(writer: Writer) -> Writer:
        _WRITERS[operation] = writer
        return writer

    return register


def items_of(tx: Transaction, op: Operation) -> None:
    """Add the items one operation writes. Raises TypeError for an operation nobody registered."""
    writer = _WRITERS.get(type(op))
    if writer is None:
        raise TypeError(f"no items registered for {type(op).__name__}")
    writer(tx, op)


@writes(CreateRequest)
def _create_request(tx: Transaction, op: CreateRequest) -> None:
    r = op.request
    tx.put(codec.request_item(r), "request_new", RequestItem.PK.does_not_exist())
    for entry in r.history:
        tx.put(codec.event_item(r.id, entry), "event")
    tx.put(TrackingItem(keys.tracking_pk(r.tracking_code), keys.META, entity="tracking", request_id=r.id),
           "tracking_code", TrackingItem.PK.does_not_exist())
    if op.guard is not None:
        g = op.guard
        tx.put(IdempotencyItem(keys.idempotency_pk(g.subject, g.key), keys.META, entity="idempotency",
                               request_id=r.id, payload_hash=g.payload_hash, expires_at=g.expires_at),
               "idempotency", IdempotencyItem.PK.does_not_exist())


@writes(ChangeRequest)
def _change_request(tx: Transaction, op: ChangeRequest) -> None:
    tx.put(codec.request_item(op.after), "request_version",
           (RequestItem.version == op.before.version) & (RequestItem.status == op.before.status))


@writes(RecordSlaLevel)
def _record_sla_level(tx: Transaction, op: RecordSlaLevel) -> None:
    tx.update(RequestItem(keys.request_pk(op.request.id), keys.META),
              codec.sla_level_actions(op.request, op.level, op.next_at), "request_version",
              codec.unchanged(op.request))


@writes(PutEvent)
def _put_event(tx: Transaction, op: PutEvent) -> None:
    tx.put(codec.event_item(op.request_id, op.entry), "event", EventItem.SK.does_not_exist())


@writes(PutOutbox)
def _put_outbox(tx: Transaction, op: PutOutbox) -> None:
    tx.put(outbox_item(op.message), "outbox", OutboxItem.PK.does_not_exist())


@writes(NumberLetters)
def _number_letters(tx: Transaction, op: NumberLetters) -> None:
    counter = LetterCounterItem(keys.letter_counter_pk(op.village, op.scope, op.year), keys.META)
    guard = (LetterCounterItem.PK.does_not_exist() if op.expected_last == 0
             else LetterCounterItem.seq == op.expected_last)
    tx.update(counter, [
        LetterCounterItem.seq.add(op.count), LetterCounterItem.last_letter_id.set(op.last_letter_id),
        LetterCounterItem.updated_at.set(op.at), LetterCounterItem.village.set(op.village),
        LetterCounterItem.scope.set(op.scope), LetterCounterItem.year.set(op.year),
        LetterCounterItem.entity.set("letter_counter")], "letter_counter", guard)


@writes(StoreLetter)
def _store_letter(tx: Transaction, op: StoreLetter) -> None:
    letters_repo.keep_document(op.letter.document)
    tx.put(letters_repo.letter_item(op.letter), "letter", LetterItem.PK.does_not_exist())


@writes(UseUpload)
def _use_upload(tx: Transaction, op: UseUpload) -> None:
    uploads_repo.add_use(tx, op)


def _counted(op: Operation) -> list[stats_repo.Change]:
    """The request changes an operation makes that the transparency counters see (RecordSlaLevel moves only the
    SLA level, which no counter reads)."""
    if isinstance(op, CreateRequest):
        return [("request", None, stats_repo.image(codec.request_item(op.request)))]
    if isinstance(op, ChangeRequest):
        return [("request", stats_repo.image(codec.request_item(op.before)),
                 stats_repo.image(codec.request_item(op.after)))]
    return []


class DynamoUnitOfWork:
    """Reads through the repositories; `commit()` writes the operations added since the last commit in one
    transaction (up to 100 items) and raises the error of the most important refused item."""

    requests = requests_repo
    letters = letters_repo
    regions = regions_repo
    staff = people

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def add(self, *operations: Operation) -> None:
        self.operations.extend(operations)

    def transaction(self) -> tuple[Transaction, dict[tuple[str, str], Operation]]:
        """The transaction the added operations make, and which operation each item key belongs to."""
        tx = Transaction()
        owner: dict[tuple[str, str], Operation] = {}
        for op in self.operations:
            before = len(tx.entries)
            items_of(tx, op)
            for entry in tx.entries[before:]:
                owner[entry.key] = op
        stats_repo.count_changes(tx, (c for op in self.operations for c in _counted(op)))
        return tx, owner

    def commit(self) -> None:
        tx, owner = self.transaction()
        self.operations = []
        try:
            tx.commit()
        except TransactionCancelled as cancelled:
            refused = {f.entry.purpose: owner[f.entry.key] for f in cancelled.failures
                       if f.code == "ConditionalCheckFailed" and f.entry.key in owner}
            error = refusal(refused, lambda g: requests_repo.get_idempotency(g.subject, g.key))
            raise (error or translate_errors(cancelled.cause)) from cancelled.cause
        except PynamoDBException as exc:
            raise translate_errors(exc) from exc


def unit_of_work() -> DynamoUnitOfWork:
    return DynamoUnitOfWork()

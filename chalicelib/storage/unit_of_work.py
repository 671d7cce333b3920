"""The DynamoDB unit of work: domain operations in, one TransactWriteItems out, failures named by item.

Each operation becomes its items, each added with its key and purpose (storage/transaction.py); a cancelled
transaction is read by the purposes of the refused items, in the precedence order of domain/operations.py.
A new kind of item (a complaint, an aggregate counter) is a new operation plus one branch in `_items` and,
if it has a condition of its own, one row in domain/operations.py's REFUSALS.
"""

from __future__ import annotations

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
    refusal,
)
from chalicelib.storage import codec, keys, people
from chalicelib.storage import letters as letters_repo
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import requests as requests_repo
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


def _items(tx: Transaction, op: Operation) -> None:
    """The items one operation writes, each with its purpose and condition."""
    if isinstance(op, CreateRequest):
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
    elif isinstance(op, ChangeRequest):
        tx.put(codec.request_item(op.after), "request_version",
               (RequestItem.version == op.before.version) & (RequestItem.status == op.before.status))
    elif isinstance(op, RecordSlaLevel):
        tx.update(RequestItem(keys.request_pk(op.request.id), keys.META),
                  codec.sla_level_actions(op.request, op.level, op.next_at), "request_version",
                  codec.unchanged(op.request))
    elif isinstance(op, PutEvent):
        tx.put(codec.event_item(op.request_id, op.entry), "event", EventItem.SK.does_not_exist())
    elif isinstance(op, PutOutbox):
        tx.put(outbox_item(op.message), "outbox", OutboxItem.PK.does_not_exist())
    elif isinstance(op, NumberLetters):
        counter = LetterCounterItem(keys.letter_counter_pk(op.village, op.scope, op.year), keys.META)
        guard = (LetterCounterItem.PK.does_not_exist() if op.expected_last == 0
                 else LetterCounterItem.seq == op.expected_last)
        tx.update(counter, [
            LetterCounterItem.seq.add(op.count), LetterCounterItem.last_letter_id.set(op.last_letter_id),
            LetterCounterItem.updated_at.set(op.at), LetterCounterItem.village.set(op.village),
            LetterCounterItem.scope.set(op.scope), LetterCounterItem.year.set(op.year),
            LetterCounterItem.entity.set("letter_counter")], "letter_counter", guard)
    elif isinstance(op, StoreLetter):
        tx.put(letters_repo.letter_item(op.letter), "letter", LetterItem.PK.does_not_exist())
    else:  # pragma: no cover - a new Operation without its items is a programming error
        raise TypeError(f"no items for {type(op).__name__}")


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
            _items(tx, op)
            for entry in tx.entries[before:]:
                owner[entry.key] = op
        return tx, owner

    def commit(self) -> None:
        tx, owner = self.transaction()
        self.operations = []
        try:
            tx.commit()
        except TransactionCancelled as cancelled:
            refused = {f.entry.purpose: owner[f.entry.key] for f in cancelled.failures
                       if f.code == "ConditionalCheckFailed"}
            error = refusal(refused, lambda g: requests_repo.get_idempotency(g.subject, g.key))
            raise (error or translate_errors(cancelled.cause)) from cancelled.cause
        except PynamoDBException as exc:
            raise translate_errors(exc) from exc


def unit_of_work() -> DynamoUnitOfWork:
    return DynamoUnitOfWork()

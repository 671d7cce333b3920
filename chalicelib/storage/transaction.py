"""One TransactWriteItems whose outcome is read by item identity: every item is added with its key and purpose.

DynamoDB answers a cancelled transaction with one cancellation reason per item, in the order the items were
sent. PynamoDB's own `TransactWrite` does not send them in the order they were added: it groups condition
checks, deletes, puts and updates (pynamodb 6.1 `Connection.transact_write_items`), so "reason i" is not
"the i-th item added" as soon as a transaction mixes puts and updates. This module builds each item's request
with PynamoDB's public `get_*_kwargs_from_instance` and sends the list itself, in the order added, so
`reasons[i]` belongs to `self.entries[i]`, whatever other items a feature adds to the same transaction.

A transaction cancelled only because another transaction was writing one of its items at the same moment
(reason `TransactionConflict`, no condition failed) wrote nothing and is sent again, a few times with jittered
backoff: every request write of a kecamatan adds to its kecamatan's monthly counter item (storage/stats.py),
so such conflicts are expected under load and are no fault of the citizen. A failed condition is never retried.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.constants import TRANSACT_ITEMS, TRANSACT_PUT, TRANSACT_UPDATE, TRANSACT_WRITE_ITEMS
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.storage.connection import aws_code, transaction_connection
from chalicelib.storage.table import BaseItem

# DynamoDB's limit on the items of one transaction.
MAX_ITEMS = 100
# Sends of a transaction DynamoDB cancels for a TransactionConflict only (the waits add up to 0.4 s at most).
CONFLICT_ATTEMPTS = 5
CONFLICT = "TransactionConflict"


@dataclass(frozen=True)
class Entry:
    """One item of the transaction: its table key (PK, SK) and why it is there (e.g. "request_version")."""

    key: tuple[str, str]
    purpose: str


@dataclass(frozen=True)
class Failure:
    """An item whose write DynamoDB refused, with the reason's code (ConditionalCheckFailed, ...)."""

    entry: Entry
    code: str


class TransactionCancelled(Exception):
    """DynamoDB cancelled the transaction; `failures` names each refused item (empty when none is named,
    e.g. a TransactionConflict on the whole request), `cause` is the library error."""

    def __init__(self, failures: list[Failure], cause: TransactWriteError) -> None:
        super().__init__(", ".join(f"{f.entry.purpose}={f.code}" for f in failures) or "cancelled")
        self.failures = failures
        self.cause = cause

    def failed(self, purpose: str, code: str = "ConditionalCheckFailed") -> list[Entry]:
        return [f.entry for f in self.failures if f.entry.purpose == purpose and f.code == code]


def _key_of(model: BaseItem) -> tuple[str, str]:
    return str(model.PK), str(model.SK)


class Transaction:
    """Items added with `put` / `update` are written all or nothing by `commit()`, in the order added."""

    def __init__(self, client_request_token: str | None = None) -> None:
        # One token per logical write: botocore's retry after a timeout resends it, and DynamoDB then
        # answers success instead of applying the write twice (or failing it as a stale version).
        self.token = client_request_token or uuid.uuid4().hex
        self.entries: list[Entry] = []
        self._items: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, model: BaseItem, purpose: str, condition: Condition | None = None) -> None:
        kwargs = model.get_save_kwargs_from_instance(condition=condition)
        self._add(_key_of(model), purpose, {TRANSACT_PUT: kwargs})

    def update(self, model: BaseItem, actions: list[Action], purpose: str, condition: Condition | None = None) -> None:
        kwargs = model.get_update_kwargs_from_instance(actions=actions, condition=condition)
        self._add(_key_of(model), purpose, {TRANSACT_UPDATE: kwargs})

    def add_raw(self, key: tuple[str, str], purpose: str, item: dict[str, Any]) -> None:
        """An item already in the low-level shape ({"Update": {...}}): for attributes no model declares."""
        self._add(key, purpose, item)

    def _add(self, key: tuple[str, str], purpose: str, item: dict[str, Any]) -> None:
        if any(e.key == key for e in self.entries):
            raise ValueError(f"one transaction writes {key} twice ({purpose})")
        self.entries.append(Entry(key, purpose))
        self._items.append(item)

    def commit(self) -> None:
        """Write every item or none. Raises TransactionCancelled (with the refused items by identity) and
        TransactWriteError for any other failure (throttling, network), as PynamoDB would."""
        if not self._items:
            return
        if len(self._items) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} items, not {len(self._items)}")
        connection = transaction_connection()
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                connection.dispatch(TRANSACT_WRITE_ITEMS, {TRANSACT_ITEMS: list(self._items),
                                                           "ClientRequestToken": self.token})
                return
            except (BotoCoreError, ClientError) as exc:
                error = TransactWriteError("Failed to write transaction items", exc)
                if aws_code(error) != "TransactionCanceledException":
                    raise error from exc
                failures = self.failures(error)
                if attempt + 1 == CONFLICT_ATTEMPTS or not failures or any(f.code != CONFLICT for f in failures):
                    raise TransactionCancelled(failures, error) from exc
            # Cancelled, so nothing was written: a fresh token is as safe as the old one and cannot be taken for it.
            self.token = uuid.uuid4().hex
            time.sleep(min(0.2, 0.025 * 2**attempt) * random.uniform(0.5, 1.0))

    def failures(self, error: TransactWriteError) -> list[Failure]:
        """The refused items: DynamoDB's i-th cancellation reason is about the i-th item sent."""
        reasons = list(error.cancellation_reasons or [])
        return [Failure(entry, str(reason.code)) for entry, reason in zip(self.entries, reasons, strict=False)
                if reason is not None and getattr(reason, "code", None) not in (None, "None")]

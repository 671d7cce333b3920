"""Repository of issued letters and their number counters: numbering inside the issue transaction, revocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain.requests import HistoryEntry
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.storage import keys
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import EventItem, LetterCounterItem, LetterItem, RequestItem
from chalicelib.storage.requests import ExtraOps, _event_item, _plain


@dataclass
class Letter:
    id: str
    request_id: str
    village: str
    kabupaten: str
    letter_type: str
    letter_name: str
    number: str
    seq: int
    counter_scope: str
    year: int
    issued_at: str
    facts: dict[str, str]
    token: str
    verify_url: str
    file_key: str
    document: dict[str, Any] = field(default_factory=dict)
    status: str = "valid"
    revoked_at: str | None = None
    revoked_reason: str | None = None
    revoked_by: str | None = None
    verification_count: int = 0


def _to_item(letter: Letter) -> LetterItem:
    return LetterItem(
        keys.letter_pk(letter.id), keys.META, entity="letter", id=letter.id, request_id=letter.request_id,
        village=letter.village, kabupaten=letter.kabupaten, letter_type=letter.letter_type,
        letter_name=letter.letter_name, number=letter.number, seq=letter.seq, counter_scope=letter.counter_scope,
        year=letter.year, issued_at=letter.issued_at, facts=letter.facts, token=letter.token,
        verify_url=letter.verify_url, file_key=letter.file_key, document=letter.document, status=letter.status,
        revoked_at=letter.revoked_at, revoked_reason=letter.revoked_reason, revoked_by=letter.revoked_by,
        verification_count=letter.verification_count,
    )


def _from_item(item: LetterItem) -> Letter:
    return Letter(
        id=item.id, request_id=item.request_id, village=item.village, kabupaten=item.kabupaten,
        letter_type=item.letter_type, letter_name=item.letter_name, number=item.number, seq=int(item.seq),
        counter_scope=item.counter_scope, year=int(item.year), issued_at=item.issued_at,
        facts=_plain(item.facts) or {}, token=item.token, verify_url=item.verify_url, file_key=item.file_key,
        document=_plain(item.document) or {}, status=item.status or "valid", revoked_at=item.revoked_at,
        revoked_reason=item.revoked_reason, revoked_by=item.revoked_by,
        verification_count=int(item.verification_count or 0),
    )


def last_number(village: str, scope: str, year: int) -> int:
    """The last sequence number given in this counter (0 before the first letter of the year)."""
    try:
        item = LetterCounterItem.get(keys.letter_counter_pk(village, scope, year), keys.META, consistent_read=True)
    except DoesNotExist:
        return 0
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc
    return int(item.seq or 0)


def issue_many_ops(letters: list[Letter], expected_last: dict[tuple[str, int], int], at: str) -> ExtraOps:
    """The writes numbering adds to the issuing commit, for consecutive letters of one village: per counter
    (scope, year) one update from its expected last number to the last letter's, only if it still holds that
    number (absent for the first letter of the year), so no number is ever given twice; and every letter put
    (new ids only)."""
    if not letters or len({x.village for x in letters}) != 1:
        raise ValueError("one village's letters, at least one")
    by_counter: dict[tuple[str, int], list[Letter]] = {}
    for letter in letters:
        by_counter.setdefault((letter.counter_scope, letter.year), []).append(letter)
    updates = []
    for (scope, year), group in by_counter.items():
        last = expected_last[(scope, year)]
        if [x.seq for x in group] != list(range(last + 1, last + 1 + len(group))):
            raise ValueError("letters take the numbers after their counter's last one, in order")
        counter = LetterCounterItem(keys.letter_counter_pk(group[0].village, scope, year), keys.META)
        guard = LetterCounterItem.PK.does_not_exist() if last == 0 else LetterCounterItem.seq == last
        actions: list[Action] = [
            LetterCounterItem.seq.add(len(group)), LetterCounterItem.last_letter_id.set(group[-1].id),
            LetterCounterItem.updated_at.set(at), LetterCounterItem.village.set(group[0].village),
            LetterCounterItem.scope.set(scope), LetterCounterItem.year.set(year),
            LetterCounterItem.entity.set("letter_counter")]
        updates.append((counter, actions, guard))

    def add(tw: TransactWrite) -> None:
        for counter, actions, guard in updates:
            tw.update(counter, actions=actions, condition=guard)
        for letter in letters:
            tw.save(_to_item(letter), condition=LetterItem.PK.does_not_exist())

    return add


def get(letter_id: str, consistent: bool = False) -> Letter | None:
    try:
        return _from_item(LetterItem.get(keys.letter_pk(letter_id), keys.META, consistent_read=consistent))
    except DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def count_verification(letter_id: str) -> int:
    """Atomically count one verification of an existing letter; returns the new count."""
    item = LetterItem(keys.letter_pk(letter_id), keys.META)
    try:
        item.update(actions=[LetterItem.verification_count.add(1)], condition=LetterItem.PK.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFoundError("Surat tidak ditemukan.", code="letter_not_found") from exc
        raise translate_errors(exc) from exc
    return int(item.verification_count or 0)


def revoke(letter: Letter, request_version: int, event: HistoryEntry, reason: str) -> None:
    """Mark the letter revoked (once) with an audit event on its request, atomically.

    Raises ConflictError(letter_revoked) if it already is, ConflictError(stale_version) if the request moved.
    """
    letter_item = LetterItem(keys.letter_pk(letter.id), keys.META)
    request_item = RequestItem(keys.request_pk(letter.request_id), keys.META)
    try:
        with TransactWrite(connection=transaction_connection()) as tw:
            tw.update(letter_item, actions=[LetterItem.status.set("revoked"), LetterItem.revoked_at.set(event.at),
                                            LetterItem.revoked_reason.set(reason),
                                            LetterItem.revoked_by.set(event.actor)],
                      condition=LetterItem.status == "valid")
            tw.update(request_item, actions=[RequestItem.version.set(event.version),
                                             RequestItem.updated_at.set(event.at),
                                             RequestItem.letter["status"].set("revoked"),
                                             RequestItem.letter["revoked_at"].set(event.at)],
                      condition=RequestItem.version == request_version)
            tw.save(_event_item(letter.request_id, event), condition=EventItem.SK.does_not_exist())
    except TransactWriteError as exc:
        # PynamoDB sends puts before updates: [event put, letter update, request update].
        reasons = [getattr(r, "code", None) for r in exc.cancellation_reasons] + [None, None, None]
        if reasons[1] == "ConditionalCheckFailed":
            raise ConflictError("Surat ini sudah dicabut.", code="letter_revoked") from exc
        if reasons[2] == "ConditionalCheckFailed":
            raise ConflictError("Permohonan telah diubah oleh orang lain; coba lagi.", code="stale_version") from exc
        raise translate_errors(exc) from exc

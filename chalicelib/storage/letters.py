"""Repository of issued letters and their number counters (numbered by the unit of work's NumberLetters), revocation."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from chalicelib.domain.letters import Letter
from chalicelib.domain.requests import HistoryEntry
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.storage import keys
from chalicelib.storage.codec import event_item, plain
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import EventItem, LetterCounterItem, LetterItem, RequestItem
from chalicelib.storage.transaction import Transaction, TransactionCancelled


def letter_item(letter: Letter) -> LetterItem:
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
        facts=plain(item.facts) or {}, token=item.token, verify_url=item.verify_url, file_key=item.file_key,
        document=plain(item.document) or {}, status=item.status or "valid", revoked_at=item.revoked_at,
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
        if aws_code(exc) == "ConditionalCheckFailedException":
            raise NotFoundError("Surat tidak ditemukan.", code="letter_not_found") from exc
        raise translate_errors(exc) from exc
    return int(item.verification_count or 0)


def revoke(letter: Letter, request_version: int, event: HistoryEntry, reason: str) -> None:
    """Mark the letter revoked (once) with an audit event on its request, atomically.

    Raises ConflictError(letter_revoked) if it already is, ConflictError(stale_version) if the request moved.
    """
    tx = Transaction()
    tx.update(LetterItem(keys.letter_pk(letter.id), keys.META),
              [LetterItem.status.set("revoked"), LetterItem.revoked_at.set(event.at),
               LetterItem.revoked_reason.set(reason), LetterItem.revoked_by.set(event.actor)],
              "letter_status", LetterItem.status == "valid")
    tx.update(RequestItem(keys.request_pk(letter.request_id), keys.META),
              [RequestItem.version.set(event.version), RequestItem.updated_at.set(event.at),
               RequestItem.letter["status"].set("revoked"), RequestItem.letter["revoked_at"].set(event.at)],
              "request_version", RequestItem.version == request_version)
    tx.put(event_item(letter.request_id, event), "event", EventItem.SK.does_not_exist())
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if cancelled.failed("letter_status"):
            raise ConflictError("Surat ini sudah dicabut.", code="letter_revoked") from cancelled.cause
        if cancelled.failed("request_version") or cancelled.failed("event"):
            raise ConflictError("Permohonan telah diubah oleh orang lain; coba lagi.",
                                code="stale_version") from cancelled.cause
        raise translate_errors(cancelled.cause) from cancelled.cause
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc

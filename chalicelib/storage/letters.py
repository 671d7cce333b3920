"""Repository of issued letters and their number counters (numbered by the unit of work's NumberLetters), revocation."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from chalicelib.domain.letters import Letter, letter_file_key
from chalicelib.domain.requests import HistoryEntry
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.storage import keys
from chalicelib.storage.codec import event_item, plain
from chalicelib.storage.connection import aws_code, translate_errors
from chalicelib.storage.models import EventItem, LetterCounterItem, LetterDocumentItem, LetterItem, RequestItem
from chalicelib.storage.transaction import Transaction, TransactionCancelled

# What differs between letters that share their printed part: kept in the letter item itself.
PER_LETTER = ("issued_date",)
_known: dict[str, dict[str, Any]] = {}  # content-addressed documents this container has read or written
_KNOWN_MAX = 512


def document_ref(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(ref, shared part) of a letter's document: the hash of everything but PER_LETTER, canonical JSON."""
    shared = {k: v for k, v in document.items() if k not in PER_LETTER}
    canonical = json.dumps(shared, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32], shared


def _remember(ref: str, shared: dict[str, Any]) -> None:
    if len(_known) >= _KNOWN_MAX:
        _known.clear()
    _known[ref] = shared


def forget_known_documents() -> None:
    """Forget what this process knows of the table's documents (a test that recreates the table)."""
    _known.clear()


def keep_document(document: dict[str, Any]) -> None:
    """Store the shared part of `document` unless it is there already (one GetItem, or nothing when this
    container knows it). Written before the letter's transaction: should that fail, an unreferenced copy of
    an immutable document is left, which costs a few hundred bytes and harms nothing."""
    ref, shared = document_ref(document)
    if ref in _known:
        return
    try:
        try:
            LetterDocumentItem.get(keys.letter_document_pk(ref), keys.META, consistent_read=True)
        except DoesNotExist:
            LetterDocumentItem(keys.letter_document_pk(ref), keys.META, entity="letter_document",
                               content=shared).save()
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc
    _remember(ref, shared)


def _document(stored: dict[str, Any]) -> dict[str, Any]:
    """A letter's whole document: inline (letters issued before documents were shared), or its shared part
    read by key (cached: it never changes) with the letter's own fields."""
    ref = stored.get("ref")
    if not ref:
        return stored
    if ref not in _known:
        try:
            item = LetterDocumentItem.get(keys.letter_document_pk(str(ref)), keys.META, consistent_read=True)
        except PynamoDBException as exc:  # DoesNotExist included: a letter without its document is a fault
            raise translate_errors(exc) from exc
        _remember(str(ref), plain(item.content) or {})
    return {**_known[str(ref)], **{k: v for k, v in stored.items() if k != "ref"}}


def letter_item(letter: Letter) -> LetterItem:
    """The letter's item. It keeps neither the verification URL nor the PDF's key when they can be rebuilt (from
    the document's `verify_prefix` + token, from village/year/id): 350 B less a letter, kept for good, and its
    transactional put under 1 KB (2 WRU instead of 4)."""
    derived_url = _verify_url(letter.document, letter.token)
    derived_key = letter_file_key(letter.village, letter.year, letter.id)
    return LetterItem(
        keys.letter_pk(letter.id), keys.META, entity="letter", id=letter.id, request_id=letter.request_id,
        village=letter.village, kabupaten=letter.kabupaten, letter_type=letter.letter_type,
        letter_name=letter.letter_name, number=letter.number, seq=letter.seq, counter_scope=letter.counter_scope,
        year=letter.year, issued_at=letter.issued_at, facts=letter.facts, token=letter.token,
        verify_url=None if letter.verify_url == derived_url else letter.verify_url,
        file_key=None if letter.file_key == derived_key else letter.file_key,
        document={"ref": document_ref(letter.document)[0],
                  **{k: letter.document[k] for k in PER_LETTER if k in letter.document}}, status=letter.status,
        revoked_at=letter.revoked_at, revoked_reason=letter.revoked_reason, revoked_by=letter.revoked_by,
        verification_count=letter.verification_count,
    )


def _verify_url(document: dict[str, Any], token: str) -> str | None:
    prefix = document.get("verify_prefix")
    return f"{prefix}{token}" if prefix else None


def _from_item(item: LetterItem) -> Letter:
    """The letter; one stored before the trims (2026-12) reads its own verify_url and file_key."""
    document = _document(plain(item.document) or {})
    verify_url = item.verify_url or _verify_url(document, item.token)
    if verify_url is None:  # neither stored nor derivable: the item is damaged, and a QR code must not guess
        raise ValueError(f"letter {item.id} has no verification URL")
    return Letter(
        id=item.id, request_id=item.request_id, village=item.village, kabupaten=item.kabupaten,
        letter_type=item.letter_type, letter_name=item.letter_name, number=item.number, seq=int(item.seq),
        counter_scope=item.counter_scope, year=int(item.year), issued_at=item.issued_at,
        facts=plain(item.facts) or {}, token=item.token, verify_url=verify_url,
        file_key=item.file_key or letter_file_key(item.village, int(item.year), item.id), document=document,
        status=item.status or "valid", revoked_at=item.revoked_at, revoked_reason=item.revoked_reason,
        revoked_by=item.revoked_by, verification_count=int(item.verification_count or 0),
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

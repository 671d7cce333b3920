"""Issuing a letter, one straight path: decide (HTTP) -> queue -> number -> render -> store -> commit (worker).

The signer's `issue` decision moves the request approved -> issuing (version-checked, audited) and puts a
message on the issuing queue, an SQS FIFO queue whose message group is the village: one village's letters
are numbered one after another, villages in parallel. The queue's handler (workers/issuing.py) calls
`complete()`, which reads the counter, renders and stores the PDF, and commits the number, the letter and
issuing -> issued in one transaction. Nothing races on the counter, so nothing waits or retries inside an
HTTP request; a failed commit is retried by SQS and ends in its dead-letter queue (alarmed).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from chalicelib.domain import catalog
from chalicelib.domain import letters as letter_rules
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id
from chalicelib.domain.letters import (
    CLOSING,
    DEFAULT_NUMBER_FORMAT,
    Letter,
    LetterDocument,
    Signer,
    applicant_rows,
    counter_scope,
    counter_year,
    fill_template,
    format_number,
    kop_address,
    letter_file_key,
    opening_sentence,
    signed_facts,
    template_values,
    to_local,
    verify_prefix,
    village_kind,
    village_number_code,
)
from chalicelib.domain.operations import ChangeRequest, PutEvent, PutOutbox, StoreLetter, number_letters
from chalicelib.domain.outbox import outbox_message
from chalicelib.domain.regions import Region
from chalicelib.domain.requests import (
    ISSUED,
    SYSTEM_ACTOR,
    HistoryEntry,
    Principal,
    ServiceRequest,
    announcements,
    next_version,
)
from chalicelib.domain.staff import format_nip
from chalicelib.errors import ConflictError, ExternalServiceError, ForbiddenError, NotFoundError
from chalicelib.observability import logger
from chalicelib.services import attachments, wiring
from chalicelib.services.ports import UnitOfWork

LETTER_DEFAULTS: dict[str, Any] = {
    "number_format": DEFAULT_NUMBER_FORMAT,
    "sequence_mode": "village",
    "paper": "A4",
    # The office on the kop surat: street address, postcode, phone, e-mail, website and the lambang (logo,
    # set by the upload route only). Who signs is not a setting: it is the issuing staff's own profile.
    "address": None,
    "postcode": None,
    "phone": None,
    "email": None,
    "website": None,
    "logo_key": None,
}


def letter_settings(village: Region) -> dict[str, Any]:
    """The village's letter settings with defaults filled in."""
    raw: Any = village.settings.get("letters") or {}
    stored = dict(raw)
    return {**LETTER_DEFAULTS, **{k: v for k, v in stored.items() if k in LETTER_DEFAULTS}}


def head_title(village: Region) -> str:
    return letter_rules.head_title(village.level, village.name)


def _village(uow: UnitOfWork, code: str) -> Region:
    village = uow.regions.get(code, consistent=True)
    if village is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    return village


# ---------------------------------------------------------------------------------------------- decide


def resolve_signer(uow: UnitOfWork, principal: Principal, village: Region) -> Signer:
    """The person who actually issues the letter, from their staff profile at the moment of the decision
    (issue 8.3): never free text from the village settings. Raises ForbiddenError if the account is gone."""
    staff = uow.staff.get_staff(principal.subject)
    if staff is None or not staff.active:
        raise ForbiddenError("Akun penanda tangan tidak aktif.", code="signer_inactive")
    position = staff.position or (head_title(village) if staff.role == "kades" else staff.role.capitalize())
    return Signer(name=staff.name, position=position, nip=staff.nip, username=staff.username)


def decide(uow: UnitOfWork, principal: Principal, after: ServiceRequest, now: datetime) -> None:
    """Record the signer's decision on the request about to move to `issuing` (written by its transition)."""
    # decision_id tells this decision from a concurrent one by the same signer in the same instant.
    after.issue_order = {"signer": resolve_signer(uow, principal, _village(uow, after.village)).to_dict(),
                         "decided_at": iso(now), "decision_id": new_id()}


def enqueue(request: ServiceRequest, again: bool = False) -> None:
    """Put the request on its village's issuing queue (deduplicated per request version for 5 minutes; a
    signer's explicit `again` is never dropped as a duplicate: the handler skips what is already issued).

    Raises ExternalServiceError when the queue cannot be reached; the request stays `issuing` and the signer
    may take `issue` again to queue it once more."""
    dedup_id = f"{request.id}-{request.version}" + (f"-{new_id()}" if again else "")
    wiring.issue_queue().send(group=request.village, dedup_id=dedup_id,
                              body={"request_id": request.id, "village": request.village})
    logger.info("letter queued for issuing", extra={"request_id": request.id, "village": request.village})


# ---------------------------------------------------------------------------------------------- complete


@dataclass(frozen=True)
class _Numbering:
    village: Region
    settings: dict[str, Any]
    letter_type: catalog.LetterType
    scope: str
    year: int
    issued_local: datetime


def _numbering(uow: UnitOfWork, request: ServiceRequest, now: datetime) -> _Numbering:
    village = _village(uow, request.village)
    settings = letter_settings(village)
    letter_type = catalog.effective_type(request.letter_type, village.letter_types)
    if letter_type is None:
        raise NotFoundError("Jenis surat tidak dikenal.", code="unknown_letter_type")
    return _Numbering(village, settings, letter_type, counter_scope(settings["sequence_mode"], letter_type.code),
                      counter_year(now, village.timezone), to_local(now, village.timezone))


def _document(n: _Numbering, signer: Signer, verify_at: str) -> dict[str, Any]:
    """Everything printed apart from the applicant's data: kept with the letter so a regenerated PDF is the
    same even after the village changes its letterhead, template or signer, or the deployment its public base
    URL (`verify_prefix`: the QR code's URL is it + the letter's token, which the letter item keeps)."""
    kecamatan = str(n.village.settings.get("kecamatan_name", ""))
    kabupaten = str(n.village.settings.get("kabupaten_name", ""))
    return {
        "paper": n.settings["paper"], "kabupaten_name": kabupaten, "kecamatan_name": kecamatan,
        "village_name": n.village.name, "village_kind": village_kind(n.village.level),
        "village_address": kop_address(n.settings), "logo_key": n.settings["logo_key"], "electronic": True,
        "title": n.letter_type.title, "body_template": n.letter_type.body_template,
        "opening": opening_sentence(signer.position, kecamatan, kabupaten),
        "closing": CLOSING, "place": n.village.name, "issued_date": n.issued_local.date().isoformat(),
        "signer_position": signer.position, "signer_name": signer.name, "signer_nip": signer.nip,
        "signer_username": signer.username, "verify_prefix": verify_at,
    }


def _letter(n: _Numbering, request: ServiceRequest, signer: Signer, seq: int, now: datetime) -> Letter:
    from chalicelib.adapters.signing import sign_letter
    from chalicelib.config import get_settings

    letter_id = new_id()
    number = format_number(n.settings["number_format"], classification=n.letter_type.classification, seq=seq,
                           village_code=village_number_code(n.village.code), issued_local=n.issued_local,
                           letter_type=n.letter_type.code)
    facts = signed_facts(letter_id=letter_id, number=number, letter_type=n.letter_type.code,
                         village_code=n.village.code, issued_date=n.issued_local.date(), signer_name=signer.name,
                         applicant_name=str(request.applicant.get("name") or ""))
    token = sign_letter(wiring.letter_keyring(), facts)
    verify_at = verify_prefix(get_settings().public_base_url)
    return Letter(
        id=letter_id, request_id=request.id, village=request.village, kabupaten=request.kabupaten,
        letter_type=n.letter_type.code, letter_name=n.letter_type.name, number=number, seq=seq,
        counter_scope=n.scope, year=n.year, issued_at=iso(now), facts=facts, token=token,
        verify_url=verify_at + token, file_key=letter_file_key(request.village, n.year, letter_id),
        document=_document(n, signer, verify_at),
    )


def request_letter_ref(letter: Letter) -> dict[str, Any]:
    """What the request item keeps about its letter (GET /v1/requests/{id} shows it)."""
    return {"id": letter.id, "number": letter.number, "issued_at": letter.issued_at,
            "verify_url": letter.verify_url, "status": letter.status}


# One transaction holds per letter: request, event, outbox row, letter (4 items) + the counters: 10 letters
# stay far below DynamoDB's 100 items per transaction. An SQS batch holds at most 10 messages anyway.
MAX_LETTERS_PER_COMMIT = 10


def complete(request_id: str, now: datetime | None = None) -> Letter | None:
    """The queue's step for one request; None when there is nothing to do (see complete_village)."""
    letters = complete_village([request_id], now)
    return letters[0] if letters else None


def complete_village(request_ids: list[str], now: datetime | None = None,
                     uow: UnitOfWork | None = None) -> list[Letter]:
    """The queue's step for requests of one village, in queue order: number -> render -> store -> commit, the
    commit being one transaction for all of them (up to MAX_LETTERS_PER_COMMIT). Requests that are not
    `issuing` (a redelivered message of an issued letter) are skipped. Only one call per village runs at a
    time (the FIFO message group), so the counter read stays current until the commit.

    Raises ConflictError when the commit loses to another writer and any storage or AWS error: the messages
    then go back to the queue and are retried (then dead-lettered), never dropped.
    """
    if len(request_ids) > MAX_LETTERS_PER_COMMIT:
        raise ValueError(f"at most {MAX_LETTERS_PER_COMMIT} letters per commit")
    uow = uow or wiring.unit_of_work()
    now = now or utcnow()
    pending = _pending(uow, request_ids)
    if not pending:
        return []
    letters = _number(uow, pending, now)
    for before, letter in zip(pending, letters, strict=True):
        _store_pdf(letter, before)
    _commit(uow, pending, letters, now)
    attachments.release([replace(r, status="issued") for r in pending])  # the retention rule may delete them
    for letter in letters:
        logger.info("letter issued", extra={"letter_id": letter.id, "request_id": letter.request_id,
                                            "number": letter.number})
    return letters


def _pending(uow: UnitOfWork, request_ids: list[str]) -> list[ServiceRequest]:
    """The requests still waiting for their letter (status `issuing` with a recorded decision), in order."""
    pending: list[ServiceRequest] = []
    for request_id in dict.fromkeys(request_ids):  # a duplicate message in one batch counts once
        before = uow.requests.get(request_id)
        if before is None or before.status != "issuing" or not before.issue_order:
            logger.info("issuing: nothing to do", extra={"request_id": request_id,
                                                         "status": before.status if before else None})
            continue
        pending.append(before)
    if len({r.village for r in pending}) > 1:
        raise ValueError("complete_village takes one village's requests")
    return pending


def _number(uow: UnitOfWork, pending: list[ServiceRequest], now: datetime) -> list[Letter]:
    """Each request's letter with the next numbers of its counter (read once per counter, then counted on)."""
    last: dict[tuple[str, int], int] = {}
    letters: list[Letter] = []
    for before in pending:
        n = _numbering(uow, before, now)
        counter = (n.scope, n.year)
        if counter not in last:
            last[counter] = uow.letters.last_number(n.village.code, n.scope, n.year)
        seq = last[counter] + 1 + sum(1 for x in letters if (x.counter_scope, x.year) == counter)
        assert before.issue_order is not None  # only requests with a decision are pending
        letters.append(_letter(n, before, Signer.from_dict(before.issue_order["signer"]), seq, now))
    return letters


def _store_pdf(letter: Letter, request: ServiceRequest) -> None:
    """Render and store before the commit, so the letter is downloadable the moment it shows as issued. A
    render or storage failure must not hold up the village's numbering: the PDF is then regenerated, byte for
    byte, when it is first downloaded (ensure_pdf)."""
    try:
        wiring.file_store().put(letter.file_key, render(letter, request), "application/pdf")
    except Exception:
        logger.exception("letter pdf not stored; it will be regenerated on download", extra={"letter_id": letter.id})


def _commit(uow: UnitOfWork, pending: list[ServiceRequest], letters: list[Letter], now: datetime) -> None:
    """One transaction: per request issuing -> issued with its audit event and the citizen's message, the
    counters moved from the numbers read (NumberLetters) and the letters stored."""
    at = iso(now)
    expected = {(x.counter_scope, x.year): x.seq - 1 for x in reversed(letters)}
    for before, letter in zip(pending, letters, strict=True):
        # The decision (issue_order) is spent: the letter's document keeps the signer it printed.
        after = replace(before, status=ISSUED.target_from(before.status), version=next_version(before.version),
                        updated_at=at, history=list(before.history), letter=request_letter_ref(letter),
                        issue_order=None)
        event = HistoryEntry(at, SYSTEM_ACTOR, "system", ISSUED.action, before.status, after.status, None,
                             after.version)
        uow.add(ChangeRequest(before, after), PutEvent(after.id, event),
                *(PutOutbox(outbox_message(row, new_id(), after.village, at)) for row in _announcements(after)))
    uow.add(*number_letters(letters, expected, at), *(StoreLetter(x) for x in letters))
    try:
        uow.commit()
    except (ConflictError, ExternalServiceError):
        current = uow.requests.get(letters[0].request_id)
        if not (current and current.letter and current.letter.get("id") == letters[0].id):
            raise
        # Ours after all: it committed before a timeout, or its retry was refused (DynamoDB dedups by token).


def _announcements(request: ServiceRequest) -> list[dict[str, Any]]:
    return announcements("issued", request, None, request.signer_role)


# ---------------------------------------------------------------------------------------------- document


def _template_values(request: ServiceRequest) -> dict[str, object]:
    base = catalog.DEFAULT_CATALOG.get(request.letter_type)
    specs = base.fields if base else ()
    return template_values(request.applicant, request.fields, date_fields=[f.name for f in specs if f.type == "date"],
                           field_names=[f.name for f in specs])


def build_document(letter: Letter, request: ServiceRequest) -> LetterDocument:
    """The printable letter from the stored snapshot and the request's data: the same input every time."""
    d = letter.document
    return LetterDocument(
        paper=d["paper"], kabupaten_name=d["kabupaten_name"], kecamatan_name=d["kecamatan_name"],
        village_name=d["village_name"], village_kind=d["village_kind"], village_address=d["village_address"],
        title=d["title"], number=letter.number, opening=d["opening"], applicant_rows=applicant_rows(request.applicant),
        body=fill_template(d["body_template"], _template_values(request)), closing=d["closing"], place=d["place"],
        issued_date=date.fromisoformat(d["issued_date"]), signer_position=d["signer_position"],
        signer_name=d["signer_name"], signer_nip=format_nip(d.get("signer_nip")), verify_url=letter.verify_url,
        logo_png=_logo(d.get("logo_key")), electronic=bool(d.get("electronic")),
    )


def _logo(key: str | None) -> bytes | None:
    """The village's lambang as stored at upload. Its key is content-addressed (never rewritten), so a
    regenerated PDF is the same and a warm function may keep it in memory."""
    if not key:
        return None
    try:
        return _read_logo(key)
    except Exception:
        logger.warning("letter logo missing", extra={"key": key})
        return None


@functools.lru_cache(maxsize=16)
def _read_logo(key: str) -> bytes:
    return wiring.file_store().read(key)


def render(letter: Letter, request: ServiceRequest) -> bytes:
    from chalicelib.adapters.pdf import render_letter

    return render_letter(build_document(letter, request))


def ensure_pdf(letter: Letter, request: ServiceRequest) -> bool:
    """Store the PDF again if it is missing (a render that failed after commit); True if it was regenerated."""
    store = wiring.file_store()
    if store.exists(letter.file_key):
        return False
    store.put(letter.file_key, render(letter, request), "application/pdf")
    logger.info("letter pdf regenerated", extra={"letter_id": letter.id})
    return True

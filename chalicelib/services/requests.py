"""Service-request use cases: submit, read, list, track and move through the state machine."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from chalicelib.domain import catalog
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id, new_tracking_code
from chalicelib.domain.inputs import canonical_tracking_code
from chalicelib.domain.nik import mask_nik
from chalicelib.domain.operations import (
    ChangeRequest,
    CreateRequest,
    IdempotencyGuard,
    IdempotentReplay,
    PutEvent,
    PutOutbox,
    TrackingCodeTaken,
    UseUpload,
)
from chalicelib.domain.outbox import OutboxMessage, transition_outbox
from chalicelib.domain.paging import page_limit
from chalicelib.domain.regions import is_village, kabupaten_of, kecamatan_of
from chalicelib.domain.requests import (
    STATUSES,
    HistoryEntry,
    Principal,
    ServiceRequest,
    announcements,
    authorize_transition,
    can_read,
    check_note,
    ensure_readable,
    next_version,
)
from chalicelib.domain.residents import IDENTITY_DOCUMENTS
from chalicelib.domain.sla import add_working_hours, calendar_for
from chalicelib.errors import (
    ConflictError,
    ExternalServiceError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
    ValidationError,
)
from chalicelib.observability import logger
from chalicelib.services import attachments, issuing, wiring
from chalicelib.services.ports import UnitOfWork
from chalicelib.services.profile import PROFILE_REQUIRED, applicant_snapshot, merged_profile
from chalicelib.storage import requests as repo
from chalicelib.storage import uploads as uploads_repo
from chalicelib.storage.context import load_submit_context

IDEMPOTENCY_TTL = timedelta(hours=24)


def _outbox(request: ServiceRequest, action: str, note: str | None, created_at: str,
            signer_role: str = "kades") -> list[OutboxMessage]:
    return transition_outbox(announcements(action, request, note, signer_role), new_id(), request.village, created_at)


def _payload_hash(village: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"village": village, **body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit(principal: Principal, village_code: str, letter_type_code: str, fields: Any,
           idempotency_key: str | None = None, attachment_refs: Any = None) -> tuple[ServiceRequest, bool]:
    """Submit a request for the citizen; returns (request, created). A repeated Idempotency-Key
    returns the first request with created=False. `attachment_refs` names finished uploads
    ({attachment name: upload id}); every required attachment must be there. Raises ValidationError,
    UnprocessableError (missing_attachment, invalid_attachment …), NotFoundError, ForbiddenError, ConflictError."""
    if not principal.is_citizen:
        raise ForbiddenError("Hanya warga yang dapat mengajukan permohonan.", code="forbidden_role")
    if not is_village(village_code):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 64 and idempotency_key.isascii()
                                            and idempotency_key.isprintable()):
        raise ValidationError("Idempotency-Key harus 1 sampai 64 karakter ASCII.", code="invalid_idempotency_key")
    refs = attachments.parse_refs(attachment_refs)
    body: dict[str, Any] = {"letter_type": letter_type_code, "fields": fields}
    if refs:
        body["attachments"] = refs
    payload_hash = _payload_hash(village_code, body)

    context = load_submit_context(village_code, principal.subject, tuple(sorted(set(refs.values()))))
    village, citizen, resident, uploads = context.village, context.citizen, context.resident, context.uploads
    if village is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    if not village.active:
        raise UnprocessableError(f"Layanan daring belum aktif di {village.name}.", code="village_inactive")
    letter_type = catalog.effective_type(letter_type_code, village.letter_types)
    if letter_type is None:
        raise UnprocessableError("Jenis surat tidak dikenal.", code="unknown_letter_type")
    if not letter_type.enabled:
        raise UnprocessableError(f"{letter_type.name} tidak dilayani di {village.name}.",
                                 code="letter_type_disabled")
    cleaned = catalog.validate_fields(letter_type, fields)
    if citizen is None or any(not merged_profile(citizen, resident).get(k) for k in PROFILE_REQUIRED):
        raise UnprocessableError("Lengkapi profil Anda (GET/PUT /v1/me/profile) sebelum mengajukan.",
                                 code="profile_incomplete")
    files, used = attachments.resolve(principal, village.code, letter_type, refs, uploads)

    now = utcnow()
    at = iso(now)
    due = add_working_hours(now, letter_type.sla_hours, calendar_for(village.code))
    guard = None
    if idempotency_key:
        guard = IdempotencyGuard(principal.subject, idempotency_key, payload_hash, now + IDEMPOTENCY_TTL)
    uow = wiring.unit_of_work()
    for _ in range(3):
        request = ServiceRequest(
            id=new_id(), village=village.code, kecamatan=kecamatan_of(village.code),
            kabupaten=kabupaten_of(village.code), letter_type=letter_type.code, letter_name=letter_type.name,
            status="submitted", version=1, tracking_code=new_tracking_code(), nik_hash=principal.subject,
            fields=cleaned, applicant=applicant_snapshot(citizen, village, resident),
            sla_hours=letter_type.sla_hours, created_at=at, updated_at=at, due_at=iso(due),
            contact_phone=citizen.phone, signer_role=letter_type.signer_role, attachments=files,
            # Not in this village's register: the request waits for an in-person identity check before approval.
            identity_verified=resident is not None,
        )
        request.history = [HistoryEntry(at, principal.name or "warga", "citizen", "submit", None, "submitted",
                                        None, 1)]
        uow.add(CreateRequest(request, guard), *attachments.use_operations(principal, used, request.id),
                *(PutOutbox(m) for m in _outbox(request, "submit", None, at)))
        try:
            uow.commit()
        except TrackingCodeTaken:
            continue
        except IdempotentReplay as replay:
            return _replay(uow, principal, (replay.request_id, replay.payload_hash), payload_hash), False
        logger.info("request submitted", extra={"request_id": request.id, "village": village.code,
                                                 "letter_type": letter_type.code})
        return request, True
    raise ConflictError("Gagal membuat kode pelacakan; silakan coba lagi.", code="tracking_code_conflict")


def _replay(uow: UnitOfWork, principal: Principal, found: tuple[str, str], payload_hash: str) -> ServiceRequest:
    request_id, first_hash = found
    if first_hash != payload_hash:
        raise UnprocessableError("Idempotency-Key ini sudah dipakai untuk permohonan lain.",
                                 code="idempotency_key_reused")
    request = uow.requests.get(request_id)
    if request is None or not can_read(principal, request):
        raise NotFoundError("Permohonan tidak ditemukan.", code="request_not_found")
    return request


def get(principal: Principal, request_id: str) -> ServiceRequest:
    request = wiring.unit_of_work().requests.get(request_id)
    if request is None:
        raise NotFoundError("Permohonan tidak ditemukan.", code="request_not_found")
    ensure_readable(principal, request)
    return request


def list_village(principal: Principal, village: str, status: str | None, limit: int | None,
                 cursor: str | None) -> tuple[list[ServiceRequest], str | None]:
    """The village's queue, newest first. Staff of the village or of a region above it only."""
    from chalicelib.domain.regions import within
    from chalicelib.domain.requests import READERS

    if principal.role not in READERS:
        raise ForbiddenError("Peran Anda tidak boleh melihat antrean ini.", code="forbidden_role")
    if not within(principal.region, village):
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    if status is not None and status not in STATUSES:
        raise ValidationError("Status tidak dikenal.", code="invalid_status", allowed=list(STATUSES))
    return repo.list_village(village, status, page_limit(limit), cursor)


def list_mine(principal: Principal, limit: int | None, cursor: str | None) -> tuple[list[ServiceRequest], str | None]:
    if not principal.is_citizen:
        raise ForbiddenError("Hanya untuk warga.", code="forbidden_role")
    return repo.list_citizen(principal.subject, page_limit(limit), cursor)


def track(code: str) -> ServiceRequest:
    canonical = canonical_tracking_code(code)
    request_id = repo.id_for_tracking_code(canonical) if canonical else None
    request = repo.get(request_id, consistent=False) if request_id else None
    if request is None:
        raise NotFoundError("Kode pelacakan tidak ditemukan.", code="tracking_code_not_found")
    return request


def transition(principal: Principal, request_id: str, action: str, version: Any, note: str | None = None, *,
               fields: Any = None, document: str | None = None, attachment_refs: Any = None) -> ServiceRequest:
    """Apply one state-machine action if `version` is current; one atomic write of the new state,
    its audit event and its outbox rows. `verify_identity` records an operator's in-person check of
    `document` (KTP-el, KK …). `issue` records the signer's decision (approved -> issuing) and queues the
    letter for its village's issuing queue; on a request already `issuing` it only queues it again.
    Raises ValidationError, ForbiddenError, NotFoundError, ConflictError (invalid_transition, stale_version,
    identity_not_verified, identity_already_verified), ExternalServiceError (the issuing queue is unreachable)."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError("version harus bilangan bulat ≥ 1.", code="invalid_version")
    uow = wiring.unit_of_work()
    before = uow.requests.get(request_id)
    if before is None:
        raise NotFoundError("Permohonan tidak ditemukan.", code="request_not_found")
    signer_role = before.signer_role
    t = authorize_transition(principal, before, action, signer_role)
    if version != before.version:
        raise ConflictError("Permohonan telah diubah oleh orang lain; muat ulang dan coba lagi.",
                            code="stale_version")
    note = check_note(t, note)
    if (document is not None) != (action == "verify_identity") or (
            document is not None and document not in IDENTITY_DOCUMENTS):
        raise ValidationError("Sebutkan dokumen yang diperiksa (hanya untuk verify_identity): "
                              + ", ".join(IDENTITY_DOCUMENTS) + ".", code="invalid_document")
    if action == "issue" and before.status == "issuing":
        # The decision is already recorded; a lost queue message (queue outage) is sent again.
        issuing.enqueue(before, again=True)
        return before
    target = t.target_from(before.status)
    now = utcnow()
    at = iso(now)
    after = replace(before, status=target, version=next_version(before.version), updated_at=at,
                    history=list(before.history))
    details = None
    if action == "verify_identity":
        after.identity_verified = True
        after.identity_check = {"by": principal.name or principal.subject, "username": principal.subject,
                                "role": principal.role, "at": at, "document": document, "note": note}
        details = {"document": document}
    if fields is not None:
        if action != "resubmit":
            raise ValidationError("Isian hanya dapat diubah saat mengajukan ulang.", code="invalid_fields")
        # Villages adjust SLA, template and signer, never the fields, so the default schema applies.
        after.fields = catalog.validate_fields(catalog.DEFAULT_CATALOG[before.letter_type], fields)
    if attachment_refs is not None and action != "resubmit":
        raise ValidationError("Lampiran hanya dapat diubah saat mengajukan ulang.", code="invalid_attachment")
    uses: list[UseUpload] = []
    if action == "resubmit":
        # Replacement files, checked like at submission (and marked used in the same transaction); every required
        # attachment must then be there (requests from before attachments existed get them now).
        refs = attachments.parse_refs(attachment_refs)
        letter_type = catalog.DEFAULT_CATALOG[before.letter_type]
        after.attachments, used = attachments.resolve(principal, before.village, letter_type, refs,
                                                      uploads_repo.get_many(sorted(set(refs.values()))),
                                                      before.attachments)
        uses = attachments.use_operations(principal, used, before.id)
        # The SLA clock restarts: the village waited on the citizen.
        after.due_at = iso(add_working_hours(now, before.sla_hours, calendar_for(before.village)))
    if action == "issue":
        issuing.decide(uow, principal, after, now)
    event = HistoryEntry(at, principal.name or principal.subject if not principal.is_citizen else "warga",
                         principal.role, action, before.status, target, note, after.version, details)
    uow.add(ChangeRequest(before, after), PutEvent(after.id, event), *uses,
            *(PutOutbox(m) for m in _outbox(after, action, note, at, signer_role)))
    try:
        uow.commit()
    except (ConflictError, ExternalServiceError):
        # A timeout or a retried commit may hide a decision that was written: it must still be queued.
        if not (action == "issue" and _committed(uow, after)):
            raise
    after.history.append(event)
    logger.info("request transition", extra={"request_id": request_id, "action": action,
                                              "from": before.status, "to": target, "version": after.version})
    if action == "issue":
        issuing.enqueue(after)
    attachments.release([after])  # rejected or cancelled: the retention clock of its files may run out
    return after


def _committed(uow: UnitOfWork, after: ServiceRequest) -> bool:
    """True when the write reported as failed is in fact ours: it committed before its answer was lost (a
    timeout), or the client's retry of it was refused (DynamoDB answers such a retry by its token; moto not).
    The `issue` decision must then still be queued, or the request would wait in `issuing` for nothing."""
    current = uow.requests.get(after.id)
    return current is not None and current.version == after.version and current.issue_order == after.issue_order


def _field_labels(letter_type: str) -> dict[str, str]:
    # Villages adjust SLA, template and signer, never the fields, so the default schema names them.
    spec = catalog.DEFAULT_CATALOG.get(letter_type)
    return {f.name: f.label for f in spec.fields} if spec else {}


def to_public(request: ServiceRequest, viewer: Principal | None) -> dict[str, Any]:
    """The request as the API shows it; the NIK is masked unless the viewer is its owner or village staff."""
    applicant = dict(request.applicant)
    full = viewer is not None and (
        (viewer.is_citizen and viewer.subject == request.nik_hash)
        or (viewer.role in ("operator", "kades") and viewer.region == request.village))
    if not full:
        # Camat and admin see the NIK and the KK number masked alike (issue 8.7).
        for key in ("nik", "kk_number"):
            if applicant.get(key):
                applicant[key] = mask_nik(str(applicant[key]))
    letter = None
    if request.letter:
        letter = {k: request.letter.get(k) for k in ("number", "issued_at", "id", "verify_url", "status",
                                                     "revoked_at", "revoked_reason") if k in request.letter}
    return {
        "id": request.id, "village": request.village, "letter_type": request.letter_type,
        "letter_name": request.letter_name, "status": request.status, "version": request.version,
        "tracking_code": request.tracking_code, "fields": request.fields, "applicant": applicant,
        "created_at": request.created_at, "updated_at": request.updated_at, "due_at": request.due_at,
        "sla_hours": request.sla_hours, "history": [h.to_dict() for h in request.history], "letter": letter,
        # What a page showing the request needs besides it (who signs, the fields' labels): no second call for
        # the village's letter types.
        "signer_role": request.signer_role, "field_labels": _field_labels(request.letter_type),
        "attachments": attachments.public_list(request),
        "identity_verified": request.identity_verified, "identity_check": request.identity_check,
    }


def to_tracking(request: ServiceRequest) -> dict[str, Any]:
    """Status and dates only: anyone with the code may see it, so no personal data."""
    return {
        "tracking_code": request.tracking_code, "letter_type": request.letter_type,
        "letter_name": request.letter_name, "village": request.village, "status": request.status,
        "created_at": request.created_at, "updated_at": request.updated_at, "due_at": request.due_at,
        # Status changes only: SLA reminders and escalations are internal to the office.
        "history": [{"at": h.at, "to": h.to_status} for h in request.history if h.from_status != h.to_status],
        "letter": {"number": request.letter.get("number"), "issued_at": request.letter.get("issued_at")}
        if request.letter else None,
    }

"""Service requests (permohonan): the state machine, who may do what, and what each change announces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.regions import within
from chalicelib.errors import ConflictError, ForbiddenError, ValidationError

ROLES = ("citizen", "operator", "kades", "camat", "opd", "admin")
STAFF_ROLES = ("operator", "kades", "camat", "opd", "admin")
VILLAGE_STAFF = ("operator", "kades")
# Roles that may read a village's requests, each within its own region.
READERS = ("operator", "kades", "camat", "admin")

# `issuing`: the signer has decided to issue; the village's issuing queue numbers, renders and stores the
# letter and moves the request to `issued` (services/issuing.py). Nobody else moves it out of `issuing`.
STATUSES = ("submitted", "in_review", "needs_revision", "approved", "issuing", "issued", "rejected", "cancelled")
OPEN_STATUSES = ("submitted", "in_review", "approved")  # the village is the one who must act
FINAL_STATUSES = ("issued", "rejected", "cancelled")

# What people read: states and actions in Bahasa Indonesia (the identifiers above stay English).
STATUS_LABELS = {
    "submitted": "diajukan",
    "in_review": "sedang diperiksa",
    "needs_revision": "perlu perbaikan",
    "approved": "disetujui",
    "issuing": "surat sedang diterbitkan",
    "issued": "surat terbit",
    "rejected": "ditolak",
    "cancelled": "dibatalkan",
}
ACTION_LABELS = {
    "review": "periksa",
    "request_revision": "minta perbaikan",
    "resubmit": "ajukan ulang",
    "approve": "setujui",
    "reject": "tolak",
    "issue": "terbitkan surat",
    "cancel": "batalkan",
    "verify_identity": "verifikasi identitas",
}


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (an identity check)
    roles: tuple[str, ...]
    note_required: bool = False

    def target_from(self, status: str) -> str:
        return self.target or status


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("review", ("submitted",), "in_review", VILLAGE_STAFF),
        Transition("request_revision", ("in_review",), "needs_revision", VILLAGE_STAFF, note_required=True),
        Transition("resubmit", ("needs_revision",), "submitted", ("citizen",)),
        Transition("approve", ("in_review",), "approved", VILLAGE_STAFF),
        Transition("reject", ("submitted", "in_review"), "rejected", VILLAGE_STAFF, note_required=True),
        # The signer is the letter type's signer_role (kades by default); checked in authorize_transition.
        # The decision is recorded here; the letter is numbered and written by the issuing queue, which
        # moves the request on to `issued` (ISSUED below). `issue` on an `issuing` request queues it again.
        Transition("issue", ("approved", "issuing"), "issuing", VILLAGE_STAFF),
        Transition("cancel", ("submitted", "needs_revision"), "cancelled", ("citizen",)),
        # An operator saw the applicant's KTP-el/KK in person: needed before approval when the NIK was not in
        # the village's register at submission.
        Transition("verify_identity", ("submitted", "in_review", "needs_revision"), None, VILLAGE_STAFF),
    )
}


# What the issuing queue records when it commits a letter: not an action anyone can request.
ISSUED = Transition("issued", ("issuing",), "issued", ("system",))
SYSTEM_ACTOR = "Sistem Balai"


@dataclass(frozen=True)
class Principal:
    """Who is acting: role, region scope and subject (username, or the citizen's NIK hash)."""

    role: str
    region: str
    subject: str
    name: str = ""
    # Staff only: the account's session version when the token was issued (see chalicelib/auth.py).
    session_version: int = 0
    # Role `opd` only: the code of the OPD (agency) the officer works for, e.g. "dpupr" (domain/complaints.py).
    unit: str = ""

    @property
    def is_citizen(self) -> bool:
        return self.role == "citizen"


@dataclass
class HistoryEntry:
    at: str
    actor: str
    actor_role: str
    action: str
    from_status: str | None
    to_status: str
    note: str | None
    version: int
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "at": self.at, "actor": self.actor, "actor_role": self.actor_role, "action": self.action,
            "from": self.from_status, "to": self.to_status, "note": self.note, "version": self.version}
        if self.details:
            entry["details"] = self.details
        return entry


@dataclass
class ServiceRequest:
    id: str
    village: str
    kecamatan: str
    kabupaten: str
    letter_type: str
    letter_name: str
    status: str
    version: int
    tracking_code: str
    nik_hash: str
    fields: dict[str, Any]
    applicant: dict[str, Any]
    sla_hours: int
    created_at: str
    updated_at: str
    due_at: str
    contact_phone: str | None = None
    signer_role: str = "kades"
    letter: dict[str, Any] | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    # Set by the `issue` decision: who signs (name, position, NIP as printed) and when it was decided.
    issue_order: dict[str, Any] | None = None
    # Attachments by name (see domain/attachments.py: Attachment.to_dict()).
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # SLA escalation state {"for": due_at, "level": n}; carried through transitions (see domain/escalation.py).
    sla: dict[str, Any] | None = None
    # Whether the applicant's NIK was in the village's register at submission, or an operator has since
    # checked their documents in person (identity_check: {by, role, at, document, note}).
    identity_verified: bool = False
    identity_check: dict[str, Any] | None = None


def can_read(principal: Principal, request: ServiceRequest) -> bool:
    if principal.is_citizen:
        return principal.subject == request.nik_hash
    return principal.role in READERS and within(principal.region, request.village)


def ensure_readable(principal: Principal, request: ServiceRequest) -> None:
    """Unreadable requests look missing: another region's record is a 404, not a hint it exists."""
    from chalicelib.errors import NotFoundError

    if not can_read(principal, request):
        raise NotFoundError("Permohonan tidak ditemukan.", code="request_not_found")


def authorize_transition(principal: Principal, request: ServiceRequest, action: str,
                         signer_role: str = "kades") -> Transition:
    """Check the action exists, the actor may take it, and the state allows it. Raises AppError."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError("Aksi tidak dikenal.", code="unknown_action", allowed=sorted(TRANSITIONS))
    ensure_readable(principal, request)
    roles = (signer_role,) if action == "issue" else transition.roles
    if principal.role not in roles:
        raise ForbiddenError("Peran Anda tidak boleh melakukan aksi ini.", code="forbidden_role")
    if not principal.is_citizen and principal.region != request.village:
        # Camat and admin see the village but do not work its queue.
        raise ForbiddenError("Hanya petugas desa/kelurahan ini yang boleh memproses.", code="forbidden_role")
    if request.status not in transition.sources:
        raise ConflictError(
            f"Permohonan berstatus \u201c{STATUS_LABELS[request.status]}\u201d; aksi "
            f"\u201c{ACTION_LABELS[action]}\u201d tidak dapat dilakukan.",
            code="invalid_transition", status=request.status, action=action,
        )
    if action == "verify_identity" and request.identity_verified:
        raise ConflictError("Identitas pemohon sudah terverifikasi.", code="identity_already_verified")
    if action == "approve" and not request.identity_verified:
        raise ConflictError(
            "NIK pemohon tidak terdaftar dalam data penduduk desa/kelurahan ini: catat dulu pemeriksaan "
            "identitas langsung (aksi verify_identity dengan dokumen yang diperiksa) sebelum menyetujui.",
            code="identity_not_verified")
    return transition


def check_note(transition: Transition, note: str | None) -> str | None:
    note = (note or "").strip() or None
    if transition.note_required and not note:
        raise ValidationError("Catatan/alasan wajib diisi untuk aksi ini.", code="note_required")
    if note and len(note) > 1000:
        raise ValidationError("Catatan paling banyak 1000 karakter.", code="note_too_long")
    return note


def next_version(current: int) -> int:
    """Versions count writes: 1 at submission, +1 per transition; the client sends what it saw."""
    if current < 1:
        raise ValueError("versions start at 1")
    return current + 1


def announcements(action: str, request: ServiceRequest, note: str | None,
                  signer_role: str = "kades") -> list[dict[str, Any]]:
    """The notifications a change causes, as (event, audience, payload) rows for the outbox."""
    citizen = {"kind": "citizen", "nik_hash": request.nik_hash, "phone": request.contact_phone}
    operators = {"kind": "staff", "region": request.village, "role": "operator"}
    signer = {"kind": "staff", "region": request.village, "role": signer_role}
    base = {"tracking_code": request.tracking_code, "letter_name": request.letter_name,
            "request_id": request.id, "village": request.village,
            "village_name": str(request.applicant.get("desa", ""))}
    by_action: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {
        "submit": [("request_received", citizen, {}), ("new_request", operators, {})],
        "resubmit": [("new_request", operators, {"resubmitted": True})],
        "request_revision": [("needs_revision", citizen, {"note": note or ""})],
        "approve": [("approved", citizen, {}), ("awaiting_signature", signer, {})],
        "reject": [("rejected", citizen, {"reason": note or ""})],
        # The decision announces nothing: the citizen is told when the letter exists (the queue's commit).
        "issued": [("issued", citizen, {})],
    }
    rows = by_action.get(action, [])
    return [{"event": event, "audience": audience, "payload": {**base, **extra}}
            for event, audience, extra in rows]

"""Issuing a letter: the village's next number inside the issue transaction, then the signed PDF."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chalicelib.domain import catalog
from chalicelib.domain.clock import iso
from chalicelib.domain.ids import new_id
from chalicelib.domain.letters import (
    DEFAULT_NUMBER_FORMAT,
    LetterDocument,
    counter_scope,
    counter_year,
    fill_template,
    format_date_id,
    format_number,
    kop_address,
    signed_facts,
    to_local,
    village_number_code,
)
from chalicelib.domain.regions import Region
from chalicelib.domain.requests import Principal, ServiceRequest
from chalicelib.domain.staff import format_nip
from chalicelib.errors import ConflictError, ForbiddenError, NotFoundError
from chalicelib.observability import logger
from chalicelib.services import wiring
from chalicelib.storage import letters as letters_repo
from chalicelib.storage import people
from chalicelib.storage import regions as regions_repo
from chalicelib.storage.letters import Letter
from chalicelib.storage.requests import ExtraOps

# Each round of a race has one winner, so a burst of N issuers needs up to N rounds; real villages issue
# a few letters an hour, the bench's 50 at once is the stress case. Backoff is exponential with "full
# jitter", which spreads a burst out; the time budget keeps the answer well inside API Gateway's 29 s.
MAX_ATTEMPTS = 40
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 2.0
RETRY_BUDGET_S = 20.0

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
CLOSING = "Demikian surat keterangan ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya."
SEX = {"L": "Laki-laki", "P": "Perempuan"}


class _Stats:
    """Counter-conflict retries since start (the bench prints it); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retries = 0

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


stats = _Stats()
_timings = threading.local()


def last_timings() -> dict[str, float]:
    """Milliseconds of this thread's last issue: transaction (incl. retries), render, store."""
    return dict(getattr(_timings, "value", {}))


def letter_settings(village: Region) -> dict[str, Any]:
    """The village's letter settings with defaults filled in."""
    stored = dict(village.settings.get("letters") or {})
    return {**LETTER_DEFAULTS, **{k: v for k, v in stored.items() if k in LETTER_DEFAULTS}}


def default_address(village: Region) -> str:
    kind = "Kelurahan" if village.level == "kelurahan" else "Desa"
    parts = [f"{kind} {village.name}", f"Kecamatan {village.settings.get('kecamatan_name', '')}".strip(),
             str(village.settings.get("kabupaten_name", ""))]
    return ", ".join(p for p in parts if p and p != "Kecamatan")


def head_title(village: Region) -> str:
    return f"{'Lurah' if village.level == 'kelurahan' else 'Kepala Desa'} {village.name}"


def _signer(principal: Principal, village: Region) -> dict[str, Any]:
    """The person who actually issues the letter, from their staff profile at this moment (issue 8.3):
    never free text from the village settings. Raises ForbiddenError if the account is gone."""
    staff = people.get_staff(principal.subject)
    if staff is None or not staff.active:
        raise ForbiddenError("Akun penanda tangan tidak aktif.", code="signer_inactive")
    position = staff.position or (head_title(village) if staff.role == "kades" else staff.role.capitalize())
    return {"signer_name": staff.name, "signer_position": position, "signer_nip": staff.nip,
            "signer_username": staff.username}


@dataclass(frozen=True)
class _IssueContext:
    """What stays the same across retries: only the counter is read again."""

    village: Region
    settings: dict[str, Any]
    letter_type: catalog.LetterType
    scope: str
    year: int
    issued_local: datetime
    document: dict[str, Any]


def _context(principal: Principal, request: ServiceRequest, now: datetime) -> _IssueContext:
    village = regions_repo.get(request.village, consistent=True)
    if village is None:
        raise NotFoundError("Desa/kelurahan tidak ditemukan.", code="village_not_found")
    settings = letter_settings(village)
    letter_type = catalog.effective_type(request.letter_type, village.letter_types)
    if letter_type is None:
        raise NotFoundError("Jenis surat tidak dikenal.", code="unknown_letter_type")
    signer = _signer(principal, village)
    kecamatan = str(village.settings.get("kecamatan_name", ""))
    kabupaten = str(village.settings.get("kabupaten_name", ""))
    issued_local = to_local(now, village.timezone)
    # Everything printed apart from the applicant's data: kept with the letter so a regenerated PDF is the
    # same even after the village changes its letterhead, template or signer.
    document = {
        "paper": settings["paper"], "kabupaten_name": kabupaten, "kecamatan_name": kecamatan,
        "village_name": village.name, "village_kind": "kelurahan" if village.level == "kelurahan" else "desa",
        "village_address": kop_address(settings), "logo_key": settings["logo_key"], "electronic": True,
        "title": letter_type.title,
        "body_template": letter_type.body_template,
        "opening": f"Yang bertanda tangan di bawah ini, {signer['signer_position']}, Kecamatan {kecamatan}, "
                   f"{kabupaten}, menerangkan dengan sebenarnya bahwa:",
        "closing": CLOSING, "place": village.name, "issued_date": issued_local.date().isoformat(),
        **signer,
    }
    return _IssueContext(village, settings, letter_type, counter_scope(settings["sequence_mode"], letter_type.code),
                         counter_year(now, village.timezone), issued_local, document)


def _letter(ctx: _IssueContext, request: ServiceRequest, seq: int, now: datetime) -> Letter:
    from chalicelib.adapters.signing import sign_letter

    letter_id = new_id()
    number = format_number(ctx.settings["number_format"], classification=ctx.letter_type.classification, seq=seq,
                           village_code=village_number_code(ctx.village.code), issued_local=ctx.issued_local,
                           letter_type=ctx.letter_type.code)
    facts = signed_facts(letter_id=letter_id, number=number, letter_type=ctx.letter_type.code,
                         village_code=ctx.village.code, issued_date=ctx.issued_local.date(),
                         signer_name=ctx.document["signer_name"],
                         applicant_name=str(request.applicant.get("name") or ""))
    token = sign_letter(wiring.letter_keyring(), facts)
    from chalicelib.config import get_settings

    return Letter(
        id=letter_id, request_id=request.id, village=request.village, kabupaten=request.kabupaten,
        letter_type=ctx.letter_type.code, letter_name=ctx.letter_type.name, number=number, seq=seq,
        counter_scope=ctx.scope, year=ctx.year, issued_at=iso(now), facts=facts, token=token,
        verify_url=f"{get_settings().public_base_url}/v1/letters/verify/{token}",
        file_key=f"letters/{request.village}/{ctx.year}/{letter_id}.pdf", document=dict(ctx.document),
    )


def request_letter_ref(letter: Letter) -> dict[str, Any]:
    """What the request item keeps about its letter (GET /v1/requests/{id} shows it)."""
    return {"id": letter.id, "number": letter.number, "issued_at": letter.issued_at,
            "verify_url": letter.verify_url, "status": letter.status}


def issue(principal: Principal, after: ServiceRequest, now: datetime, commit: Callable[[ExtraOps], None]) -> Letter:
    """Number the letter inside the issue transition (`commit` writes it with the extra ops), retrying with a
    fresh counter read when another issuer took the number first; then render and store the PDF.

    Raises ConflictError(stale_version) from commit, ConflictError(number_conflict) if every attempt lost.
    """
    started = time.perf_counter()
    ctx = _context(principal, after, now)
    committed_ok = False
    for attempt in range(MAX_ATTEMPTS):
        last = letters_repo.last_number(ctx.village.code, ctx.scope, ctx.year)
        letter = _letter(ctx, after, last + 1, now)
        after.letter = request_letter_ref(letter)
        try:
            commit(letters_repo.issue_ops(letter, last, iso(now)))
            committed_ok = True
            break
        except ConflictError as exc:
            if not letters_repo.counter_conflict(exc):
                raise
            if time.perf_counter() - started > RETRY_BUDGET_S:
                break
            stats.retried()
            time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempt)))
    if not committed_ok:
        raise ConflictError("Nomor surat sedang dipakai bersamaan; silakan coba lagi.", code="number_conflict")
    committed = time.perf_counter()
    timings = {"transaction_ms": (committed - started) * 1000, "attempts": attempt + 1}
    # The letter is already issued and numbered: a render or storage failure must not undo that. The PDF
    # is regenerated, byte for byte, when it is first downloaded (ensure_pdf).
    try:
        pdf = render(letter, after)
        rendered = time.perf_counter()
        wiring.file_store().put(letter.file_key, pdf, "application/pdf")
        timings.update(render_ms=(rendered - committed) * 1000, store_ms=(time.perf_counter() - rendered) * 1000)
    except Exception:
        logger.exception("letter pdf not stored; it will be regenerated on download",
                         extra={"letter_id": letter.id})
    _timings.value = timings
    logger.info("letter issued", extra={"letter_id": letter.id, "request_id": after.id, "number": letter.number,
                                        **timings})
    return letter


# ---------------------------------------------------------------------------------------------- document


def _template_values(request: ServiceRequest) -> dict[str, object]:
    a = request.applicant
    values: dict[str, object] = {
        "nama": a.get("name"), "nik": a.get("nik"), "tempat_lahir": a.get("birth_place"),
        "tanggal_lahir": _date(a.get("birth_date")), "jenis_kelamin": SEX.get(str(a.get("sex")), a.get("sex")),
        "agama": a.get("religion"), "status_perkawinan": a.get("marital_status"), "pekerjaan": a.get("occupation"),
        "alamat": a.get("address"), "rt": a.get("rt"), "rw": a.get("rw"), "desa": _village_label(a),
        "kecamatan": a.get("kecamatan"), "kabupaten": a.get("kabupaten"),
    }
    base = catalog.DEFAULT_CATALOG.get(request.letter_type)
    for spec in base.fields if base else ():
        value = request.fields.get(spec.name)
        values[spec.name] = _date(value) if spec.type == "date" else value
    return values


def _village_label(applicant: dict[str, Any]) -> str | None:
    """ "Desa Pulau Harapan" / "Kelurahan Samataring": how a letter names the applicant's village."""
    if not applicant.get("desa"):
        return None
    kind = "Kelurahan" if applicant.get("desa_kind") == "kelurahan" else "Desa"
    return f"{kind} {applicant['desa']}"


def _date(value: Any) -> Any:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _applicant_rows(request: ServiceRequest) -> list[tuple[str, str]]:
    a = request.applicant
    born = _date(a.get("birth_date"))
    born_text = format_date_id(born) if isinstance(born, date) else str(born or "-")
    address = str(a.get("address") or "-")
    if a.get("rt") or a.get("rw"):
        address += f", RT {a.get('rt') or '-'}/RW {a.get('rw') or '-'}"
    if a.get("desa"):
        address += f", {_village_label(a)}"
    if a.get("kecamatan"):
        address += f", Kecamatan {a['kecamatan']}"
    return [
        ("Nama", str(a.get("name") or "-")), ("NIK", str(a.get("nik") or "-")),
        ("Tempat/Tanggal Lahir", f"{a.get('birth_place') or '-'}, {born_text}"),
        ("Jenis Kelamin", SEX.get(str(a.get("sex")), str(a.get("sex") or "-"))),
        ("Agama", str(a.get("religion") or "-")), ("Status Perkawinan", str(a.get("marital_status") or "-")),
        ("Pekerjaan", str(a.get("occupation") or "-")), ("Alamat", address),
    ]


def build_document(letter: Letter, request: ServiceRequest) -> LetterDocument:
    """The printable letter from the stored snapshot and the request's data: the same input every time."""
    d = letter.document
    return LetterDocument(
        paper=d["paper"], kabupaten_name=d["kabupaten_name"], kecamatan_name=d["kecamatan_name"],
        village_name=d["village_name"], village_kind=d["village_kind"], village_address=d["village_address"],
        title=d["title"], number=letter.number, opening=d["opening"], applicant_rows=_applicant_rows(request),
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

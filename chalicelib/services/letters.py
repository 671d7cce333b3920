"""Letter use cases: download links, public verification, public keys, revocation, village letter settings."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import catalog
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.letters import SEQUENCE_MODES, clean_office, kop_address, validate_number_format
from chalicelib.domain.requests import VILLAGE_STAFF, HistoryEntry, Principal
from chalicelib.errors import ForbiddenError, NotFoundError, ValidationError
from chalicelib.observability import logger
from chalicelib.services import issuing, wiring
from chalicelib.services import requests as requests_service
from chalicelib.services.regions import ensure_manager, village_or_404
from chalicelib.storage import letters as repo
from chalicelib.storage import regions as regions_repo
from chalicelib.storage import requests as requests_repo

LINK_SECONDS = 300
PAPERS = ("A4", "F4")


def _not_issued() -> NotFoundError:
    return NotFoundError("Surat untuk permohonan ini belum terbit.", code="letter_not_issued")


def letter_link(principal: Principal, request_id: str) -> dict[str, Any]:
    """A short-lived download link for the request's letter: its owner, or staff who may read the request
    (the village's operator/kades, the camat and the kabupaten admin). Regenerates a missing PDF first."""
    request = requests_service.get(principal, request_id)  # 404 for anyone else
    if not request.letter or not request.letter.get("id"):
        raise _not_issued()
    letter = repo.get(str(request.letter["id"]), consistent=True)
    if letter is None:
        raise _not_issued()
    issuing.ensure_pdf(letter, request)
    _record_download(principal, request, letter.id, letter.number)
    return _link(letter)


def request_view(principal: Principal, request_id: str) -> dict[str, Any]:
    """The request as GET /v1/requests/{id} shows it; for its owner, once the letter is issued, with the PDF's
    short-lived link in `letter.download` (what "Unduh surat" needs, without a second call; the owner's download
    is not audited). Raises NotFoundError."""
    request = requests_service.get(principal, request_id)  # 404 for anyone else
    body = requests_service.to_public(request, principal)
    owner = principal.is_citizen and principal.subject == request.nik_hash
    if owner and request.status == "issued" and body.get("letter"):
        body["letter"]["download"] = _download(request)
    return body


def _download(request: Any) -> dict[str, Any] | None:
    letter = repo.get(str(request.letter["id"]), consistent=True) if request.letter.get("id") else None
    if letter is None:
        return None
    issuing.ensure_pdf(letter, request)
    return _link(letter)


def _link(letter: Any) -> dict[str, Any]:
    filename = "surat-" + re.sub(r"[^A-Za-z0-9.-]+", "-", letter.number).strip("-") + ".pdf"
    return {"url": wiring.file_store().link(letter.file_key, filename, LINK_SECONDS), "expires_in": LINK_SECONDS,
            "number": letter.number, "letter_id": letter.id, "issued_at": letter.issued_at,
            "status": letter.status, "verify_url": letter.verify_url}


def _record_download(principal: Principal, request: Any, letter_id: str, number: str) -> None:
    """Anyone but the owner who takes the PDF (it carries the full NIK) leaves an entry in the request's audit
    trail: who, when, which letter. Written before the link is handed out, so no link goes unrecorded."""
    from chalicelib.domain.ids import new_id

    if principal.is_citizen and principal.subject == request.nik_hash:
        return
    entry = HistoryEntry(iso(utcnow()), principal.name or principal.subject, principal.role, "download_letter",
                         request.status, request.status, None, request.version,
                         {"letter_id": letter_id, "number": number, "username": principal.subject})
    requests_repo.append_event(request.id, entry, new_id())
    logger.info("letter download recorded", extra={"request_id": request.id, "letter_id": letter_id,
                                                   "role": principal.role})


def open_file(token: str) -> tuple[bytes, str, str]:
    """The bytes, filename and content type behind a local signed link (local and test stages; S3 serves
    its own links)."""
    from chalicelib.adapters.files import LocalFileStore

    store = wiring.file_store()
    if not isinstance(store, LocalFileStore):
        raise NotFoundError("Berkas tidak ditemukan.", code="file_not_found")
    key, filename, content_type = store.open_link(token)
    return store.read(key), filename, content_type


def verification_page(token: str) -> str:
    """The web portal's verification page for a token (the page itself calls the JSON API)."""
    from urllib.parse import quote

    from chalicelib.config import get_settings

    return f"{get_settings().web_base_url}/verifikasi/?token={quote(token, safe='')}"


def verify(token: str) -> dict[str, Any]:
    """valid / revoked / forged / unknown, with the signed non-personal facts for valid and revoked letters.

    Raises ValidationError(malformed_token) for text that is not a token at all. Only letters that exist
    are counted (on the letter item); forged and unknown answers are logged, so garbage cannot make writes.
    """
    from chalicelib.adapters.signing import parse_token, verify_signature, verify_token

    parsed = parse_token(token)
    keyring = wiring.letter_keyring()
    if not verify_signature(keyring, token):
        logger.info("letter verification", extra={"status": "forged", "kid": parsed.kid[:16]})
        return {"status": "forged", "message": "Tanda tangan elektronik tidak sah: surat ini bukan terbitan Balai."}
    letter = repo.get(parsed.letter_id)
    if letter is None:
        logger.info("letter verification", extra={"status": "unknown", "letter_id": parsed.letter_id})
        return {"status": "unknown", "message": "Surat tidak ditemukan dalam arsip."}
    if not verify_token(keyring, token, letter.facts):
        # A genuine signature over other facts than the archive holds: the archive or the token was altered.
        logger.warning("letter verification", extra={"status": "forged", "letter_id": letter.id})
        return {"status": "forged", "message": "Data surat tidak cocok dengan tanda tangan elektronik."}
    count = repo.count_verification(letter.id)
    facts = letter.facts
    base = catalog.DEFAULT_CATALOG.get(facts["letter_type"])
    answer: dict[str, Any] = {
        "status": letter.status, "letter_id": letter.id, "number": facts["number"],
        "letter_type": facts["letter_type"], "letter_name": base.name if base else letter.letter_name,
        "village": facts["village_code"], "village_name": letter.document.get("village_name"),
        "issued_date": facts["issued_date"], "signer_name": facts["signer_name"],
        "signer_position": letter.document.get("signer_position"), "applicant": facts["applicant_masked"],
        "verification_count": count,
        "message": "Surat ini sah dan tercatat." if letter.status == "valid" else "Surat ini telah dicabut.",
    }
    if letter.status == "revoked":
        answer.update(revoked_at=letter.revoked_at, revoked_reason=letter.revoked_reason)
    logger.info("letter verification", extra={"status": letter.status, "letter_id": letter.id})
    return answer


def public_keys() -> dict[str, Any]:
    from chalicelib.adapters.signing import ALG
    from chalicelib.adapters.signing import public_keys as keys_of

    return {"alg": ALG, "keys": keys_of(wiring.letter_keyring()),
            "token_format": "base64url(JSON {v, kid, lid, h}) '.' base64url(Ed25519 signature over the first part); "
                            "h = first 16 bytes of SHA-256 over the canonical JSON of the letter's facts"}


def revoke(principal: Principal, letter_id: str, reason: str) -> dict[str, Any]:
    """The village's operator or kades revokes a letter, once, with a reason; the request's history records it.

    Raises ForbiddenError (other roles), NotFoundError (unknown or another region's letter),
    ConflictError(letter_revoked) when it already is, ValidationError(reason_required).
    """
    if principal.role not in VILLAGE_STAFF:
        raise ForbiddenError("Hanya operator atau kepala desa/lurah yang dapat mencabut surat.",
                             code="forbidden_role")
    reason = " ".join((reason or "").split())
    if not 5 <= len(reason) <= 500:
        raise ValidationError("Alasan pencabutan wajib diisi (5 sampai 500 karakter).", code="reason_required")
    letter = repo.get(letter_id, consistent=True)
    if letter is None or letter.village != principal.region:
        raise NotFoundError("Surat tidak ditemukan.", code="letter_not_found")
    request = requests_repo.get(letter.request_id)
    if request is None:
        raise NotFoundError("Surat tidak ditemukan.", code="letter_not_found")
    at = iso(utcnow())
    event = HistoryEntry(at, principal.name or principal.subject, principal.role, "revoke_letter", request.status,
                         request.status, reason, request.version + 1)
    repo.revoke(letter, request.version, event, reason)
    logger.info("letter revoked", extra={"letter_id": letter.id, "request_id": request.id})
    return {"letter_id": letter.id, "number": letter.number, "status": "revoked", "revoked_at": at,
            "revoked_reason": reason, "request_version": event.version}


# ---------------------------------------------------------------------------------------------- settings


def _settings_view(village: Any) -> dict[str, Any]:
    settings = issuing.letter_settings(village)
    return {"village": village.code, "version": village.version, **settings,
            "kop_address": kop_address(settings), "signer": "the issuing staff member's own profile",
            "default_signer_position": issuing.head_title(village)}


def get_letter_settings(principal: Principal, village_code: str) -> dict[str, Any]:
    ensure_manager(principal, village_code)
    return _settings_view(village_or_404(village_code))


def update_letter_settings(principal: Principal, village_code: str, changes: dict[str, Any],
                           version: int) -> dict[str, Any]:
    """Change the village's numbering format, sequence mode, paper, address or signer (version-checked).

    Raises ValidationError(invalid_number_format, invalid_setting, no_changes), NotFoundError, ConflictError.
    """
    ensure_manager(principal, village_code)
    village = village_or_404(village_code)
    unknown = sorted(set(changes) - set(issuing.LETTER_DEFAULTS) | ({"logo_key"} & set(changes)))
    if unknown:
        raise ValidationError(f"Pengaturan tidak dikenal: {', '.join(unknown)}.", code="invalid_setting")
    if not changes:
        raise ValidationError("Tidak ada perubahan.", code="no_changes")
    merged = {**issuing.letter_settings(village), **changes}
    validate_number_format(merged["number_format"])
    if merged["sequence_mode"] not in SEQUENCE_MODES:
        raise ValidationError("Mode penomoran harus village atau per_type.", code="invalid_setting")
    if merged["sequence_mode"] == "per_type" and "{letter_type" not in merged["number_format"]:
        # Letter types share classification codes (470), so per-type sequences need the type in the
        # number, or two letters of one year would carry the same number.
        raise ValidationError("Penomoran per jenis surat memerlukan isian {letter_type} di format nomor.",
                              code="invalid_number_format")
    if merged["paper"] not in PAPERS:
        raise ValidationError("Ukuran kertas harus A4 atau F4.", code="invalid_setting")
    changes = clean_office(changes)
    merged = {**merged, **changes}
    stored = {k: v for k, v in merged.items() if v not in (None, "")}
    village.settings = {**village.settings, "letters": stored}
    regions_repo.save(village, expected_version=version)
    logger.info("letter settings changed", extra={"village": village_code, "changes": sorted(changes)})
    return _settings_view(village)


# ---------------------------------------------------------------------------------------------- logo

LOGO_MAX_BYTES = 200 * 1024
LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def upload_logo(principal: Principal, village_code: str, data: bytes | None, content_type: str | None
                ) -> dict[str, Any]:
    """Store the village's lambang for the kop surat: PNG or JPEG (by magic bytes, matching Content-Type), at
    most 200 KB, a real decodable image. It is shrunk once to 300 px high and stored as PNG under a
    content-addressed key; the settings point to it (version-checked, so no concurrent change is lost).

    Raises ValidationError(invalid_logo, logo_too_large, unsupported_media_type), NotFoundError, ConflictError.
    """
    ensure_manager(principal, village_code)
    village = village_or_404(village_code)
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in LOGO_TYPES:
        raise ValidationError("Logo harus berkas PNG atau JPEG (Content-Type image/png atau image/jpeg).",
                              code="unsupported_media_type").with_status(415)
    if not data:
        raise ValidationError("Berkas logo kosong.", code="invalid_logo")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(f"Logo paling besar {LOGO_MAX_BYTES // 1024} KB.", code="logo_too_large"
                              ).with_status(413)
    if not data.startswith(LOGO_TYPES[media]):
        raise ValidationError("Isi berkas bukan gambar PNG/JPEG yang sesuai dengan jenisnya.", code="invalid_logo")
    from chalicelib.adapters.images import LOGO_HEIGHT_PX, normalised_logo

    jpeg, width, height = normalised_logo(data, "PNG" if media == "image/png" else "JPEG", LOGO_HEIGHT_PX)
    import hashlib

    key = f"logos/{village.code}/{hashlib.sha256(jpeg).hexdigest()[:32]}.jpg"
    wiring.file_store().put(key, jpeg, "image/jpeg")
    letters: dict[str, Any] = {**_stored_letters(village), "logo_key": key}
    village.settings = {**village.settings, "letters": letters}
    regions_repo.save(village, expected_version=village.version)
    logger.info("letter logo uploaded", extra={"village": village.code, "key": key, "bytes": len(data)})
    return {"village": village.code, "version": village.version, "logo_key": key, "content_type": media,
            "stored_type": "image/jpeg",
            "width": width, "height": height, "bytes": len(jpeg)}


def _stored_letters(village: Any) -> dict[str, Any]:
    stored = village.settings.get("letters")
    return dict(stored) if isinstance(stored, dict) else {}


def remove_logo(principal: Principal, village_code: str) -> dict[str, Any]:
    """The kop without a lambang again (letters already issued keep theirs)."""
    ensure_manager(principal, village_code)
    village = village_or_404(village_code)
    letters = {k: v for k, v in _stored_letters(village).items() if k != "logo_key"}
    village.settings = {**village.settings, "letters": letters}
    regions_repo.save(village, expected_version=village.version)
    logger.info("letter logo removed", extra={"village": village.code})
    return _settings_view(village)

"""Letter routes: download link, local file links, public verification and keys, revocation, settings."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, parse, prefers_html, principal, respond
from chalicelib.api.openapi import doc

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)


@doc("GET", "/v1/requests/{request_id}/letter", "Short-lived download link of the issued letter (PDF)",
     response="LetterLink", auth="owner, the village's operator/kades, camat and admin of its region",
     errors=(404,))
@bp.route("/v1/requests/{request_id}/letter", methods=["GET"])
@endpoint
def letter_link(request_id: str) -> Response:
    from chalicelib.services import letters
    return respond(letters.letter_link(principal(bp.current_request), request_id))


@doc("GET", "/v1/files/{token}", "A stored file (letter, attachment) behind a signed, expiring local link",
     content_type="application/pdf", errors=(404,))
@bp.route("/v1/files/{token}", methods=["GET"])
@endpoint
def file(token: str) -> Response:
    from chalicelib.services import letters
    data, filename, content_type = letters.open_file(token)
    return Response(body=data, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "private, no-store",
                             "X-Content-Type-Options": "nosniff",
                             "Content-Disposition": f'inline; filename="{filename}"'})


@doc("GET", "/v1/letters/verify/{token}", "Verify a letter from its QR code: valid, revoked, forged or unknown "
     "(a browser asking for text/html is redirected (302) to the web portal's verification page)",
     response="LetterVerification")
@bp.route("/v1/letters/verify/{token}", methods=["GET"])
@endpoint
def verify(token: str) -> Response:
    from chalicelib.services import letters
    # The QR code holds this URL: a person's phone gets the page, which asks for the JSON below.
    headers = {"Cache-Control": "no-store", "Vary": "Accept"}
    if prefers_html(bp.current_request):
        return Response(body="", status_code=302, headers={**headers, "Location": letters.verification_page(token)})
    return respond(letters.verify(token), headers=headers)


@doc("GET", "/v1/letters/public-key", "The kabupaten's Ed25519 public keys, to verify letters offline",
     response="PublicKeys")
@bp.route("/v1/letters/public-key", methods=["GET"])
@endpoint
def public_key() -> Response:
    from chalicelib.services import letters
    return respond(letters.public_keys(), headers={"Cache-Control": "public, max-age=3600"})


@doc("POST", "/v1/letters/{letter_id}/revocation", "Revoke an issued letter, with a reason",
     body="LetterRevocation", response="LetterRevoked", auth="operator, kades of the letter's village",
     errors=(404, 409))
@bp.route("/v1/letters/{letter_id}/revocation", methods=["POST"])
@endpoint
def revoke(letter_id: str) -> Response:
    from chalicelib.services import letters
    request = bp.current_request
    who = principal(request)
    body = parse(request, "LetterRevocation")
    return respond(letters.revoke(who, letter_id, body.reason))


@doc("GET", "/v1/villages/{desa}/letter-settings", "The village's letter numbering, paper and signer settings",
     response="LetterSettings", auth="operator, kades, admin", errors=(404,))
@bp.route("/v1/villages/{desa}/letter-settings", methods=["GET"])
@endpoint
def get_settings(desa: str) -> Response:
    from chalicelib.services import letters
    return respond(letters.get_letter_settings(principal(bp.current_request), desa))


@doc("PUT", "/v1/villages/{desa}/letter-settings", "Change the village's letter settings",
     body="LetterSettingsUpdate", response="LetterSettings", auth="operator, kades, admin",
     errors=(404, 409))
@bp.route("/v1/villages/{desa}/letter-settings", methods=["PUT"])
@endpoint
def put_settings(desa: str) -> Response:
    from chalicelib.services import letters
    request = bp.current_request
    who = principal(request)
    body = parse(request, "LetterSettingsUpdate")
    changes = body.model_dump(exclude={"version"}, exclude_none=True)
    return respond(letters.update_letter_settings(who, desa, changes, body.version))


@doc("PUT", "/v1/villages/{desa}/letter-settings/logo", "Upload the village's lambang for the kop surat "
     "(PNG or JPEG, at most 200 KB, sent as the raw body)", response="LogoUploaded",
     body_types=("image/png", "image/jpeg"), auth="operator, kades, admin", errors=(404, 409, 413, 415))
@bp.route("/v1/villages/{desa}/letter-settings/logo", methods=["PUT"],
          content_types=["image/png", "image/jpeg", "application/octet-stream", "application/json", "text/plain",
                         "multipart/form-data", "application/x-www-form-urlencoded"])
@endpoint
def put_logo(desa: str) -> Response:
    from chalicelib.services import letters
    request = bp.current_request
    who = principal(request)
    raw = request.raw_body
    data = raw.encode() if isinstance(raw, str) else raw
    return respond(letters.upload_logo(who, desa, data, request.headers.get("content-type")))


@doc("DELETE", "/v1/villages/{desa}/letter-settings/logo", "Remove the lambang from the kop surat",
     response="LetterSettings", auth="operator, kades, admin", errors=(404, 409))
@bp.route("/v1/villages/{desa}/letter-settings/logo", methods=["DELETE"])
@endpoint
def delete_logo(desa: str) -> Response:
    from chalicelib.services import letters
    return respond(letters.remove_logo(principal(bp.current_request), desa))

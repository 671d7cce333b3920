"""Open311 GeoReport v2 routes (JSON and XML by the path's suffix) and the admin API of partner keys."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, parse, principal, respond
from chalicelib.api.openapi import doc
from chalicelib.domain.inputs import PATH_TOKEN
from chalicelib.errors import AppError
from chalicelib.observability import logger

# Each route imports its service when it runs, so a cold start loads only what its first request uses (app.py).
bp = Blueprint(__name__)
BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 32 * 1024
NO_STORE = {"Cache-Control": "no-store"}
# Bodies a client might wrongly send are accepted by the route only to be answered with the spec's error array
# (400, naming the format to use) instead of Chalice's own 415.
ACCEPTED = [FORM, "application/json", "multipart/form-data", "text/plain"]


def _format_of_path() -> str:
    path = (bp.current_request.context or {}).get("resourcePath", "")
    return "xml" if path.endswith(".xml") else "json"


def _answer(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    from chalicelib.domain import open311 as rules
    return Response(body=rules.render(fmt, root, body), status_code=status,
                    headers={"Content-Type": rules.CONTENT_TYPES[fmt]})


def _split(value: str) -> tuple[str, str]:
    """`jalan.json` -> ("jalan", "json"); a path value without .json or .xml names no resource (404)."""
    from chalicelib.domain import open311 as rules
    if not value.isascii() or not PATH_TOKEN.fullmatch(value):
        raise rules.not_found("Sumber daya tidak ditemukan.")
    stem, _, fmt = value.rpartition(".")
    if fmt not in rules.FORMATS or not stem:
        raise rules.not_found("Sumber daya tidak ditemukan: akhiri alamat dengan .json atau .xml.")
    return stem, fmt


def georeport(view: Callable[..., Response]) -> Callable[..., Response]:
    """Answer failures as the spec's error array, in the format the path asks for (JSON by default)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        from chalicelib.domain import open311 as rules
        fmt = _format_of_path()
        for value in kwargs.values():
            if isinstance(value, str) and value.endswith(".xml"):
                fmt = "xml"
        try:
            return view(*args, **kwargs)
        except rules.Open311Error as exc:
            return _answer(fmt, "errors", exc.body(), exc.status)
        except AppError as exc:
            if exc.status >= 500:
                logger.warning("open311 request failed", extra={"code": exc.code})
            return _answer(fmt, "errors", [{"code": exc.status, "description": exc.message}], exc.status)
        except Exception:
            logger.exception("unhandled error")
            return _answer(fmt, "errors", [{"code": 500, "description": "Terjadi kesalahan pada server."}], 500)

    return wrapper


# The .xml twins of the .json routes, described for /openapi.json like every route.
for _method, _name, _summary in (("GET", "discovery", "Open311 service discovery, XML"),
                                 ("GET", "services", "Open311 service list, XML"),
                                 ("GET", "requests", "Open311 service requests, XML"),
                                 ("POST", "requests", "Open311 POST service request, XML answer")):
    doc(_method, f"{BASE}/{_name}.xml", _summary, content_type="text/xml",
        body_types=(FORM,) if _method == "POST" else ())


def georeport_error_body(path: str, response: Response) -> Response:
    """Chalice's own answers on /open311/ (405 for another method, 415), already in Balai's {"code","message"}
    shape, become the spec's error array in the path's format (app middleware)."""
    if not path.startswith(BASE) or response.status_code < 400:
        return response
    body = response.body
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if not isinstance(body, dict) or "message" not in body:
        return response
    fmt = "xml" if path.endswith(".xml") else "json"
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    answer = _answer(fmt, "errors", [{"code": response.status_code, "description": str(body["message"])}],
                     response.status_code)
    answer.headers.update(headers)
    return answer


def _params() -> dict[str, str]:
    return dict(bp.current_request.query_params or {})


@doc("GET", f"{BASE}/discovery.json", "Open311 service discovery (also .xml)", content_type="application/json")
@bp.route(f"{BASE}/discovery.json", methods=["GET"])
@bp.route(f"{BASE}/discovery.xml", methods=["GET"])
@georeport
def discovery() -> Response:
    from chalicelib.services import open311
    return _answer(_format_of_path(), "discovery", open311.discovery())


@doc("GET", f"{BASE}/services.json", "Open311 service list: the village's complaint categories (also .xml)",
     query=(("jurisdiction_id", "the village code, e.g. 73.07.03.1001 (required)"),), errors=(400, 404))
@bp.route(f"{BASE}/services.json", methods=["GET"])
@bp.route(f"{BASE}/services.xml", methods=["GET"])
@georeport
def services() -> Response:
    from chalicelib.services import open311
    return _answer(_format_of_path(), "services", open311.services(_params().get("jurisdiction_id")))


@doc("GET", f"{BASE}/services/{{service_code}}", "Open311 service definition: `jalan_jembatan.json` or `.xml`",
     query=(("jurisdiction_id", "the village code (required)"),), errors=(400, 404))
@bp.route(f"{BASE}/services/{{service_code}}", methods=["GET"])
@georeport
def service_definition(service_code: str) -> Response:
    from chalicelib.services import open311
    code, fmt = _split(service_code)
    return _answer(fmt, "service_definition",
                   open311.service_definition(_params().get("jurisdiction_id"), code))


@doc("GET", f"{BASE}/requests.json", "Open311 service requests: the village's public complaints (also .xml)",
     query=(("jurisdiction_id", "the village code (required)"),
            ("service_request_id", "comma list; overrides every other filter"),
            ("service_code", "comma list"), ("status", "open, closed or both (comma list)"),
            ("start_date", "W3C date-time with zone; default 90 days before end_date or now"),
            ("end_date", "W3C date-time with zone; the window spans at most 90 days")), errors=(400, 404))
@bp.route(f"{BASE}/requests.json", methods=["GET"])
@bp.route(f"{BASE}/requests.xml", methods=["GET"])
@georeport
def list_requests() -> Response:
    from chalicelib.services import open311
    return _answer(_format_of_path(), "service_requests", open311.list_requests(_params()))


@doc("POST", f"{BASE}/requests.json", "Open311 POST service request (form-encoded, api_key; also .xml)",
     body_types=(FORM,), errors=(400, 403, 404, 429))
@bp.route(f"{BASE}/requests.json", methods=["POST"], content_types=ACCEPTED)
@bp.route(f"{BASE}/requests.xml", methods=["POST"], content_types=ACCEPTED)
@georeport
def post_request() -> Response:
    from chalicelib.domain import open311 as rules
    from chalicelib.services import open311
    request = bp.current_request
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise rules.bad_request("Kirim laporan sebagai application/x-www-form-urlencoded (UTF-8), sesuai GeoReport v2.")
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_FORM_BYTES:
        raise rules.bad_request(f"Isi permintaan terlalu besar (paling banyak {MAX_FORM_BYTES // 1024} KB).")
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=60)
    except UnicodeDecodeError:
        raise rules.bad_request("Isi permintaan harus application/x-www-form-urlencoded dalam UTF-8.") from None
    except ValueError:
        raise rules.bad_request("Isi permintaan memuat terlalu banyak isian.") from None
    result = open311.post_request(form, request.headers.get("idempotency-key"))
    return _answer(_format_of_path(), "service_requests", result)


@doc("GET", f"{BASE}/requests/{{service_request_id}}", "Open311 one service request: `<id>.json` or `.xml`",
     query=(("jurisdiction_id", "the village code (required)"),), errors=(400, 404))
@bp.route(f"{BASE}/requests/{{service_request_id}}", methods=["GET"])
@georeport
def get_request(service_request_id: str) -> Response:
    from chalicelib.services import open311
    request_id, fmt = _split(service_request_id)
    return _answer(fmt, "service_requests", open311.get_request(_params().get("jurisdiction_id"), request_id))


@doc("GET", f"{BASE}/media/{{complaint_id}}/{{photo_id}}", "A public complaint photo (redirect to a short-lived link)",
     status=302, errors=(404,))
@bp.route(f"{BASE}/media/{{complaint_id}}/{{photo_id}}", methods=["GET"])
@georeport
def media(complaint_id: str, photo_id: str) -> Response:
    from chalicelib.domain import open311 as rules
    from chalicelib.services import open311
    for value in (complaint_id, photo_id):
        if not value.isascii() or not PATH_TOKEN.fullmatch(value):
            raise rules.not_found("Foto tidak ditemukan.")
    url = open311.media_link(complaint_id, photo_id)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


# ---- partner keys (admin) ------------------------------------------------------------------------------------
@doc("GET", "/v1/kabupaten/{code}/open311-keys", "Open311 partner keys of the kabupaten (never the keys themselves)",
     response="Open311KeyList", auth="admin of the kabupaten", errors=(403, 404))
@bp.route("/v1/kabupaten/{code}/open311-keys", methods=["GET"])
@endpoint
def list_keys(code: str) -> Response:
    from chalicelib.services import open311
    return respond(open311.list_keys(principal(bp.current_request), code), headers=NO_STORE)


@doc("POST", "/v1/kabupaten/{code}/open311-keys", "Issue an Open311 api_key for a partner (shown once)",
     body="Open311KeyCreate", response="Open311KeyIssued", status=201, auth="admin of the kabupaten",
     errors=(403, 404))
@bp.route("/v1/kabupaten/{code}/open311-keys", methods=["POST"])
@endpoint
def create_key(code: str) -> Response:
    from chalicelib.services import open311
    request = bp.current_request
    who = principal(request)
    body = parse(request, "Open311KeyCreate")
    return respond(open311.create_key(who, code, body.partner), status=201, headers=NO_STORE)


@doc("DELETE", "/v1/kabupaten/{code}/open311-keys/{key_id}", "Revoke an Open311 partner key at once",
     response="Open311Key", auth="admin of the kabupaten", errors=(403, 404))
@bp.route("/v1/kabupaten/{code}/open311-keys/{key_id}", methods=["DELETE"])
@endpoint
def revoke_key(code: str, key_id: str) -> Response:
    from chalicelib.services import open311
    return respond(open311.revoke_key(principal(bp.current_request), code, key_id), headers=NO_STORE)

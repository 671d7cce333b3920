"""HTTP plumbing shared by the blueprints: body parsing, errors to JSON, the caller's identity."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Callable, TypeVar

from chalice import Response
from chalice.app import Request

from chalicelib.api.negotiation import weighted
from chalicelib.auth import principal_from_header
from chalicelib.domain.inputs import JsonLimits, check_json_shape, check_path_parameter, parse_json
from chalicelib.domain.requests import Principal
from chalicelib.errors import AppError, ValidationError
from chalicelib.observability import logger

F = TypeVar("F", bound=Callable[..., Any])
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def error_response(error: AppError) -> Response:
    return Response(body=json.dumps(error.to_dict(), ensure_ascii=False), status_code=error.status,
                    headers={**JSON_HEADERS, **error.headers})


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def endpoint(view: F) -> F:
    """Map AppError to its JSON answer around the view (Chalice turns anything else into a 500
    before middleware could see it); unexpected errors are logged and answered as JSON 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            # Every path parameter is checked here, once, before any service builds a key from it.
            kwargs = {name: check_path_parameter(name, value) for name, value in kwargs.items()}
            return view(*args, **kwargs)
        except AppError as exc:
            if exc.status >= 500:
                logger.warning("request failed", extra={"code": exc.code})
            return error_response(exc)
        except Exception:
            logger.exception("unhandled error")
            return error_response(AppError("Terjadi kesalahan pada server.", code="internal_error",
                                           ).with_status(500))

    return wrapper  # type: ignore[return-value]


# Chalice answers some requests itself, before any view runs, with {"Code", "Message"} in English:
# map them to Balai's {"code", "message"} so every error a client can get has one shape.
_CHALICE_ERRORS = {
    "UnsupportedMediaType": ("unsupported_media_type",
                             "Jenis isi (Content-Type) tidak didukung; kirim application/json."),
    "MethodNotAllowedError": ("method_not_allowed", "Metode HTTP ini tidak tersedia untuk alamat ini."),
    "BadRequest": ("not_acceptable", "Permintaan tidak dapat dilayani dengan header Accept ini."),
    "InternalServerError": ("internal_error", "Terjadi kesalahan pada server."),
}


def normalize_error_body(response: Response) -> Response:
    """Rewrite Chalice's own error answers ({"Code","Message"}) into {"code","message"} (app middleware)."""
    if response.status_code < 400 or not isinstance(response.body, dict) or "Code" not in response.body:
        return response
    code, message = _CHALICE_ERRORS.get(str(response.body.get("Code")),
                                        ("bad_request", "Permintaan tidak dapat diproses."))
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    return Response(body=json.dumps({"code": code, "message": message}, ensure_ascii=False),
                    status_code=response.status_code, headers={**headers, **JSON_HEADERS})


def json_body(request: Request, limits: type[JsonLimits] = JsonLimits) -> dict[str, Any]:
    """The request's JSON object; anything else is a 400 with its own code. Bodies are bounded in size
    (413), nesting depth and node count, and no string in them may carry control or bidi characters."""
    raw = request.raw_body
    if not raw:
        raise ValidationError("Isi permintaan (JSON) wajib ada.", code="missing_body")
    if len(raw) > limits.max_bytes:
        raise ValidationError(f"Isi permintaan terlalu besar (paling banyak {limits.max_bytes // 1024} KB).",
                              code="body_too_large").with_status(413)
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ValidationError("Isi permintaan harus berupa objek JSON.", code="malformed_json")
    check_json_shape(body, limits)
    return body


# Error types raised by the schemas' own validators (api.schemas): their code and message go to the client.
CUSTOM_ERROR_CODES = frozenset({"invalid_name", "invalid_text", "invalid_character"})


def parse(request: Request, model_name: str) -> Any:
    """Validate the JSON body with the named Pydantic model from api.schemas (imported on first
    use: Pydantic model building costs ~65 ms, too much for the cold-start path)."""
    from pydantic import ValidationError as PydanticError

    from chalicelib.api import schemas

    model = getattr(schemas, model_name)
    body = json_body(request)
    try:
        return model.model_validate(body)
    except PydanticError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        details = [{"field": ".".join(str(p) for p in e["loc"])[:100], "message": e["msg"], "type": e["type"]}
                   for e in errors]
        custom = next((e for e in errors if e["type"] in CUSTOM_ERROR_CODES), None)
        if custom is not None:
            code, message = custom["type"], str(custom["msg"])
        elif any(e["type"] == "missing" for e in errors):
            code, message = "missing_field", "Ada isian wajib yang belum diisi."
        elif any(e["type"] == "extra_forbidden" for e in errors):
            code, message = "unknown_field", "Ada isian yang tidak dikenal."
        elif any(e["type"].endswith("_type") or e["type"].endswith("_parsing") for e in errors):
            code, message = "invalid_field_type", "Ada isian dengan tipe data yang salah."
        else:
            code, message = "invalid_field", "Ada isian yang tidak valid."
        raise ValidationError(message, code=code, fields=details) from None


def principal(request: Request) -> Principal:
    """The caller from the bearer token; a staff token also needs its account active and its session
    current (one GetItem), so deactivation and password changes take effect on the next request."""
    from chalicelib.services.staff import ensure_session

    who = principal_from_header(request.headers.get("authorization"))
    ensure_session(who)
    return who


def optional_principal(request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    return principal(request) if header else None


def client_ip(request: Request) -> str | None:
    """The caller's address as API Gateway (or chalice local) saw it; None when absent or not an IP."""
    import ipaddress

    identity = (request.context or {}).get("identity") or {}
    raw = identity.get("sourceIp")
    try:
        return str(ipaddress.ip_address(raw)) if isinstance(raw, str) else None
    except ValueError:
        return None


def query_param(request: Request, name: str) -> str | None:
    params: Mapping[str, str] = request.query_params or {}
    return params.get(name)


def int_param(request: Request, name: str) -> int | None:
    value = query_param(request, name)
    if value is None:
        return None
    # int() would accept " ５\n" (Unicode digits, whitespace): only ASCII digits are a number here.
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        raise ValidationError(f"Parameter {name} harus berupa angka.", code="invalid_parameter")
    return int(value)


def _accept_q(accept: str, media: str) -> float:
    """The quality the Accept header gives `media` (most specific match wins; 0 when nothing matches)."""
    best: tuple[int, float] = (-1, 0.0)
    kind = media.split("/")[0]
    for pattern, raw in weighted(accept):
        q = 1.0
        if raw is not None:
            try:
                q = max(0.0, min(1.0, float(raw)))
            except ValueError:
                q = 0.0
        specificity = 2 if pattern == media else 1 if pattern == f"{kind}/*" else 0 if pattern == "*/*" else -1
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def prefers_html(request: Request) -> bool:
    """True when the client (a person's browser) would rather have a page than JSON: it asks for text/html
    explicitly and ranks it above application/json. curl's and programs' `*/*` get JSON."""
    accept = request.headers.get("accept") or ""
    if "text/html" not in accept.lower():
        return False
    return _accept_q(accept, "text/html") > _accept_q(accept, "application/json")

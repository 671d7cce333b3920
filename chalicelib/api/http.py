"""HTTP plumbing shared by the blueprints: body parsing, errors to JSON, the caller's identity."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, TypeVar

from chalice import Response
from chalice.app import Request

from chalicelib.auth import principal_from_header
from chalicelib.domain.requests import Principal
from chalicelib.errors import AppError, ValidationError
from chalicelib.observability import logger

F = TypeVar("F", bound=Callable[..., Any])
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def error_response(error: AppError) -> Response:
    return Response(body=json.dumps(error.to_dict(), ensure_ascii=False), status_code=error.status,
                    headers=JSON_HEADERS)


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def endpoint(view: F) -> F:
    """Map AppError to its JSON answer around the view (Chalice turns anything else into a 500
    before middleware could see it); unexpected errors are logged and answered as JSON 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
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


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else is a 400 with its own code."""
    raw = request.raw_body
    if not raw:
        raise ValidationError("Isi permintaan (JSON) wajib ada.", code="missing_body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("Isi permintaan bukan JSON yang valid.", code="malformed_json") from None
    if not isinstance(body, dict):
        raise ValidationError("Isi permintaan harus berupa objek JSON.", code="malformed_json")
    return body


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
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
                   for e in errors]
        if any(e["type"] == "missing" for e in errors):
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


def query_param(request: Request, name: str) -> str | None:
    params = request.query_params or {}
    return params.get(name)


def int_param(request: Request, name: str) -> int | None:
    value = query_param(request, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"Parameter {name} harus berupa angka.", code="invalid_parameter") from None


def _accept_q(accept: str, media: str) -> float:
    """The quality the Accept header gives `media` (most specific match wins; 0 when nothing matches)."""
    best: tuple[int, float] = (-1, 0.0)
    kind = media.split("/")[0]
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        pattern = parts[0].lower()
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
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

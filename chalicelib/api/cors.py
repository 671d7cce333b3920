"""CORS in one place: the configured origins are echoed back, every path answers its preflight.

Chalice's per-route `cors=` takes a single origin (or `*`), and API Gateway's generated preflight cannot
check an Origin against a list. So routes declare no CORS of their own: one middleware adds the headers to
every answer whose Origin is allowed (errors included), and one OPTIONS view per path answers preflights.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.config import get_settings

# Every request header the API reads: the bearer token, JSON bodies, repeat-safe submission.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
# Chromium caps a cached preflight at 2 hours; this saves a round trip (and a Lambda call) per request.
MAX_AGE_SECONDS = 7200


def allowed_origin(origin: str | None) -> str | None:
    """The Origin header's value if it is one of the stage's allowed origins (exact match), else None."""
    if not origin:
        return None
    return origin if origin in get_settings().cors_origins else None


def _vary(headers: dict[str, str]) -> None:
    existing = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if "Origin" not in existing:
        headers["Vary"] = ", ".join([*existing, "Origin"])


def cors_headers(origin: str | None, methods: list[str] | None = None) -> dict[str, str]:
    """The CORS headers for a response to `origin` ({} when it is not allowed). With `methods`: a preflight."""
    allowed = allowed_origin(origin)
    if allowed is None:
        return {}
    headers = {"Access-Control-Allow-Origin": allowed}
    if methods is not None:
        headers.update({"Access-Control-Allow-Methods": ", ".join(methods),
                        "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                        "Access-Control-Max-Age": str(MAX_AGE_SECONDS)})
    return headers


def _middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = get_response(event)
    # The preflight view sets its own headers; every other answer gets the origin echo here.
    if "Access-Control-Allow-Origin" not in response.headers:
        response.headers.update(cors_headers(event.headers.get("origin")))
    _vary(response.headers)
    return response


def _preflight_view(app: Chalice, path: str) -> Callable[..., Response]:
    methods = sorted({*app.routes[path], "OPTIONS"})

    def preflight(**_: Any) -> Response:
        request = app.current_request
        origin = request.headers.get("origin") if request is not None else None
        headers = cors_headers(origin, methods)
        if origin and not headers:
            body = {"code": "cors_origin_refused", "message": "Asal (origin) permintaan ini tidak diizinkan."}
            return Response(json.dumps(body), status_code=403,
                            headers={"Content-Type": "application/json; charset=utf-8"})
        return Response("", status_code=204, headers={**headers, "Allow": ", ".join(methods)})

    return preflight


def install(app: Chalice) -> None:
    """Add the origin-echo middleware and an OPTIONS view to every path registered so far."""
    app.register_middleware(_middleware, "http")
    for path in list(app.routes):
        if "OPTIONS" not in app.routes[path]:
            name = "preflight_" + "".join(c if c.isalnum() else "_" for c in path).strip("_")
            app.route(path, methods=["OPTIONS"], name=name)(_preflight_view(app, path))

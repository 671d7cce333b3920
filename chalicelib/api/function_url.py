"""The API function behind a Lambda function URL: payload 2.0 in, the REST (1.0) event Chalice dispatches, and back.

The web front end calls the API function through its function URL (no API Gateway fee; Lambda answers the
browser's CORS preflights from the URL's own configuration without invoking the function). A function URL
delivers "payload format version 2.0" events, which Chalice does not understand: it dispatches on
`requestContext.resourcePath` and reads `pathParameters`, `multiValueQueryStringParameters`, `headers`, `body`
and `isBase64Encoded` of API Gateway's REST proxy event. `BalaiApp.__call__` converts a 2.0 event to that shape
(`rest_event`), lets Chalice answer it as it answers API Gateway, and converts the answer back
(`function_url_response`). REST events (API Gateway, local mode, Chalice's test client) pass through untouched.

What API Gateway did before the function ran is done here the same way:
- routing: the raw (still percent-encoded) path is matched against the app's routes segment by segment, a literal
  segment winning over a `{param}` one at the first place they differ (so `/v1/me/requests` is never
  `/v1/me/{x}`); one trailing slash is ignored; an empty segment matches nothing; a `%2F` stays inside its
  segment. Path parameters are then percent-decoded, as API Gateway hands them over;
- an unknown path is the 404 `route_not_found` of the REST API's gateway response (infra/chalice-prod-merge.json);
  a known path with another method reaches Chalice, whose 405 the app's middleware puts in Balai's error shape;
- the query string is split and decoded like API Gateway's (`+` is a space, repeated names keep every value,
  a name without `=` has an empty value), into multi-value and single-value (last value wins) parameters;
- the caller's address (`requestContext.http.sourceIp`) becomes `requestContext.identity.sourceIp`, which the
  per-client throttles read (`api.http.client_ip`); the request id is kept as `requestContext.requestId`
  (the logs' correlation id).
The answer's CORS headers are left to the function URL: its CORS configuration adds them to every response
(AWS: "Lambda automatically adds the CORS headers to all responses through the function URL"; where the
function sends its own too, they conflict or are repeated), so the app's `Access-Control-*` headers are removed.
A text answer of at least 1 KB goes out gzip-coded (base64, `isBase64Encoded: true`) when the request's
`Accept-Encoding` accepts gzip, as every browser's does (chalicelib/api/compression.py). The REST API does not get
this from the app: API Gateway would pass the base64 text through unless the request's first Accept type is one of
the API's binary media types; it compresses its answers itself (`minimum_compression_size` of the prod stage).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from chalice import Chalice

from chalicelib.api.compression import compress_answer, header_value

ROUTE_NOT_FOUND = {"code": "route_not_found",
                   "message": "Alamat tidak ditemukan. Lihat /openapi.json untuk daftar alamat API."}
# Set by the function URL's CORS configuration on every answer (infra/chalice-prod-merge.json): never twice.
CORS_RESPONSE_HEADERS = frozenset({
    "access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
    "access-control-max-age", "access-control-expose-headers", "access-control-allow-credentials"})


def is_function_url_event(event: Any) -> bool:
    """True for a function URL's (payload 2.0) HTTP event."""
    return (isinstance(event, dict) and event.get("version") == "2.0"
            and isinstance((event.get("requestContext") or {}).get("http"), dict))


class RouteTable:
    """The app's route paths, matched against a raw request path the way API Gateway matches its resources."""

    def __init__(self, paths: list[str]) -> None:
        self._routes = [(path, path.strip("/").split("/") if path != "/" else []) for path in paths]

    def match(self, raw_path: str) -> tuple[str, dict[str, str]] | None:
        """(resource path, decoded path parameters) of the most specific route for raw_path, or None."""
        if not raw_path.startswith("/"):
            return None
        path = raw_path[:-1] if raw_path != "/" and raw_path.endswith("/") else raw_path
        segments = path[1:].split("/") if path != "/" else []
        best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
        for resource, parts in self._routes:
            if len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            rank: list[int] = []
            for part, segment in zip(parts, segments, strict=True):
                if not segment:
                    break
                if part.startswith("{") and part.endswith("}"):
                    params[part[1:-1]] = unquote(segment)
                    rank.append(1)
                elif segment == part or unquote(segment) == part:
                    rank.append(0)
                else:
                    break
            else:
                if best is None or tuple(rank) < best[0]:
                    best = (tuple(rank), resource, params)
        return (best[1], best[2]) if best else None


def query_parameters(raw: str) -> tuple[dict[str, list[str]] | None, dict[str, str] | None]:
    """(multi-value, single-value) query parameters of a raw query string, decoded as API Gateway does."""
    if not raw:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return multi, {name: values[-1] for name, values in multi.items()}


def rest_event(event: dict[str, Any], resource: str, path_params: dict[str, str]) -> dict[str, Any]:
    """The REST (payload 1.0) proxy event for a function URL event already matched to `resource`."""
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    method = str(http.get("method", "GET")).upper()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    cookies = event.get("cookies") or []
    if cookies:
        headers["cookie"] = "; ".join(str(c) for c in cookies)
    multi_query, query = query_parameters(str(event.get("rawQueryString") or ""))
    raw_path = str(event.get("rawPath") or "/")
    return {
        "resource": resource,
        "path": raw_path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params or None,
        "stageVariables": event.get("stageVariables"),
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded", False)),
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": raw_path,
            "stage": context.get("stage", "$default"),
            "requestId": context.get("requestId"),
            "requestTimeEpoch": context.get("timeEpoch"),
            "domainName": context.get("domainName"),
            "apiId": context.get("apiId"),
            "accountId": context.get("accountId"),
            "protocol": http.get("protocol"),
            "identity": {"sourceIp": http.get("sourceIp"), "userAgent": http.get("userAgent")},
            "functionUrl": True,
        },
    }


def function_url_response(response: dict[str, Any]) -> dict[str, Any]:
    """Chalice's REST answer in the function URL's response shape: multi-value headers comma-joined,
    Set-Cookie as `cookies`, the CORS headers left to the function URL, a binary body still base64."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    items = [(k, [v]) for k, v in (response.get("headers") or {}).items()]
    items += list((response.get("multiValueHeaders") or {}).items())
    for name, values in items:
        lower = str(name).lower()
        if lower in CORS_RESPONSE_HEADERS:
            continue
        if lower == "set-cookie":
            cookies += [str(v) for v in values]
            continue
        joined = ", ".join(str(v) for v in values)
        headers[name] = f"{headers[name]}, {joined}" if name in headers else joined
    out: dict[str, Any] = {"statusCode": int(response.get("statusCode", 200)), "headers": headers,
                           "body": response.get("body") or "",
                           "isBase64Encoded": bool(response.get("isBase64Encoded", False))}
    if cookies:
        out["cookies"] = cookies
    return out


def not_found_response() -> dict[str, Any]:
    return {"statusCode": 404, "headers": {"Content-Type": "application/json; charset=utf-8", "Vary": "Origin"},
            "body": json.dumps(ROUTE_NOT_FOUND, ensure_ascii=False), "isBase64Encoded": False}


class BalaiApp(Chalice):
    """Chalice, also answering a Lambda function URL's payload-2.0 events (REST events unchanged)."""

    _route_table: RouteTable | None = None
    _route_count = -1

    def routes_table(self) -> RouteTable:
        # Built once the routes are registered (app.py registers every blueprint at import).
        if self._route_table is None or self._route_count != len(self.routes):
            self._route_table, self._route_count = RouteTable(list(self.routes)), len(self.routes)
        return self._route_table

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        if not is_function_url_event(event):
            return super().__call__(event, context)
        matched = self.routes_table().match(str(event.get("rawPath") or "/"))
        if matched is None:
            return not_found_response()
        resource, params = matched
        answer = function_url_response(super().__call__(rest_event(event, resource, params), context))
        method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "GET"))
        return compress_answer(answer, header_value(event.get("headers"), "accept-encoding"), method)

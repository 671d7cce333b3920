"""A Lambda function URL in front of the app, for tests and the cost bench: HTTP calls become payload-2.0 events.

`FunctionUrlHTTP` has the methods of Chalice's test HTTP client (request/get/post/put/patch/delete/options), so the
helpers in tests/helpers.py drive the real API through the function URL adapter (chalicelib/api/function_url.py)
as they drive it through Chalice's local gateway. The events are built the way the Lambda service builds them
(AWS docs, "Invoking Lambda function URLs", request payload): lower-case headers with repeated values
comma-joined, cookies apart, the raw path and query string as sent, a body base64-encoded unless it is text.
"""

from __future__ import annotations

import base64
import gzip
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chalice.local import LambdaContext
from chalice.test import Client, HTTPResponse

URL_ID = "abcdefghijklmnopqrstuvwxyz012345"
DOMAIN = f"{URL_ID}.lambda-url.ap-southeast-3.on.aws"
SOURCE_IP = "203.0.113.10"
# Content types the Lambda service passes as text; anything else arrives base64-encoded.
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
              "application/x-www-form-urlencoded")


def function_url_event(method: str, path: str, headers: dict[str, str] | None = None, body: bytes | str | None = None,
                       source_ip: str = SOURCE_IP) -> dict[str, Any]:
    """The payload-2.0 event Lambda delivers for `method path` (path may carry its raw query string)."""
    split = urlsplit(path)
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in (headers or {}).items():
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    lowered.setdefault("host", DOMAIN)
    lowered.setdefault("x-forwarded-for", source_ip)
    content_type = lowered.get("content-type", "")
    raw = body.encode() if isinstance(body, str) else (body or b"")
    text = not content_type or content_type.startswith(TEXT_TYPES)
    query: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": split.path or "/",
        "rawQueryString": split.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": DOMAIN,
            "domainPrefix": URL_ID,
            "http": {"method": method.upper(), "path": split.path or "/", "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": lowered.get("user-agent", "test")},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(raw) and not text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if raw:
        event["body"] = raw.decode() if text else base64.b64encode(raw).decode()
    return event


def response_of(answer: dict[str, Any]) -> HTTPResponse:
    """The function URL's answer as Chalice's test HTTPResponse (body bytes, base64 undone, a gzip-coded body decoded
    as a browser decodes it, cookies as Set-Cookie). The answer as sent stays in `FunctionUrlHTTP.last_answer`."""
    body = answer.get("body") or ""
    data = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
    if str((answer.get("headers") or {}).get("Content-Encoding", "")).lower() == "gzip":
        data = gzip.decompress(data)
    headers = dict(answer.get("headers") or {})
    if answer.get("cookies"):
        headers["Set-Cookie"] = ", ".join(answer["cookies"])
    return HTTPResponse(body=data, headers=headers, status_code=int(answer["statusCode"]))


class FunctionUrlHTTP:
    """Chalice's test HTTP client, but through the function URL: each call is one invocation of the app."""

    def __init__(self, app: Any, source_ip: str = SOURCE_IP) -> None:
        self.app, self.source_ip = app, source_ip
        self.last_answer: dict[str, Any] = {}

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes | str | None = None) -> HTTPResponse:
        event = function_url_event(method, path, headers, body, self.source_ip)
        self.last_answer = self.app(event, LambdaContext("balai-test", 1024))
        return response_of(self.last_answer)

    def get(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> HTTPResponse:
        return self.request("OPTIONS", path, **kwargs)


class FunctionUrlClient:
    """A Chalice test client whose `http` goes through the function URL; `lambda_` and `events` are Chalice's."""

    def __init__(self, client: Client, app: Any) -> None:
        self.http = FunctionUrlHTTP(app)
        self.lambda_ = client.lambda_
        self.events = client.events

"""`chalice local` with API Gateway's answers in Balai's shape: an unknown route is a JSON 404.

The HTTP server's own errors (a method it has no handler for, such as TRACE; a malformed request
line) are {code, message} JSON too, where http.server would send an HTML page.

Chalice's local gateway answers an unknown path with 403 {"message": "Missing Authentication Token"}
(as API Gateway does before its gateway responses are configured; the deployed stage maps them in
infra/chalice-prod-merge.json). Local mode is run through this module so it answers
404 {"code": "route_not_found", "message": ...} instead. Run as `python -m localmode.gateway local ...`.

Its answers are gzip-coded for a client that accepts it exactly as the function URL's are in the cloud (the web
front end calls the API there; chalicelib/api/compression.py), so a browser gets the same bytes from `make run`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

NOT_FOUND_BODY = json.dumps(
    {"code": "route_not_found", "message": "Alamat tidak ditemukan. Lihat /openapi.json untuk daftar alamat API."}
).encode()


def apply() -> None:
    """Patch chalice.local's gateway: a path no route matches becomes a JSON 404; a text answer is gzip-coded for a
    client that accepts it, as on the function URL."""
    from chalice import local

    from chalicelib.api.compression import compress_answer, header_value

    class RouteNotFoundError(local.LocalGatewayException):
        CODE = 404

    original = local.LocalGateway.handle_request
    if getattr(original, "_balai_patched", False):
        return

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            self.event_converter._route_matcher.match_route(path)
        except ValueError:
            raise RouteNotFoundError({"Content-Type": "application/json; charset=utf-8"}, NOT_FOUND_BODY) from None
        answer = original(self, method, path, headers, body)
        return compress_answer(answer, header_value(headers, "accept-encoding"), method)

    handle_request._balai_patched = True  # type: ignore[attr-defined]
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    local.ChaliceRequestHandler.send_error = send_json_error  # type: ignore[method-assign]


def send_json_error(self: Any, code: int, message: str | None = None, explain: str | None = None) -> None:
    """http.server's error page as {code, message} JSON; an unsupported method (501) is a 405."""
    if code == 501:
        code, body = 405, {"code": "method_not_allowed", "message": "Metode HTTP ini tidak tersedia."}
    else:
        body = {"code": "bad_request", "message": "Permintaan HTTP tidak valid."}
    data = json.dumps(body).encode()
    self.send_response(code)
    self.send_header("Content-Type", "application/json; charset=utf-8")
    self.send_header("Content-Length", str(len(data)))
    self.send_header("Connection", "close")
    self.end_headers()
    self.close_connection = True
    if getattr(self, "command", None) != "HEAD":
        self.wfile.write(data)


def main() -> None:
    from localmode.run import share_botocore_data

    share_botocore_data()  # the API process's botocore sessions share one copy of its data too
    apply()
    from chalice.cli import main as chalice_main

    sys.exit(chalice_main())


if __name__ == "__main__":
    main()

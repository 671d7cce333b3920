"""`chalice local` with API Gateway's answers in Balai's shape: an unknown route is a JSON 404.

Chalice's local gateway answers an unknown path with 403 {"message": "Missing Authentication Token"}
(as API Gateway does before its gateway responses are configured; the deployed stage maps them in
infra/chalice-prod-merge.json). Local mode is run through this module so it answers
404 {"code": "route_not_found", "message": ...} instead. Run as `python -m localmode.gateway local ...`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

NOT_FOUND_BODY = json.dumps(
    {"code": "route_not_found", "message": "Alamat tidak ditemukan. Lihat /openapi.json untuk daftar alamat API."}
).encode()


def apply() -> None:
    """Patch chalice.local's gateway: a path no route matches becomes a JSON 404."""
    from chalice import local

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
        return original(self, method, path, headers, body)

    handle_request._balai_patched = True  # type: ignore[attr-defined]
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]


def main() -> None:
    apply()
    from chalice.cli import main as chalice_main

    sys.exit(chalice_main())


if __name__ == "__main__":
    main()

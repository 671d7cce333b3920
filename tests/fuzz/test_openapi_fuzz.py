"""Bounded property-based fuzzing of every operation in /openapi.json (schemathesis), in-process.

Schemathesis generates requests from the same OpenAPI description clients use, valid and invalid,
and each goes through the Chalice test client. Whatever it sends, the API must answer without a
5xx, and every error must be a small {"code", "message"} JSON. Bounded (FUZZ_EXAMPLES per operation,
derandomized) so the suite stays fast; `make fuzz` runs the schemathesis CLI against local mode with
more examples and its own response checks.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

import app as _app  # noqa: E402,F401  (registers the routes, and with them their OpenAPI entries)
from chalicelib.api.openapi import build_spec  # noqa: E402

FUZZ_EXAMPLES = int(os.environ.get("BALAI_FUZZ_EXAMPLES", "6"))
SCHEMA = schemathesis.openapi.from_dict(build_spec())
FIGURES: Counter[str] = Counter()
TOKENS: dict[str, str] = {}


def _path(case: Any) -> str:
    path = case.path
    for name, value in (case.path_parameters or {}).items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    return path + ("?" + urlencode(query, doseq=True) if query else "")


def _serialize(value: Any, content_type: str) -> bytes | str:
    if isinstance(value, bytes):
        return value
    if "json" in content_type:
        return json.dumps(value, default=lambda v: v.decode("latin-1") if isinstance(v, bytes) else str(v))
    return str(value)


@pytest.fixture(scope="module", autouse=True)
def print_figures() -> Any:
    yield
    total = sum(FIGURES.values())
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(FIGURES.items()))
    operations = len(list(SCHEMA.get_all_operations()))
    print(f"\n[fuzz] {total} generated requests over {operations} operations ({FUZZ_EXAMPLES} examples each at "
          f"most); answers by status: {by_status}")


def _check_open311_error(response: Any) -> None:
    from xml.etree import ElementTree

    if response.headers.get("Content-Type", "").startswith("text/xml"):
        root = ElementTree.fromstring(response.body)
        assert root.tag == "errors" and root.findtext("error/code") == str(response.status_code)
    else:
        errors = json.loads(response.body)
        assert isinstance(errors, list) and errors and {"code", "description"} == set(errors[0]), errors
    assert len(response.body) < 10_000


@SCHEMA.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx_or_an_unshaped_error(case: Any, client: Any) -> None:
    # Given a request generated from the OpenAPI description, with a real or a forged bearer token;
    # OPTIONS is the gateway's CORS preflight, which chalice.test cannot represent (a None body)
    if case.method.upper() == "OPTIONS":
        return
    if "admin" not in TOKENS:
        from tests.conftest import staff_token

        TOKENS["admin"] = staff_token(client, "admin")
    headers = {k: str(v) for k, v in (case.headers or {}).items()}
    # Alternate a real admin token (to reach past the auth check) with a forged one.
    headers.setdefault("Authorization", "Bearer " + (TOKENS["admin"] if sum(FIGURES.values()) % 2 else "fuzz"))
    body = None
    if case.body is not None and type(case.body).__name__ != "NotSet":
        headers["Content-Type"] = case.media_type or "application/json"
        body = _serialize(case.body, headers["Content-Type"])
    # When it is sent
    response = client.http.request(case.method.upper(), _path(case), headers=headers, body=body)
    FIGURES[str(response.status_code)] += 1
    # Then it is never a server error
    assert response.status_code < 500, (case.method, _path(case), response.body[:300])
    # And every error is a small {code, message} JSON (on /open311/ the GeoReport spec's error array, JSON or XML)
    if response.status_code >= 400 and case.path.startswith("/open311/"):
        _check_open311_error(response)
    elif response.status_code >= 400:
        error = json.loads(response.body)
        assert {"code", "message"} <= set(error), error
        assert len(response.body) < 10_000

"""Local mode's web server: the front end's files, the generated config.json, nothing else."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from localmode.web import LocalWeb


@pytest.fixture(scope="module")
def web() -> Iterator[LocalWeb]:
    server = LocalWeb(0, "http://127.0.0.1:8123/", region="73.07").start()
    try:
        yield server
    finally:
        server.stop()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, "", b""


def test_config_names_the_local_api(web: LocalWeb) -> None:
    status, kind, body = fetch(f"{web.url}/config.json")
    assert status == 200 and kind == "application/json"
    assert json.loads(body) == {"apiBase": "http://127.0.0.1:8123", "region": "73.07"}


@pytest.mark.parametrize("path,kind", [("/", "text/html"), ("/staf/", "text/html"), ("/lacak/", "text/html"),
                                       ("/verifikasi/", "text/html"), ("/assets/citizen.js", "text/javascript"),
                                       ("/sw.js", "text/javascript"),
                                       ("/manifest.webmanifest", "application/manifest+json")])
def test_pages_and_modules_with_their_types(web: LocalWeb, path: str, kind: str) -> None:
    status, content_type, _ = fetch(f"{web.url}{path}")
    assert status == 200 and content_type.startswith(kind)


@pytest.mark.parametrize("path", ["/assets/", "/icons/", "/../localmode/web.py", "/%2e%2e/Makefile", "/nope.html"])
def test_no_listing_and_nothing_outside_web(web: LocalWeb, path: str) -> None:
    status, _, _ = fetch(f"{web.url}{path}")
    assert status == 404

"""Browser end-to-end fixtures: local mode started as `make run` does (API, DynamoDB, web front end on free
ports), and Debian's Chromium driven by Playwright for Python (never a browser download)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_local_mode import LocalBalai, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
NIK = "7307035708900002"  # a woman born 17-08-1990, registered in Sinjai Timur
PHONE = "081298765432"
VILLAGE = "73.07.03.1001"  # Kelurahan Samataring

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): `apt-get install -y chromium`; "
                ".ci/run installs it", allow_module_level=True)


class LocalSite(LocalBalai):
    """`python -m localmode.run` on free ports (API, DynamoDB, web front end), with its own data folder."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.web_port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.web = f"http://127.0.0.1:{self.web_port}"

    def start(self) -> LocalSite:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BALAI_", "AWS_"))}
        log = open(self.data_dir / "run.log", "wb")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localmode.run", "--port", str(self.port), "--db-port", str(free_port()),
             "--web-port", str(self.web_port), "--data-dir", str(self.data_dir)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                self.call("GET", "/v1/regions/73.07")
                urllib.request.urlopen(f"{self.web}/config.json", timeout=5).read()
                return self
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None:
                    raise RuntimeError((self.data_dir / "run.log").read_text()) from None
                time.sleep(0.5)
        raise TimeoutError("local mode did not start")

    def upload(self, token: str, village: str, letter_type: str, name: str) -> str:
        """The presigned upload flow over HTTP for one attachment (a small PNG); returns the upload id."""
        data = (Path(__file__).parent / "files" / "ktp.png").read_bytes()
        status, up = self.call("POST", f"/v1/villages/{village}/uploads", {
            "letter_type": letter_type, "attachment": name, "filename": f"{name}.png", "content_type": "image/png",
            "size": len(data)}, token)
        assert status == 201, up
        boundary = "balaitest"
        body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in up["fields"].items())
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}.png"\r\n'
                 "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(up["url"], data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert 200 <= response.status < 300
        return str(up["upload_id"])

    def last_code(self, after: int = 0) -> str:
        """The newest login code sent by SMS (local outbox file), waiting for it to arrive."""
        path = self.data_dir / "outbox" / "sms.jsonl"
        deadline = time.time() + 15
        while time.time() < deadline:
            lines = path.read_text().splitlines() if path.exists() else []
            codes = [m.group(1) for line in lines[after:]
                     if (m := re.search(r"Kode verifikasi Balai: (\d{6})", json.loads(line)["text"]))]
            if codes:
                return codes[-1]
            time.sleep(0.2)
        raise AssertionError("no login code in the SMS outbox")

    def sms_count(self) -> int:
        path = self.data_dir / "outbox" / "sms.jsonl"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def staff_token(self, username: str) -> str:
        status, login = self.call("POST", "/v1/auth/login", {"username": username, "password": "balai-demo"})
        assert status == 200, login
        return str(login["token"])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSite]:
    local = LocalSite(tmp_path_factory.mktemp("balai-web")).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def phone_ctx(browser: Any) -> Iterator[Any]:
    """A cheap Android phone: 360 px wide, touch, Indonesian locale."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="id-ID")
    context.set_default_timeout(15000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture()
def desk_ctx(browser: Any) -> Iterator[Any]:
    """An office laptop: 1280 px wide."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    context.set_default_timeout(15000)
    try:
        yield context
    finally:
        context.close()


def shoot(page: Any, name: str) -> Path:
    """Save a full-page screenshot at the page's current width, and at the other width too."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    height = page.viewport_size["height"]
    paths = []
    for w, hgt in ((width, height), (1280 if width < 1000 else 360, 800 if width < 1000 else 740)):
        page.set_viewport_size({"width": w, "height": hgt})
        page.wait_for_timeout(50)
        path = SCREENSHOTS / f"{name}-{w}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size({"width": width, "height": height})
    return paths[0]


def citizen_login(page: Any, site: LocalSite, nik: str = NIK, phone: str = PHONE, screenshots: bool = False) -> None:
    page.goto(f"{site.web}/")
    page.get_by_label("NIK (16 angka)").fill(nik)
    page.get_by_label("Nomor HP").fill(phone)
    if screenshots:
        shoot(page, "01-citizen-login")
    before = site.sms_count()
    page.get_by_role("button", name="Kirim kode lewat SMS").click()
    page.get_by_label("Kode verifikasi (6 angka dari SMS atau email)").fill(site.last_code(before))
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("link", name="Keluar").wait_for()


def staff_login(page: Any, site: LocalSite, username: str) -> None:
    page.goto(f"{site.web}/staf/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill("balai-demo")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("heading", name="Antrean permohonan").wait_for()

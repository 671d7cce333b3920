"""Local mode as `make run` starts it (journaled moto server + `chalice local`), driven over real
HTTP from submission to approval; then a restart keeps what was entered."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NIK = "7307035708900002"  # a woman born 17-08-1990, registered in Sinjai Timur
PHONE = "081298765432"
VILLAGE = "73.07.03.1001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalBalai:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.db_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalBalai:
        # As a user would: `BALAI_PORT=... BALAI_DB_PORT=... BALAI_DATA_DIR=... make run` (never 8000/8001).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BALAI_", "AWS_"))}
        # The web front end gets a free port too, so the tests run beside a developer's own `make run` (8080).
        env.update({"BALAI_PORT": str(self.port), "BALAI_DB_PORT": str(self.db_port),
                    "BALAI_WEB_PORT": str(free_port()), "BALAI_DATA_DIR": str(self.data_dir)})
        # Output to a file, not a pipe nobody drains (a full pipe would stall the server mid-test).
        self.log = self.data_dir.parent / f"{self.data_dir.name}-run.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "localmode.run"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                self.call("GET", "/v1/regions/73.07")
                return self
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None:
                    raise RuntimeError(self.log.read_text(errors="replace"))
                time.sleep(0.5)
        raise TimeoutError("local mode did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


    def upload(self, token: str, letter_type: str, attachment: str, data: bytes, content_type: str) -> str:
        """Presign an attachment, then POST the form as a browser does, to the URL the API names."""
        from urllib3 import encode_multipart_formdata

        status, form = self.call("POST", f"/v1/villages/{VILLAGE}/uploads", {
            "letter_type": letter_type, "attachment": attachment, "filename": f"{attachment}.jpg",
            "content_type": content_type, "size": len(data)}, token)
        assert status == 201, form
        assert form["url"].startswith(f"http://127.0.0.1:{self.port}/"), form["url"]  # follows BALAI_PORT
        body, ctype = encode_multipart_formdata([*form["fields"].items(), ("file", ("f", data, content_type))])
        request = urllib.request.Request(form["url"], data=body, method="POST", headers={"Content-Type": ctype})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 204
        return str(form["upload_id"])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("balai-local")


def test_submission_to_approval_over_http_then_restart(data_dir: Path) -> None:
    balai = LocalBalai(data_dir).start()
    try:
        status, _ = balai.call("POST", "/v1/auth/otp", {"nik": NIK, "phone": PHONE})
        assert status == 202
        sms = [json.loads(line) for line in (data_dir / "outbox" / "sms.jsonl").read_text().splitlines()]
        code = re.search(r"\b(\d{6})\b", sms[-1]["text"]).group(1)  # type: ignore[union-attr]
        status, login = balai.call("POST", "/v1/auth/otp/verify", {"nik": NIK, "phone": PHONE, "code": code})
        assert status == 200
        citizen = login["token"]
        # A browser gets the larger answers gzip-coded, as the function URL sends them in the cloud
        asked = urllib.request.Request(f"http://127.0.0.1:{balai.port}/v1/villages/{VILLAGE}/letter-types",
                                       headers={"Accept-Encoding": "gzip, deflate, br"})
        with urllib.request.urlopen(asked, timeout=30) as response:
            packed = response.read()
            assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
            assert int(response.headers["Content-Length"]) == len(packed)
        assert json.loads(gzip.decompress(packed))["items"]
        status, _ = balai.call("PUT", "/v1/me/profile", {
            "version": 1, "name": "Nurhaedah", "birth_place": "Sinjai", "birth_date": "1990-08-17", "sex": "P",
            "religion": "Islam", "marital_status": "Kawin", "occupation": "Wiraswasta",
            "address": "Jl. Persatuan Raya"}, citizen)
        assert status == 200
        # Attachments go straight to the (local) store, never through the API's JSON
        photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40  # every byte value, CR and LF too
        attachments = {name: balai.upload(citizen, "SKU", name, photo, "image/jpeg")
                       for name in ("ktp", "kk", "foto_usaha")}
        status, request = balai.call("POST", f"/v1/villages/{VILLAGE}/requests", {
            "letter_type": "SKU", "fields": {"nama_usaha": "Toko Berkah", "jenis_usaha": "Kelontong",
                                             "alamat_usaha": "Pasar Sentral Sinjai", "mulai_usaha": "2018-05-01",
                                             "keperluan": "Pengajuan KUR"}, "attachments": attachments}, citizen)
        assert status == 201, request
        assert [a["name"] for a in request["attachments"]] == ["ktp", "kk", "foto_usaha"]
        # The local stream poller hands the outbox rows to the same sender Lambda runs: the operators' e-mail
        # arrives in the local outbox file.
        deadline = time.time() + 30
        email_file = data_dir / "outbox" / "email.jsonl"
        while time.time() < deadline:
            sent = email_file.read_text() if email_file.exists() else ""
            if "operator-73-07-03-1001@" in sent and request["tracking_code"] in sent:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the operator's new-request e-mail was not sent")
        # The citizen's "received" message is in her portal inbox, not an SMS (the message policy: the tracking
        # code is on her screen already)
        while True:
            status, inbox = balai.call("GET", "/v1/me/inbox", token=citizen)
            if status != 200 or inbox["items"] or time.time() > deadline:
                break
            time.sleep(0.5)
        assert status == 200 and inbox["items"][0]["tracking_code"] == request["tracking_code"], inbox
        assert request["tracking_code"] not in (data_dir / "outbox" / "sms.jsonl").read_text()
        status, login = balai.call("POST", "/v1/auth/login", {"username": f"operator.{VILLAGE}",
                                                             "password": "balai-demo"})
        operator = login["token"]
        # The operator opens the KTP photo through its short-lived link: the same bytes come back
        status, link = balai.call("GET", f"/v1/requests/{request['id']}/attachments/ktp", None, operator)
        assert status == 200, link
        with urllib.request.urlopen(urllib.request.Request(link["url"], headers={"Accept": "*/*"}),
                                    timeout=30) as response:
            assert response.headers["Content-Type"] == "image/jpeg" and response.read() == photo
        for action in ("review", "approve"):
            status, request = balai.call("POST", f"/v1/requests/{request['id']}/transitions",
                                         {"action": action, "version": request["version"]}, operator)
            assert status == 200, request
        assert request["status"] == "approved"
        status, tracked = balai.call("GET", f"/v1/track/{request['tracking_code']}")
        assert status == 200 and tracked["status"] == "approved"
        # The kades issues: the decision answers 202 at once, local mode's issuing queue issues the letter
        status, login = balai.call("POST", "/v1/auth/login", {"username": f"kades.{VILLAGE}",
                                                             "password": "balai-demo"})
        status, decided = balai.call("POST", f"/v1/requests/{request['id']}/transitions",
                                     {"action": "issue", "version": request["version"]}, login["token"])
        assert status == 202 and decided["status"] == "issuing", decided
        started = time.time()
        while time.time() - started < 30:
            status, seen = balai.call("GET", f"/v1/requests/{request['id']}", None, citizen)
            assert status == 200, seen
            if seen["status"] == "issued":
                break
            time.sleep(0.2)
        # and the citizen sees it promptly (a second or two; generous here for a loaded test machine)
        assert seen["status"] == "issued" and seen["letter"]["number"], seen
        assert time.time() - started < 10
        request = seen
    finally:
        balai.stop()

    # What was entered survives a restart of local mode.
    balai = LocalBalai(data_dir).start()
    try:
        status, tracked = balai.call("GET", f"/v1/track/{request['tracking_code']}")
        assert status == 200 and tracked["status"] == "issued"
        status, _ = balai.call("POST", "/v1/auth/otp", {"nik": NIK, "phone": "081211112222"})
        assert status == 403  # the phone bound at the first login is remembered too
    finally:
        balai.stop()


def wait_until_issued(balai: LocalBalai, request_id: str, token: str, timeout: float = 30) -> dict[str, Any]:
    """Local mode's issuing queue issues a decided letter shortly after the 202."""
    started = time.time()
    while True:
        status, seen = balai.call("GET", f"/v1/requests/{request_id}", None, token)
        assert status == 200, seen
        if seen["status"] == "issued" or time.time() - started > timeout:
            assert seen["status"] == "issued", seen
            return seen
        time.sleep(0.2)


def sms_texts(data_dir: Path) -> str:
    path = data_dir / "outbox" / "sms.jsonl"
    return path.read_text() if path.exists() else ""


def staff_token(balai: LocalBalai, username: str) -> str:
    status, login = balai.call("POST", "/v1/auth/login", {"username": username, "password": "balai-demo"})
    assert status == 200, login
    return str(login["token"])


def qr_text(pdf: bytes, workdir: Path) -> str:
    """The QR code printed on a letter, decoded from a render of its page (poppler + zbar)."""
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("pdftoppm and zbarimg are needed to read the QR code")
    (workdir / "letter.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(workdir / "letter.pdf"),
                    str(workdir / "page")], check=True)
    out = subprocess.run(["zbarimg", "--raw", "-q", str(workdir / "page.png")], check=True, capture_output=True)
    return out.stdout.decode().strip()


def test_notifications_keep_flowing_after_a_409_and_links_follow_the_port(tmp_path: Path) -> None:
    data_dir = tmp_path / "balai"
    balai = LocalBalai(data_dir).start()
    try:
        # Given a citizen with a submitted request, on local mode started on ports other than 8000/8001
        status, _ = balai.call("POST", "/v1/auth/otp", {"nik": NIK, "phone": PHONE})
        code = re.findall(r"\b(\d{6})\b", sms_texts(data_dir))[-1]
        status, login = balai.call("POST", "/v1/auth/otp/verify", {"nik": NIK, "phone": PHONE, "code": code})
        citizen = login["token"]
        balai.call("PUT", "/v1/me/profile", {
            "version": 1, "name": "Nurhaedah", "birth_place": "Sinjai", "birth_date": "1990-08-17", "sex": "P",
            "religion": "Islam", "marital_status": "Kawin", "occupation": "Wiraswasta",
            "address": "Jl. Persatuan Raya"}, citizen)
        photo = (ROOT / "web" / "icons" / "icon-192.png").read_bytes()
        skd = {"letter_type": "SKD", "fields": {"lama_tinggal_tahun": 5, "keperluan": "Melamar pekerjaan"},
               "attachments": {name: balai.upload(citizen, "SKD", name, photo, "image/png")
                               for name in ("ktp", "kk", "pengantar_rt")}}
        status, first = balai.call("POST", f"/v1/villages/{VILLAGE}/requests", skd, citizen,
                                   {"Idempotency-Key": "form-1"})
        assert status == 201, first
        operator = staff_token(balai, f"operator.{VILLAGE}")
        status, first = balai.call("POST", f"/v1/requests/{first['id']}/transitions",
                                   {"action": "review", "version": first["version"]}, operator)
        assert status == 200, first
        # When a stale transition gets a 409 and a retried submission replays (both cancelled transactions)
        status, stale = balai.call("POST", f"/v1/requests/{first['id']}/transitions",
                                   {"action": "review", "version": first["version"] - 1}, operator)
        assert status == 409, stale
        status, replayed = balai.call("POST", f"/v1/villages/{VILLAGE}/requests", skd, citizen,
                                      {"Idempotency-Key": "form-1"})
        assert status == 200 and replayed["id"] == first["id"]
        # And the citizen submits again (with uploads of its own: an upload serves one request)
        skd["attachments"] = {name: balai.upload(citizen, "SKD", name, photo, "image/png")
                              for name in ("ktp", "kk", "pengantar_rt")}
        status, second = balai.call("POST", f"/v1/villages/{VILLAGE}/requests", skd, citizen)
        submitted_at = time.monotonic()
        assert status == 201, second
        # Then the second request's message reaches the citizen's inbox within a couple of seconds
        def inbox_codes() -> list[str]:
            return [m["tracking_code"] for m in balai.call("GET", "/v1/me/inbox", token=citizen)[1]["items"]]

        while second["tracking_code"] not in inbox_codes():
            assert time.monotonic() - submitted_at < 5, "the message of the request after the 409 was not sent"
            time.sleep(0.1)

        # When the first request is approved and issued
        status, first = balai.call("POST", f"/v1/requests/{first['id']}/transitions",
                                   {"action": "approve", "version": first["version"]}, operator)
        assert status == 200, first
        kades = staff_token(balai, f"kades.{VILLAGE}")
        status, first = balai.call("POST", f"/v1/requests/{first['id']}/transitions",
                                   {"action": "issue", "version": first["version"]}, kades)
        assert status == 202 and first["status"] == "issuing", first
        first = wait_until_issued(balai, first["id"], citizen)
        status, letter = balai.call("GET", f"/v1/requests/{first['id']}/letter", token=citizen)
        assert status == 200, letter
        # Then its download link and the verification URL in its QR code point at this API's port
        base = f"http://127.0.0.1:{balai.port}/"
        assert letter["url"].startswith(base + "v1/files/"), letter["url"]
        assert letter["verify_url"].startswith(base + "v1/letters/verify/"), letter["verify_url"]
        with urllib.request.urlopen(urllib.request.Request(letter["url"], headers={"Accept": "*/*"}),
                                    timeout=30) as response:
            pdf = response.read()
        assert qr_text(pdf, tmp_path) == letter["verify_url"]
        with urllib.request.urlopen(letter["verify_url"], timeout=30) as response:
            assert json.loads(response.read())["status"] == "valid"

        # And an operator command reaches this running local mode (no AWS credentials)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BALAI_", "AWS_"))}
        done = subprocess.run([sys.executable, "-m", "chalicelib.ops", "--local", "--data-dir", str(data_dir),
                               "import-regions", "35.09"], cwd=ROOT, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()
        status, jember = balai.call("GET", "/v1/regions/35.09")
        assert status == 200 and jember["name"] == "Kabupaten Jember"
    finally:
        balai.stop()

    # And everything local mode wrote (journal, snapshot, secrets, letters, outbox) is the owner's only
    modes = {str(p.relative_to(data_dir)): stat.S_IMODE(p.stat().st_mode) for p in [data_dir, *data_dir.rglob("*")]}
    assert any(name.endswith(".pdf") for name in modes) and "secrets.json" in modes
    assert "dynamodb-snapshot.jsonl" in modes and "dynamodb-journal.jsonl" in modes
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (data_dir / name).is_dir() else 0o600)}
    assert not loose, loose
    # And with local mode stopped, the operator command says so instead of failing on AWS credentials
    done = subprocess.run([sys.executable, "-m", "chalicelib.ops", "--local", "--data-dir", str(data_dir),
                           "import-regions", "35.09"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 2 and b"make run" in done.stderr

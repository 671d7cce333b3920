"""Local mode at a village's real volume, over HTTP, as `make run` starts it.

Starts local mode (`python -m localmode.run` with BALAI_PORT / BALAI_DB_PORT / BALAI_DATA_DIR), then for
N requests as a village works them: citizens submit one after another (timed), while in a second thread
the operator reviews and approves each, and for every `--issue-every`-th one the kades issues (a
numbered, signed PDF). Prints, per thousand requests, the submit p50/p99, the staff backlog and the
resident memory of both local-mode processes (the DynamoDB server + workers, and the API); samples that
memory every few seconds into rss.csv beside the data folder; then stops local mode (Ctrl-C's path),
starts it again on the same data and prints the time to the first answer.

    .venv/bin/python bench/local_volume.py --requests 10000
    .venv/bin/python bench/local_volume.py --requests 2000 --port 8410 --db-port 8411 --web-port 8412

Bars (issue 15): submit p50 <= 150 ms, p99 <= 1 s, no trend between the first and the last thousand,
RSS <= 600 MB, restart to first answer <= 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VILLAGE = "73.07.03.1001"  # Kelurahan Samataring, active in the demo data
SKD = {"letter_type": "SKD", "fields": {"lama_tinggal_tahun": 5, "keperluan": "Melamar pekerjaan"}}
# SKD's attachments: (name, file name, content type, bytes). Each citizen uploads them when logging in
# (every 20 minutes) and refers to those uploads in each request (each submit copies the files).
ATTACHMENTS = (("ktp", "ktp.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 placeholder"),
               ("kk", "kk.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 placeholder"),
               ("pengantar_rt", "rt.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"))
TOKEN_REFRESH_S = 20 * 60  # tokens live 30 minutes
STAFF_BACKLOG = 50


class Local:
    """One local-mode process tree and an HTTP client for it."""

    def __init__(self, data_dir: Path, port: int, db_port: int, web_port: int) -> None:
        self.data_dir, self.port, self.db_port, self.web_port = data_dir, port, db_port, web_port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"{data_dir.name}-local.log"

    def start(self) -> float:
        """Start local mode; seconds until it answered its first request."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BALAI_", "AWS_")) or k == "BALAI_TRACEMALLOC"}  # see localmode/run.py
        env.update({"BALAI_PORT": str(self.port), "BALAI_DB_PORT": str(self.db_port),
                    "BALAI_WEB_PORT": str(self.web_port),
                    "BALAI_DATA_DIR": str(self.data_dir), "POWERTOOLS_LOG_LEVEL": "WARNING"})
        began = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "localmode.run"], cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - began < 600:
            try:
                if self.call("GET", "/v1/regions/73.07")[0] == 200:
                    return time.monotonic() - began
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"local mode exited; see {self.log}")
            time.sleep(0.05)
        raise TimeoutError("local mode did not answer within 600 s")

    def stop(self) -> float:
        """SIGTERM (what Ctrl-C does) and wait; seconds it took."""
        assert self.proc is not None
        began = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        return time.monotonic() - began

    def rss_mb(self) -> float:
        """Resident memory of local mode's process tree (the DynamoDB server + poller process and the API)."""
        return sum(self.rss_each())

    def rss_each(self) -> tuple[float, float]:
        """(DynamoDB server + workers process, API process) resident memory in MB."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        api = [int(p) for p in children.read_text().split()] if children.exists() else []
        return _rss(self.proc.pid), sum(_rss(pid) for pid in api)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by local mode's two processes."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        pids = [self.proc.pid] + ([int(p) for p in children.read_text().split()] if children.exists() else [])
        total = 0.0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def upload(self, token: str, name: str, filename: str, content_type: str, content: bytes) -> str:
        """One attachment as the portal uploads it: a presigned form from the API, then the file posted with it."""
        status, form = self.call("POST", f"/v1/villages/{VILLAGE}/uploads", {
            "letter_type": "SKD", "attachment": name, "filename": filename, "content_type": content_type,
            "size": len(content)}, token)
        assert status == 201 or status == 200, form
        boundary = "balai-bench-boundary"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in form["fields"].items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + content + f"\r\n--{boundary}--\r\n".encode())
        request = urllib.request.Request(form["url"], data=b"".join(parts), method="POST")
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status in (200, 201, 204), response.status
        return str(form["upload_id"])

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


def _rss(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


class RssSampler(threading.Thread):
    """Samples both processes' RSS every `every` seconds into a CSV (seconds, requests, db MB, api MB)."""

    def __init__(self, local: Local, path: Path, every: float = 5.0) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.local, self.path, self.every = local, path, every
        self.submitted = 0
        self.peak = (0.0, 0.0, 0.0)  # total, db, api at the total's peak
        self.peak_each = [0.0, 0.0]
        self._halt = threading.Event()
        self._began = time.monotonic()

    def run(self) -> None:
        with self.path.open("w") as out:
            out.write("seconds,requests,db_mb,api_mb\n")
            while not self._halt.wait(self.every):
                db, api = self.local.rss_each()
                if db + api > self.peak[0]:
                    self.peak = (db + api, db, api)
                self.peak_each = [max(self.peak_each[0], db), max(self.peak_each[1], api)]
                out.write(f"{time.monotonic() - self._began:.0f},{self.submitted},{db:.0f},{api:.0f}\n")
                out.flush()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


class Staff(threading.Thread):
    """The operator and the kades working the queue in their own thread, as the citizens keep submitting."""

    def __init__(self, local: Local, actors: Actors, issue_every: int) -> None:
        super().__init__(name="staff", daemon=True)
        self.local, self.actors, self.issue_every = local, actors, issue_every
        # The village keeps up: when the staff are STAFF_BACKLOG requests behind, the next citizen waits.
        self.queue: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue(maxsize=STAFF_BACKLOG)
        self.worked = 0
        self.issued = 0
        self.last_issued: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while (job := self.queue.get()) is not None:
                n, request = job
                request = transition(self.local, request, "review", self.actors.tokens["operator"])
                request = transition(self.local, request, "approve", self.actors.tokens["operator"])
                if n % self.issue_every == 0:
                    transition(self.local, request, "issue", self.actors.tokens["kades"])  # 202: issuing
                    self.issued += 1
                    self.last_issued = request["id"]
                self.worked += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc

    def finish(self) -> None:
        self.queue.put(None)
        self.join()


class Actors:
    """A few citizens from the village's resident register and its operator and kades, tokens kept fresh."""

    def __init__(self, local: Local, citizens: int) -> None:
        self.local = local
        self.citizens = citizens
        self.niks: list[str] = []
        self.phones: list[str] = []
        self.tokens: dict[str, str] = {}
        self.uploads: dict[str, dict[str, str]] = {}
        self.fresh_at = 0.0

    def refresh(self) -> None:
        for role in ("operator", "kades"):
            status, login = self.local.call("POST", "/v1/auth/login", {"username": f"{role}.{VILLAGE}",
                                                                      "password": "balai-demo"})
            assert status == 200, login
            self.tokens[role] = login["token"]
        if not self.niks:
            self._pick_residents()
        for nik, phone in zip(self.niks, self.phones, strict=True):
            self.tokens[nik] = self._citizen(nik, phone)
            self.uploads[nik] = {name: self.local.upload(self.tokens[nik], name, filename, kind, content)
                                 for name, filename, kind, content in ATTACHMENTS}
        self.fresh_at = time.monotonic()

    def _pick_residents(self) -> None:
        """Adults of the register (their requests need no in-person identity check), with their phone if any."""
        status, page = self.local.call("GET", f"/v1/villages/{VILLAGE}/residents?limit=100",
                                       token=self.tokens["operator"])
        assert status == 200, page
        adults = [r for r in page["items"] if str(r.get("birth_date", "9999")) <= "2004-12-31"]
        for n, resident in enumerate(adults[:self.citizens]):
            self.niks.append(resident["nik"])
            phone = resident.get("phone") or f"+62812{77000000 + n}"
            self.phones.append("0" + phone[3:])
        assert len(self.niks) == self.citizens, f"only {len(self.niks)} adults in the register"

    def _citizen(self, nik: str, phone: str) -> str:
        status, answer = self.local.call("POST", "/v1/auth/otp", {"nik": nik, "phone": phone})
        assert status == 202, answer
        e164 = "+62" + phone[1:]
        sms = (self.local.data_dir / "outbox" / "sms.jsonl").read_text().splitlines()
        text = next(json.loads(line)["text"] for line in reversed(sms) if e164 in line and "Kode" in line)
        code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
        status, login = self.local.call("POST", "/v1/auth/otp/verify", {"nik": nik, "phone": phone, "code": code})
        assert status == 200, login
        return str(login["token"])


def transition(local: Local, request: dict[str, Any], action: str, token: str) -> dict[str, Any]:
    status, answer = local.call("POST", f"/v1/requests/{request['id']}/transitions",
                                {"action": action, "version": request["version"]}, token)
    assert status == (202 if action == "issue" else 200), (action, answer)
    return dict(answer)


def letter_state(local: Local, request_id: str, actors: Actors) -> str:
    """Wait (up to a minute) for the issuing queue to issue the letter; its number, or the status it is stuck at."""
    began = time.monotonic()
    while True:
        status, request = local.call("GET", f"/v1/requests/{request_id}", token=actors.tokens["operator"])
        if status == 200 and request["status"] == "issued":
            return f"issued as {request['letter']['number']} after {time.monotonic() - began:.1f} s more"
        if time.monotonic() - began > 60:
            return f"still {request.get('status')} after 60 s"
        time.sleep(0.5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--issue-every", type=int, default=10, help="issue a letter for every n-th request")
    parser.add_argument("--citizens", type=int, default=5)
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--db-port", type=int, default=8401)
    parser.add_argument("--web-port", type=int, default=8402)
    parser.add_argument("--data-dir", type=Path, help="default: a new temporary folder")
    parser.add_argument("--block", type=int, default=1000, help="print figures every this many requests")
    parser.add_argument("--minutes", type=float, help="stop submitting after this long (then restart as usual)")
    parser.add_argument("--keep", action="store_true", help="leave local mode running at the end")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="balai-volume-")) / "balai"
    data_dir.parent.mkdir(parents=True, exist_ok=True)  # the log and rss.csv go beside the data folder
    local = Local(data_dir, args.port, args.db_port, args.web_port)
    first_start = local.start()
    print(f"local mode up in {first_start:.1f} s (first run: table and demo data); data in {data_dir}", flush=True)
    actors = Actors(local, args.citizens)
    actors.refresh()
    # The machine's load (5-minute average) and local mode's own CPU per request (both processes, every
    # request's whole work: submit, review, approval, issuing, stream): latency follows the load around the
    # run, CPU per request does not, so a trend in the data shows in the CPU column whatever else runs.
    print(f"requests | submit p50 ms | p99 ms | max ms | s/{args.block} | staff backlog | RSS MB db+api | issued"
          " | load | cpu ms/req", flush=True)
    cpu_before = local.cpu_seconds()
    submits: list[float] = []
    errors: list[tuple[int, int, Any]] = []
    per_thousand: list[tuple[float, float]] = []
    staff = Staff(local, actors, args.issue_every)
    staff.start()
    sampler = RssSampler(local, data_dir.parent / "rss.csv")
    sampler.start()
    block_began = run_began = time.monotonic()
    try:
        for n in range(1, args.requests + 1):
            if args.minutes and time.monotonic() - run_began > args.minutes * 60:
                print(f"time budget of {args.minutes} minutes used after {n - 1} requests", flush=True)
                break
            if staff.error is not None:
                raise RuntimeError("staff thread failed") from staff.error
            if time.monotonic() - actors.fresh_at > TOKEN_REFRESH_S:
                actors.refresh()
            nik = actors.niks[n % len(actors.niks)]
            began = time.perf_counter()
            status, request = local.call("POST", f"/v1/villages/{VILLAGE}/requests",
                                         {**SKD, "attachments": actors.uploads[nik]}, actors.tokens[nik])
            submits.append((time.perf_counter() - began) * 1000)
            if status != 201:  # counted and shown (a citizen would retry), not the end of the run
                errors.append((n, status, request.get("code") if isinstance(request, dict) else request))
                print(f"request {n}: {status} {errors[-1][2]}", flush=True)
                continue
            while staff.error is None:  # wait (untimed) while the staff are STAFF_BACKLOG requests behind
                try:
                    staff.queue.put((n, request), timeout=1)
                    break
                except queue.Full:
                    continue
            sampler.submitted = n
            if n % args.block == 0 or n == args.requests:
                block = submits[-((n - 1) % args.block + 1):]
                db, api = local.rss_each()
                p50, p99 = statistics.median(block), percentile(block, 0.99)
                per_thousand.append((p50, p99))
                print(f"{n:>8} | {p50:>13.1f} | {p99:>6.1f} | {max(block):>6.0f} | "
                      f"{time.monotonic() - block_began:>6.1f} | {n - staff.worked:>13} | {db:>4.0f}+{api:<4.0f} | "
                      f"{staff.issued:>6} | {os.getloadavg()[1]:>4.1f} | "
                      f"{(local.cpu_seconds() - cpu_before) * 1000 / args.block:>10.0f}", flush=True)
                block_began, cpu_before = time.monotonic(), local.cpu_seconds()
    finally:
        print(f"waiting for the staff to work the last {len(submits) - staff.worked} requests", flush=True)
        if staff.error is None:
            staff.finish()
        sampler.stop()
        print(f"submits: {len(submits)} in {time.monotonic() - run_began:.0f} s; worked {staff.worked}, issued "
              f"{staff.issued}; overall p50 {statistics.median(submits):.1f} ms, "
              f"p99 {percentile(submits, 0.99):.1f} ms; {len(errors)} failed", flush=True)
        if staff.last_issued:
            print(f"last letter sent to issuing: {letter_state(local, staff.last_issued, actors)}", flush=True)
        total, db, api = sampler.peak
        print(f"peak RSS (sampled every 5 s): {total:.0f} MB = {db:.0f} MB DynamoDB server + workers + "
              f"{api:.0f} MB API; per process peaks {sampler.peak_each[0]:.0f} / {sampler.peak_each[1]:.0f} MB; "
              f"timeline in {sampler.path}", flush=True)
        if per_thousand:
            (f50, f99), (l50, l99) = per_thousand[0], per_thousand[-1]
            print(f"first vs last block of {args.block}: p50 {f50:.1f} -> {l50:.1f} ms, "
                  f"p99 {f99:.1f} -> {l99:.1f} ms", flush=True)
        stopped = local.stop()
        print(f"stopped in {stopped:.1f} s (writes the snapshot)", flush=True)
    sizes = {p.name: p.stat().st_size for p in data_dir.glob("dynamodb-*.jsonl")}
    print("data files: " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items())))
    restart = local.start()
    db, api = local.rss_each()
    print(f"restart to first answer: {restart:.1f} s; RSS after restart {db:.0f} + {api:.0f} MB", flush=True)
    print("  " + "".join(line for line in local.log.read_text().splitlines(keepends=True)[-40:]
                         if "restored" in line).strip(), flush=True)
    began = time.perf_counter()
    status, request = local.call("POST", f"/v1/villages/{VILLAGE}/requests",
                                 {**SKD, "attachments": actors.uploads[actors.niks[0]]}, actors.tokens[actors.niks[0]])
    print(f"first submit after restart: {status} in {(time.perf_counter() - began) * 1000:.0f} ms", flush=True)
    if not args.keep:
        local.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

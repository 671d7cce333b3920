"""What each Lambda memory size means for the API's heaviest paths: INIT, first-call imports, warm CPU.

Run by hand: `.venv/bin/python bench/memory_sizing.py [--rounds 3] [--residents 3000] [--json FILE]`.

Lambda gives a function memory/1769 of a vCPU while it handles an invocation, but an on-demand function's INIT
(here `import app`) runs on a full, unthrottled vCPU for up to 10 s whatever its memory (docs/operations.md 1.8
gives the sources). So what a size changes is the invoke phase: the imports a route defers to its first call
(its service; the first letter's fpdf2, segno, cryptography; openpyxl) and each request's own CPU. Everything
here is CPU time on one full core of this machine, measured in fresh processes, the rounds interleaved and the
fastest kept (the machine is shared: the fastest round is the one least disturbed); DynamoDB's time is measured
apart (moto in-process) and replaced by an assumed latency per call, which no memory size changes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VCPU_MB = 1769.0  # AWS Lambda docs, "Configure Lambda function memory": one vCPU at 1,769 MB
SIZES = (512, 768, 1024, 1769)
DYNAMODB_MS = 8.0  # one in-region call, as bench/lambda_sizing.py and bench/cost.py assume
# A 100-item TransactWriteItems (an import's chunk of 50 residents with their audit entries) is slower than a
# single-item call; assumed, as DynamoDB states no figure
TRANSACT_100_MS = 60.0
API_TIMEOUT_S = 15.0
API_GATEWAY_S = 29.0
ENV = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
       "POWERTOOLS_SERVICE_NAME": "balai", "BALAI_STAGE": "prod", "BALAI_TABLE": "balai-bench",
       "BALAI_SMS_CHANNEL": "sns", "BALAI_EMAIL_CHANNEL": "ses", "POWERTOOLS_TRACE_DISABLED": "false"}

# What a route imports on its first call in a container, after `import app` (chalicelib/api/*: each route imports
# its service when it runs). "letter" is the first PDF a container renders (a download after the stored PDF
# expired): the service, the renderer and the signer, and one render, whose first run loads fonts.
FIRST_CALL = {
    "request routes": "from chalicelib.services import requests",
    "citizen login": "from chalicelib.services import auth",
    # What a container serving citizens and staff soon needs: bench/cost.py prices this per API cold start.
    "citizen session (login, profile, requests, letters)": "from chalicelib.services import auth, profile, requests, "
                                                           "letters",
    "register import (xlsx)": "from chalicelib.services import residents; "
                              "from chalicelib.adapters import spreadsheets; import openpyxl",
    "open-data export": "from chalicelib.services import stats",
    "letter (first PDF)": "import sys; sys.path.insert(0, 'bench'); from chalicelib.services import letters, issuing; "
                          "from chalicelib.adapters.signing import generate_keyring, sign_letter; "
                          "from chalicelib.adapters.pdf import render_letter; "
                          "from render_sample import sample_document; "
                          "sign_letter(generate_keyring(), {'letter_id': 'x'}); render_letter(sample_document())",
    # The stream handler's first batch (app.py on_table_stream): its workers and the SNS/SES clients, which
    # observability.aws_client builds after the Tracer (X-Ray SDK).
    "stream handler's first batch": "from chalicelib.workers import outbox, retention; "
                                    "from chalicelib.observability import aws_client; "
                                    "aws_client('sns'); aws_client('ses')",
}
PROBE = ("import time; t0 = time.process_time(); {init}; t1 = time.process_time(); {first}; "
         "t2 = time.process_time(); print((t1 - t0) * 1000, (t2 - t1) * 1000)")


def cpu_ms_in_fresh_process(first_call: str) -> tuple[float, float]:
    """(INIT ms, first-call ms) of CPU time in a new interpreter, bytecode present as in a deployed package."""
    code = PROBE.format(init="import app", first=first_call)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    init, first = out.stdout.split()[-2:]
    return float(init), float(first)


def measure_cold(rounds: int) -> dict[str, Any]:
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in FIRST_CALL}
    cpu_ms_in_fresh_process("pass")  # writes bytecode for what follows
    for _ in range(rounds):
        for name, code in FIRST_CALL.items():  # interleaved: a noisy minute hits every route alike
            samples[name].append(cpu_ms_in_fresh_process(code))
    init = min(s[0] for v in samples.values() for s in v)
    return {"init_import_app_ms": round(init, 1),
            "first_call_imports_ms": {name: round(min(s[1] for s in v), 1) for name, v in samples.items()}}


# ------------------------------------------------------------------------------------------- warm paths


class Meter:
    """CPU time spent inside DynamoDB and S3 calls (moto, in this process), and how many calls of each operation.
    CPU time, not wall time: a shared machine's load delays a process without adding to its CPU time."""

    def __init__(self) -> None:
        self.in_aws_ms = 0.0
        self.calls: dict[str, int] = {}
        self._start = 0.0

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        meter = self

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            client.meta.events.register(f"before-call.{client.meta.service_model.endpoint_prefix}.*", meter.before)
            client.meta.events.register(f"after-call.{client.meta.service_model.endpoint_prefix}.*", meter.after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def before(self, model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1
        self._start = time.process_time()

    def after(self, **_: Any) -> None:
        self.in_aws_ms += (time.process_time() - self._start) * 1000


def own_ms(meter: Meter, fn: Any, rounds: int) -> tuple[float, dict[str, int], Any]:
    """Fastest of `rounds` runs of fn's time outside AWS calls, the calls of one run and its result."""
    best, calls, result = float("inf"), {}, None
    for _ in range(rounds):
        meter.in_aws_ms, meter.calls = 0.0, {}
        start = time.process_time()
        result = fn()
        total = (time.process_time() - start) * 1000
        if total - meter.in_aws_ms < best:
            best, calls = total - meter.in_aws_ms, dict(meter.calls)
    return best, calls, result


def measure_warm(rounds: int, residents: int) -> dict[str, Any]:
    """Own CPU (outside AWS calls) and the calls of the API's heaviest paths, warm, in this process on moto."""
    os.environ.update({"BALAI_STAGE": "test", "BALAI_TABLE": "balai-bench",
                       "BALAI_DATA_DIR": tempfile.mkdtemp(prefix="balai-sizing-"),
                       "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                       "POWERTOOLS_SERVICE_NAME": "balai", "POWERTOOLS_LOG_LEVEL": "WARNING",
                       "POWERTOOLS_TRACE_DISABLED": "true"})
    os.environ.pop("BALAI_DYNAMODB_ENDPOINT", None)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from moto import mock_aws

    mock_aws().start()
    from localmode import moto_patches

    moto_patches.apply()
    meter = Meter()
    meter.install()
    from register_sample import csv_file, workbook
    from render_sample import sample_document

    import app  # noqa: F401
    from chalicelib.adapters.pdf import render_letter
    from chalicelib.api.compression import compress_answer
    from chalicelib.domain.requests import Principal
    from chalicelib.ops.demo import seed_demo
    from chalicelib.services import residents as register
    from chalicelib.services import stats
    from chalicelib.storage.table import create_table

    create_table()
    seed_demo(with_residents=False)
    out: dict[str, Any] = {}
    xlsx, csv_data = workbook(residents), csv_file(residents)
    content_types = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}
    # Each first import into a village of its own in the same kecamatan (the NIKs name it), so each writes every
    # resident: two rounds of each format, interleaved, the faster kept.
    villages = iter(["73.07.03.2002", "73.07.03.2003", "73.07.03.2004", "73.07.03.2005"])
    firsts: dict[str, list[tuple[float, dict[str, int], Any]]] = {"csv": [], "xlsx": []}
    for _ in range(2):
        for fmt, data in (("csv", csv_data), ("xlsx", xlsx)):
            village = next(villages)
            operator = Principal(role="operator", region=village, subject=f"operator.{village}")
            firsts[fmt].append(own_ms(meter, lambda d=data, f=fmt, o=operator, v=village: register.import_file(
                o, v, d, content_types[f]), 1))
    for fmt, data in (("csv", csv_data), ("xlsx", xlsx)):
        operator = Principal(role="operator", region="73.07.03.2005", subject="operator.73.07.03.2005")
        # The dry run checks the whole file and reads the register, writing nothing
        dry, _, _ = own_ms(meter, lambda d=data, f=fmt, o=operator: register.import_file(
            o, "73.07.03.2005", d, content_types[f], dry_run=True), rounds)
        first, calls, report = min(firsts[fmt], key=lambda r: r[0])
        out[f"register import ({fmt}, {residents} residents, {len(data) // 1024} KB)"] = {
            "own_ms": round(first, 1), "dry_run_own_ms": round(dry, 1), "calls": calls,
            "created": report["created"]}
    render_letter(sample_document())
    ms, calls, _ = own_ms(meter, lambda: render_letter(sample_document()), rounds * 10)
    out["letter render (warm)"] = {"own_ms": round(ms, 1), "calls": calls}
    ms, calls, export = own_ms(meter, lambda: stats.export_rows("73.07", "2026-01", "2026-12"), rounds)
    ms_csv, _, body = own_ms(meter, lambda: stats.export_csv(export), rounds)
    ms_gz, _, _ = own_ms(meter, lambda: compress_answer(
        {"statusCode": 200, "headers": {"Content-Type": "text/csv"}, "body": body}, "gzip"), rounds)
    out[f"open-data export, kabupaten, 12 months ({len(export['rows'])} rows, {len(body) // 1024} KB CSV, gzip)"] = {
        "own_ms": round(ms + ms_csv + ms_gz, 1), "calls": calls}
    page = json.dumps({"items": [{"id": f"r{i:04d}", "tracking_code": "SNJ-ABCD-1234", "status": "submitted",
                                  "letter_type": "SKD", "applicant": {"name": "Warga Nomor A", "nik": "7307031234****"},
                                  "submitted_at": "2026-12-03T01:02:03Z", "due_at": "2026-12-05T01:02:03Z",
                                  "version": 3} for i in range(50)], "next_cursor": "x" * 80})
    ms, _, _ = own_ms(meter, lambda: compress_answer(
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": page}, "gzip"), rounds * 10)
    out[f"list page gzip ({len(page) // 1024} KB JSON, 50 items)"] = {"own_ms": round(ms, 2), "calls": {}}
    return out


def at_size(cpu_ms: float, wait_ms: float, memory_mb: float) -> float:
    """Invoke-phase time at memory_mb: CPU stretched to the function's share of a vCPU, waits as they are."""
    return cpu_ms * max(1.0, VCPU_MB / memory_mb) + wait_ms


def residents_within_timeout(timeout_ms: float, init_ms: float, first_call_ms: float, cpu_ms_per_resident: float,
                             wait_ms_per_resident: float, memory_mb: float) -> int:
    """How many residents one register import handles before the timeout, on a cold container: INIT on a full
    vCPU, the route's first-call imports and each resident's CPU at memory_mb, its DynamoDB waits as they are.
    INIT is counted against the timeout too: the operator waits for it, and it errs on the safe side."""
    left = timeout_ms - init_ms - at_size(first_call_ms, 0.0, memory_mb)
    return max(0, int(left / at_size(cpu_ms_per_resident, wait_ms_per_resident, memory_mb)))


def wait_of(calls: dict[str, int]) -> float:
    transact = calls.get("TransactWriteItems", 0)
    return transact * TRANSACT_100_MS + (sum(calls.values()) - transact) * DYNAMODB_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    cold = measure_cold(args.rounds)
    warm = measure_warm(args.rounds, args.residents)
    init = cold["init_import_app_ms"]
    print(f"CPU on one full core of this machine ({os.cpu_count()} CPUs, Python {sys.version.split()[0]}); "
          f"fastest of {args.rounds} interleaved rounds. INIT does not stretch; the invoke phase does, x1769/MB.")
    print(f"INIT (`import app`): {init:.0f} ms at every size\n")
    head = "".join(f"{m:>9} MB" for m in SIZES)
    print(f"{'cold: first call imports (invoke phase)':58}{'full core':>10}{head}")
    for name, ms in cold["first_call_imports_ms"].items():
        print(f"  {name:56}{ms:10.0f}" + "".join(f"{at_size(ms, 0, m):12.0f}" for m in SIZES))
    print(f"\n{'warm: own CPU + AWS waits (assumed per call)':58}{'own CPU':>10}{head}")
    for name, fig in warm.items():
        wait = wait_of(fig["calls"])
        print(f"  {name:56}{fig['own_ms']:10.1f}" + "".join(f"{at_size(fig['own_ms'], wait, m):12.0f}" for m in SIZES))
        print(f"    calls {fig['calls']} -> {wait:.0f} ms of waits")
    xlsx = warm[next(k for k in warm if k.startswith("register import (xlsx"))]
    first = cold["first_call_imports_ms"]["register import (xlsx)"]
    fits = {m: residents_within_timeout(API_TIMEOUT_S * 1000, init, first, xlsx["own_ms"] / args.residents,
                                        wait_of(xlsx["calls"]) / args.residents, m) for m in SIZES}
    print("\nresidents an XLSX import fits in the 15 s timeout, in a cold container (INIT and its imports first): "
          + ", ".join(f"{m} MB {n:,}" for m, n in fits.items()))
    print(f"\nlimits: function timeout {API_TIMEOUT_S:.0f} s, API Gateway {API_GATEWAY_S:.0f} s (REST only; the "
          "function URL waits for the timeout)")
    print("a citizen's cold first letter download = INIT + letter's first-call imports (incl. its first render) "
          "+ its DynamoDB reads and S3 put:")
    letter = cold["first_call_imports_ms"]["letter (first PDF)"]
    print("  " + ", ".join(f"{m} MB {(init + at_size(letter, 4 * DYNAMODB_MS + 30, m)) / 1000:.2f} s" for m in SIZES))
    if args.json:
        args.json.write_text(json.dumps({"cold": cold, "warm": warm}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Peak memory and durations per Lambda function role, written to bench/measurements.json for bench/cost.py.

Run by hand: `.venv/bin/python bench/lambda_sizing.py [--runs 10]`. Each figure comes from a fresh process:
- api: what the API function holds at its heaviest (app, schemas, JWT, boto3 S3 client, one letter rendered
  and signed) as peak RSS; bench/letter_render.py for the render time; init_ms is `import app` (INIT, on a full
  vCPU at any memory size) and first_call_imports_ms what a container serving citizens imports on its first calls
  (the login, profile, request and letter services: invoke phase, stretched by bench/cost.py; measured as CPU
  time by bench/memory_sizing.py, which also gives each heavy route's figures). Endpoint durations are Balai's own
  time per request from bench/api_latency.py ("app ms", outside DynamoDB: moto in-process is no guide to
  DynamoDB's latency) plus DYNAMODB_MS per DynamoDB call, an assumption stated in the output; moto's own figures
  are kept too.
- stream / schedule: what each handler imports at cold start (app, its worker module, boto3 SNS/SES clients,
  the Powertools Tracer with the X-Ray SDK), as peak RSS and wall time.
Memory sizes are read from .chalice/config.json (stages.prod.lambda_functions), so the cost model prices
what is deployed. Durations measured here run on a full core: Lambda gives a function memory/1769 of a vCPU,
so CPU-bound figures stretch by 1769/memory_mb on Lambda (bench/cost.py applies the figures as given).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "measurements.json"
ENV = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
       "POWERTOOLS_SERVICE_NAME": "balai", "BALAI_STAGE": "prod", "BALAI_TABLE": "balai-bench",
       "BALAI_SMS_CHANNEL": "sns", "BALAI_EMAIL_CHANNEL": "ses", "POWERTOOLS_TRACE_DISABLED": "false"}
# bench/memory_sizing.py's first calls that bench/cost.py prices per API cold start
SESSION = "citizen session (login, profile, requests, letters)"
DYNAMODB_MS = 8.0  # assumed latency of one DynamoDB call from Lambda in the same region (single-digit ms)
API_FOOTPRINT = ("import sys; sys.path.insert(0, 'bench'); import app; import chalicelib.api.schemas, jwt, boto3; "
                 "boto3.client('s3'); from render_sample import sample_document; "
                 "from chalicelib.adapters.pdf import render_letter; "
                 "from chalicelib.adapters.signing import generate_keyring, sign_letter; "
                 "sign_letter(generate_keyring(), {'letter_id': 'x'}); render_letter(sample_document())")
HANDLER_IMPORTS = {
    "stream": "import app; from chalicelib.workers import outbox; import boto3; "
              "boto3.client('sns'); boto3.client('ses'); from chalicelib.observability import tracer, metrics; "
              "tracer(); metrics()",
    "schedule": "import app; from chalicelib.workers import sla, digest, outbox; import boto3; "
                "boto3.client('sns'); boto3.client('ses'); from chalicelib.observability import tracer, metrics; "
                "tracer(); metrics()",
}


def run(args: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> tuple[str, float, float]:
    """(stdout, wall ms, peak RSS MB) of one fresh process, measured by /usr/bin/time."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB=%M", *args], cwd=ROOT, env=env or ENV,
                          capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1000
    match = re.search(r"PEAK_RSS_KB=(\d+)", done.stderr)
    if done.returncode not in ok or not match:
        raise RuntimeError(f"{args}: {done.stderr[-2000:]}")
    return done.stdout, wall, int(match.group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write", type=Path, default=OUT)
    args = parser.parse_args()
    functions_cfg = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["lambda_functions"]
    py = sys.executable

    # api_latency.py sets up its own local/test environment; the prod variables would send its OTPs to SNS.
    _, _, moto_rss = run([py, "bench/api_latency.py", "--runs", str(args.runs)], env=dict(os.environ))
    latency = json.loads((ROOT / "bench" / "results" / "api_latency.json").read_text())
    # letter_render exits 1 when it is over its own (stricter) time target; its figures are still valid.
    render_out, _, render_rss = run([py, "bench/letter_render.py", "-n", "50"], ok=(0, 1))
    api_rss = max(run([py, "-c", API_FOOTPRINT])[2] for _ in range(3))
    first_letter_ms = float(re.search(r"first letter incl. imports: (\d+)", render_out).group(1))  # type: ignore[union-attr]
    letter_ms = float(re.search(r"median ms/letter\s+: ([\d.]+)", render_out).group(1))  # type: ignore[union-attr]
    import_app = statistics.median(run([py, "-c", "import app"])[1] for _ in range(5))
    sys.path.insert(0, str(ROOT / "bench"))
    from memory_sizing import FIRST_CALL, cpu_ms_in_fresh_process

    session = min(cpu_ms_in_fresh_process(FIRST_CALL[SESSION])[1] for _ in range(5))
    first_pdf = min(cpu_ms_in_fresh_process(FIRST_CALL["letter (first PDF)"])[1] for _ in range(5))

    endpoints = {r["endpoint"]: round(r["median_ms_outside_dynamodb"] + DYNAMODB_MS * r["dynamodb_calls"], 1)
                 for r in latency}
    mean_api = statistics.mean(endpoints.values())
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; in-process moto, one full core",
        "functions": {
            "api": {"memory_mb": functions_cfg["api_handler"]["lambda_memory_size"], "mean_ms": round(mean_api, 1),
                    "init_ms": round(import_app, 0), "first_call_imports_ms": round(session, 0),
                    "peak_rss_mb": round(max(api_rss, render_rss), 1),
                    "import_app_ms": round(import_app, 0), "first_letter_with_imports_ms": first_letter_ms,
                    "letter_render_median_ms": letter_ms, "letter_render_peak_rss_mb": round(render_rss, 1),
                    "api_latency_peak_rss_mb_with_moto": round(moto_rss, 1)},
        },
        "endpoints": {
            "submit": {"mean_ms": endpoints.get("POST submit")},
            "transition": {"mean_ms": endpoints.get("POST transition (review)")},
            "queue": {"mean_ms": endpoints.get("GET queue (status filter)")},
            # Issuing = a transition plus rendering the PDF and storing it.
            "issue": {"mean_ms": round((endpoints.get("POST transition (review)") or 0) + letter_ms, 1)},
        },
        "basis": {"endpoint_mean_ms": f"median time outside DynamoDB (moto in-process) + {DYNAMODB_MS} ms per "
                                      "DynamoDB call (assumed); issue adds the median letter render",
                  "moto_medians_ms": {r["endpoint"]: r["median_ms"] for r in latency},
                  "durations": "on one full core of this machine; Lambda gives memory/1769 of a vCPU"},
    }
    for role, code in HANDLER_IMPORTS.items():
        samples = [run([py, "-c", code]) for _ in range(3)]
        name = "on_table_stream" if role == "stream" else "sla_escalation"
        result["functions"][role] = {
            "memory_mb": functions_cfg[name]["lambda_memory_size"],
            "init_ms": round(statistics.median(s[1] for s in samples), 0),
            "peak_rss_mb": round(max(s[2] for s in samples), 1),
        }
    # The issuing queue's function holds what the API holds at its heaviest (app, a letter rendered and signed);
    # its first batch imports the renderer and signer and renders a first letter in the invoke phase
    result["functions"]["issue_letters"] = {
        "memory_mb": functions_cfg["issue_letters"]["lambda_memory_size"], "init_ms": round(import_app, 0),
        "first_call_imports_ms": round(first_pdf, 0), "peak_rss_mb": round(max(api_rss, render_rss), 1)}
    # Figures measured by other scripts (bench/memory_sizing.py's "sizing", the portal's photos) are kept
    previous = json.loads(args.write.read_text()) if args.write.exists() else {}
    result.update({k: v for k, v in previous.items() if k not in result})
    args.write.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

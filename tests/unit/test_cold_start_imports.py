"""What a cold start imports. `import app` is the INIT of every Balai function (API, stream, queue, schedules),
billed since Aug 2025 and waited for by the citizen whose request lands on a cold container: it loads what every
request and event needs (Chalice, settings, Powertools' Logger, PynamoDB and the table's models) and the routes'
declarations, not the services behind ~100 routes nor the libraries only some of them use. A module-level import
that pulls one of these back onto the INIT path fails here instead of silently costing money (bench/cold_start.py
measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Loaded on first use: by the route that calls a service, the handler that runs a worker, the adapter that sends.
DEFERRED_PACKAGES = ("chalicelib.services", "chalicelib.adapters", "chalicelib.channels", "chalicelib.templates",
                     "chalicelib.ops")
# Route- or job-specific rules and repositories (the models and table themselves stay: every request reads them).
DEFERRED_MODULES = ("chalicelib.domain.complaints", "chalicelib.domain.open311", "chalicelib.domain.letters",
                    "chalicelib.domain.catalog", "chalicelib.domain.residents", "chalicelib.domain.stats",
                    "chalicelib.domain.sla", "chalicelib.storage.codec", "chalicelib.storage.unit_of_work",
                    "chalicelib.workers.outbox", "chalicelib.storage.stats", "chalicelib.workers.sla",
                    "chalicelib.workers.issuing", "chalicelib.api.schemas")
# Libraries a few routes or jobs need: PDF, QR, images, signatures, JWT, holidays, spreadsheets, Web Push, phones,
# AWS clients other than DynamoDB's, X-Ray.
DEFERRED_LIBRARIES = ("fpdf", "segno", "PIL", "cryptography", "jwt", "holidays", "openpyxl", "http_ece", "py_vapid",
                      "phonenumbers", "boto3", "aws_xray_sdk")
# The prod stage's settings (SNS, SES, tracing on): what a deployed cold start sees.
PROD_ENV = {"BALAI_STAGE": "prod", "BALAI_TABLE": "balai-prod", "BALAI_SMS_CHANNEL": "sns",
            "BALAI_EMAIL_CHANNEL": "ses", "POWERTOOLS_TRACE_DISABLED": "false", "POWERTOOLS_SERVICE_NAME": "balai",
            "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
            "BALAI_SECRETS_ARN": "arn:aws:ssm:ap-southeast-3:000000000000:parameter/balai/app-keys",
            "PATH": "/usr/bin:/bin"}


def modules_after(code: str, function_name: str | None = None) -> set[str]:
    """sys.modules of a fresh interpreter after running code, from the repository root (as Lambda imports app), in
    a container of the named function if given (Lambda sets AWS_LAMBDA_FUNCTION_NAME)."""
    env = {**PROD_ENV, **({"AWS_LAMBDA_FUNCTION_NAME": function_name} if function_name else {})}
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def deferred_in(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded
                  if m.startswith(tuple(p + "." for p in DEFERRED_PACKAGES)) or m in DEFERRED_MODULES
                  or m.split(".")[0] in DEFERRED_LIBRARIES)


def test_importing_the_app_loads_no_route_service_worker_or_heavy_library() -> None:
    loaded = modules_after("import app")
    assert deferred_in(loaded) == []
    # What every request needs is loaded at INIT, not moved to the first request.
    assert {"chalicelib.storage.models", "pynamodb.models", "chalicelib.config", "chalicelib.api.http"} <= loaded



def test_the_stream_functions_init_loads_its_handlers_code_and_provider_clients() -> None:
    # Lambda runs INIT on a full vCPU whatever the memory and the first batch at memory/1769 of one: the stream
    # function (256 MB, it may carry a login code) makes its imports and clients at INIT; the API's INIT does not
    code = ("import app\nfrom chalicelib.adapters import sms\n"
            "assert sms._build_sms_sender.cache_info().currsize == 1, sms._build_sms_sender.cache_info()")
    stream = modules_after(code, "balai-prod-on_table_stream")
    assert {"chalicelib.workers.outbox", "chalicelib.workers.retention", "chalicelib.templates.messages",
            "chalicelib.adapters.webpush", "boto3", "aws_xray_sdk"} <= stream
    assert deferred_in(modules_after("import app", "balai-prod-api_handler")) == []


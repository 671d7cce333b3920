"""In-process latency of submit, queue listing, a transition and the two logins (with their abuse
counters) through Chalice's test client on moto, with the number of DynamoDB calls each makes
(counted with a botocore event hook).

Run by hand: `.venv/bin/python bench/api_latency.py [--runs 30]`.
Targets: submit <= 2 DynamoDB calls (also with its three attachments: the uploads are read in the same
TransactGetItems), a transition <= 2, the queue 1 Query, a presigned upload a GetItem (the village)
and a PutItem, a preflight none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "BALAI_STAGE": "test", "BALAI_TABLE": "balai-bench", "BALAI_DATA_DIR": tempfile.mkdtemp(prefix="balai-bench-"),
    "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "POWERTOOLS_SERVICE_NAME": "balai", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true",
    # Every run calls from one address: lift the per-client OTP limit so the runs measure the work.
    "BALAI_OTP_PER_CLIENT_HOUR": "100000", "BALAI_OTP_PER_CLIENT_DAY": "100000",
    "POWERTOOLS_METRICS_DISABLED": "true",
})
os.environ.pop("BALAI_DYNAMODB_ENDPOINT", None)

from moto import mock_aws  # noqa: E402

mock_aws().start()

import botocore.session  # noqa: E402
from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402
from chalicelib.ops.demo import seed_demo  # noqa: E402
from chalicelib.storage.table import create_table  # noqa: E402
from tests import helpers as fx  # noqa: E402

CALLS: Counter[str] = Counter()
IN_DB = {"ms": 0.0, "start": 0.0}


def _before(model: Any, **_: Any) -> None:
    CALLS.update([model.name])
    IN_DB["start"] = time.perf_counter()


def _after(**_: Any) -> None:
    IN_DB["ms"] += (time.perf_counter() - IN_DB["start"]) * 1000


def count_dynamodb_calls() -> None:
    """Every botocore client PynamoDB makes emits `before-call.dynamodb.<Operation>` on its session."""
    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb.*", _before)
            client.meta.events.register("after-call.dynamodb.*", _after)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def measure(name: str, fn: Callable[[], Any], runs: int) -> dict[str, Any]:
    times, own, per_call = [], [], []
    for _ in range(runs):
        CALLS.clear()
        IN_DB["ms"] = 0.0
        start = time.perf_counter()
        fn()
        total = (time.perf_counter() - start) * 1000
        times.append(total)
        own.append(total - IN_DB["ms"])
        per_call.append(dict(CALLS))
    ops = per_call[-1]
    return {"endpoint": name, "median_ms": round(statistics.median(times), 2),
            "p90_ms": round(sorted(times)[int(len(times) * 0.9) - 1], 2),
            "median_ms_outside_dynamodb": round(statistics.median(own), 2), "dynamodb_calls": sum(ops.values()),
            "operations": ops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    count_dynamodb_calls()
    create_table()
    seed_demo()
    client = Client(app)
    citizen = fx.citizen_login(client)
    fx.complete_profile(client, citizen)
    operator = fx.staff_token(client, f"operator.{fx.SAMATARING}")
    created: list[dict[str, Any]] = []
    # The three files SKD needs, uploaded before the timed calls: an upload is used by one request only, so each
    # submission takes a set of its own.
    from chalicelib.domain import catalog

    def fresh_refs() -> dict[str, str]:
        return {a.name: fx.upload(client, citizen, a.name) for a in catalog.DEFAULT_CATALOG["SKD"].attachments
                if a.required}

    ref_sets = [fresh_refs() for _ in range(2 * args.runs + 4)]

    def submit() -> None:
        response = fx.submit(client, citizen, attachments=ref_sets.pop())
        assert response.status_code == 201, response.body
        created.append(response.json_body)

    def submit_with_key() -> None:
        response = fx.submit(client, citizen, headers={"Idempotency-Key": f"k-{len(created)}"},
                             attachments=ref_sets.pop())
        assert response.status_code == 201, response.body
        created.append(response.json_body)

    def queue() -> None:
        response = fx.get(client, f"/v1/villages/{fx.SAMATARING}/requests?status=submitted&limit=20", operator)
        assert response.status_code == 200

    def presign() -> None:
        response = fx.post(client, f"/v1/villages/{fx.SAMATARING}/uploads",
                           {"letter_type": "SKD", "attachment": "ktp", "filename": "ktp.jpg",
                            "content_type": "image/jpeg", "size": 123456}, citizen["token"])
        assert response.status_code == 201, response.body

    def attachment_link() -> None:
        response = fx.get(client, f"/v1/requests/{created[-1]['id']}/attachments/ktp", operator)
        assert response.status_code == 200, response.body

    def preflight() -> None:
        response = client.http.request("OPTIONS", f"/v1/villages/{fx.SAMATARING}/requests", headers={
            "Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "POST"})
        assert response.status_code == 204

    def transition() -> None:
        request = created.pop(0)
        response = fx.act(client, operator, request, "review")
        assert response.status_code == 200, response.body

    def staff_login() -> None:
        response = fx.post(client, "/v1/auth/login", {"username": f"kades.{fx.SAMATARING}", "password": fx.PASSWORD})
        assert response.status_code == 200, response.body

    def otp_request() -> None:
        response = fx.post(client, "/v1/auth/otp", {"nik": fx.random_nik(), "phone": fx.random_phone()})
        assert response.status_code == 202, response.body

    results = [measure("POST submit", submit, args.runs),
               measure("POST submit (Idempotency-Key)", submit_with_key, args.runs),
               measure("GET queue (status filter)", queue, args.runs),
               measure("POST transition (review)", transition, args.runs),
               measure("POST auth/login (throttle, audit)", staff_login, args.runs),
               measure("POST auth/otp (limits)", otp_request, args.runs),
               measure("POST upload (presign)", presign, args.runs),
               measure("GET attachment link", attachment_link, args.runs),
               measure("OPTIONS preflight (CORS)", preflight, args.runs)]
    print("moto answers in-process; 'app ms' is the time outside DynamoDB calls (our code + Chalice).")
    print(f"{'endpoint':32} {'median ms':>9} {'p90 ms':>8} {'app ms':>7} {'DynamoDB calls':>15}  operations")
    for r in results:
        print(f"{r['endpoint']:32} {r['median_ms']:9.2f} {r['p90_ms']:8.2f} {r['median_ms_outside_dynamodb']:7.2f} "
              f"{r['dynamodb_calls']:15d}  {json.dumps(r['operations'])}")
    out = ROOT / "bench" / "results" / "api_latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

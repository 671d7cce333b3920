"""Complaints: DynamoDB calls and in-process latency of filing (with and without photos and Idempotency-Key), each
transition, the public list per page, the queues and the SLA sweep, counted with a botocore call counter on moto.

Run by hand: `.venv/bin/python bench/complaints.py [--runs 20]`.
Targets (issue 12): filing and each transition <= 2 DynamoDB calls; the public list one Query per page.
A staff caller's session check (one GetItem, every staff request) is counted separately.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BALAI_COMPLAINT_DAILY_LIMIT"] = "100000"  # one bench citizen files every run's complaints

from bench.api_latency import CALLS, count_dynamodb_calls, measure  # noqa: E402  (sets up moto and the env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    count_dynamodb_calls()
    from chalice.test import Client

    from app import app
    from chalicelib.ops.demo import seed_demo
    from chalicelib.storage.table import create_table
    from tests import complaints_support as cs
    from tests import helpers as fx

    create_table()
    seed_demo(with_residents=False)
    client = Client(app)
    citizen = fx.citizen_login(client)
    fx.complete_profile(client, citizen)
    operator = fx.staff_token(client, f"operator.{fx.SAMATARING}")
    photos = [cs.photo(client, citizen) for _ in range(3)]
    created: list[dict[str, Any]] = []
    versions: dict[str, int] = {}

    keys = itertools.count()

    def file(key: str | None = None, **extra: Any) -> None:
        response = cs.file(client, citizen, key=key, **extra)
        assert response.status_code == 201, response.body
        created.append(response.json_body)
        versions[response.json_body["id"]] = 1

    def step(action: str, token: str, **extra: Any) -> Any:
        def run() -> None:
            complaint = next(c for c in created if versions[c["id"]] == step.level[action])  # type: ignore[attr-defined]
            response = cs.act(client, token, complaint, action, version=versions[complaint["id"]], **extra)
            assert response.status_code == 200, response.body
            versions[complaint["id"]] += 1
        return run

    step.level = {"acknowledge": 1, "start": 2, "resolve": 3, "rate": 4, "close": 5}  # type: ignore[attr-defined]
    session_check = {"GetItem": 1}

    def public_page() -> None:
        response = fx.get(client, f"/v1/villages/{fx.SAMATARING}/complaints/public?limit=20")
        assert response.status_code == 200 and response.json_body["items"]

    def queue() -> None:
        response = fx.get(client, f"/v1/villages/{fx.SAMATARING}/complaints?status=open&limit=20", operator)
        assert response.status_code == 200

    results = [
        measure("POST file", lambda: file(), args.runs),
        measure("POST file (3 photos, location)", lambda: file(photos=photos, lat=-5.12, lon=120.25), args.runs),
        measure("POST file (Idempotency-Key)", lambda: file(key=f"bench-{next(keys)}"), args.runs),
        measure("POST acknowledge (staff)", step("acknowledge", operator), args.runs),
        measure("POST start (staff)", step("start", operator), args.runs),
        measure("POST resolve (staff)", step("resolve", operator, note="Selesai."), args.runs),
        measure("POST rate (citizen)", step("rate", citizen["token"], rating=5), args.runs),
        measure("POST close (citizen)", step("close", citizen["token"]), args.runs),
        measure("GET public list page", public_page, args.runs),
        measure("GET village queue page", queue, args.runs),
    ]
    print("DynamoDB calls per request on moto (in-process); staff requests also pay the session check "
          f"{json.dumps(session_check)}.")
    print(f"{'operation':34} {'median ms':>9} {'DynamoDB calls':>15} {'without session':>16}  operations")
    for r in results:
        staff = "(staff)" in r["endpoint"] or "queue" in r["endpoint"]
        own = r["dynamodb_calls"] - (1 if staff else 0)
        print(f"{r['endpoint']:34} {r['median_ms']:9.2f} {r['dynamodb_calls']:15d} {own:16d}  "
              f"{json.dumps(r['operations'])}")
    # The public list: pages of 20 over 200 public complaints, one Query each.
    CALLS.clear()
    cursor, pages = None, 0
    while True:
        path = f"/v1/villages/{fx.SAMATARING}/complaints/public?limit=20" + (f"&cursor={cursor}" if cursor else "")
        body = fx.get(client, path).json_body
        pages += 1
        cursor = body["next"]
        if not cursor:
            break
    print(f"public list walked to the end: {pages} pages, DynamoDB calls {dict(CALLS)}")
    out = ROOT / "bench" / "results" / "complaints.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

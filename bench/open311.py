"""Open311 GeoReport v2 over a busy village: DynamoDB calls and latency of the request list (default 90-day window,
filters, ids), one request, the service list and a partner's POST, in-process through Chalice's test client on moto.

Run by hand: `.venv/bin/python bench/open311.py [--complaints 1500] [--runs 5]`.
Target: the list is one Query per DynamoDB page (1 MB) on the village's public index, plus the jurisdiction's four
GetItems (village, kecamatan, kabupaten, categories); ids are one BatchGetItem.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "BALAI_STAGE": "test", "BALAI_TABLE": "balai-bench", "BALAI_DATA_DIR": tempfile.mkdtemp(prefix="balai-bench-"),
    "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "POWERTOOLS_SERVICE_NAME": "balai", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
})
os.environ.pop("BALAI_DYNAMODB_ENDPOINT", None)

from moto import mock_aws  # noqa: E402

mock_aws().start()

import botocore.session  # noqa: E402
from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402
from chalicelib.domain.clock import iso  # noqa: E402
from chalicelib.domain.complaints import Complaint  # noqa: E402
from chalicelib.domain.ids import new_id  # noqa: E402
from chalicelib.ops.demo import seed_demo  # noqa: E402
from chalicelib.storage.complaints import to_item  # noqa: E402
from chalicelib.storage.table import create_table  # noqa: E402
from tests import helpers as fx  # noqa: E402

VILLAGE = fx.SAMATARING
CALLS: Counter[str] = Counter()
ITEMS = {"read": 0}


def count_calls() -> None:
    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb.*", lambda model, **_: CALLS.update([model.name]))
            client.meta.events.register("after-call.dynamodb.Query",
                                        lambda parsed, **_: ITEMS.__setitem__("read", ITEMS["read"]
                                                                              + parsed.get("ScannedCount", 0)))
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def seed(count: int) -> list[str]:
    """`count` complaints over the last 120 days: 80 % public, texts of 300-3 000 characters (a realistic mix)."""
    now = datetime.now(UTC)
    rng = random.Random(7)
    ids = []
    categories = [("jalan_jembatan", {"type": "opd", "code": "dpupr"}), ("pelayanan_desa",
                                                                          {"type": "village", "code": VILLAGE})]
    for i in range(count):
        created = now - timedelta(minutes=rng.randint(1, 120 * 24 * 60))
        category, unit = categories[i % 2]
        status = rng.choice(["open", "acknowledged", "in_progress", "resolved", "closed", "rejected"])
        complaint = Complaint(
            id=new_id(), village=VILLAGE, kecamatan="73.07.03", kabupaten="73.07", kind="complaint", category=category,
            category_name=category, title=f"Laporan warga nomor {i}", text="Jalan rusak. " * rng.randint(25, 250),
            public=rng.random() < 0.8, status=status, unit=unit, version=1, created_at=iso(created),
            updated_at=iso(created), due_at=iso(created + timedelta(days=3)), sla_hours=24, nik_hash=f"bench{i % 50}",
            village_name="Samataring", lat=-5.12, lon=120.25)
        to_item(complaint).save()
        ids.append(complaint.id)
    return ids


def measure(name: str, fn: Callable[[], Any], runs: int) -> dict[str, Any]:
    times: list[float] = []
    result: Any = None
    calls: Counter[str] = Counter()
    for _ in range(runs):
        CALLS.clear()
        ITEMS["read"] = 0
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
        calls = Counter(CALLS)
    answered: Any = result.status_code
    if result.status_code == 200:
        body = result.body.decode()
        answered = body.count("<request>") if body.startswith("<?xml") else len(json.loads(body))
    return {"operation": name, "median_ms": round(statistics.median(times), 1), "dynamodb_calls": sum(calls.values()),
            "operations": dict(calls), "items_read_by_queries": ITEMS["read"], "answered": answered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    count_calls()
    create_table()
    seed_demo(with_residents=False)
    ids = seed(args.complaints)
    client = Client(app)
    admin = fx.staff_token(client, "admin")
    key = fx.post(client, "/v1/kabupaten/73.07/open311-keys", {"partner": "Bench"}, admin).json_body["api_key"]

    def get(path: str, **params: str) -> Any:
        return client.http.get(f"/open311/v2/{path}?{urlencode({'jurisdiction_id': VILLAGE, **params})}")

    counter = iter(range(10**6))

    def post() -> Any:
        n = next(counter)
        form = {"api_key": key, "jurisdiction_id": VILLAGE, "service_code": "jalan_jembatan", "lat": "-5.12",
                "long": "120.25", "phone": f"0813{n:08d}", "description": "Jalan berlubang besar di depan pasar."}
        return client.http.post("/open311/v2/requests.json", body=urlencode(form),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})

    rows = [
        measure("GET requests.json (default 90 days, cap 1000)", lambda: get("requests.json"), args.runs),
        measure("GET requests.json status=closed", lambda: get("requests.json", status="closed"), args.runs),
        measure("GET requests.json service_code=jalan_jembatan, 30 days",
                lambda: get("requests.json", service_code="jalan_jembatan",
                            start_date=(datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")),
                args.runs),
        measure("GET requests.json service_request_id=20 ids", lambda: get("requests.json",
                                                                           service_request_id=",".join(ids[:20])),
                args.runs),
        measure("GET requests.xml (default)", lambda: get("requests.xml"), args.runs),
        measure("GET requests/{id}.json", lambda: get(f"requests/{ids[0]}.json"), args.runs),
        measure("GET services.json", lambda: get("services.json"), args.runs),
        measure("POST requests.json (partner)", post, args.runs),
    ]
    print(json.dumps({"complaints_in_village": args.complaints, "results": rows}, indent=1))


if __name__ == "__main__":
    main()

"""Transparency figures on moto: the read of a whole kabupaten over 12 months, and the write cost the
aggregates add to each request or complaint change (counted in the change's own transaction).

Run by hand: `.venv/bin/python bench/stats.py [--runs 30] [--lifecycles 600]`.
Targets: GET /v1/stats/regions/{kabupaten}?from..to (12 months) <= 3 DynamoDB calls and <= 50 ms median
in-process (CPU time outside the DynamoDB calls, so a machine shared with other work does not inflate it; moto
itself runs in-process and its time is printed apart); the write cost per transition in items and WCU.

Read: Sinjai (9 kecamatan, 80 desa/kelurahan) with every village active in every month of the year, each
item carrying every counter a busy village would (4 letter types x 6 states, 30 histogram buckets of each
duration, complaints, ratings): the largest partition a year of that kabupaten can make.
Write: a random workload of request and complaint lifecycles (tests/stats_workload.py), each change one
transaction of the item, its audit event and its counter ADDs; the counter items of every TransactWriteItems are
priced at 2 WCU per started KB (transactional writes), their sizes taken after the run (an upper bound: they
only grow).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

from localmode import moto_patches  # noqa: E402

moto_patches.apply()

import botocore.session  # noqa: E402
from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402
from chalicelib.domain.regions import level_of  # noqa: E402
from chalicelib.domain.stats import bucket  # noqa: E402
from chalicelib.ops.demo import seed_demo  # noqa: E402
from chalicelib.storage import regions as regions_repo  # noqa: E402
from chalicelib.storage import stats as repo  # noqa: E402
from chalicelib.storage.table import connection_client, create_table  # noqa: E402
from tests.stats_workload import Workload  # noqa: E402

KAB = "73.07"
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
CALLS: Counter[str] = Counter()
IN_DB = {"ms": 0.0, "start": 0.0}
WRITES: list[dict[str, Any]] = []


def _before(model: Any, **_: Any) -> None:
    CALLS.update([model.name])
    IN_DB["start"] = time.process_time()


def _after(**_: Any) -> None:
    IN_DB["ms"] += (time.process_time() - IN_DB["start"]) * 1000


def _transaction(params: dict[str, Any], **_: Any) -> None:
    WRITES.append(params)


def count_dynamodb_calls() -> None:
    """Every botocore DynamoDB client (PynamoDB's, the raw ones) reports its calls to the hooks above."""
    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb.*", _before)
            client.meta.events.register("after-call.dynamodb.*", _after)
            client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", _transaction)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def busy_counters(rng: random.Random) -> dict[str, int]:
    counters = {f"req|{t}|{s}": rng.randint(1, 40) for t in ("SKD", "SKU", "SKTM", "SKCK")
                for s in ("submitted", "in_review", "needs_revision", "approved", "issued", "rejected")}
    counters.update({f"hi|{bucket(60 * 1.1 ** i)}": rng.randint(1, 9) for i in range(30)})
    counters.update({f"hr|{bucket(120 * 1.1 ** i)}": rng.randint(1, 9) for i in range(30)})
    counters.update(issued=rng.randint(20, 160), in_sla=rng.randint(10, 20), revisions=rng.randint(0, 20),
                    rejections=rng.randint(0, 9), complaints_opened=rng.randint(0, 30),
                    complaints_resolved=rng.randint(0, 30), complaints_reopened=rng.randint(0, 5),
                    rating_sum=rng.randint(0, 120), rating_count=rng.randint(0, 30))
    return counters


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute name bytes plus value bytes (numbers ~ digits/2 + 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            size += math.ceil(len(value["N"].lstrip("-").replace(".", "")) / 2) + 1
        else:
            size += len(json.dumps(value))
    return size


def read_benchmark(runs: int) -> dict[str, Any]:
    rng = random.Random(1)
    regions = [KAB] + [k.code for k in regions_repo.children(KAB)]
    villages = [v.code for k in regions[1:] for v in regions_repo.children(k)]
    rows = [repo.StatsRow(code=c, month=m, level=level_of(c), counters=busy_counters(rng))
            for m in MONTHS for c in regions + villages]
    repo.replace_all(KAB, rows)
    client = Client(app)
    url = f"/v1/stats/regions/{KAB}?from={MONTHS[0]}&to={MONTHS[-1]}"
    times, own, calls = [], [], []
    for _ in range(runs):
        CALLS.clear()
        IN_DB["ms"] = 0.0
        start, cpu = time.perf_counter(), time.process_time()
        response = client.http.get(url)
        times.append((time.perf_counter() - start) * 1000)
        own.append((time.process_time() - cpu) * 1000 - IN_DB["ms"])
        assert response.status_code == 200, response.body
        calls.append(dict(CALLS))
    sizes = [item_size(i) for i in connection_client().query(
        TableName=os.environ["BALAI_TABLE"], KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": f"STATS#{KAB}"}})["Items"]]
    return {"read": f"GET {url}", "items_in_partition": len(rows), "villages": len(villages),
            "median_cpu_ms_in_process (outside DynamoDB calls)": round(statistics.median(own), 2),
            "median_ms_with_moto": round(statistics.median(times), 2),
            "dynamodb_calls": sum(calls[-1].values()), "operations": calls[-1],
            "answer_bytes": len(response.body), "largest_item_bytes": max(sizes)}


def write_benchmark(lifecycles: int) -> dict[str, Any]:
    villages = [v.code for k in regions_repo.children(KAB) for v in regions_repo.children(k.code)]
    load = Workload(villages, datetime(2027, 1, 1, tzinfo=UTC), months=12, seed=3)
    WRITES.clear()
    start = time.perf_counter()
    for i in range(lifecycles):
        load.request() if i % 4 else load.complaint()
    elapsed = time.perf_counter() - start
    client = connection_client()
    table = os.environ["BALAI_TABLE"]
    size_cache: dict[tuple[str, str], int] = {}

    def counter_size(op: dict[str, Any]) -> int:
        key = op["Update"]["Key"]
        ident = (key["PK"]["S"], key["SK"]["S"])
        if ident not in size_cache:
            size_cache[ident] = item_size(client.get_item(TableName=table, Key=key)["Item"])
        return size_cache[ident]

    items, wcu = [], []
    for params in WRITES:
        counters = [op for op in params["TransactItems"] if "Update" in op
                    and op["Update"]["Key"]["PK"]["S"].startswith("STATS#")]
        items.append(len(counters))
        wcu.append(sum(2 * math.ceil(counter_size(op) / 1024) for op in counters))
    return {"write": "counter ADDs in each change's own transaction (no marker, no stream invocation)",
            "record_changes": len(WRITES),
            "counter_items_per_change": {"mean": round(statistics.mean(items), 2), "max": max(items)},
            "counter_wcu_per_change": {"mean": round(statistics.mean(wcu), 2),
                                       "p90": sorted(wcu)[int(len(wcu) * 0.9) - 1], "max": max(wcu)},
            "workload_ms_per_change_on_moto": round(elapsed * 1000 / len(WRITES), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--lifecycles", type=int, default=600)
    args = parser.parse_args()
    count_dynamodb_calls()
    create_table()
    seed_demo(with_residents=False)
    print(json.dumps(read_benchmark(args.runs), indent=2))
    print(json.dumps(write_benchmark(args.lifecycles), indent=2))


if __name__ == "__main__":
    main()

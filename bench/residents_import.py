"""Resident register import: time and DynamoDB calls for a village's OpenSID export (XLSX), first run and re-run.

Run by hand: `.venv/bin/python bench/residents_import.py [--residents 2000]` (in-process, moto).
Targets: a 2 000-resident village imports well inside API Gateway's 29 s; a re-run writes nothing; submit stays at
2 DynamoDB calls with the register lookup.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "BALAI_STAGE": "test", "BALAI_TABLE": "balai-bench", "BALAI_DATA_DIR": tempfile.mkdtemp(prefix="balai-bench-"),
    "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "POWERTOOLS_SERVICE_NAME": "balai", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true",
})
os.environ.pop("BALAI_DYNAMODB_ENDPOINT", None)

from moto import mock_aws  # noqa: E402

mock_aws().start()

from localmode import moto_patches  # noqa: E402

moto_patches.apply()

import botocore.session  # noqa: E402
from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402
from chalicelib.ops.demo import seed_demo  # noqa: E402
from chalicelib.storage.table import create_table  # noqa: E402
from tests import helpers as fx  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from register_sample import workbook  # noqa: E402

CALLS: Counter[str] = Counter()
VILLAGE = "73.07.03.2005"


def count_calls() -> None:
    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        client.meta.events.register("before-call.dynamodb", lambda model, **_: CALLS.update([model.name]))
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=2000)
    args = parser.parse_args()
    count_calls()
    create_table()
    seed_demo(with_residents=False)
    data = workbook(args.residents)
    with Client(app) as client:
        token = fx.staff_token(client, f"operator.{VILLAGE}")
        headers = {**fx.auth_header(token),
                   "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        from chalicelib.adapters.spreadsheets import read_table
        from chalicelib.domain.residents import parse_row

        started = time.perf_counter()
        rows = [parse_row(n, cells) for n, cells in read_table(data, "xlsx").rows]
        print(f"reading and checking the file (Balai's own work): {(time.perf_counter() - started) * 1000:.0f} ms "
              f"for {len(rows)} rows")
        for label in ("first import", "re-run (same file)"):
            CALLS.clear()
            started = time.perf_counter()
            response = client.http.post(f"/v1/villages/{VILLAGE}/residents/import", headers=headers, body=data)
            elapsed = time.perf_counter() - started
            body = response.json_body
            print(f"{label}: HTTP {response.status_code}, {elapsed:.1f} s for {args.residents} residents "
                  f"({len(data) / 1024:.0f} KB xlsx): created {body.get('created')}, updated {body.get('updated')}, "
                  f"unchanged {body.get('unchanged')}; DynamoDB calls {dict(CALLS)}")
        citizen = fx.citizen_login(client)
        fx.register_resident(citizen, VILLAGE)
        CALLS.clear()
        response = fx.submit(client, citizen, VILLAGE)
        print(f"submit with the register lookup: HTTP {response.status_code}, DynamoDB calls {dict(CALLS)}")


if __name__ == "__main__":
    main()

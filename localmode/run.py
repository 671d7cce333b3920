"""`make run`: embedded DynamoDB (moto, journaled under .balai/), demo data, then `chalice local`.

Everything entered survives a restart: the server replays .balai/dynamodb-journal.jsonl on start.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localmode.issuing_queue import IssuingQueuePoller

ROOT = Path(__file__).resolve().parent.parent


def local_env(data_dir: Path, endpoint: str) -> dict[str, str]:
    """The environment the API process needs in local mode (no AWS account: dummy credentials)."""
    return {
        "BALAI_STAGE": "local",
        "BALAI_TABLE": "balai-local",
        "BALAI_DATA_DIR": str(data_dir),
        "BALAI_DYNAMODB_ENDPOINT": endpoint,
        "BALAI_SMS_CHANNEL": "local",
        "BALAI_EMAIL_CHANNEL": "local",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "POWERTOOLS_SERVICE_NAME": "balai",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Balai",
    }


def prepare(data_dir: Path, db_port: int) -> tuple[object, dict[str, str]]:
    """Start the journaled server, then create and seed the table on the first run."""
    from localmode.dynamodb_server import LocalDynamoDB

    db = LocalDynamoDB(port=db_port, journal=data_dir / "dynamodb-journal.jsonl").start()
    env = local_env(data_dir, db.endpoint)
    os.environ.update(env)
    from chalicelib.config import reset_caches

    reset_caches()
    from chalicelib.storage.models import TTLItem

    if not TTLItem.exists():
        from chalicelib.ops.demo import seed_demo
        from chalicelib.storage.table import create_table

        create_table()
        print(f"[balai] demo data: {seed_demo()}", flush=True)
    else:
        print(f"[balai] restored {db.replayed} writes from {data_dir / 'dynamodb-journal.jsonl'}", flush=True)
    return db, env


def _start_issuing(env: dict[str, str]) -> IssuingQueuePoller:
    """The issuing queue on the local server and its poller; the API process gets the queue's URL."""
    from chalicelib.config import reset_caches
    from localmode.issuing_queue import requeue_issuing, start_issuing_queue

    poller, queue_env = start_issuing_queue(env["BALAI_DYNAMODB_ENDPOINT"], env["AWS_REGION"], env["BALAI_TABLE"])
    env.update(queue_env)
    os.environ.update(queue_env)
    reset_caches()
    requeued = requeue_issuing()
    print(f"[balai] letters: issuing queue on{f', {requeued} waiting letters queued again' if requeued else ''}",
          flush=True)
    return poller


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BALAI_PORT", "8000")))
    parser.add_argument("--db-port", type=int, default=int(os.environ.get("BALAI_DB_PORT", "8001")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BALAI_DATA_DIR", ROOT / ".balai")))
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    db, env = prepare(data_dir, args.db_port)
    # Before the API starts, so the poller's LATEST iterators see every write the API makes.
    from localmode.streams import start_local_workers

    workers = start_local_workers(env["BALAI_DYNAMODB_ENDPOINT"], env["BALAI_TABLE"], env["AWS_REGION"])
    print(f"[balai] notifications: stream poller and schedules on; messages go to {data_dir / 'outbox'}",
          flush=True)
    issuing_poller = _start_issuing(env)
    chalice = Path(sys.executable).with_name("chalice")
    api = subprocess.Popen([str(chalice), "local", "--no-autoreload", "--stage", "local", "--host", "127.0.0.1",
                            "--port", str(args.port)], cwd=ROOT, env={**os.environ, **env})
    print(f"[balai] API on http://127.0.0.1:{args.port}  (DynamoDB on {db.endpoint})", flush=True)  # type: ignore[attr-defined]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping and api.poll() is None:
            time.sleep(0.2)
    finally:
        if api.poll() is None:
            api.terminate()
            try:
                api.wait(timeout=10)
            except subprocess.TimeoutExpired:
                api.kill()
        workers.stop()
        issuing_poller.stop()
        db.stop()  # type: ignore[attr-defined]
    return 0 if stopping else (api.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())

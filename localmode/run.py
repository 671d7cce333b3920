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

ROOT = Path(__file__).resolve().parent.parent


def local_env(data_dir: Path, endpoint: str, api_port: int = 8000, web_port: int = 8080) -> dict[str, str]:
    """The environment the API process needs in local mode (no AWS account: dummy credentials)."""
    return {
        # The QR codes and links point at this API and this front end, whatever ports they run on.
        "BALAI_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "BALAI_WEB_BASE_URL": f"http://127.0.0.1:{web_port}",
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


def prepare(data_dir: Path, db_port: int, api_port: int = 8000, web_port: int = 8080) -> tuple[object, dict[str, str]]:
    """Start the journaled server, then create and seed the table on the first run."""
    from localmode.dynamodb_server import LocalDynamoDB

    db = LocalDynamoDB(port=db_port, journal=data_dir / "dynamodb-journal.jsonl").start()
    env = local_env(data_dir, db.endpoint, api_port, web_port)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BALAI_PORT", "8000")))
    parser.add_argument("--db-port", type=int, default=int(os.environ.get("BALAI_DB_PORT", "8001")))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("BALAI_WEB_PORT", "8080")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BALAI_DATA_DIR", ROOT / ".balai")))
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    db, env = prepare(data_dir, args.db_port, args.port, args.web_port)
    # Before the API starts, so the poller's LATEST iterators see every write the API makes.
    from localmode.streams import start_local_workers

    workers = start_local_workers(env["BALAI_DYNAMODB_ENDPOINT"], env["BALAI_TABLE"], env["AWS_REGION"])
    print(f"[balai] notifications: stream poller and schedules on; messages go to {data_dir / 'outbox'}",
          flush=True)
    chalice = Path(sys.executable).with_name("chalice")
    api = subprocess.Popen([str(chalice), "local", "--no-autoreload", "--stage", "local", "--host", "127.0.0.1",
                            "--port", str(args.port)], cwd=ROOT, env={**os.environ, **env})
    print(f"[balai] API on http://127.0.0.1:{args.port}  (DynamoDB on {db.endpoint})", flush=True)  # type: ignore[attr-defined]
    from chalicelib.config import get_settings
    from localmode.web import LocalWeb

    web = LocalWeb(args.web_port, f"http://127.0.0.1:{args.port}", region=get_settings().kabupaten[0]).start()
    print(f"[balai] web front end on {web.url}/  (staff console {web.url}/staf/)", flush=True)
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
        web.stop()
        workers.stop()
        db.stop()  # type: ignore[attr-defined]
    return 0 if stopping else (api.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())

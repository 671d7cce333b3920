"""`make run`: embedded DynamoDB (moto, journaled under .balai/), demo data, then `chalice local`.

Everything entered survives a restart: the server loads .balai/dynamodb-snapshot.jsonl and replays
.balai/dynamodb-journal.jsonl on start. Everything under .balai/ is readable by its owner only.
While it runs, .balai/local-mode.json tells `python -m chalicelib.ops --local` where it is.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localmode.dynamodb_server import LocalDynamoDB
    from localmode.issuing_queue import IssuingQueuePoller

from chalicelib.ops.local import ENDPOINT_FILE

ROOT = Path(__file__).resolve().parent.parent
LOCAL_WHATSAPP_NUMBER = "6281100000000"


def local_env(data_dir: Path, endpoint: str, port: int = 8000, web_port: int = 8080) -> dict[str, str]:
    """The environment the API process needs in local mode (no AWS account: dummy credentials).

    Links and the QR codes' verification URLs point at this API's port unless BALAI_PUBLIC_BASE_URL
    is set (e.g. to a LAN address or a tunnel, so a phone can open them).
    """
    return {
        # The front end is on its own port; the API allows exactly its origin (CORS).
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
        "BALAI_PUBLIC_BASE_URL": os.environ.get("BALAI_PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}",
        # WhatsApp login is on in the demo (a made-up business number; no Meta: `python -m chalicelib.ops --local
        # whatsapp-message` plays the webhook, docs/local-mode.md). Off on every other stage until configured.
        "BALAI_WHATSAPP_NUMBERS": os.environ.get("BALAI_WHATSAPP_NUMBERS") or LOCAL_WHATSAPP_NUMBER,
    }


def write_endpoint_file(data_dir: Path, env: dict[str, str], api_port: int) -> Path:
    """Tell operator commands (`python -m chalicelib.ops --local ...`) how to reach this local mode."""
    from localmode.dynamodb_server import open_private

    path = data_dir / ENDPOINT_FILE
    with open_private(path, "w") as fh:
        json.dump({"pid": os.getpid(), "api": f"http://127.0.0.1:{api_port}", "env": env}, fh, indent=1)
    return path


def prepare(data_dir: Path, db_port: int, api_port: int = 8000, web_port: int = 8080
            ) -> tuple[LocalDynamoDB, dict[str, str]]:
    """Start the journaled server; its data is restored in the background (see seed_or_report)."""
    from localmode.dynamodb_server import LocalDynamoDB

    db = LocalDynamoDB(port=db_port, data_dir=data_dir).start(background=True)
    env = local_env(data_dir, db.endpoint, api_port, web_port)
    os.environ.update(env)
    from chalicelib.config import reset_caches

    reset_caches()
    return db, env


def seed_or_report(db: LocalDynamoDB, data_dir: Path, started: float) -> None:
    """Wait for the restore; on the first run create and seed the table."""
    db.wait_restored()
    from chalicelib.storage.models import TTLItem

    if not TTLItem.exists():
        from chalicelib.ops.demo import seed_demo
        from chalicelib.storage.table import create_table

        create_table()
        print(f"[balai] demo data: {seed_demo()}", flush=True)
    else:
        print(f"[balai] restored {db.restored_items} items and {db.replayed} journaled writes from {data_dir} "
              f"in {db.restore_seconds:.1f} s ({time.monotonic() - started:.1f} s since start)", flush=True)


def private_tree(data_dir: Path) -> None:
    """Create the data directory 0700; tighten what an earlier version left readable by others."""
    from localmode.dynamodb_server import private_dir

    private_dir(data_dir)
    for root, dirs, files in os.walk(data_dir):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600)


def _start_issuing(env: dict[str, str]) -> IssuingQueuePoller:
    """The issuing queue on the local server and its poller; the API process gets the queue's URL.
    (SQS answers while the DynamoDB data is still being restored.)"""
    from chalicelib.config import reset_caches
    from localmode.issuing_queue import start_issuing_queue

    poller, queue_env = start_issuing_queue(env["BALAI_DYNAMODB_ENDPOINT"], env["AWS_REGION"], env["BALAI_TABLE"])
    env.update(queue_env)
    os.environ.update(queue_env)
    reset_caches()
    return poller


def _requeue_issuing() -> None:
    from localmode.issuing_queue import requeue_issuing

    requeued = requeue_issuing()
    print(f"[balai] letters: issuing queue on{f', {requeued} waiting letters queued again' if requeued else ''}",
          flush=True)


def _start_api(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`chalice local`, through localmode.gateway so unknown routes answer a JSON 404."""
    return subprocess.Popen([sys.executable, "-m", "localmode.gateway", "local", "--no-autoreload", "--stage", "local",
                             "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env={**os.environ, **env})


def share_botocore_data(before_send: Callable[..., Any] | None = None) -> None:
    """One botocore data loader for every session in this process.

    PynamoDB gives each thread its own botocore session, and each session loads the service model and
    endpoint data anew (~5 MB): the stream poller, scheduler, issuing poller and outbox sender threads
    kept ~10 copies. The data is read-only once loaded, so the sessions share boto3's default one's.
    `before_send` is registered on every session (boto3's default one too): see localmode.in_process."""
    import boto3
    import botocore.session
    import pynamodb.connection.base

    default = boto3._get_default_session()._session
    loader = default.get_component("data_loader")
    new_session = botocore.session.get_session
    if before_send is not None:
        default.register("before-send", before_send)

    def get_session(env_vars: dict[str, object] | None = None) -> botocore.session.Session:
        session = new_session(env_vars)
        session.register_component("data_loader", loader)
        if before_send is not None:
            session.register("before-send", before_send)
        return session

    pynamodb.connection.base.get_session = get_session  # type: ignore[assignment]


def _memory_report(*_: object) -> None:
    import collections
    import gc
    import tracemalloc

    gc.collect()
    counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
    print("[balai] live objects: " + ", ".join(f"{name} {n}" for name, n in counts.most_common(15)), flush=True)
    if tracemalloc.is_tracing():
        global _last_trace
        snapshot = tracemalloc.take_snapshot()
        if _last_trace is None:
            for stat in snapshot.statistics("lineno")[:15]:
                print(f"[balai]   {stat}", flush=True)
        else:  # what grew since the last report: a leak shows here
            print("[balai] grown since the last report:", flush=True)
            for diff in snapshot.compare_to(_last_trace, "lineno")[:15]:
                print(f"[balai]   {diff}", flush=True)
        _last_trace = snapshot


_last_trace: Any = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BALAI_PORT", "8000")))
    parser.add_argument("--db-port", type=int, default=int(os.environ.get("BALAI_DB_PORT", "8001")))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("BALAI_WEB_PORT", "8080")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BALAI_DATA_DIR", ROOT / ".balai")))
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    # The journal, snapshot, secrets, letters and outbox hold NIKs, phone numbers and keys: whatever
    # local mode (and the API it starts) creates is readable by the owner only.
    os.umask(0o077)
    private_tree(data_dir)
    # `kill -USR1 <pid>` prints every thread's stack to the log: what a stuck local mode is doing;
    # `kill -USR2 <pid>` the live objects by type (and, with BALAI_TRACEMALLOC=1, the top allocations, then
    # on each later signal what grew since the one before).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    signal.signal(signal.SIGUSR2, _memory_report)
    if os.environ.get("BALAI_TRACEMALLOC"):  # trace this process's allocations from here on (not the imports)
        import tracemalloc

        tracemalloc.start()
    from localmode.in_process import ROUTE

    share_botocore_data(before_send=ROUTE)
    started = time.monotonic()
    db, env = prepare(data_dir, args.db_port, args.port, args.web_port)
    ROUTE.attach(db.app, db.endpoint)  # this process's own calls (workers, seeding) skip the socket
    from localmode.moto_patches import watch_slow_calls

    watch_slow_calls(sys.stderr)  # a stall of the DynamoDB server leaves its threads' stacks in the log
    issuing_poller = _start_issuing(env)
    # On a restart the API process starts while the data is restored (both take seconds): its DynamoDB
    # calls wait for the restore. On the first run it starts once the table exists.
    api = _start_api(args.port, env) if db.has_snapshot else None
    workers = None
    try:
        seed_or_report(db, data_dir, started)
        # The poller starts where the restore left the stream, so it sees every write the API makes.
        from localmode.streams import start_local_workers

        workers = start_local_workers(env["BALAI_DYNAMODB_ENDPOINT"], env["BALAI_TABLE"], env["AWS_REGION"],
                                      after=db.stream_positions.get(env["BALAI_TABLE"]))
        print(f"[balai] notifications: stream poller and schedules on; messages go to {data_dir / 'outbox'}",
              flush=True)
        _requeue_issuing()
        from chalicelib.services.regions import served_kabupaten
        from localmode.web import LocalWeb

        # The portal opens on the first kabupaten this table serves (the demo's Sinjai, or what was imported).
        kabupaten = served_kabupaten()
        web = LocalWeb(args.web_port, f"http://127.0.0.1:{args.port}",
                       region=kabupaten[0] if kabupaten else None).start()
    except BaseException:
        if api is not None:  # e.g. the web port is in use: leave no orphaned `chalice local`
            api.terminate()
            api.wait(timeout=10)
        if workers is not None:
            workers.stop()
        issuing_poller.stop()
        ROUTE.detach()
        db.stop(compact=False)
        raise
    print(f"[balai] web front end on {web.url}/  (staff console {web.url}/staf/)", flush=True)
    if api is None:
        api = _start_api(args.port, env)
    endpoint_file = write_endpoint_file(data_dir, env, args.port)
    print(f"[balai] API on http://127.0.0.1:{args.port}  (DynamoDB on {db.endpoint})", flush=True)
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
        endpoint_file.unlink(missing_ok=True)
        issuing_poller.stop()
        ROUTE.detach()
        db.stop()
    return 0 if stopping else (api.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())

"""Issue letters against a local moto server (DynamoDB + SQS): (a) N concurrent issues on one village through the
issuing queue, (b) the per-letter time split. Everything is timed from outside the production code."""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VILLAGE = "73.07.03.1001"  # Samataring, active in the demo data


def _serialize_moto() -> None:
    """moto applies TransactWriteItems without a lock (and rolls back by restoring a copy of the table), and
    its reads iterate dicts that a concurrent write may resize. DynamoDB isolates transactions; moto's server
    does not, so one lock around every moto call stands in for that (the server runs in this process).
    Conditions are still moto's: a lost race is still a cancelled transaction and a retry."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action
    lock = threading.RLock()

    def locked(self: Any) -> Any:
        if not type(self).__module__.startswith("moto.dynamodb"):
            return original(self)  # SQS long polls must not hold DynamoDB's stand-in lock
        with lock:
            return original(self)

    BaseResponse.call_action = locked  # type: ignore[method-assign]


def _setup() -> Any:
    from localmode.dynamodb_server import LocalDynamoDB

    server = LocalDynamoDB(port=0).start()
    data_dir = Path(tempfile.mkdtemp(prefix="balai-bench-"))
    # Before chalicelib is imported: PynamoDB's Meta reads the endpoint at import.
    os.environ.update({
        "BALAI_STAGE": "local", "BALAI_TABLE": "balai-bench", "BALAI_DYNAMODB_ENDPOINT": server.endpoint,
        "BALAI_DATA_DIR": str(data_dir), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_REGION": "ap-southeast-3",
        "POWERTOOLS_SERVICE_NAME": "balai", "POWERTOOLS_LOG_LEVEL": "WARNING",
    })
    _serialize_moto()
    from localmode.issuing_queue import create_queues, sqs_client

    queue_url, _ = create_queues(sqs_client(server.endpoint, "ap-southeast-3"), "balai-bench")
    os.environ.update({"BALAI_ISSUE_QUEUE_URL": queue_url, "BALAI_SQS_ENDPOINT": server.endpoint})
    from chalicelib.storage import table

    # moto's transaction rollback deep-copies the table, stream records included: without a stream (no
    # consumer here) a transaction costs moto ~50 ms instead of growing past botocore's 5 s read timeout.
    del table._Meta.stream_view_type
    table._Meta.read_timeout_seconds = 30
    create_table = table.create_table

    create_table()
    # Only the village, its parents and its staff: moto copies the whole table on every transaction, so
    # the 260 demo items would be most of what the bench measures.
    from chalicelib.auth import hash_password
    from chalicelib.domain.clock import iso, utcnow
    from chalicelib.ops.region_data import kabupaten_regions
    from chalicelib.storage import people, regions

    wanted = {VILLAGE, VILLAGE.rsplit(".", 1)[0], VILLAGE.rsplit(".", 2)[0]}
    items = [r for r in kabupaten_regions("73.07") if r.code in wanted]
    for r in items:
        r.active = True
    regions.put_many(items, overwrite=True)
    pw = hash_password("bench")
    for role, title in (("operator", "Operator Samataring"), ("kades", "Lurah Samataring")):
        people.create_staff(people.Staff(f"{role}.{VILLAGE}", pw, role, VILLAGE, title, position=title), iso(utcnow()))
    return server


def _approved(n: int) -> list[Any]:
    """n approved SKD requests of one citizen in VILLAGE, made through the services."""
    from chalicelib.config import get_secrets
    from chalicelib.domain.clock import iso, utcnow
    from chalicelib.domain.nik import nik_hash
    from chalicelib.storage import people

    nik = "7307032508770001"
    h = nik_hash(nik, get_secrets().nik_hash_key)
    people.bind_citizen(h, nik, "+6281200000001", iso(utcnow()))
    profile = {"name": "Andi Baso Tenri", "birth_place": "Sinjai", "birth_date": "1977-08-25", "sex": "L",
               "religion": "Islam", "marital_status": "Kawin", "occupation": "Petani",
               "address": "Jl. Persatuan Raya No. 5", "rt": "001", "rw": "002"}
    citizen = people.get_citizen(h)
    assert citizen is not None
    people.save_profile(h, profile, citizen.version, iso(utcnow()))
    from chalicelib.domain.ids import new_id, new_tracking_code
    from chalicelib.domain.operations import CreateRequest
    from chalicelib.domain.requests import HistoryEntry, ServiceRequest
    from chalicelib.services.profile import applicant_snapshot
    from chalicelib.storage import regions
    from chalicelib.storage.unit_of_work import DynamoUnitOfWork

    village = regions.get(VILLAGE)
    citizen = people.get_citizen(h)
    assert village is not None and citizen is not None
    out = []
    for _ in range(n):
        # Written straight in the approved state (request, one event, tracking code): the same item the
        # review/approve transitions would leave, with a third of the items for moto to copy per transaction.
        at = iso(utcnow())
        r = ServiceRequest(id=new_id(), village=VILLAGE, kecamatan="73.07.03", kabupaten="73.07", letter_type="SKD",
                           letter_name="Surat Keterangan Domisili", status="approved", version=3,
                           tracking_code=new_tracking_code(), nik_hash=h,
                           fields={"lama_tinggal_tahun": 5, "keperluan": "Melamar pekerjaan"},
                           applicant=applicant_snapshot(citizen, village), sla_hours=8, created_at=at, updated_at=at,
                           due_at=at, history=[HistoryEntry(at, "Operator", "operator", "approve", "in_review",
                                                            "approved", None, 3)])
        uow = DynamoUnitOfWork()
        uow.add(CreateRequest(r))
        uow.commit()
        out.append(r)
    return out


def _decide(request: Any) -> Any:
    from chalicelib.domain.requests import Principal
    from chalicelib.services import requests as svc

    kades = Principal("kades", VILLAGE, f"kades.{VILLAGE}", "Andi Muhammad Yusuf")
    return svc.transition(kades, request.id, "issue", request.version, None)


def _poller() -> Any:
    """The queue consumer local mode runs (localmode/issuing_queue.py), feeding the issue_letters logic."""
    import boto3

    from chalicelib.config import get_settings
    from chalicelib.workers import issuing
    from localmode.issuing_queue import IssuingQueuePoller

    settings = get_settings()
    sqs = boto3.client("sqs", endpoint_url=settings.sqs_endpoint, region_name=settings.aws_region)
    return IssuingQueuePoller(sqs, str(settings.issue_queue_url), lambda event: issuing.handle_sqs_event(event))


def _wait_s(request_id: str) -> float:
    """Seconds from the signer's decision to the letter's commit, from the request's audit trail."""
    from datetime import datetime

    from chalicelib.storage import requests as repo

    r = repo.get(request_id)
    assert r is not None
    at = {h.action: datetime.fromisoformat(h.at) for h in r.history}
    return (at["issued"] - at["issue"]).total_seconds()


def concurrent(n: int) -> None:
    from chalicelib.storage import letters
    from chalicelib.storage import requests as repo

    requests = _approved(n)
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    latencies: list[float] = [0.0] * n

    def run(i: int) -> None:
        barrier.wait()  # all click "issue" together: the case that gave 409 number_conflict before the queue
        start = time.perf_counter()
        try:
            results[i] = _decide(requests[i])
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc
        latencies[i] = time.perf_counter() - start

    poller = _poller().start()  # consumes while the decisions arrive, as in the cloud
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decided = time.perf_counter() - started
    pending = {r.id for r in requests}
    while pending and time.perf_counter() - started < 600:
        pending = {i for i in pending if (got := repo.get(i)) is None or got.status != "issued"}
        time.sleep(0.05)
    all_issued = time.perf_counter() - started
    poller.stop()
    errors = [r for r in results if isinstance(r, Exception)]
    issued = [repo.get(r.id) for r in requests]
    seqs = sorted(letters.get(r.letter["id"], consistent=True).seq for r in issued if r and r.letter)
    waits = [_wait_s(r.id) for r in requests if r.id not in pending]
    print(f"(a) {n} simultaneous issues on {VILLAGE}, through the issuing queue (FIFO group = village)")
    print(f"    decisions        {n - len(errors)} x 202 issuing  (errors: {[getattr(e, 'code', repr(e)) for e in errors]})")
    print(f"    decision answer  median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
          f"(all {n} answered after {decided:.2f} s)")
    print(f"    issued           {len(seqs)} / {n}, distinct numbers {len(set(seqs))}, consecutive "
          f"{'yes' if seqs == list(range(seqs[0], seqs[0] + len(seqs))) else 'no'} ({seqs[0]}..{seqs[-1]})")
    print(f"    all issued after {all_issued:.2f} s (PDFs rendered and stored); per letter "
          f"{all_issued / n * 1000:.0f} ms")
    print(f"    decision->issued median {statistics.median(waits):.2f} s, max {max(waits):.2f} s "
          f"(batch failures retried: {poller.failures})")


class _Timer:
    """Wraps a function to record how long each call took (measured from outside the production code)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.original = owner, name, getattr(owner, name)
        self.last_ms = 0.0
        setattr(owner, name, self)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # Set on a class (a method): bind like a function would.
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.last_ms = (time.perf_counter() - start) * 1000


def latency(n: int) -> None:
    """Sequential letters, each decided and then completed by the worker step, split into its parts."""
    from chalicelib.services import issuing, wiring
    from chalicelib.storage import letters
    from chalicelib.storage.unit_of_work import DynamoUnitOfWork

    store = wiring.file_store()
    timers = {"render_ms": _Timer(issuing, "render"), "store_ms": _Timer(store, "put"),
              "commit_ms": _Timer(DynamoUnitOfWork, "commit"), "counter_read_ms": _Timer(letters, "last_number")}
    requests = _approved(n)
    rows = []
    cold = None
    for r in requests:
        start = time.perf_counter()
        _decide(r)
        decided = time.perf_counter()
        issuing.complete(r.id)
        done = time.perf_counter()
        row = {k: t.last_ms for k, t in timers.items()}
        row.update(decision_ms=(decided - start) * 1000, worker_ms=(done - decided) * 1000)
        if cold is None:
            cold = row  # pays fpdf2/segno/cryptography imports, like a cold Lambda
            continue
        rows.append(row)
    _poller().poll_once(wait_seconds=0)  # drop the messages the decisions queued (already completed above)

    def med(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    assert cold is not None
    print(f"(b) per-letter time, sequential, median of {len(rows)} (first letter reported apart)")
    print(f"    {'':16}{'median ms':>10}{'first ms':>10}")
    for key in ("decision_ms", "worker_ms", "counter_read_ms", "render_ms", "store_ms", "commit_ms"):
        print(f"    {key:16}{med(key):>10.1f}{cold[key]:>10.1f}")
    print("    (decision_ms: the HTTP request's work; worker_ms: the queue handler's, of which counter read, render,")
    print("     store and commit; moto server on loopback, one lock standing in for DynamoDB's isolation)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("-n", type=int, default=21, help="sequential letters for the time split")
    args = parser.parse_args()
    _setup()
    concurrent(args.concurrent)
    latency(args.n)


if __name__ == "__main__":
    main()

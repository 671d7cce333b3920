"""Issue letters against a local moto DynamoDB server: (a) N concurrent issues on one village, (b) latency split."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

API_GATEWAY_LIMIT_S = 29.0
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
    return data_dir


def _approved(n: int) -> list[Any]:
    """n approved SKD requests of one citizen in VILLAGE, made through the services."""
    from chalicelib.config import get_secrets
    from chalicelib.domain.clock import iso, utcnow
    from chalicelib.domain.nik import nik_hash
    from chalicelib.domain.requests import Principal
    from chalicelib.services import requests as svc
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
    from chalicelib.domain.requests import HistoryEntry, ServiceRequest
    from chalicelib.services.profile import applicant_snapshot
    from chalicelib.storage import regions
    from chalicelib.storage import requests as repo

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
        repo.create(r, [], None)
        out.append(r)
    return out


def _issue(request: Any) -> Any:
    from chalicelib.domain.requests import Principal
    from chalicelib.services import requests as svc

    kades = Principal("kades", VILLAGE, f"kades.{VILLAGE}", "Andi Muhammad Yusuf")
    return svc.transition(kades, request.id, "issue", request.version, None)


def concurrent(n: int) -> None:
    from chalicelib.services import issuing
    from chalicelib.storage import letters

    requests = _approved(n)
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    latencies: list[float] = [0.0] * n

    def run(i: int) -> None:
        barrier.wait()  # start together: the worst case for the counter
        start = time.perf_counter()
        try:
            results[i] = _issue(requests[i])
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc
        latencies[i] = time.perf_counter() - start

    retries = issuing.stats.retries
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    errors = [r for r in results if isinstance(r, Exception)]
    seqs = sorted(letters.get(r.letter["id"], consistent=True).seq for r in results if not isinstance(r, Exception))
    print(f"(a) {n} concurrent issues on {VILLAGE}")
    print(f"    succeeded        {len(seqs)} / {n}  (errors: {[getattr(e, 'code', repr(e)) for e in errors]})")
    print(f"    distinct numbers {len(set(seqs))}")
    print(f"    consecutive      {'yes' if seqs == list(range(seqs[0], seqs[0] + n)) else 'no'} "
          f"({seqs[0]}..{seqs[-1]})")
    print(f"    counter retries  {issuing.stats.retries - retries}")
    print(f"    wall time        {wall:.2f} s (all {n} issued, PDFs rendered and stored)")
    print(f"    per issuer       median {statistics.median(latencies):.1f} s, max {max(latencies):.1f} s "
          f"(moto serializes ~100-170 ms transactions; the herd needs {n} rounds)")


def latency(n: int) -> None:
    from chalicelib.services import issuing

    requests = _approved(n)
    rows = []
    cold = None
    for r in requests:
        start = time.perf_counter()
        _issue(r)
        total = (time.perf_counter() - start) * 1000
        t = issuing.last_timings()
        if cold is None:
            cold = {**t, "total_ms": total}  # pays fpdf2/segno/cryptography imports, like a cold Lambda
            continue
        rows.append({**t, "total_ms": total})

    def med(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    assert cold is not None
    print(f"(b) per-issue latency, sequential, median of {len(rows)} (first issue reported apart)")
    print(f"    {'':14}{'median ms':>10}{'first ms':>10}")
    for key in ("transaction_ms", "render_ms", "store_ms", "total_ms"):
        print(f"    {key:14}{med(key):>10.1f}{cold[key]:>10.1f}")
    worst = max(row["total_ms"] for row in rows + [cold]) / 1000
    print(f"    slowest issue {worst:.2f} s = {worst / API_GATEWAY_LIMIT_S:.1%} of API Gateway's "
          f"{API_GATEWAY_LIMIT_S:.0f} s limit")
    print("    (transaction_ms includes the issue's reads: village, staff, counter; moto server on loopback)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("-n", type=int, default=21, help="sequential issues for the latency split")
    parser.add_argument("--budget", type=float, default=600.0,
                        help="retry time budget per issue in (a); the API uses 20 s (issuing.RETRY_BUDGET_S)")
    args = parser.parse_args()
    _setup()
    from chalicelib.services import issuing

    # A burst of 50 on one village against moto needs more rounds and time than the API allows one request;
    # the point of (a) is that every issuer ends with a distinct, consecutive number.
    issuing.RETRY_BUDGET_S = args.budget
    issuing.MAX_ATTEMPTS = max(issuing.MAX_ATTEMPTS, 4 * args.concurrent)
    concurrent(args.concurrent)
    latency(args.n)


if __name__ == "__main__":
    main()

"""Helpers for the letter tests: a fixed clock, approved requests made through the service layer, a forced race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

from chalicelib.auth import principal_from_header
from chalicelib.domain.requests import Principal, ServiceRequest

# Active villages of Sinjai Timur that no other test module uses: letter tests change their settings
# and counters, and each test takes its own village or year so counters start from nothing.
BIRORO = "73.07.03.2008"
KALOLING = "73.07.03.2009"
PASIMARANNU = "73.07.03.2010"
TONGKE = "73.07.03.2011"
SALOHE = "73.07.03.2012"
BONGKI = "73.07.03.2013"
PERSATUAN = "73.07.09.2004"  # desa in Pulau Sembilan


def fix_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Every service that reads the time sees `moment` (UTC)."""
    import chalicelib.domain.clock as clock
    import chalicelib.services.letters as letters
    import chalicelib.services.requests as requests

    for module in (clock, requests, letters):
        monkeypatch.setattr(module, "utcnow", lambda: moment)


def citizen_principal(citizen: dict[str, Any]) -> Principal:
    return principal_from_header(f"Bearer {citizen['token']}")


def operator(village: str) -> Principal:
    return Principal("operator", village, f"operator.{village}", "Operator Desa")


def kades(village: str, name: str = "Andi Muhammad Yusuf") -> Principal:
    return Principal("kades", village, f"kades.{village}", name)


def approved(citizen: dict[str, Any], village: str, letter_type: str = "SKD",
             fields: dict[str, Any] | None = None) -> ServiceRequest:
    """A request of `citizen` in `village`, reviewed and approved by its operator (service layer: fast)."""
    from chalicelib.services import requests as svc
    from tests.conftest import SKD_FIELDS, service_attachments

    who = citizen_principal(citizen)
    request, _ = svc.submit(who, village, letter_type, fields or SKD_FIELDS, None,
                            service_attachments(who, village, letter_type))
    request = svc.transition(operator(village), request.id, "review", request.version, None)
    if not request.identity_verified:  # a test citizen is in no register: the operator checks the KTP-el
        request = svc.transition(operator(village), request.id, "verify_identity", request.version, None,
                                 document="KTP-el")
    return svc.transition(operator(village), request.id, "approve", request.version, None)


def issue(request: ServiceRequest, who: Principal | None = None) -> ServiceRequest:
    from chalicelib.services import requests as svc

    return svc.transition(who or kades(request.village), request.id, "issue", request.version, None)


def seq_of(request: ServiceRequest) -> int:
    from chalicelib.storage import letters

    assert request.letter is not None
    letter = letters.get(request.letter["id"], consistent=True)
    assert letter is not None
    return letter.seq


@pytest.fixture()
def serialized_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's calls atomic across threads, as DynamoDB's transactions are.

    moto checks conditions, applies writes and, on a failure, restores a deep copy of the whole table
    without any lock, and its reads iterate dicts a concurrent write may resize: threads interleave and a
    rollback can erase a concurrent commit. That would test moto, not Balai, so one lock around every moto
    call stands in for DynamoDB's isolation (conditions are still moto's, so races still cancel).
    """
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action
    lock = threading.RLock()

    def locked(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(BaseResponse, "call_action", locked)


@contextmanager
def everyone_reads_the_counter_first(monkeypatch: pytest.MonkeyPatch, parties: int) -> Iterator[None]:
    """Hold each issuer's first counter read until all `parties` have read it: the worst race, every time."""
    from chalicelib.services import issuing

    barrier = threading.Barrier(parties, timeout=30)
    seen = threading.local()
    original: Callable[..., int] = issuing.letters_repo.last_number

    def last_number(*args: Any) -> int:
        value = original(*args)
        if not getattr(seen, "done", False):
            seen.done = True
            barrier.wait()
        return value

    monkeypatch.setattr(issuing.letters_repo, "last_number", last_number)
    yield
    monkeypatch.setattr(issuing.letters_repo, "last_number", original)


def run_all(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in threads at once; results (or the exception raised) in job order."""
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results

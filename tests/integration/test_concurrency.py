"""Two staff approve the same version at the same moment: exactly one wins, the other gets 409,
and the audit trail has one approval."""

import threading

from chalicelib.domain.requests import Principal
from chalicelib.errors import ConflictError
from chalicelib.services import requests as service
from chalicelib.storage import requests as repo
from tests.conftest import SAMATARING, act, staff_token, submitted
from tests.moto_locking import serialized_moto_writes


def test_two_staff_approving_the_same_version(client, registered_citizen, monkeypatch):
    citizen = registered_citizen
    request = submitted(client, citizen)
    request = act(client, staff_token(client, f"operator.{SAMATARING}"), request, "review").json_body

    # Both readers must see the same version before either writes: hold them at a barrier.
    barrier = threading.Barrier(2, timeout=10)
    real_get = repo.get

    def get_then_wait(request_id, consistent=True):
        found = real_get(request_id, consistent)
        barrier.wait()
        return found

    monkeypatch.setattr(repo, "get", get_then_wait)
    results: dict[str, object] = {}

    def approve(who: Principal) -> None:
        try:
            results[who.subject] = service.transition(who, request["id"], "approve", request["version"], None)
        except ConflictError as exc:
            results[who.subject] = exc

    actors = [Principal("operator", SAMATARING, f"operator.{SAMATARING}", "Operator"),
              Principal("kades", SAMATARING, f"kades.{SAMATARING}", "Kades")]
    with serialized_moto_writes():
        threads = [threading.Thread(target=approve, args=(a,)) for a in actors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    monkeypatch.setattr(repo, "get", real_get)

    outcomes = list(results.values())
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(conflicts) == 1 and conflicts[0].code == "stale_version" and conflicts[0].status == 409
    stored = repo.get(request["id"])
    assert stored is not None and stored.status == "approved" and stored.version == request["version"] + 1
    assert [h.action for h in stored.history].count("approve") == 1

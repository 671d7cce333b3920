"""Request transitions and letter issuing as use cases, on the in-memory unit of work (no database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.domain.clock import iso
from chalicelib.domain.operations import ChangeRequest, NumberLetters, PutOutbox
from chalicelib.domain.outbox import OutboxMessage
from chalicelib.domain.regions import Region
from chalicelib.domain.requests import HistoryEntry, Principal, ServiceRequest
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.services import issuing, wiring
from chalicelib.services import requests as svc
from chalicelib.storage.people import Staff
from tests.fakes import FakeStore, FakeUnitOfWork, MemoryFileStore, RecordingIssueQueue

VILLAGE = "73.07.09.2001"
OTHER_VILLAGE = "73.07.03.1001"
OPERATOR = Principal("operator", VILLAGE, "operator.73.07.09.2001", "Operator Desa")
KADES = Principal("kades", VILLAGE, "kades.73.07.09.2001", "Andi Baso")
OTHER_OPERATOR = Principal("operator", OTHER_VILLAGE, "operator.73.07.03.1001", "Operator Lain")
AT = "2025-03-02T01:00:00+00:00"


def stored_request(store: FakeStore, request_id: str = "R1", status: str = "submitted", version: int = 1) -> None:
    store.requests[request_id] = ServiceRequest(
        id=request_id, village=VILLAGE, kecamatan="73.07.09", kabupaten="73.07", letter_type="SKD",
        letter_name="Surat Keterangan Domisili", status=status, version=version, tracking_code=f"TRK-{request_id}",
        nik_hash="owner-hash", fields={"lama_tinggal_tahun": 5, "keperluan": "Melamar pekerjaan"},
        applicant={"name": "Siti Aminah", "nik": "7307094507900001", "desa": "Pulau Harapan"}, sla_hours=8,
        created_at=AT, updated_at=AT, due_at="2025-03-03T01:00:00+00:00", contact_phone="+6281234567890",
        identity_verified=True)
    store.events[(request_id, AT, 1)] = HistoryEntry(AT, "warga", "citizen", "submit", None, "submitted", None, 1)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStore]:
    store = FakeStore()
    store.regions[VILLAGE] = Region(VILLAGE, "Pulau Harapan", "desa", "73.07.09", True, "Asia/Makassar",
                                    settings={"kecamatan_name": "Pulau Sembilan", "kabupaten_name": "Sinjai"})
    store.staff[KADES.subject] = Staff(KADES.subject, "x", "kades", VILLAGE, "Andi Baso", nip="198001012006041001")
    queue, files = RecordingIssueQueue(), MemoryFileStore()
    monkeypatch.setattr(wiring, "issue_queue", lambda: queue)
    monkeypatch.setattr(wiring, "file_store", lambda: files)
    wiring.use_unit_of_work(lambda: FakeUnitOfWork(store))
    store.queue, store.files = queue, files  # type: ignore[attr-defined]
    yield store
    wiring.use_unit_of_work(None)


def test_review_writes_the_state_its_event_and_nothing_else(store: FakeStore) -> None:
    # Given a submitted request
    stored_request(store)
    # When the operator reviews it
    after = svc.transition(OPERATOR, "R1", "review", 1)
    # Then one commit holds the new state and its audit event
    assert (after.status, after.version, store.commits) == ("in_review", 2, 1)
    assert [h.action for h in svc.get(OPERATOR, "R1").history] == ["submit", "review"]


def test_approve_tells_the_citizen_and_the_signer_in_the_same_commit(store: FakeStore) -> None:
    stored_request(store, status="in_review", version=2)
    svc.transition(OPERATOR, "R1", "approve", 2)
    assert store.commits == 1
    assert store.outbox_events("R1") == ["approved", "awaiting_signature"]
    # (in one row: an approval is one change)
    assert len([m for m in store.outbox.values() if m.request_id == "R1"]) == 1


def test_a_stale_version_is_a_409_and_writes_nothing(store: FakeStore) -> None:
    stored_request(store, version=1)
    with pytest.raises(ConflictError) as caught:
        svc.transition(OPERATOR, "R1", "review", 7)
    assert caught.value.code == "stale_version"
    assert store.commits == 0 and store.requests["R1"].status == "submitted"


def test_a_writer_in_between_read_and_commit_is_a_stale_version(store: FakeStore) -> None:
    # Given the request moved after the use case read it (another operator, same instant)
    stored_request(store)
    first = FakeUnitOfWork(store)
    before = first.requests.get("R1")
    svc.transition(OPERATOR, "R1", "review", 1)
    # When the slower writer commits its change from the old version
    from dataclasses import replace

    first.add(ChangeRequest(before, replace(before, status="rejected", version=2)))
    # Then the unit of work refuses it by the request's identity, and the first change stands
    with pytest.raises(ConflictError) as caught:
        first.commit()
    assert caught.value.code == "stale_version" and store.requests["R1"].status == "in_review"


def test_another_villages_operator_sees_no_request(store: FakeStore) -> None:
    stored_request(store)
    with pytest.raises(NotFoundError):
        svc.transition(OTHER_OPERATOR, "R1", "review", 1)
    assert store.commits == 0


def test_issue_records_the_signers_decision_and_queues_it_per_village(store: FakeStore) -> None:
    # Given an approved request
    stored_request(store, status="approved", version=3)
    # When the kades issues it
    decided = svc.transition(KADES, "R1", "issue", 3)
    # Then the request waits in `issuing` with the signer from their staff profile, queued in its village's group
    assert decided.status == "issuing" and decided.issue_order is not None
    assert decided.issue_order["signer"]["name"] == "Andi Baso"
    assert [(group, body["request_id"]) for group, _, body in store.queue.sent] == [(VILLAGE, "R1")]  # type: ignore[attr-defined]
    assert store.letters == {}


def test_the_queue_numbers_renders_stores_and_commits_consecutive_letters(store: FakeStore) -> None:
    # Given three decided requests of one village
    for rid in ("R1", "R2", "R3"):
        stored_request(store, rid, status="approved", version=3)
        svc.transition(KADES, rid, "issue", 3)
    # When the queue's handler completes them together
    letters = issuing.complete_village(["R1", "R2", "R3"], now=datetime(2031, 3, 2, 2, 0, tzinfo=UTC))
    # Then they take numbers 1..3 in queue order, in one commit with the counter, and each PDF is stored
    assert [x.seq for x in letters] == [1, 2, 3]
    assert store.counters[(VILLAGE, "ALL", 2031)] == 3 and set(store.letters) == {x.id for x in letters}
    assert all(store.files.exists(x.file_key) for x in letters)  # type: ignore[attr-defined]
    assert all(store.requests[rid].status == "issued" for rid in ("R1", "R2", "R3"))
    assert store.outbox_events("R2") == ["issued"]
    # And a redelivered message issues nothing twice
    assert issuing.complete_village(["R2"]) == [] and store.counters[(VILLAGE, "ALL", 2031)] == 3


def test_a_counter_moved_by_someone_else_is_a_number_conflict_and_writes_nothing(
        store: FakeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a decided request, and a counter that moves between the handler's read and its commit
    stored_request(store, status="approved", version=3)
    svc.transition(KADES, "R1", "issue", 3)
    commits = store.commits
    real_last = FakeUnitOfWork.last_number

    def read_then_moved(self: FakeUnitOfWork, village: str, scope: str, year: int) -> int:
        value = real_last(self, village, scope, year)
        store.counters[(village, scope, year)] = value + 1  # another writer takes the next number
        return value

    monkeypatch.setattr(FakeUnitOfWork, "last_number", read_then_moved)
    # When the handler commits, then it is told the number is taken, and nothing of it is written
    with pytest.raises(ConflictError) as caught:
        issuing.complete("R1", now=datetime(2031, 3, 2, 2, 0, tzinfo=UTC))
    assert caught.value.code == "number_conflict"
    assert store.commits == commits and store.letters == {} and store.requests["R1"].status == "issuing"


def test_an_unrelated_outbox_message_that_exists_is_named_not_taken_for_a_stale_request(store: FakeStore) -> None:
    # Given a request and an outbox message already stored under a deterministic id
    stored_request(store)
    message = OutboxMessage("SLA-R1-1", "sla_reminder", {"kind": "staff"}, VILLAGE, {"request_id": "R1"}, AT)
    store.outbox[message.id] = message
    uow = FakeUnitOfWork(store)
    before = uow.requests.get("R1")
    from dataclasses import replace

    # When a change of the current version is committed with the duplicate message added first
    uow.add(PutOutbox(message), ChangeRequest(before, replace(before, status="in_review", version=2)),
            NumberLetters(VILLAGE, "ALL", 2031, 0, 1, "L1", iso(datetime(2031, 1, 1, tzinfo=UTC))))
    with pytest.raises(ConflictError) as caught:
        uow.commit()
    # Then the refusal names the message, and nothing is written
    assert caught.value.code == "duplicate_outbox"
    assert store.requests["R1"].status == "submitted" and store.counters == {}


# ---------------------------------------------------------------------------------------------- numbering
# (moved here from tests/integration/test_letters_issuing.py: the same rules, on the fake)


def issue_at(store: FakeStore, now: datetime, letter_type: str = "SKD") -> str:
    """A request of `letter_type` decided by the kades and completed by the queue at `now`; its letter number."""
    rid = f"R{len(store.requests) + 1}"
    stored_request(store, rid, status="approved", version=3)
    store.requests[rid].letter_type = letter_type
    if letter_type == "SPSKCK":
        store.requests[rid].fields = {"keperluan": "Melamar pekerjaan"}
    svc.transition(KADES, rid, "issue", 3)
    letter = issuing.complete(rid, now=now)
    assert letter is not None and store.requests[rid].status == "issued"
    return letter.number


def test_number_has_the_default_format_in_the_kabupatens_zone(store: FakeStore) -> None:
    # Given Sinjai (WITA, UTC+8) at 17:30 UTC on 30 November 2032: already 1 December locally
    number = issue_at(store, datetime(2032, 11, 30, 17, 30, tzinfo=UTC))
    # Then the first number of the year carries the local month (XII), the desa code and the year
    assert number == "470/001/DS-2001/XII/2032"
    (letter,) = store.letters.values()
    assert letter.document["issued_date"] == "2032-12-01" and letter.facts["issued_date"] == "2032-12-01"


def test_counter_restarts_at_local_midnight_on_new_year(store: FakeStore) -> None:
    # Given two letters issued in 2033, the last at 23:59 WITA on 31 December
    assert issue_at(store, datetime(2033, 6, 1, 3, 0, tzinfo=UTC)) == "470/001/DS-2001/VI/2033"
    assert issue_at(store, datetime(2033, 12, 31, 15, 59, tzinfo=UTC)) == "470/002/DS-2001/XII/2033"
    # When the next is issued one minute later: 00:00 WITA on 1 January, still 31 December in UTC
    # Then numbering starts again at 001 for 2034
    assert issue_at(store, datetime(2033, 12, 31, 16, 0, tzinfo=UTC)) == "470/001/DS-2001/I/2034"
    assert store.counters[(VILLAGE, "ALL", 2033)] == 2 and store.counters[(VILLAGE, "ALL", 2034)] == 1


def test_one_sequence_for_all_letter_types_by_default(store: FakeStore) -> None:
    # When a village with the default single sequence issues a domicile letter, then an SKCK cover letter
    at = datetime(2034, 3, 2, 2, 0, tzinfo=UTC)
    # Then they share one counter, each with its own classification code
    assert issue_at(store, at, "SKD") == "470/001/DS-2001/III/2034"
    assert issue_at(store, at, "SPSKCK") == "331/002/DS-2001/III/2034"


def test_per_type_sequences_count_each_letter_type_apart(store: FakeStore) -> None:
    # Given a village that numbers each letter type on its own, with the type in the format
    store.regions[VILLAGE].settings["letters"] = {
        "sequence_mode": "per_type",
        "number_format": "{classification}/{letter_type}-{seq:03}/{village_code}/{roman_month}/{year}"}
    at = datetime(2034, 3, 2, 2, 0, tzinfo=UTC)
    # When it issues two SKD and one SPSKCK, then each type counts from 1
    assert [issue_at(store, at, t) for t in ("SKD", "SPSKCK", "SKD")] == [
        "470/SKD-001/DS-2001/III/2034", "331/SPSKCK-001/DS-2001/III/2034", "470/SKD-002/DS-2001/III/2034"]
    assert store.counters[(VILLAGE, "SKD", 2034)] == 2 and store.counters[(VILLAGE, "SPSKCK", 2034)] == 1


def test_a_failed_issue_uses_no_number(store: FakeStore) -> None:
    # Given an approved request, and the kades issuing it with an old version
    stored_request(store, status="approved", version=3)
    with pytest.raises(ConflictError) as caught:
        svc.transition(KADES, "R1", "issue", 2)
    # Then it is refused, nothing is queued, and the next letter still gets 001 (no gap)
    assert caught.value.code == "stale_version" and store.queue.sent == []  # type: ignore[attr-defined]
    assert store.counters == {}
    svc.transition(KADES, "R1", "issue", 3)
    letter = issuing.complete("R1", now=datetime(2035, 1, 5, 2, 0, tzinfo=UTC))
    assert letter is not None and letter.number.startswith("470/001/")

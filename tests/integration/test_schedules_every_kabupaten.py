"""The scheduled work (SLA sweep, outbox retries, daily digest) covers every kabupaten imported into the table,
with no BALAI_KABUPATEN set: a Jember (35.09) table gets the same background work as Sinjai's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from chalicelib.config import get_settings, reset_caches
from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.escalation import checkpoints
from chalicelib.domain.ids import new_id, new_tracking_code
from chalicelib.domain.operations import CreateRequest
from chalicelib.domain.requests import HistoryEntry, ServiceRequest
from chalicelib.ops.__main__ import main
from chalicelib.storage import outbox as outbox_repo
from chalicelib.storage import regions
from chalicelib.storage.unit_of_work import DynamoUnitOfWork
from chalicelib.workers import digest, outbox, sla
from tests.fakes import RecordingEmailSender, RecordingSmsSender

JEMBER = "35.09"


@pytest.fixture()
def jember_only_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A table that holds Kabupaten Jember and nothing of Sinjai, imported as the README says; yields a village."""
    from chalicelib.storage.models import TTLItem
    from chalicelib.storage.table import create_table

    monkeypatch.delenv("BALAI_KABUPATEN", raising=False)
    reset_caches()
    TTLItem.delete_table()
    create_table()
    assert main(["import-regions", JEMBER]) == 0
    kecamatan = regions.children(JEMBER)[0]
    assert main(["activate", kecamatan.code]) == 0
    village = regions.children(kecamatan.code)[0]
    yield village.code
    reset_caches()
    # The next module seeds its own Sinjai table (conftest's per-module fixture).


def _open_request(village: str) -> ServiceRequest:
    """A submitted request of the village, written the way submit() writes it."""
    at = iso(utcnow() - timedelta(days=30))
    request = ServiceRequest(
        id=new_id(), village=village, kecamatan=village.rsplit(".", 1)[0], kabupaten=JEMBER, letter_type="SKD",
        letter_name="Surat Keterangan Domisili", status="submitted", version=1, tracking_code=new_tracking_code(),
        nik_hash="h" * 64, fields={"keperluan": "Melamar pekerjaan"}, applicant={"name": "Siti Aminah"},
        sla_hours=8, created_at=at, updated_at=at, due_at=at,
        history=[HistoryEntry(at, "warga", "citizen", "submit", None, "submitted", None, 1)])
    uow = DynamoUnitOfWork()
    uow.add(CreateRequest(request))
    uow.commit()
    return request


def test_sweeps_run_on_a_table_of_another_kabupaten(jember_only_table: str) -> None:
    # Given a Jember-only table, no BALAI_KABUPATEN, and an overdue request in one of its villages
    assert get_settings().kabupaten == ()
    assert regions.registered_kabupaten() == (JEMBER,)
    request = _open_request(jember_only_table)
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    # When the SLA sweep runs past twice the SLA, with no kabupaten passed in
    result = sla.run(now=points.twice_at + timedelta(hours=1))
    # Then it read the Jember request and escalated it
    assert result.read == 1 and result.notified == [(request.id, 3)]
    escalation = outbox_repo.get(sla.outbox_id(request, 3))
    assert escalation is not None and escalation.audience["region"] == JEMBER

    # When the daily digest runs for every kabupaten (forced past its 07:00 window)
    queued = digest.run(force=True)
    # Then the Jember village with work waiting gets its digest
    assert queued.queued == [jember_only_table]

    # When the outbox retry schedule runs well after the rows' grace period
    senders = outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender())
    retried = outbox.retry_due(senders=senders, now=utcnow() + timedelta(hours=1))
    # Then it found the Jember rows (nobody to deliver to in an empty staff list, but they were handled)
    assert retried.rows >= 2


def test_balai_kabupaten_still_restricts_the_schedules(jember_only_table: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment that restricts its schedules to Sinjai on a table holding Jember
    monkeypatch.setenv("BALAI_KABUPATEN", "73.07")
    reset_caches()
    request = _open_request(jember_only_table)
    points = checkpoints(request.due_at, request.sla_hours, request.village)
    # When the sweep runs, then it leaves Jember alone
    assert sla.run(now=points.twice_at + timedelta(hours=1)).read == 0

"""Outbox retention: a finished row (sent or failed) carries a TTL of BALAI_OUTBOX_RETENTION_DAYS; a row still
pending never expires; a resend takes the TTL away; the village's message bill does not depend on the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import utcnow
from chalicelib.storage import bill, keys
from chalicelib.storage import outbox as repo
from chalicelib.storage.models import OutboxItem
from chalicelib.workers import outbox
from tests.conftest import SAMATARING, get, post, staff_token
from tests.fakes import PermanentSendError, TransientSendError
from tests.integration.streams import image, inserts, record
from tests.integration.test_notifications_outbox import OPERATOR, FlakyFor, new_row


@pytest.fixture()
def retention(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set BALAI_OUTBOX_RETENTION_DAYS for one test; the settings are read again afterwards."""
    from chalicelib.config import reset_caches

    def days(n: int) -> None:
        monkeypatch.setenv("BALAI_OUTBOX_RETENTION_DAYS", str(n))
        reset_caches()

    yield days
    monkeypatch.delenv("BALAI_OUTBOX_RETENTION_DAYS", raising=False)
    reset_caches()


def expires_at(outbox_id: str) -> int | None:
    """The row's raw TTL attribute (epoch seconds), as DynamoDB's TTL process reads it."""
    raw = image(outbox_id).get("expires_at")
    return int(raw["N"]) if raw else None


def at(now: datetime, days: int) -> int:
    return int((now + timedelta(days=days)).timestamp())


def test_a_sent_row_expires_after_the_retention_a_pending_one_never(senders: outbox.Senders, retention: Any) -> None:
    # Given a district that keeps finished rows 10 days, and a provider that fails once, then works
    retention(10)
    now = utcnow().replace(microsecond=0)
    outbox_id = new_row(at=now)
    senders.sms = FlakyFor(outbox_id, times=1)
    # When the first attempt fails (the row is pending, waiting for its retry)
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders, now=now).count("retrying") == 1
    # Then it has no TTL: an unsent message is never deleted
    assert expires_at(outbox_id) is None
    # When the retry schedule sends it
    later = datetime.fromisoformat(repo.get(outbox_id).next_try_at or "") + timedelta(seconds=1)  # type: ignore[union-attr]
    assert outbox.retry_due(senders=senders, now=later, kabupaten=["73.07"]).count("sent") == 1
    # Then the sent row expires 10 days after it was sent
    assert repo.get(outbox_id).status == "sent"  # type: ignore[union-attr]
    assert expires_at(outbox_id) == at(later, 10)


def test_a_failed_row_expires_and_a_resend_keeps_it_until_it_is_sent(client: Any, senders: outbox.Senders,
                                                                      retention: Any) -> None:
    # Given the default retention and a row that failed for good
    retention(35)
    now = utcnow().replace(microsecond=0)
    outbox_id = new_row(at=now)
    senders.sms = FlakyFor(outbox_id, always=True, error=PermanentSendError)
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders, now=now).count("failed") == 1
    # Then the failed row expires 35 days after it failed (staff see it in the failed list until then)
    assert expires_at(outbox_id) == at(now, 35)
    # When the operator resends it while the provider fails transiently
    senders.sms = FlakyFor(outbox_id, always=True, error=TransientSendError)
    token = staff_token(client, OPERATOR)
    old = image(outbox_id)
    assert post(client, f"/v1/notifications/{outbox_id}/resend", {}, token).status_code == 200
    # Then the pending row has no TTL any more, and keeps none while it waits for its retries
    assert expires_at(outbox_id) is None
    outbox.handle_stream({"Records": [record("MODIFY", image(outbox_id), old)]}, senders=senders)
    row = repo.get(outbox_id)
    assert row is not None and row.status == "pending" and expires_at(outbox_id) is None


def test_the_bill_stays_exact_when_sent_rows_expire(client: Any, senders: outbox.Senders, retention: Any) -> None:
    # Given two rows to a citizen of Samataring, sent and billed
    retention(35)
    month = utcnow().strftime("%Y-%m")
    before = bill.get(SAMATARING, month).get("sms", {}).get("count", 0)
    ids = [new_row(), new_row()]
    outbox.handle_stream(inserts(ids), senders=senders)
    billed = bill.get(SAMATARING, month)
    assert billed["sms"]["count"] == before + 2
    token = staff_token(client, OPERATOR)
    listed = get(client, f"/v1/villages/{SAMATARING}/notifications?status=sent&limit=100", token).json_body
    assert set(ids) <= {i["id"] for i in listed["items"]}
    # When DynamoDB's TTL deletes them (a REMOVE record on the stream, which the handler ignores)
    gone = [image(i) for i in ids]
    for outbox_id in ids:
        OutboxItem(keys.outbox_pk(outbox_id), keys.META).delete()
    removed = {"Records": [{**record("REMOVE", g), "userIdentity": {"type": "Service",
                                                                     "principalId": "dynamodb.amazonaws.com"}}
                           for g in gone]}
    assert outbox.handle_stream(removed, senders=senders).rows == 0
    # Then the staff list no longer shows them, and the month's bill is what it was
    listed = get(client, f"/v1/villages/{SAMATARING}/notifications?status=sent&limit=100", token).json_body
    assert not set(ids) & {i["id"] for i in listed["items"]}
    assert bill.get(SAMATARING, month) == billed


def test_expire_outbox_gives_rows_finished_before_the_retention_their_ttl(
        senders: outbox.Senders, retention: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.ops.__main__ import main

    # Given a sent row from before the retention existed (no TTL), and a row still pending
    retention(35)
    old_id = new_row()
    outbox.handle_stream(inserts([old_id]), senders=senders)
    OutboxItem(keys.outbox_pk(old_id), keys.META).update(actions=[OutboxItem.expires_at.remove()])
    assert expires_at(old_id) is None
    pending_id = new_row()
    finished = datetime.fromisoformat(repo.get(old_id).updated_at or "")  # type: ignore[union-attr]
    # When the operator runs the one-off command for the kabupaten
    assert main(["expire-outbox", "73.07"]) == 0
    # Then the old row expires 35 days after it was finished, the pending one never
    assert expires_at(old_id) == at(finished, 35)
    assert expires_at(pending_id) is None
    assert "TTL set on" in capsys.readouterr().out
    # And a second run changes nothing
    assert main(["expire-outbox", "73.07"]) == 0
    assert "TTL set on 0 sent and 0 failed" in capsys.readouterr().out
    assert expires_at(old_id) == at(finished, 35)


def test_an_inbox_message_expires_after_the_inbox_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import reset_caches
    from chalicelib.storage import inbox
    from chalicelib.storage.models import InboxMessageItem

    # Given a district that keeps inbox messages 90 days
    monkeypatch.setenv("BALAI_INBOX_RETENTION_DAYS", "90")
    reset_caches()
    try:
        sent = utcnow().replace(microsecond=0)
        # When a status message reaches a citizen's inbox
        assert inbox.deliver("hash-inbox-ttl", "OUTBOX1", sent.isoformat(), event="issued", title="Surat terbit",
                             text="Surat Anda sudah terbit.", request_id="R1", tracking_code="ABCD-EF12")
        # Then it carries a TTL 90 days after it was sent, and is listed until then
        mid = inbox.message_id("OUTBOX1", sent.isoformat())
        raw = InboxMessageItem.get(keys.inbox_pk("hash-inbox-ttl"), keys.inbox_sk(mid)).serialize()
        assert int(raw["expires_at"]["N"]) == at(sent, 90)
        assert [m.id for m in inbox.page("hash-inbox-ttl", 10, None)[0]] == [mid]
    finally:
        monkeypatch.delenv("BALAI_INBOX_RETENTION_DAYS")
        reset_caches()

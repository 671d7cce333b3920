"""Outbox sender: stream handler through the Chalice test client, retries, failures, resend, quiet hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import iso, utcnow
from chalicelib.domain.ids import new_id
from chalicelib.domain.outbox import outbox_message, transition_outbox
from chalicelib.observability import flush_metrics
from chalicelib.storage import outbox as repo
from chalicelib.storage.people import get_staff, save_contact_preferences
from chalicelib.workers import outbox
from tests.conftest import PULAU_HARAPAN, SAMATARING, get, post, staff_token
from tests.fakes import PermanentSendError, RecordingSmsSender, TransientSendError
from tests.integration.streams import image, inserts, record

PAYLOAD = {"tracking_code": "ABCD-EF12", "letter_name": "Surat Keterangan Domisili", "request_id": "R1",
           "village": SAMATARING, "village_name": "Samataring"}
OPERATOR = f"operator.{SAMATARING}"
OPERATOR_PHONE = "+6281311112222"
OPERATOR_EMAIL = "operator.samataring@balai.example.id"


@pytest.fixture()
def operator_contacts() -> Iterator[None]:
    before = get_staff(OPERATOR)
    assert before is not None
    save_contact_preferences(OPERATOR, OPERATOR_PHONE, OPERATOR_EMAIL, {"channels": ["sms", "email"]})
    yield
    save_contact_preferences(OPERATOR, before.phone, before.email, before.preferences or {})


class FlakyFor(RecordingSmsSender):
    """Fails only the messages of one outbox row (other tests' pending rows share the retry index)."""

    def __init__(self, outbox_id: str, times: int = 0, always: bool = False,
                 error: type[Exception] = TransientSendError) -> None:
        super().__init__()
        self.target, self.times, self.always, self.err, self.failures = outbox_id, times, always, error, 0

    def send(self, phone_e164: str, text: str, *, message_id: str) -> str:
        if message_id.startswith(self.target + ":") and (self.always or self.failures < self.times):
            self.failures += 1
            raise self.err(f"fake failure {self.failures}", provider_code="FakeFailure")
        return super().send(phone_e164, text, message_id=message_id)


def new_row(event: str = "issued", audience: dict[str, Any] | None = None,
            payload: dict[str, Any] | None = None, village: str = SAMATARING, at: datetime | None = None) -> str:
    outbox_id = new_id()
    row = {"event": event, "audience": audience or {"kind": "citizen", "nik_hash": "h", "phone": "+6281234500001"},
           "payload": payload or PAYLOAD}
    assert repo.put_new(outbox_message(row, outbox_id, village, iso(at or utcnow())))
    return outbox_id


def transition_row(*parts: tuple[str, dict[str, Any]], payload: dict[str, Any] | None = None,
                   at: datetime | None = None) -> str:
    """A row as a transition writes it: one part per (event, audience), sharing the payload."""
    outbox_id = new_id()
    rows = [{"event": event, "audience": audience, "payload": payload or PAYLOAD} for event, audience in parts]
    (message,) = transition_outbox(rows, outbox_id, SAMATARING, iso(at or utcnow()))
    assert repo.put_new(message)
    return outbox_id


CITIZEN = {"kind": "citizen", "nik_hash": "h", "phone": "+6281234500001"}
OPERATORS = {"kind": "staff", "region": SAMATARING, "role": "operator"}


def for_row(sent: list[Any], outbox_id: str) -> list[Any]:
    return [m for m in sent if m.message_id.startswith(outbox_id + ":")]


def test_stream_insert_sends_citizen_sms_and_staff_sms_and_email(client: Any, senders: outbox.Senders,
                                                                 operator_contacts: None) -> None:
    # Given a citizen row and a staff row, as a submission writes them
    citizen_row = new_row("issued")
    staff_row = new_row("new_request", {"kind": "staff", "region": SAMATARING, "role": "operator"})
    event = inserts([citizen_row, staff_row])
    # When the stream handler runs on their INSERT records
    client.lambda_.invoke("on_table_stream", event)
    # Then the citizen (phone only) got the letter's news in the inbox and by SMS (their only channel that
    # arrives by itself), the operator an SMS and an email
    (sms,) = for_row(senders.sms.sent, citizen_row)
    assert sms.to == "+6281234500001" and "ABCD-EF12" in sms.text
    assert [m.to for m in for_row(senders.sms.sent, staff_row)] == [OPERATOR_PHONE]
    (mail,) = for_row(senders.email.sent, staff_row)
    assert mail.to == OPERATOR_EMAIL and mail.subject.startswith("Permohonan baru")
    # And both rows are sent after one attempt, out of the retry index
    for outbox_id in (citizen_row, staff_row):
        row = repo.get(outbox_id)
        assert row is not None and (row.status, row.attempts) == ("sent", 1)
    assert repo.get(staff_row).delivered == {f"sms:{OPERATOR}", f"email:{OPERATOR}"}  # type: ignore[union-attr]
    assert repo.get(citizen_row).delivered == {"sms:citizen", "inbox:citizen"}  # type: ignore[union-attr]


def test_replayed_stream_batch_sends_nothing_twice(client: Any, senders: outbox.Senders) -> None:
    # Given a batch that was delivered once
    ids = [new_row() for _ in range(3)]
    event = inserts(ids)
    client.lambda_.invoke("on_table_stream", event)
    assert len([m for i in ids for m in for_row(senders.sms.sent, i)]) == 3
    # When Lambda replays the same batch (twice, e.g. after a later record of it failed)
    client.lambda_.invoke("on_table_stream", event)
    result = outbox.handle_stream(event, senders=senders)
    # Then nothing more was sent: the rows are no longer claimable
    assert len([m for i in ids for m in for_row(senders.sms.sent, i)]) == 3
    assert result.count("skipped") == 3


def test_transient_failures_twice_then_sent_with_three_attempts(senders: outbox.Senders) -> None:
    # Given a provider that fails twice, then works
    start = utcnow().replace(microsecond=0)
    outbox_id = new_row(at=start)
    senders.sms = FlakyFor(outbox_id, times=2)
    event = inserts([outbox_id])
    # When the stream handler tries, and the retry schedule runs whenever the backoff has passed
    assert outbox.handle_stream(event, senders=senders, now=start).count("retrying") == 1
    row = repo.get(outbox_id)
    assert row is not None and (row.status, row.attempts) == ("pending", 1) and row.last_error
    first_retry = datetime.fromisoformat(row.next_try_at or "")
    assert first_retry - start == timedelta(seconds=60)
    # (too early: nothing is due yet)
    early = outbox.retry_due(senders=senders, now=start + timedelta(seconds=30))
    assert outbox_id not in [m.message_id.split(":")[0] for m in senders.sms.sent]
    assert early.count("retrying") == 0 or repo.get(outbox_id).attempts == 1  # type: ignore[union-attr]
    outbox.retry_due(senders=senders, now=first_retry + timedelta(seconds=1))
    second = repo.get(outbox_id)
    assert second is not None and second.attempts == 2
    assert datetime.fromisoformat(second.next_try_at or "") - first_retry > timedelta(seconds=110)  # doubled
    outbox.retry_due(senders=senders, now=datetime.fromisoformat(second.next_try_at or "") + timedelta(seconds=1))
    # Then the third try went out and the row is sent with 3 attempts
    final = repo.get(outbox_id)
    assert final is not None and (final.status, final.attempts) == ("sent", 3)
    assert len(for_row(senders.sms.sent, outbox_id)) == 1


def test_always_failing_ends_failed_visible_to_staff_and_resend_works(
        client: Any, senders: outbox.Senders, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a provider that always fails transiently
    now = utcnow().replace(microsecond=0)
    outbox_id = new_row(at=now)
    senders.sms = FlakyFor(outbox_id, always=True)
    outbox.handle_stream(inserts([outbox_id]), senders=senders, now=now)
    # When the retry schedule keeps trying until the last of 5 attempts
    for _ in range(10):
        row = repo.get(outbox_id)
        assert row is not None
        if row.status == "failed":
            break
        now = datetime.fromisoformat(row.next_try_at or "") + timedelta(seconds=1)
        outbox.retry_due(senders=senders, now=now, kabupaten=["73.07"])
    # Then it is failed after 5 attempts, and the NotificationFailed metric is emitted when the invocation ends
    # (here the test is the invoker: it flushes as the handlers' middleware does)
    row = repo.get(outbox_id)
    assert row is not None and (row.status, row.attempts) == ("failed", 5)
    flush_metrics()
    assert '"NotificationFailed"' in capsys.readouterr().out
    # And the village's staff see it in the failed list
    token = staff_token(client, OPERATOR)
    listed = get(client, f"/v1/villages/{SAMATARING}/notifications?status=failed&limit=100", token)
    assert listed.status_code == 200, listed.body
    (item,) = [i for i in listed.json_body["items"] if i["id"] == outbox_id]
    assert item["attempts"] == 5 and item["audience"]["phone"] == "+62******0001"
    # When the operator resends it and the provider works again
    senders.sms = RecordingSmsSender()
    old = image(outbox_id)
    response = post(client, f"/v1/notifications/{outbox_id}/resend", {}, token)
    assert response.status_code == 200, response.body
    assert response.json_body["status"] == "pending" and response.json_body["attempts"] == 0
    client.lambda_.invoke("on_table_stream", {"Records": [record("MODIFY", image(outbox_id), old)]})
    # Then it is sent, and no longer in the failed list
    final = repo.get(outbox_id)
    assert final is not None and final.status == "sent" and len(for_row(senders.sms.sent, outbox_id)) == 1
    listed = get(client, f"/v1/villages/{SAMATARING}/notifications?status=sent&limit=100", token)
    assert outbox_id in [i["id"] for i in listed.json_body["items"]]
    # And resending a row that is not failed is a conflict
    again = post(client, f"/v1/notifications/{outbox_id}/resend", {}, token)
    assert again.status_code == 409 and again.json_body["code"] == "notification_not_failed"


def test_permanent_error_fails_at_once(senders: outbox.Senders) -> None:
    outbox_id = new_row()
    senders.sms = FlakyFor(outbox_id, always=True, error=PermanentSendError)
    result = outbox.handle_stream(inserts([outbox_id]), senders=senders)
    row = repo.get(outbox_id)
    assert result.count("failed") == 1
    assert row is not None and (row.status, row.attempts) == ("failed", 1) and "FakeFailure" in (row.last_error or "")


def test_no_recipient_is_failed_not_dropped(senders: outbox.Senders) -> None:
    # Given an audience nobody belongs to (no OPD account is scoped to this village)
    outbox_id = new_row("new_request", {"kind": "staff", "region": PULAU_HARAPAN, "role": "opd"},
                        village=PULAU_HARAPAN)
    outbox.handle_stream(inserts([outbox_id]), senders=senders)
    row = repo.get(outbox_id)
    assert row is not None and row.status == "failed" and "Tidak ada penerima" in (row.last_error or "")


def test_quiet_hours_defer_staff_messages_until_they_end(senders: outbox.Senders, operator_contacts: None) -> None:
    # Given an operator with quiet hours 21:00-06:00 WITA who takes SMS only
    save_contact_preferences(OPERATOR, OPERATOR_PHONE, None,
                             {"channels": ["sms"], "quiet_hours": {"start": "21:00", "end": "06:00"}})
    night = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 23:30 WITA
    outbox_id = new_row("new_request", {"kind": "staff", "region": SAMATARING, "role": "operator"}, at=night)
    # When the row arrives at night
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders, now=night).count("deferred") == 1
    # Then nothing is sent and the row waits for 06:00 WITA (22:00 UTC), without spending an attempt
    assert for_row(senders.sms.sent, outbox_id) == []
    row = repo.get(outbox_id)
    assert row is not None and (row.status, row.attempts) == ("pending", 0)
    assert row.next_try_at == "2026-11-24T22:00:00.000+00:00"
    # When the retry schedule runs after 06:00
    outbox.retry_due(senders=senders, now=datetime(2026, 11, 24, 22, 1, tzinfo=UTC), kabupaten=["73.07"])
    # Then the SMS went out
    assert [m.to for m in for_row(senders.sms.sent, outbox_id)] == [OPERATOR_PHONE]
    assert repo.get(outbox_id).status == "sent"  # type: ignore[union-attr]


def test_stream_ignores_other_items_and_updates(senders: outbox.Senders) -> None:
    outbox_id = new_row()
    pending = image(outbox_id)
    request_like = {**pending, "entity": {"S": "request"}}
    records = [record("INSERT", request_like), record("MODIFY", pending, pending), record("REMOVE", pending)]
    assert outbox.handle_stream({"Records": records}, senders=senders).rows == 0
    assert for_row(senders.sms.sent, outbox_id) == []


def test_unsent_row_is_picked_up_by_the_retry_schedule_after_the_grace_period(senders: outbox.Senders) -> None:
    # Given a row whose stream record was never handled (e.g. local mode restarted)
    created = utcnow()
    outbox_id = new_row(at=created)
    # When the retry schedule runs before and after the 2-minute grace period
    outbox.retry_due(senders=senders, now=created + timedelta(seconds=60), kabupaten=["73.07"])
    assert for_row(senders.sms.sent, outbox_id) == []
    outbox.retry_due(senders=senders, now=created + timedelta(minutes=3), kabupaten=["73.07"])
    # Then it is sent once
    assert len(for_row(senders.sms.sent, outbox_id)) == 1


def test_crashed_sender_lease_expires_and_the_row_is_sent_once(senders: outbox.Senders) -> None:
    now = utcnow().replace(microsecond=0)
    outbox_id = new_row(at=now)
    event = inserts([outbox_id])
    # Given a sender that claimed the row and died before recording anything
    assert repo.claim(outbox_id, now, now + outbox.LEASE) is not None
    # When the stream batch is retried while the lease holds, nothing is sent
    assert outbox.handle_stream(event, senders=senders, now=now).count("skipped") == 1
    # Nor when the retry schedule finds it due (past its grace period) while the lease still holds
    assert outbox.retry_due(senders=senders, now=now + timedelta(minutes=3), kabupaten=["73.07"]).count("sent") == 0
    assert for_row(senders.sms.sent, outbox_id) == []
    # Then after the lease the retry schedule sends it
    outbox.retry_due(senders=senders, now=now + outbox.LEASE + timedelta(seconds=1), kabupaten=["73.07"])
    assert len(for_row(senders.sms.sent, outbox_id)) == 1
    assert repo.get(outbox_id).status == "sent"  # type: ignore[union-attr]


def test_notifications_of_another_region_are_not_visible(client: Any) -> None:
    token = staff_token(client, f"operator.{PULAU_HARAPAN}")
    response = get(client, f"/v1/villages/{SAMATARING}/notifications?status=failed", token)
    assert response.status_code == 404
    bad = get(client, f"/v1/villages/{PULAU_HARAPAN}/notifications?status=lost", token)
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid_status"


def test_resend_of_another_village_is_not_found(client: Any, senders: outbox.Senders) -> None:
    outbox_id = new_row()
    senders.sms = FlakyFor(outbox_id, always=True, error=PermanentSendError)
    outbox.handle_stream(inserts([outbox_id]), senders=senders)
    token = staff_token(client, f"operator.{PULAU_HARAPAN}")
    response = post(client, f"/v1/notifications/{outbox_id}/resend", {}, token)
    assert response.status_code == 404
    camat = staff_token(client, "camat.73.07.03")
    assert post(client, f"/v1/notifications/{outbox_id}/resend", {}, camat).status_code == 403
    admin = staff_token(client, "admin")
    assert post(client, f"/v1/notifications/{outbox_id}/resend", {}, admin).status_code == 200


def test_cloud_channels_send_through_sns_and_ses(operator_contacts: None) -> None:
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    from chalicelib.adapters.email import SesEmailSender
    from chalicelib.adapters.sms import SnsSmsSender

    # Given the prod channels (SNS SMS, SES email from a verified sender), on moto
    region = "ap-southeast-3"
    ses = boto3.client("ses", region_name=region)
    ses.verify_email_identity(EmailAddress="noreply@balai.example.id")
    sns_seen = set(sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages)
    ses_seen = len(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)
    cloud = outbox.Senders(sms=SnsSmsSender(boto3.client("sns", region_name=region)),
                           email=SesEmailSender(ses, "noreply@balai.example.id"))
    outbox_id = new_row("new_request", {"kind": "staff", "region": SAMATARING, "role": "operator"})
    # When the stream handler sends the row
    assert outbox.handle_stream(inserts([outbox_id]), senders=cloud).count("sent") == 1
    # Then SNS recorded the SMS and SES the email, as the providers would have sent them
    sms = {k: v for k, v in sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages.items() if k not in sns_seen}
    assert [to for to, _ in sms.values()] == [OPERATOR_PHONE]
    assert "ABCD-EF12" in next(iter(sms.values()))[1]
    (mail,) = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages[ses_seen:]
    assert mail.destinations == {"ToAddresses": [OPERATOR_EMAIL]}
    assert mail.subject == "Permohonan baru: Surat Keterangan Domisili (ABCD-EF12)"


def test_an_operator_on_digest_only_gets_no_alert_per_request_but_the_digest(senders: outbox.Senders,
                                                                             operator_contacts: None) -> None:
    # Given the village's operator chose "digest only"
    save_contact_preferences(OPERATOR, OPERATOR_PHONE, OPERATOR_EMAIL, {"channels": ["sms"], "mode": "digest_only"})
    staff = {"kind": "staff", "region": SAMATARING, "role": "operator"}
    new = new_row("new_request", staff)
    digest = new_row("daily_digest", staff, {"village_name": "Samataring", "waiting": 3, "near_sla": 1, "overdue": 0})
    # When both rows are sent
    outbox.handle_stream(inserts([new, digest]), senders=senders)
    # Then the new request cost no SMS and is sent (held for the digest, not failed); the digest went by SMS
    assert for_row(senders.sms.sent, new) == []
    held = repo.get(new)
    assert held is not None and held.status == "sent" and held.delivered == set()
    (sms,) = for_row(senders.sms.sent, digest)
    assert sms.to == OPERATOR_PHONE and "3 permohonan menunggu" in sms.text


def test_a_transition_row_sends_each_part_once_and_bills_every_send(client: Any, senders: outbox.Senders,
                                                                    operator_contacts: None) -> None:
    from chalicelib.storage import bill

    # Given one row holding a change's two messages: the letter's news to the citizen, a new request to the operators
    outbox_id = transition_row(("issued", CITIZEN), ("new_request", OPERATORS))
    month = utcnow().isoformat()[:7]
    billed_before = bill.get(SAMATARING, month).get("sms", {}).get("count", 0)
    # When the stream handler sends it, and Lambda replays the batch
    batch = inserts([outbox_id])
    assert outbox.handle_stream(batch, senders=senders).count("sent") == 1
    assert outbox.handle_stream(batch, senders=senders).count("skipped") == 1
    # Then the citizen got one SMS (and the inbox), the operator one SMS and one e-mail, each under its part's id
    assert [m.to for m in for_row(senders.sms.sent, outbox_id)] == ["+6281234500001"]
    assert [m.to for m in for_row(senders.sms.sent, f"{outbox_id}-1")] == [OPERATOR_PHONE]
    (mail,) = for_row(senders.email.sent, f"{outbox_id}-1")
    assert mail.subject.startswith("Permohonan baru")
    # And the row is sent after one attempt, its deliveries keyed by part (the first as before parts existed)
    row = repo.get(outbox_id)
    assert row is not None and (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.delivered == {"sms:citizen", "inbox:citizen", f"1/sms:{OPERATOR}", f"1/email:{OPERATOR}"}
    # And the village's bill counts both SMS of the row's one claim
    assert bill.get(SAMATARING, month)["sms"]["count"] == billed_before + 2
    # And staff see the row with both of its messages (event and audience stay the first's)
    token = staff_token(client, OPERATOR)
    listed = get(client, f"/v1/villages/{SAMATARING}/notifications?status=sent&limit=100", token).json_body
    (item,) = [i for i in listed["items"] if i["id"] == outbox_id]
    assert item["event"] == "issued" and item["audience"] == {"kind": "citizen", "phone": "+62******0001"}
    assert item["messages"] == [{"event": "issued", "audience": {"kind": "citizen", "phone": "+62******0001"}},
                                {"event": "new_request", "audience": OPERATORS}]


def test_a_part_that_failed_is_retried_alone(senders: outbox.Senders, operator_contacts: None) -> None:
    # Given a two-part row whose second part's SMS fails once (its e-mail and the citizen's part go through)
    start = utcnow().replace(microsecond=0)
    outbox_id = transition_row(("issued", CITIZEN), ("new_request", OPERATORS), at=start)
    senders.sms = FlakyFor(f"{outbox_id}-1", times=1)
    # When the stream handler sends it
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders, now=start).count("retrying") == 1
    # Then the row waits for its retry, owing only the operator's SMS, and says which part failed
    row = repo.get(outbox_id)
    assert row is not None and (row.status, row.attempts) == ("pending", 1)
    assert (row.last_error or "").startswith(f"1/sms:{OPERATOR}: fake failure 1")
    assert row.delivered == {"sms:citizen", "inbox:citizen", f"1/email:{OPERATOR}"}
    # When the retry schedule runs after the backoff
    later = datetime.fromisoformat(row.next_try_at or "") + timedelta(seconds=1)
    assert outbox.retry_due(senders=senders, now=later, kabupaten=["73.07"]).count("sent") == 1
    # Then only the operator's SMS went out again: the citizen got one SMS, the operator one e-mail
    assert [m.to for m in for_row(senders.sms.sent, outbox_id)] == ["+6281234500001"]
    assert [m.to for m in for_row(senders.sms.sent, f"{outbox_id}-1")] == [OPERATOR_PHONE]
    assert len(for_row(senders.email.sent, f"{outbox_id}-1")) == 1
    final = repo.get(outbox_id)
    assert final is not None and (final.status, final.attempts) == ("sent", 2)


def test_a_part_nobody_receives_fails_the_row_after_the_others_are_sent(senders: outbox.Senders) -> None:
    # Given a row whose second part is for a role nobody in the village holds
    outbox_id = transition_row(("issued", CITIZEN), ("new_request", {"kind": "staff", "region": SAMATARING,
                                                                      "role": "opd"}))
    # When it is sent
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders).count("failed") == 1
    # Then the citizen's part went out, and the row is failed (resendable) naming the part that found nobody
    assert len(for_row(senders.sms.sent, outbox_id)) == 1
    row = repo.get(outbox_id)
    assert row is not None and row.status == "failed"
    assert row.last_error == f"new_request: {outbox.NO_RECIPIENTS}"
    assert row.delivered == {"sms:citizen", "inbox:citizen"}


def test_a_part_held_for_the_digest_does_not_hold_the_others(senders: outbox.Senders,
                                                             operator_contacts: None) -> None:
    # Given an operator on "digest only", and a row telling the citizen and the operators
    save_contact_preferences(OPERATOR, OPERATOR_PHONE, OPERATOR_EMAIL, {"channels": ["sms"], "mode": "digest_only"})
    outbox_id = transition_row(("issued", CITIZEN), ("new_request", OPERATORS))
    # When it is sent
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders).count("sent") == 1
    # Then the citizen's SMS went out, the operator's alert is held for the digest (noted, not failed)
    assert len(for_row(senders.sms.sent, outbox_id)) == 1 and for_row(senders.sms.sent, f"{outbox_id}-1") == []
    row = repo.get(outbox_id)
    assert row is not None and row.status == "sent"
    assert row.last_error == f"new_request: {outbox.HELD_FOR_DIGEST}"


def test_a_part_in_quiet_hours_is_deferred_while_the_citizen_is_told_at_once(senders: outbox.Senders,
                                                                             operator_contacts: None) -> None:
    # Given an operator with quiet hours 21:00-06:00 WITA, and a row written at 23:30 WITA
    save_contact_preferences(OPERATOR, OPERATOR_PHONE, None,
                             {"channels": ["sms"], "quiet_hours": {"start": "21:00", "end": "06:00"}})
    night = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    outbox_id = transition_row(("issued", CITIZEN), ("new_request", OPERATORS), at=night)
    # When it is sent at night
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders, now=night).count("deferred") == 1
    # Then the citizen has it, the operator's part waits for 06:00 WITA
    assert len(for_row(senders.sms.sent, outbox_id)) == 1 and for_row(senders.sms.sent, f"{outbox_id}-1") == []
    row = repo.get(outbox_id)
    assert row is not None and row.status == "pending" and row.next_try_at == "2026-11-24T22:00:00.000+00:00"
    # When the retry schedule runs after 06:00
    outbox.retry_due(senders=senders, now=datetime(2026, 11, 24, 22, 1, tzinfo=UTC), kabupaten=["73.07"])
    # Then the operator's SMS went out and the citizen's was not repeated
    assert len(for_row(senders.sms.sent, outbox_id)) == 1
    assert [m.to for m in for_row(senders.sms.sent, f"{outbox_id}-1")] == [OPERATOR_PHONE]
    assert repo.get(outbox_id).status == "sent"  # type: ignore[union-attr]


def test_a_row_written_by_the_release_before_sends_lists_and_resends_as_one_part(
        client: Any, senders: outbox.Senders) -> None:
    from chalicelib.storage import keys
    from chalicelib.storage.models import OutboxItem

    # Given a row as the release before wrote it: one event, one audience, no parts, to a role nobody holds
    outbox_id = new_id()
    now = iso(utcnow())
    OutboxItem.from_raw_data({
        "PK": {"S": keys.outbox_pk(outbox_id)}, "SK": {"S": keys.META}, "entity": {"S": "outbox"},
        "id": {"S": outbox_id}, "event": {"S": "new_request"}, "village": {"S": SAMATARING},
        "audience": {"M": {"kind": {"S": "staff"}, "region": {"S": SAMATARING}, "role": {"S": "kades"}}},
        "payload": {"M": {k: {"S": v} for k, v in PAYLOAD.items()}}, "request_id": {"S": "R1"},
        "status": {"S": "pending"}, "attempts": {"N": "0"}, "created_at": {"S": now}, "next_try_at": {"S": now},
        "kabupaten": {"S": "73.07"}, "GSI3PK": {"S": keys.outbox_retry_pk("73.07")},
        "GSI3SK": {"S": keys.outbox_retry_sk(now, outbox_id)},
    }).save()
    kades = get_staff(f"kades.{SAMATARING}")
    assert kades is not None
    save_contact_preferences(kades.username, None, None, {"channels": ["sms"]})
    try:
        # When it is sent: nobody reachable, so it fails with the text it always had
        assert outbox.handle_stream(inserts([outbox_id]), senders=senders).count("failed") == 1
        row = repo.get(outbox_id)
        assert row is not None and row.parts == (row.parts[0],) and row.last_error == outbox.NO_RECIPIENTS
        # Then staff list it as one message, and can resend it once the kades has a number
        token = staff_token(client, OPERATOR)
        listed = get(client, f"/v1/villages/{SAMATARING}/notifications?status=failed&limit=100", token).json_body
        (item,) = [i for i in listed["items"] if i["id"] == outbox_id]
        assert item["event"] == "new_request" and item["messages"] == [{"event": "new_request",
                                                                         "audience": item["audience"]}]
        save_contact_preferences(kades.username, "+6281399990000", None, {"channels": ["sms"]})
        old = image(outbox_id)
        assert post(client, f"/v1/notifications/{outbox_id}/resend", {}, token).status_code == 200
        client.lambda_.invoke("on_table_stream", {"Records": [record("MODIFY", image(outbox_id), old)]})
        # And it is sent, keyed as before
        sent = repo.get(outbox_id)
        assert sent is not None and sent.status == "sent" and sent.delivered == {f"sms:{kades.username}"}
        assert [m.to for m in for_row(senders.sms.sent, outbox_id)] == ["+6281399990000"]
    finally:
        save_contact_preferences(kades.username, kades.phone, kades.email, kades.preferences or {})

def _sms_billed(village: str, month: str) -> int:
    from chalicelib.storage import bill

    return bill.get(village, month).get("sms", {}).get("count", 0)


def test_a_claim_that_lost_its_lease_still_bills_what_it_sent(senders: outbox.Senders) -> None:
    # Given a row claimed by a sender that then sends its SMS too late: another sender took the row over
    now = utcnow().replace(microsecond=0)
    outbox_id = new_row(at=now)
    month = iso(now)[:7]
    billed = _sms_billed(SAMATARING, month)
    slow = repo.claim(outbox_id, now, now + outbox.LEASE)
    assert slow is not None
    later = now + outbox.LEASE + timedelta(seconds=1)
    assert outbox.send_rows([outbox_id], senders=senders, now=later).count("sent") == 1
    # When the slow sender records its (second) SMS
    usage = {"sms": repo.Usage(count=1, units=1, cost_micros=41_600)}
    assert repo.finish(slow, now, status="sent", attempts=1, delivered={"sms:x"}, usage=usage) is False
    # Then its outcome is refused but both SMS are on the bill: the provider charges both
    assert _sms_billed(SAMATARING, month) - billed == 2
    assert repo.get(outbox_id).status == "sent"  # type: ignore[union-attr]


def test_a_bill_that_cannot_be_written_does_not_hold_the_outcome(senders: outbox.Senders,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.errors import ExternalServiceError
    from chalicelib.storage import bill

    def refuse(*_: Any, **__: Any) -> None:
        raise ExternalServiceError("Basis data tidak dapat diakses.", code="storage_error")

    # Given a bill item the table refuses to update
    monkeypatch.setattr(bill, "record", refuse)
    outbox_id = new_row()
    # When the row is sent
    assert outbox.handle_stream(inserts([outbox_id]), senders=senders).count("sent") == 1
    # Then the row is finished (no second SMS after the lease) although the bill missed it
    assert repo.get(outbox_id).status == "sent"  # type: ignore[union-attr]
    assert len(for_row(senders.sms.sent, outbox_id)) == 1

"""The attachment retention rule (pure): when a closed request's file is deleted, never while it is open."""

from datetime import UTC, datetime, timedelta

from chalicelib.domain.attachments import attachment_expires_at, uploaded_at
from chalicelib.domain.ids import new_id


def test_an_upload_id_carries_its_upload_time() -> None:
    # Given an id made now
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    uid = new_id()
    # Then its time is read back to the millisecond; a non-ULID id has none
    assert before <= uploaded_at(uid) <= datetime.now(UTC)  # type: ignore[operator]
    assert uploaded_at("not-a-ulid") is None and uploaded_at("u" * 26) is None


def test_an_open_request_keeps_its_files() -> None:
    # Given a file of a request that is still open
    # Then no deletion time exists
    assert attachment_expires_at(new_id(), None, 30) is None


def test_a_closed_request_loses_its_files_retention_days_after_upload_not_before_closing() -> None:
    uid = new_id()
    uploaded = uploaded_at(uid)
    assert uploaded is not None
    # Given a request closed two days after the upload: deleted 30 days after the upload
    assert attachment_expires_at(uid, uploaded + timedelta(days=2), 30) == uploaded + timedelta(days=30)
    # Given one closed after 45 days: deleted when it closes (the lifecycle's next run), never while open
    closed = uploaded + timedelta(days=45)
    assert attachment_expires_at(uid, closed, 30) == closed

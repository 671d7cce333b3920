"""The stream handler's retention part: delete a closed request's attachments when DynamoDB's TTL removes the
retention item that named them (services/attachments.release wrote it when the request closed)."""

from __future__ import annotations

from typing import Any

from chalicelib.storage.codec import stream_records
from chalicelib.storage.retention import expired_files


def handle_stream(event: Any) -> int:
    """Delete the files of every retention item the batch shows expiring; returns how many. A failure raises, so
    the batch is delivered again (a second delete of a file already gone changes nothing)."""
    from chalicelib.services import attachments

    keys = [key for record in stream_records(event) for key in expired_files(record)]
    if keys:
        attachments.delete_expired(keys)
    return len(keys)

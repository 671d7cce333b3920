"""The stream handler's file-deleting part, on DynamoDB's TTL removals only:
- a closed request's attachments, when the retention item that named them expires (services/attachments.release
  wrote it when the request closed);
- an upload no submission used, when its upload item expires (a day after it was presigned): its file was written
  straight to its final key, and only a submission's mark (`used`) keeps it."""

from __future__ import annotations

from typing import Any

from chalicelib.storage.codec import stream_records
from chalicelib.storage.retention import expired_files
from chalicelib.storage.uploads import unused_expired_file


def handle_stream(event: Any) -> int:
    """Delete the files of every retention item and every unused upload the batch shows expiring; returns how many.
    A failure raises, so the batch is delivered again (a second delete of a file already gone changes nothing)."""
    from chalicelib.services import attachments

    records = stream_records(event)
    keys = [key for record in records for key in expired_files(record)]
    unused = [key for key in (unused_expired_file(record) for record in records) if key]
    if keys:
        attachments.delete_expired(keys)
    if unused:
        attachments.delete_unused(unused)
    return len(keys) + len(unused)

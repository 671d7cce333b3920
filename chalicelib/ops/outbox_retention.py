"""`expire-outbox`: give outbox rows finished before the retention existed their TTL (Queries on known keys)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.config import get_settings
from chalicelib.storage import outbox, regions
from chalicelib.storage.outbox import FINISHED


def villages_of(kabupaten: str) -> list[str]:
    """Every desa/kelurahan of the kabupaten, active or not (an inactive village may hold old rows)."""
    return [v.code for kec in regions.children(kabupaten) for v in regions.children(kec.code)]


def expire_finished(kabupaten: str) -> dict[str, int]:
    """Set expires_at = finished time + BALAI_OUTBOX_RETENTION_DAYS on every sent or failed row of the
    kabupaten's villages that has none; a row already past that is deleted by DynamoDB's TTL within days.
    Returns {status: rows given a TTL}. Safe to run again: rows with a TTL are left as they are."""
    keep = timedelta(days=get_settings().outbox_retention_days)
    done = {status: 0 for status in FINISHED}
    for village in villages_of(kabupaten):
        for status in FINISHED:
            for outbox_id, finished in list(outbox.finished_without_expiry(village, status)):
                done[status] += outbox.set_expiry(outbox_id, status, finished + keep)
    return done

"""Hand-built DynamoDB stream events (Chalice's test client has no generator for them)."""

from __future__ import annotations

from typing import Any

from chalicelib.config import get_settings
from chalicelib.storage import keys
from chalicelib.storage.models import OutboxItem

_SEQUENCE = [1000]


def image(outbox_id: str) -> dict[str, Any]:
    """The row as DynamoDB JSON, the way a NEW_AND_OLD_IMAGES stream record carries it."""
    return OutboxItem.get(keys.outbox_pk(outbox_id), keys.META, consistent_read=True).serialize()


def record(event_name: str, new_image: dict[str, Any], old_image: dict[str, Any] | None = None) -> dict[str, Any]:
    _SEQUENCE[0] += 1
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_795_000_000.0,
        "Keys": {"PK": new_image["PK"], "SK": new_image["SK"]},
        "NewImage": new_image,
        "SequenceNumber": str(_SEQUENCE[0]).zfill(21),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old_image is not None:
        ddb["OldImage"] = old_image
    return {"eventID": f"ev-{_SEQUENCE[0]}", "eventName": event_name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": get_settings().aws_region,
            "eventSourceARN": get_settings().stream_arn, "dynamodb": ddb}


def inserts(outbox_ids: list[str]) -> dict[str, Any]:
    return {"Records": [record("INSERT", image(i)) for i in outbox_ids]}

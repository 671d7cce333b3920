"""The single DynamoDB table: the base PynamoDB model every entity model extends.

Key layout (built only in storage/keys.py):
  PK / SK          the item's own key
  GSI1PK / GSI1SK  lists by parent (children of a region, a village's queue, staff of a region)
  GSI2PK / GSI2SK  lists by parent and status (a village's queue filtered by status, outbox by status)
  GSI3PK / GSI3SK  lists by owner (a citizen's requests and complaints), the outbox retry index
  GSI4PK / GSI4SK  due-time index (open requests by due_at per kabupaten, for SLA reminders)
  expires_at       TTL (OTP codes, idempotency guards, sessions, finished outbox rows, ...)
Every index holds only the keys (KEYS_ONLY): items change often (every transition rewrites a request, every
refresh a session) while their index keys rarely do, and DynamoDB writes a KEYS_ONLY index only when an item
enters it, leaves it or changes its index key, at the size of its keys (an ALL index rewrote a ~2.4 KB copy of
a request at every change, twice where the key moved, and stored it again). Readers fetch the items they list
by key (codec.full_items / codec.indexed_items, one BatchGetItem per page). The stream is NEW_AND_OLD_IMAGES
(outbox sender, aggregates).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import get_settings

_settings = get_settings()


class _Meta:
    table_name = _settings.table_name
    region = _settings.aws_region
    host = _settings.dynamodb_endpoint
    billing_mode = "PAY_PER_REQUEST"
    stream_view_type = "NEW_AND_OLD_IMAGES"
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5


class GSI1Index(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI1"
        projection = KeysOnlyProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2Index(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI2"
        projection = KeysOnlyProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class GSI3Index(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI3"
        projection = KeysOnlyProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class GSI4Index(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI4"
        projection = KeysOnlyProjection()

    GSI4PK = UnicodeAttribute(hash_key=True)
    GSI4SK = UnicodeAttribute(range_key=True)


class BaseItem(Model):
    """Attributes every item of the table may carry; entity models subclass it."""

    # PynamoDB's metaclass fills in the MetaProtocol attributes _Meta leaves to their defaults (tags,
    # extra_headers ...), which mypy cannot see on the plain class.
    Meta = _Meta  # type: ignore[assignment]

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)
    GSI4SK = UnicodeAttribute(null=True)
    entity = UnicodeAttribute(null=True)

    gsi1 = GSI1Index()
    gsi2 = GSI2Index()
    gsi3 = GSI3Index()
    gsi4 = GSI4Index()


def create_table(wait: bool = True) -> None:
    """Create the table with its indexes, stream and TTL if it does not exist (local, tests, ops)."""
    from chalicelib.storage.models import TTLItem

    if not TTLItem.exists():
        TTLItem.create_table(wait=wait, billing_mode="PAY_PER_REQUEST")
    TTLItem.update_ttl(ignore_update_ttl_errors=True)


def connection_client() -> Any:
    """The botocore client PynamoDB uses (benchmarks hook it to count calls)."""
    return BaseItem._get_connection().connection.client

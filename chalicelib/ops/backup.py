"""Export one village's items to JSON Lines (S3 or a file) by Queries on known keys, and restore them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.domain.regions import kabupaten_of
from chalicelib.storage import keys

FORMAT = "balai-village-backup"
VERSION = 1
BATCH = 25  # BatchWriteItem's limit
# The statuses outbox rows are indexed under (GSI2 OUTBOX_IN#{desa}#{status}); a "sending" row stays under
# "pending". Same as domain.notifications.LISTED_STATUSES (the backup test checks they agree).
OUTBOX_STATUSES = ("pending", "sent", "failed")


def _raw_client() -> Any:
    """The botocore DynamoDB client PynamoDB uses: same endpoint, region and retries as the app."""
    from chalicelib.storage.table import connection_client

    return connection_client()


class VillageExporter:
    """Reads every item of one village with GetItem and Query on the keys storage/keys.py builds (never a table scan).

    What belongs to a village: its region item; its requests (GSI1 QUEUE#{desa}) with their whole
    partition (request, audit events); each request's tracking item, citizen profile and letter with its shared
    printed document (LETTER_DOC#{hash}); the letter counters those letters used; its outbox rows
    (GSI2 OUTBOX_IN#{desa}#{status}); its staff
    (GSI1 STAFF_IN#{desa}); its resident register (RESIDENT#{desa}) with each resident's audit entries
    (RESIDENT_HISTORY#{desa}#{hash}). Short-lived items (OTP codes, idempotency guards) are left out: they expire
    within hours and carry nothing worth restoring.
    """

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.seen: set[tuple[str, str]] = set()

    def _query(self, pk: str, index: str | None = None) -> Iterator[dict[str, Any]]:
        pk_name = f"{index}PK" if index else "PK"
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "#pk = :pk",
                                  "ExpressionAttributeNames": {"#pk": pk_name},
                                  "ExpressionAttributeValues": {":pk": {"S": pk}}}
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = True
        while True:
            page = self.client.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key={"PK": {"S": pk}, "SK": {"S": sk}},
                                    ConsistentRead=True).get("Item")
        return dict(item) if item else None

    def _keep(self, item: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        if item is None:
            return
        key = (item["PK"]["S"], item["SK"]["S"])
        if key not in self.seen:  # an item reached twice (e.g. a citizen with two requests) is written once
            self.seen.add(key)
            yield item

    def items(self, village: str) -> Iterator[dict[str, Any]]:
        region = self._get(keys.region_pk(village), keys.META)
        if region is None:
            raise ValueError(f"no region {village} in table {self.table}")
        yield from self._keep(region)
        counters: set[str] = set()
        # Index items carry the base table's key, but an index is eventually consistent and projects
        # what the item held then: read each request's partition from the table itself.
        for entry in self._query(keys.village_queue_pk(village), index="GSI1"):
            partition = list(self._query(entry["PK"]["S"]))
            for item in partition:
                yield from self._keep(item)
            request = next((i for i in partition if i["SK"]["S"] == keys.META), None)
            if request is None:
                continue
            yield from self._keep(self._get(keys.tracking_pk(request["tracking_code"]["S"]), keys.META))
            yield from self._keep(self._get(keys.citizen_pk(request["nik_hash"]["S"]), keys.PROFILE))
            letter_id = request.get("letter", {}).get("M", {}).get("id", {}).get("S")
            if letter_id:
                letter = self._get(keys.letter_pk(letter_id), keys.META)
                yield from self._keep(letter)
                # What the letter printed besides the applicant's data is one shared item (storage/letters.py):
                # without it a restored letter can be neither shown nor rendered again
                ref = (letter or {}).get("document", {}).get("M", {}).get("ref", {}).get("S")
                if ref:
                    yield from self._keep(self._get(keys.letter_document_pk(ref), keys.META))
                if letter is not None:
                    counters.add(keys.letter_counter_pk(village, letter["counter_scope"]["S"],
                                                        int(letter["year"]["N"])))
        for pk in sorted(counters):
            yield from self._keep(self._get(pk, keys.META))
        for status in OUTBOX_STATUSES:
            for entry in self._query(keys.outbox_status_pk(village, status), index="GSI2"):
                yield from self._keep(self._get(entry["PK"]["S"], entry["SK"]["S"]))
        # A row not yet tried enters its village's list with its first outcome: until then it is only in its
        # kabupaten's retry index (keys only), read here and kept when it is this village's.
        for entry in self._query(keys.outbox_retry_pk(kabupaten_of(village)), index="GSI3"):
            row = self._get(entry["PK"]["S"], entry["SK"]["S"])
            if row is not None and row.get("village", {}).get("S") == village:
                yield from self._keep(row)
        for entry in self._query(keys.staff_region_pk(village), index="GSI1"):
            yield from self._keep(self._get(entry["PK"]["S"], entry["SK"]["S"]))
        # The resident register: its partition, and each resident's audit partition.
        for resident in self._query(keys.resident_pk(village)):
            yield from self._keep(resident)
            nik_hash = resident["SK"]["S"].split("#", 1)[1]
            for entry in self._query(keys.resident_history_pk(village, nik_hash)):
                yield from self._keep(entry)


def export_village(village: str, client: Any | None = None, table: str | None = None) -> list[str]:
    """The backup as lines: a header, then one DynamoDB-JSON item per line (types kept exactly)."""
    from chalicelib.config import get_settings

    table = table or get_settings().table_name
    items = list(VillageExporter(client or _raw_client(), table).items(village))
    header = {"format": FORMAT, "version": VERSION, "village": village, "table": table, "items": len(items),
              "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return [json.dumps(header, sort_keys=True)] + [json.dumps(item, sort_keys=True) for item in items]


def parse_backup(lines: Iterable[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, items) of a backup; raises ValueError if it is not one or lost lines on the way."""
    rows = [line for line in lines if line.strip()]
    if not rows:
        raise ValueError("empty backup")
    header = json.loads(rows[0])
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ValueError("not a Balai village backup (or a newer version)")
    items = [json.loads(row) for row in rows[1:]]
    if len(items) != header["items"]:
        raise ValueError(f"backup truncated: header says {header['items']} items, found {len(items)}")
    return header, items


def restore_items(items: list[dict[str, Any]], client: Any | None = None, table: str | None = None) -> int:
    """Put every item back with BatchWriteItem (a put replaces the whole item, so a second run of the same
    backup leaves the table unchanged). Returns the number of items written."""
    from chalicelib.config import get_settings

    client = client or _raw_client()
    table = table or get_settings().table_name
    for start in range(0, len(items), BATCH):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + BATCH]]
        delay = 0.05
        while requests:
            unprocessed = client.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = unprocessed.get(table, [])
            if requests:  # throttled: back off, then send only what was left
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
    return len(items)


# ------------------------------------------------------------------------------------ where backups live


def _split_s3(url: str) -> tuple[str, str]:
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url}")
    return bucket, key


def _s3_client() -> Any:
    import boto3

    from chalicelib.config import get_settings

    settings = get_settings()
    return boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint)


def backup_target(destination: str, village: str, now: datetime | None = None) -> str:
    """A file or key ending in .jsonl is used as given; anything else is a folder/prefix that gets
    `<village>/<UTC timestamp>.jsonl` appended, so exports never overwrite each other."""
    if destination.endswith(".jsonl"):
        return destination
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{destination.rstrip('/')}/{village}/{stamp}.jsonl"


def write_backup(target: str, lines: list[str], s3: Any | None = None) -> None:
    body = "\n".join(lines) + "\n"
    if target.startswith("s3://"):
        bucket, key = _split_s3(target)
        (s3 or _s3_client()).put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson",
                                         ServerSideEncryption="AES256")
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o600)  # citizens' personal data


def read_backup(source: str, s3: Any | None = None) -> list[str]:
    if source.startswith("s3://"):
        bucket, key = _split_s3(source)
        body = (s3 or _s3_client()).get_object(Bucket=bucket, Key=key)["Body"].read()
        return str(body.decode()).splitlines()
    return Path(source).read_text().splitlines()

"""Operator CLI: a village exported to JSON Lines (file and S3) restores exactly into an empty table; letter keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.ops import backup
from chalicelib.ops.__main__ import main
from chalicelib.storage.table import connection_client
from tests.letters_support import approved, issue

VILLAGE = "73.07.09.2002"  # Pulau Buhung Pitue: no other test writes to it
SPARE_TABLE = "balai-test-restore"


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["PK"]["S"], item["SK"]["S"]


def _all_items(table: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of a table (a test may Scan; the export itself never does)."""
    client = connection_client()
    items, kwargs = {}, {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items.update({_key(i): i for i in page["Items"]})
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture()
def empty_table() -> Iterator[str]:
    """A fresh table with the same keys and indexes as the app's (what a restore target looks like)."""
    client = connection_client()
    source = client.describe_table(TableName="balai-test")["Table"]
    client.create_table(
        TableName=SPARE_TABLE, BillingMode="PAY_PER_REQUEST", KeySchema=source["KeySchema"],
        AttributeDefinitions=source["AttributeDefinitions"],
        GlobalSecondaryIndexes=[{"IndexName": g["IndexName"], "KeySchema": g["KeySchema"],
                                 "Projection": g["Projection"]} for g in source["GlobalSecondaryIndexes"]])
    yield SPARE_TABLE
    client.delete_table(TableName=SPARE_TABLE)


@pytest.fixture(scope="module")
def village_with_history() -> list[str]:
    """Two citizens' requests in the village: one issued (letter, counter, outbox rows), one only submitted."""
    from chalicelib.ops.__main__ import main as ops
    from chalicelib.services import requests as svc
    from tests.conftest import SKD_FIELDS, service_attachments
    from tests.letters_support import citizen_principal

    assert ops(["create-staff", "operator.extra", "--region", VILLAGE, "--role", "operator", "--name", "Op Extra",
                "--password", "balai-demo-123"]) == 0
    from chalice.test import Client

    import app as app_module
    from tests.helpers import citizen_login, complete_profile

    with Client(app_module.app) as c:
        first, second = citizen_login(c), citizen_login(c)
        complete_profile(c, first)
        complete_profile(c, second)
    from tests.helpers import register_resident

    register_resident(first, VILLAGE)  # the register and its audit entry belong to the backup too
    issued = issue(approved(first, VILLAGE))
    who = citizen_principal(second)
    pending, _ = svc.submit(who, VILLAGE, "SKD", SKD_FIELDS, None, service_attachments(who, VILLAGE))
    return [issued.id, pending.id]


def test_export_reads_every_item_of_the_village_and_nothing_else(village_with_history: list[str]) -> None:
    # Given a village with an issued and a pending request
    # When it is exported
    header, items = backup.parse_backup(backup.export_village(VILLAGE))
    keys = {_key(i) for i in items}
    # Then the backup holds the region, both request partitions with their events, tracking items,
    # the citizens' profiles, the letter and its counter, outbox rows and the village's staff
    assert header["village"] == VILLAGE and header["items"] == len(items) == len(keys)
    everything = _all_items("balai-test")
    for request_id in village_with_history:
        partition = {k for k in everything if k[0] == f"REQ#{request_id}"}
        assert partition and partition <= keys
    prefixes = {k[0].split("#")[0] for k in keys}
    assert {"REGION", "REQ", "TRACK", "CITIZEN", "LETTER", "LETTER_DOC", "COUNTER", "OUTBOX", "STAFF", "RESIDENT",
            "RESIDENT_HISTORY"} <= prefixes
    assert ("STAFF#operator.extra", "META") in keys
    # and each item exactly as the table holds it, none from another village
    for key in keys:
        assert everything[key] == next(i for i in items if _key(i) == key)
    villages = {i["village"]["S"] for i in items if "village" in i}
    assert villages == {VILLAGE}


def test_restore_into_an_empty_table_gives_the_same_items(village_with_history: list[str], empty_table: str,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an export to a local file through the CLI
    assert main(["export-village", VILLAGE, str(tmp_path / "b")]) == 0
    (path,) = (tmp_path / "b" / VILLAGE).glob("*.jsonl")
    header, exported = backup.parse_backup(path.read_text().splitlines())
    # When it is restored into an empty table, twice (idempotent)
    assert main(["restore-village", str(path), "--table", empty_table, "--village", VILLAGE]) == 0
    assert main(["restore-village", str(path), "--table", empty_table]) == 0
    # Then the table holds exactly the exported items, attribute for attribute, types included
    restored = _all_items(empty_table)
    assert restored == {_key(i): i for i in exported}
    assert f"{header['items']} items of {VILLAGE}" in capsys.readouterr().out


def test_export_to_s3_and_restore_from_it(village_with_history: list[str], empty_table: str) -> None:
    # Given a backup bucket (moto)
    s3 = boto3.client("s3", region_name="ap-southeast-3")
    s3.create_bucket(Bucket="balai-backups", CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
    # When a village is exported to s3://… and restored from there into the empty table
    assert main(["export-village", VILLAGE, "s3://balai-backups/backups"]) == 0
    (obj,) = s3.list_objects_v2(Bucket="balai-backups", Prefix=f"backups/{VILLAGE}/")["Contents"]
    assert obj["Key"].endswith(".jsonl")
    assert main(["restore-village", f"s3://balai-backups/{obj['Key']}", "--table", empty_table]) == 0
    # Then the restored table equals the source's items of that village
    source = {_key(i): i for i in backup.parse_backup(backup.export_village(VILLAGE))[1]}
    assert _all_items(empty_table) == source


def test_restore_refuses_a_truncated_or_foreign_file(tmp_path: Path, village_with_history: list[str]) -> None:
    lines = backup.export_village(VILLAGE)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-1]) + "\n")
    assert main(["restore-village", str(cut), "--table", SPARE_TABLE]) == 2
    whole = tmp_path / "whole.jsonl"
    whole.write_text("\n".join(lines) + "\n")
    assert main(["restore-village", str(whole), "--village", "73.07.03.1001"]) == 2


def test_export_knows_every_outbox_status() -> None:
    notifications = pytest.importorskip("chalicelib.domain.notifications")
    assert set(backup.OUTBOX_STATUSES) == set(notifications.LISTED_STATUSES)


def test_export_of_an_unknown_village_fails() -> None:
    assert main(["export-village", "73.07.09.2999", "/tmp/never"]) == 2


# ------------------------------------------------------------------------------------ letter keys


def _sign_and_verify(keyring_json: str, token: str | None = None) -> tuple[str, bool]:
    from chalicelib.adapters.signing import LetterKeyring, sign_letter, verify_signature

    keyring = LetterKeyring.from_json(keyring_json)
    facts = {"letter_id": "L1", "number": "470/001/DS-2001/XI/2026"}
    token = token or sign_letter(keyring, facts)
    return token, verify_signature(keyring, token)


def test_init_then_rotate_in_an_ssm_securestring_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import config

    # Given the stack's LetterKeysParameterArn: a SecureString parameter nobody has written yet
    ssm = boto3.client("ssm", region_name="ap-southeast-3")
    arn = "arn:aws:ssm:ap-southeast-3:123456789012:parameter/balai/test/letter-keys"
    monkeypatch.setenv("BALAI_LETTER_KEYS_ARN", arn)

    def stored() -> str:
        parameter = ssm.get_parameter(Name="/balai/test/letter-keys", WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
        return str(parameter["Value"])

    config.reset_caches()
    try:
        # When init runs twice, the second run keeps the first key
        assert main(["init-letter-keys"]) == 0
        first = stored()
        assert main(["init-letter-keys"]) == 0
        assert stored() == first
        token, ok = _sign_and_verify(first)
        assert ok
        # When the keys are rotated
        assert main(["rotate-letter-keys"]) == 0
        rotated = json.loads(stored())
        old_kid = json.loads(first)["active"]
        # Then a new key is active, the old one kept only its public half, and old letters still verify
        assert rotated["active"] != old_kid
        assert rotated["keys"][old_kid]["private"] is None and rotated["keys"][old_kid]["public"]
        assert _sign_and_verify(json.dumps(rotated), token)[1]
        assert _sign_and_verify(json.dumps(rotated))[1]
    finally:
        monkeypatch.delenv("BALAI_LETTER_KEYS_ARN")
        config.reset_caches()


def test_local_keyring_file(tmp_path: Path) -> None:
    from chalicelib.ops.letter_keys import FileKeyringStore, init_keys, rotate_keys

    store = FileKeyringStore(tmp_path / "letter-keys.json")
    with pytest.raises(ValueError):
        rotate_keys(store)
    created, kid = init_keys(store)
    assert created and (tmp_path / "letter-keys.json").stat().st_mode & 0o777 == 0o600
    assert init_keys(store) == (False, kid)
    old, new, kids = rotate_keys(store)
    assert old == kid and new != kid and kids == sorted([kid, new])

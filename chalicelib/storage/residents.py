"""Repository of the resident register: residents keyed by village + NIK hash, their audit entries, writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.domain.residents import Resident, sort_name
from chalicelib.errors import ConflictError
from chalicelib.storage import keys
from chalicelib.storage.codec import indexed_items, page, plain
from chalicelib.storage.connection import translate_errors
from chalicelib.storage.models import ResidentAuditItem, ResidentItem
from chalicelib.storage.transaction import Transaction, TransactionCancelled

# DynamoDB takes up to 100 items in one transaction: a resident and its audit entry make two.
WRITES_PER_TRANSACTION = 50


@dataclass
class AuditEntry:
    entry_id: str
    at: str
    actor: str
    actor_role: str
    action: str  # "create" or "update"
    source: str  # "import", "manual" or "seed"
    changes: dict[str, Any]
    version: int
    nik_masked: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "actor": self.actor, "actor_role": self.actor_role, "action": self.action,
                "source": self.source, "changes": self.changes, "version": self.version, "nik": self.nik_masked}


@dataclass
class ResidentWrite:
    """A new resident (expected_version None) or a change to the version the writer read."""

    resident: Resident
    expected_version: int | None
    audit: AuditEntry


def _to_item(r: Resident) -> ResidentItem:
    return ResidentItem(
        keys.resident_pk(r.village), keys.resident_sk(r.nik_hash), entity="resident", village=r.village, nik=r.nik,
        data={k: v for k, v in r.data.items() if v not in (None, "")}, version=r.version, created_at=r.created_at,
        updated_at=r.updated_at, updated_by=r.updated_by,
        GSI1PK=keys.residents_by_name_pk(r.village),
        GSI1SK=f"{sort_name(str(r.data.get('name') or ''))}#{r.nik_hash}",
        GSI2PK=keys.resident_nik_pk(r.nik_hash), GSI2SK=r.village,
    )


def from_item(item: ResidentItem) -> Resident:
    return Resident(village=item.village, nik_hash=item.SK.split("#", 1)[1], nik=item.nik,
                    data=plain(item.data) or {}, version=int(item.version or 1), created_at=item.created_at,
                    updated_at=item.updated_at, updated_by=item.updated_by)


def _audit_item(r: Resident, a: AuditEntry) -> ResidentAuditItem:
    return ResidentAuditItem(
        keys.resident_history_pk(r.village, r.nik_hash), keys.resident_audit_sk(a.at, a.entry_id),
        # The village and NIK hash are in its partition key and the time in its sort key: not stored again (an entry
        # per resident is kept for good; entries written before issue 14 carry all three)
        entity="resident_audit", nik_masked=a.nik_masked, actor=a.actor,
        actor_role=a.actor_role, action=a.action, source=a.source, changes=a.changes or None, version=a.version,
    )


def _audit_from_item(item: ResidentAuditItem) -> AuditEntry:
    at, entry_id = item.SK.rsplit("#", 1)
    return AuditEntry(entry_id=entry_id, at=item.at or at, actor=item.actor, actor_role=item.actor_role,
                      action=item.action, source=item.source, changes=plain(item.changes) or {},
                      version=int(item.version), nik_masked=item.nik_masked)


def get(village: str, nik_hash: str, consistent: bool = True) -> Resident | None:
    try:
        return from_item(ResidentItem.get(keys.resident_pk(village), keys.resident_sk(nik_hash),
                                           consistent_read=consistent))
    except DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def registered_in(nik_hash: str) -> list[Resident]:
    """Every village register holding this NIK (normally one), most recently changed first."""
    try:
        found = [from_item(i) for i in indexed_items(ResidentItem.gsi2, keys.resident_nik_pk(nik_hash))]
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc
    return sorted(found, key=lambda r: r.updated_at, reverse=True)


def get_many(village: str, nik_hashes: list[str]) -> dict[str, Resident]:
    """The residents of one village among these NIK hashes (BatchGetItem, 100 keys a call): an import reads
    only the rows its file names, not the whole register."""
    try:
        items = ResidentItem.batch_get([(keys.resident_pk(village), keys.resident_sk(h)) for h in nik_hashes],
                                       consistent_read=True)
        return {r.nik_hash: r for r in (from_item(i) for i in items)}
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def list_by_name(village: str, limit: int, cursor: str | None) -> tuple[list[Resident], str | None]:
    pk = keys.residents_by_name_pk(village)
    try:
        # By name, A to Z (the index's sort key is the sort name).
        return page(ResidentItem.gsi1, "GSI1PK", pk, limit, cursor, from_item, newest_first=False)
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def audit_of(village: str, nik_hash: str) -> list[AuditEntry]:
    try:
        items = ResidentAuditItem.query(keys.resident_history_pk(village, nik_hash), consistent_read=True)
        return [_audit_from_item(i) for i in items]
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def write(writes: list[ResidentWrite]) -> None:
    """Write residents with their audit entries in one transaction (at most WRITES_PER_TRANSACTION).

    A new resident is written only if absent, a change only if nobody wrote it since it was read.
    Raises ConflictError(stale_version) when any of them lost such a race: nothing is written then.
    """
    if len(writes) > WRITES_PER_TRANSACTION:
        raise ValueError("too many writes for one transaction")
    tx = Transaction()
    for w in writes:
        condition = (ResidentItem.PK.does_not_exist() if w.expected_version is None
                     else ResidentItem.version == w.expected_version)
        tx.put(_to_item(w.resident), "resident", condition)
        tx.put(_audit_item(w.resident, w.audit), "resident_audit", ResidentAuditItem.SK.does_not_exist())
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        # Any resident or audit entry written meanwhile (or being written right now) by someone else.
        if any(f.code in ("ConditionalCheckFailed", "TransactionConflict") for f in cancelled.failures):
            raise ConflictError("Data penduduk telah diubah oleh orang lain; muat ulang dan coba lagi.",
                                code="stale_version") from cancelled.cause
        raise translate_errors(cancelled.cause) from cancelled.cause
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc


def put_many(residents: list[Resident]) -> None:
    """Batch-write residents without audit entries or conditions (demo data seeding only)."""
    with ResidentItem.batch_write() as batch:
        for r in residents:
            batch.save(_to_item(r))

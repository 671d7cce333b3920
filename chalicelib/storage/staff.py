"""Repository of staff account changes: each change and its audit event in one transaction, version-checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.storage import keys
from chalicelib.storage.connection import query_partition, translate_errors
from chalicelib.storage.models import StaffEventItem, StaffItem
from chalicelib.storage.people import Staff, staff_item
from chalicelib.storage.transaction import Transaction, TransactionCancelled


@dataclass(frozen=True)
class StaffEvent:
    at: str
    actor: str
    actor_role: str
    action: str  # create, update_profile, disable, enable, password_reset, password_change
    changes: tuple[str, ...] = ()

    def to_dict(self, version: int) -> dict[str, Any]:
        return {"at": self.at, "actor": self.actor, "actor_role": self.actor_role, "action": self.action,
                "changes": list(self.changes), "version": version}


@dataclass(frozen=True)
class SessionState:
    active: bool
    session_version: int


def _event_item(username: str, event: StaffEvent, version: int) -> StaffEventItem:
    return StaffEventItem(keys.staff_pk(username), keys.event_sk(event.at, version), entity="staff_event",
                          at=event.at, actor=event.actor, actor_role=event.actor_role, action=event.action,
                          changes=set(event.changes) or None, version=version)


def _stale() -> ConflictError:
    return ConflictError("Akun petugas telah diubah; muat ulang dan coba lagi.", code="stale_version")


def _commit(tx: Transaction) -> bool:
    """Commit; False when the account's condition failed (read by the item's purpose, not its position)."""
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if cancelled.failed("staff_account"):
            return False
        raise translate_errors(cancelled.cause) from cancelled.cause
    except PynamoDBException as exc:
        raise translate_errors(exc) from exc
    return True


def create(staff: Staff, event: StaffEvent) -> None:
    """Create the account with its first audit event. Raises ConflictError(username_taken)."""
    tx = Transaction()
    tx.put(staff_item(staff, event.at), "staff_account", StaffItem.PK.does_not_exist())
    tx.put(_event_item(staff.username, event, staff.version), "staff_event")
    if not _commit(tx):
        raise ConflictError("Nama pengguna sudah dipakai.", code="username_taken")


def update(username: str, expected_version: int, event: StaffEvent, *, name: str | None = None,
           position: str | None = None, nip: str | None = None, clear_nip: bool = False,
           active: bool | None = None, password_hash: str | None = None,
           end_sessions: bool = False) -> int:
    """Change the given attributes if the account is still at `expected_version`; ending sessions raises
    `session_version`, so every token issued before is refused from the next request on.

    Returns the new version. Raises NotFoundError(staff_not_found), ConflictError(stale_version).
    """
    new_version = expected_version + 1
    actions: list[Any] = [StaffItem.version.set(new_version), StaffItem.updated_at.set(event.at)]
    if name is not None:
        actions.append(StaffItem.name.set(name))
    if position is not None:
        actions.append(StaffItem.position.set(position))
    if nip is not None:
        actions.append(StaffItem.nip.set(nip))
    elif clear_nip:
        actions.append(StaffItem.nip.remove())
    if active is not None:
        actions.append(StaffItem.active.set(active))
    if password_hash is not None:
        actions.append(StaffItem.password_hash.set(password_hash))
    if end_sessions:
        actions.append(StaffItem.session_version.add(1))
    item = StaffItem(keys.staff_pk(username), keys.META)
    # Accounts created before profiles existed have no version attribute: they count as version 1.
    version_ok = (StaffItem.version == expected_version)
    if expected_version == 1:
        version_ok = version_ok | StaffItem.version.does_not_exist()
    tx = Transaction()
    tx.update(item, actions, "staff_account", StaffItem.PK.exists() & version_ok)
    tx.put(_event_item(username, event, new_version), "staff_event")
    if not _commit(tx):
        if session_state(username) is None:
            raise NotFoundError("Akun petugas tidak ditemukan.", code="staff_not_found")
        raise _stale()
    return new_version


def session_state(username: str) -> SessionState | None:
    """The two attributes a token check needs, in one GetItem (projection keeps it small)."""
    try:
        item = StaffItem.get(keys.staff_pk(username), keys.META,
                             attributes_to_get=["active", "session_version"])
    except DoesNotExist:
        return None
    return SessionState(active=bool(item.active), session_version=int(item.session_version or 1))


def history(username: str) -> list[dict[str, Any]]:
    """The account's audit events, oldest first (one Query of its partition)."""
    events = []
    for raw in query_partition(keys.staff_pk(username)):
        if raw.get("entity", {}).get("S") != "staff_event":
            continue
        item = StaffEventItem.from_raw_data(raw)
        events.append({"at": item.at, "actor": item.actor, "actor_role": item.actor_role, "action": item.action,
                       "changes": sorted(item.changes or []), "version": int(item.version)})
    return events

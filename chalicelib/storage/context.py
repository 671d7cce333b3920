"""Reads that serve one use case in a single round trip."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactGetError
from pynamodb.transactions import TransactGet

from chalicelib.domain.regions import Region
from chalicelib.domain.residents import Resident
from chalicelib.storage import keys
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import CitizenItem, RegionItem, ResidentItem
from chalicelib.storage.people import Citizen, citizen_from_item
from chalicelib.storage.regions import _from_item as region_from_item
from chalicelib.storage.residents import _from_item as resident_from_item


@dataclass
class SubmitContext:
    village: Region | None
    citizen: Citizen | None
    resident: Resident | None  # the citizen's row in the village's register, if it holds their NIK


def load_submit_context(village_code: str, nik_hash: str) -> SubmitContext:
    """The village (with its letter settings), the citizen's profile and their register row in the village, in
    one TransactGetItems."""
    try:
        with TransactGet(connection=transaction_connection()) as tg:
            village_f = tg.get(RegionItem, keys.region_pk(village_code), keys.META)
            citizen_f = tg.get(CitizenItem, keys.citizen_pk(nik_hash), keys.PROFILE)
            resident_f = tg.get(ResidentItem, keys.resident_pk(village_code), keys.resident_sk(nik_hash))
    except TransactGetError as exc:
        raise translate_errors(exc) from exc
    try:
        village = region_from_item(village_f.get())
    except DoesNotExist:
        village = None
    try:
        citizen = citizen_from_item(citizen_f.get(), nik_hash)
    except DoesNotExist:
        citizen = None
    try:
        resident = resident_from_item(resident_f.get())
    except DoesNotExist:
        resident = None
    return SubmitContext(village, citizen, resident)

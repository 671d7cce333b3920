"""Reads that serve one use case in a single round trip."""

from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.exceptions import DoesNotExist, TransactGetError
from pynamodb.transactions import TransactGet

from chalicelib.domain.attachments import Upload
from chalicelib.domain.regions import Region
from chalicelib.domain.residents import Resident
from chalicelib.storage import keys
from chalicelib.storage.connection import transaction_connection, translate_errors
from chalicelib.storage.models import CitizenItem, RegionItem, ResidentItem, UploadItem
from chalicelib.storage.people import Citizen, citizen_from_item
from chalicelib.storage.regions import from_item as region_from_item
from chalicelib.storage.residents import from_item as resident_from_item


@dataclass
class SubmitContext:
    village: Region | None
    citizen: Citizen | None
    resident: Resident | None  # the citizen's row in the village's register, if it holds their NIK
    uploads: dict[str, Upload] = field(default_factory=dict)  # the uploads the submission names, by id


def load_submit_context(village_code: str, nik_hash: str, upload_ids: tuple[str, ...] = ()) -> SubmitContext:
    """The village (with its letter settings), the citizen's profile, their register row in the village and the
    uploads the submission names, in one TransactGetItems."""
    from chalicelib.storage.uploads import from_item as upload_from_item

    try:
        with TransactGet(connection=transaction_connection()) as tg:
            village_f = tg.get(RegionItem, keys.region_pk(village_code), keys.META)
            citizen_f = tg.get(CitizenItem, keys.citizen_pk(nik_hash), keys.PROFILE)
            resident_f = tg.get(ResidentItem, keys.resident_pk(village_code), keys.resident_sk(nik_hash))
            upload_fs = {uid: tg.get(UploadItem, keys.upload_pk(uid), keys.META) for uid in upload_ids}
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
    uploads: dict[str, Upload] = {}
    for uid, future in upload_fs.items():
        try:
            uploads[uid] = upload_from_item(future.get())
        except DoesNotExist:
            continue
    return SubmitContext(village, citizen, resident, uploads)

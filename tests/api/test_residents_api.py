"""The resident register (issue 8.2): add, edit, import (CSV/XLSX in OpenSID's columns), audit, masking."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest

from tests.conftest import (
    KECAMATAN_SINJAI_TIMUR,
    PULAU_HARAPAN,
    SAMATARING,
    auth_header,
    get,
    post,
    put,
    staff_token,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The village these tests fill: no other module uses its register.
VILLAGE = "73.07.03.2002"
HEADER = ["alamat", "dusun", "rw", "rt", "nama", "no_kk", "nik", "sex", "tempatlahir", "tanggallahir", "agama_id",
          "pendidikan_kk_id", "pekerjaan_id", "status_kawin", "kk_level", "telepon"]


def nik_for(born: tuple[int, int, int], female: bool = False, serial: int | None = None) -> str:
    year, month, day = born
    serial = serial if serial is not None else random.randint(5000, 9999)
    return f"730703{day + (40 if female else 0):02d}{month:02d}{year % 100:02d}{serial:04d}"


def row(nik: str, name: str, born: str, sex: str = "1", **extra: str) -> list[str]:
    values = {"alamat": "Jl. Sultan Hasanuddin No. 3", "dusun": "Bontosalama", "rw": "002", "rt": "004", "nama": name,
              "no_kk": "7307031203150099", "nik": nik, "sex": sex, "tempatlahir": "Sinjai", "tanggallahir": born,
              "agama_id": "1", "pendidikan_kk_id": "5", "pekerjaan_id": "9", "status_kawin": "2", "kk_level": "1",
              "telepon": "", **extra}
    return [values[h] for h in HEADER]


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, sep: str = ",") -> bytes:
    lines = [sep.join(header or HEADER)] + [sep.join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def upload(client: Any, token: str, data: bytes, content_type: str = "text/csv", village: str = VILLAGE,
           dry_run: bool = False) -> Any:
    path = f"/v1/villages/{village}/residents/import" + ("?dry_run=true" if dry_run else "")
    return client.http.post(path, headers={**auth_header(token), "Content-Type": content_type}, body=data)


def all_residents(client: Any, token: str, village: str = VILLAGE) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        response = get(client, f"/v1/villages/{village}/residents?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                       token)
        assert response.status_code == 200, response.body
        items += response.json_body["items"]
        cursor = response.json_body["next"]
        if not cursor:
            return items


@pytest.fixture()
def operator(client: Any) -> str:
    return staff_token(client, f"operator.{VILLAGE}")


def new_resident(nik: str, **extra: Any) -> dict[str, Any]:
    return {"nik": nik, "name": "Andi Tenri Ajeng", "kk_number": "7307031203150123", "birth_place": "Sinjai",
            "birth_date": f"19{nik[10:12]}-{nik[8:10]}-{int(nik[6:8]) % 40:02d}", "sex": "P" if int(nik[6:8]) > 40
            else "L", "religion": "Islam", "marital_status": "Kawin", "occupation": "Guru",
            "address": "Jl. Persatuan Raya No. 7", "rt": "1", "rw": "2", **extra}


# ---- one resident by hand ----------------------------------------------------------------------------------


def test_operator_adds_a_resident_and_the_change_is_audited_without_the_nik(client, operator):
    # Given a NIK not yet in the register
    nik = nik_for((1985, 6, 12), female=True)
    # When the operator adds the resident
    response = post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik, phone="0812 9988 7766"), operator)
    # Then the register holds them, normalised, with one audit entry naming the operator
    assert response.status_code == 201, response.body
    body = response.json_body
    assert body["nik"] == nik and body["rt"] == "001" and body["phone"] == "+6281299887766" and body["version"] == 1
    [entry] = body["history"]
    assert entry["actor"] == f"operator.{VILLAGE}" and entry["action"] == "create" and entry["source"] == "manual"
    assert entry["nik"] == "************" + nik[-4:]
    assert nik not in str(entry) and "+6281299887766" not in str(entry)
    # And adding the same NIK again is a conflict that writes nothing
    again = post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik, name="Orang Lain"), operator)
    assert again.status_code == 409 and again.json_body["code"] == "resident_exists"
    assert get(client, f"/v1/villages/{VILLAGE}/residents/{body['id']}", operator).json_body["name"] == "Andi Tenri Ajeng"


def test_a_creations_values_are_rebuilt_from_the_row_and_later_changes_not_stored_twice(client, operator):
    # Given a resident added with a phone, then edited twice (occupation and phone, then the address)
    nik = nik_for((1991, 4, 9), female=True)
    created = post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik, phone="081299887766"),
                   operator).json_body
    path = f"/v1/villages/{VILLAGE}/residents/{created['id']}"
    assert put(client, path, {"version": 1, "occupation": "11", "phone": "081377788899"}, operator).status_code == 200
    assert put(client, path, {"version": 2, "address": "Jl. Baru No. 1"}, operator).status_code == 200
    # Then the history shows the creation with the values the resident was created with, the phone masked
    create, first, second = get(client, path, operator).json_body["history"]
    assert create["action"] == "create" and create["changes"]["occupation"] == {"from": None, "to": "Guru"}
    assert create["changes"]["address"] == {"from": None, "to": "Jl. Persatuan Raya No. 7"}
    assert create["changes"]["phone"] == {"from": None, "to": "+62******7766"}
    assert create["changes"]["name"] == {"from": None, "to": "Andi Tenri Ajeng"} and "dusun" not in create["changes"]
    assert first["changes"]["phone"] == {"from": "+62******7766", "to": "+62******8899"}
    assert second["changes"] == {"address": {"from": "Jl. Persatuan Raya No. 7", "to": "Jl. Baru No. 1"}}
    # And the stored creation entry holds no values and no index copy (issue 14: a register's bytes)
    from chalicelib.storage import keys
    from chalicelib.storage.models import ResidentAuditItem

    stored = list(ResidentAuditItem.query(keys.resident_history_pk(VILLAGE, created["id"])))
    assert [i.action for i in stored] == ["create", "update", "update"]
    assert stored[0].changes is None and stored[0].GSI1PK is None and stored[1].GSI1PK is None
    # And no entry repeats what its keys hold (village and NIK hash, time)
    assert all(i.village is None and i.nik_hash is None and i.at is None for i in stored)
    assert [h["at"] for h in get(client, path, operator).json_body["history"]] == [i.SK.rsplit("#", 1)[0]
                                                                                 for i in stored]


def test_a_resident_audit_entry_written_before_reads_as_it_did(client, operator):
    from chalicelib.storage import keys
    from chalicelib.storage.models import ResidentAuditItem

    nik = nik_for((1990, 2, 3), female=False)
    created = post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik), operator).json_body
    path = f"/v1/villages/{VILLAGE}/residents/{created['id']}"
    # Given an entry in the shape the release before wrote (village, NIK hash and time as attributes too)
    at = "2026-01-05T06:07:08.000+00:00"
    ResidentAuditItem(keys.resident_history_pk(VILLAGE, created["id"]), keys.resident_audit_sk(at, "01OLDENTRY"),
                      entity="resident_audit", village=VILLAGE, nik_hash=created["id"], nik_masked="************0001",
                      at=at, actor="operator.lama", actor_role="operator", action="update", source="manual",
                      changes={"rt": {"from": "001", "to": "002"}}, version=2).save()
    # When the history is read, Then it shows the entry as written
    old = next(h for h in get(client, path, operator).json_body["history"] if h["at"] == at)
    assert old["actor"] == "operator.lama" and old["changes"] == {"rt": {"from": "001", "to": "002"}}


@pytest.mark.parametrize("change,code", [
    ({"nik": "７３０７０３５２０６８５１２３４"}, "invalid_nik"),  # fullwidth digits
    ({"nik": "730703520685123\n"}, "invalid_nik"),
    ({"nik": "7307035206851234\n"}, "invalid_field"),  # 17 characters: the schema refuses it
    # Control and bidi characters are refused at the edge for every JSON string (api.http.json_body)
    ({"name": "Andi\u202eTenri"}, "invalid_character"),  # a bidi override
    ({"name": "Andi\x00"}, "invalid_character"),
    ({"rt": "1\n"}, "invalid_resident"),
    ({"rt": "١٢"}, "invalid_resident"),  # Arabic-Indic digits
    ({"birth_date": "1999-01-01"}, "profile_mismatch_nik"),
    ({"sex": "L"}, "profile_mismatch_nik"),
    ({"religion": "9"}, "invalid_resident"),
    ({"kk_number": "73070312031501２3"}, "invalid_resident"),
])
def test_bad_resident_input_is_a_clear_4xx_and_writes_nothing(client, operator, change, code):
    nik = nik_for((1985, 6, 12), female=True)
    before = len(all_residents(client, operator))
    response = post(client, f"/v1/villages/{VILLAGE}/residents", {**new_resident(nik), **change}, operator)
    assert 400 <= response.status_code < 500 and response.json_body["code"] == code, response.body
    assert set(response.json_body) >= {"code", "message"}
    assert len(all_residents(client, operator)) == before


def test_edit_is_version_checked_and_audited_with_before_and_after(client, operator):
    nik = nik_for((1979, 2, 3))
    created = post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik), operator).json_body
    path = f"/v1/villages/{VILLAGE}/residents/{created['id']}"
    # When the operator changes the occupation (code 11 = Nelayan/Perikanan) at the version they saw
    response = put(client, path, {"version": 1, "occupation": "11", "phone": "081377788899"}, operator)
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["occupation"] == "Nelayan/Perikanan" and body["version"] == 2
    update = body["history"][-1]
    assert update["action"] == "update" and update["changes"]["occupation"] == {"from": "Guru",
                                                                               "to": "Nelayan/Perikanan"}
    assert update["changes"]["phone"] == {"from": None, "to": "+62******8899"}
    # And a second writer still holding version 1 gets 409 and changes nothing
    stale = put(client, path, {"version": 1, "occupation": "Petani/Pekebun"}, operator)
    assert stale.status_code == 409 and stale.json_body["code"] == "stale_version"
    assert get(client, path, operator).json_body["occupation"] == "Nelayan/Perikanan"
    # And the name cannot be cleared
    cleared = put(client, path, {"version": 2, "name": None}, operator)
    assert cleared.status_code == 400 and cleared.json_body["code"] == "missing_field"


# ---- import -------------------------------------------------------------------------------------------------


def test_csv_import_in_opensid_columns_is_idempotent(client, operator):
    # Given an OpenSID-style export with codes and labels, a semicolon separator and a resident without NIK yet
    village = "73.07.03.2003"  # Pattalassang: a register of its own for this test
    token = staff_token(client, f"operator.{village}")
    head, wife = nik_for((1970, 5, 20)), nik_for((1974, 3, 10), female=True)
    rows = [row(head, "Ahmad Habib", "20-05-1970", telepon="081234500011"),
            row(wife, "St. Hajrah", "1974-03-10", sex="PEREMPUAN", pekerjaan_id="MENGURUS RUMAH TANGGA"),
            row("0", "Bayi Habib", "01-01-2026")]
    data = csv_bytes(rows, sep=";")
    # When the operator checks it first (dry run), nothing is written
    dry = upload(client, token, data, village=village, dry_run=True)
    assert dry.status_code == 200 and dry.json_body["created"] == 2 and dry.json_body["dry_run"] is True
    assert all_residents(client, token, village) == []
    # When they import it
    first = upload(client, token, data, village=village)
    assert first.status_code == 200, first.body
    assert {k: first.json_body[k] for k in ("rows", "created", "updated", "unchanged")} == \
        {"rows": 3, "created": 2, "updated": 0, "unchanged": 0}
    assert first.json_body["skipped"][0]["row"] == 4
    residents = {r["nik"]: r for r in all_residents(client, token, village)}
    assert residents[wife]["sex"] == "P" and residents[wife]["occupation"] == "Mengurus Rumah Tangga"
    assert residents[head]["birth_date"] == "1970-05-20" and residents[head]["phone"] == "+6281234500011"
    assert residents[head]["dusun"] == "BONTOSALAMA" and residents[head]["religion"] == "Islam"
    # Then running the same file again changes nothing and adds no audit entry
    second = upload(client, token, data, village=village)
    assert second.json_body["created"] == 0 and second.json_body["updated"] == 0 and second.json_body["unchanged"] == 2
    history = get(client, f"/v1/villages/{village}/residents/{residents[head]['id']}", token).json_body["history"]
    assert [h["action"] for h in history] == ["create"] and history[0]["source"] == "import"
    # And a file that changes one column updates only that resident, leaving blank cells alone
    changed = [row(head, "Ahmad Habib", "", pekerjaan_id="84", telepon=""), row(wife, "St. Hajrah", "", sex="2", pekerjaan_id="2")]
    third = upload(client, token, csv_bytes(changed), village=village)
    assert (third.json_body["updated"], third.json_body["unchanged"]) == (1, 1)
    after = get(client, f"/v1/villages/{village}/residents/{residents[head]['id']}", token).json_body
    assert after["occupation"] == "Pedagang" and after["phone"] == "+6281234500011"
    assert after["history"][-1]["changes"] == {"occupation": {"from": "Petani/Pekebun", "to": "Pedagang"}}


def test_a_file_with_errors_reports_every_row_and_writes_nothing(client, operator):
    good = nik_for((1990, 1, 1))
    rows = [row(good, "Baso Lolo", "01-01-1990"),
            row(nik_for((1990, 1, 2)), "Andi\u200bBaso", "1990-01-02"),  # zero-width space in the name
            row("7307031308", "Pendek", "13-08-1990"),
            row(nik_for((1991, 4, 5)), "Salah Tanggal", "05-04-1992"),
            row(nik_for((1992, 7, 7)), "Kode Salah", "07-07-1992", agama_id="12", status_kawin="X"),
            row(good, "Baso Lolo Lagi", "01-01-1990")]
    response = upload(client, operator, csv_bytes(rows))
    assert response.status_code == 422 and response.json_body["code"] == "import_invalid"
    problems = {(e["row"], e["column"]) for e in response.json_body["details"]["errors"]}
    assert problems == {(3, "nama"), (4, "nik"), (5, "tanggallahir"), (6, "agama_id"), (6, "status_kawin"),
                        (7, "nik")}
    assert all(e["reason"] for e in response.json_body["details"]["errors"])
    assert good not in {r["nik"] for r in all_residents(client, operator)}


def test_xlsx_import_reads_opensid_exports_and_refuses_numeric_niks(client, operator):
    import openpyxl

    nik = nik_for((1988, 11, 30))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(row(nik, "Muhammad Tahir", "30-11-1988", rt="7"))
    sheet.append(["", "###"])  # OpenSID's end-of-data mark
    sheet.append(row(nik_for((1988, 11, 29)), "Setelah Tanda", "29-11-1988"))
    codes = workbook.create_sheet("Kode Data")
    codes.append(["sex", "1", "LAKI-LAKI"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(client, operator, buffer.getvalue(), XLSX)
    assert response.status_code == 200, response.body
    assert response.json_body["created"] == 1 and response.json_body["format"] == "xlsx"
    stored = {r["nik"]: r for r in all_residents(client, operator)}[nik]
    assert stored["rt"] == "007" and stored["name"] == "Muhammad Tahir"
    # A NIK typed as a number has lost its last digit in Excel: refused with the reason
    sheet = openpyxl.Workbook().active
    sheet.append(HEADER)
    sheet.append([int(v) if h == "nik" else v for h, v in zip(HEADER, row(nik_for((1988, 11, 28)), "Angka", ""))])
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    refused = upload(client, operator, buffer.getvalue(), "application/octet-stream")
    assert refused.status_code == 422
    assert "teks" in refused.json_body["details"]["errors"][0]["reason"]


@pytest.mark.parametrize("data,content_type,status,code", [
    (b"x" * (2 * 1024 * 1024 + 1), "text/csv", 413, "file_too_large"),
    (csv_bytes([], header=["nik", "nama", "hobi"]), "text/csv", 422, "unknown_column"),
    (csv_bytes([], header=["nama", "no_kk"]), "text/csv", 422, "missing_column"),
    (b"PK\x03\x04not really a zip", XLSX, 400, "file_unreadable"),
    (b"", "text/csv", 400, "empty_file"),
    (b"\xff\xfe\x00garbage\x81", "text/csv", 400, "file_unreadable"),
    (b"nik\n" + b"7307031308900001\n" * 10_001, "text/csv", 422, "too_many_rows"),
])
def test_bad_files_are_clear_4xx(client, operator, data, content_type, status, code):
    response = upload(client, operator, data, content_type)
    assert response.status_code == status and response.json_body["code"] == code, response.body


def test_a_zip_bomb_is_refused_before_it_is_inflated(client, operator):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (80 * 1024 * 1024))
    response = upload(client, operator, buffer.getvalue(), XLSX)
    assert response.status_code == 413 and response.json_body["code"] == "file_too_large"


# ---- who sees what --------------------------------------------------------------------------------------------


def test_camat_and_admin_see_the_register_masked_village_staff_in_full(client, operator):
    nik = nik_for((1966, 9, 9))
    created = post(client, f"/v1/villages/{VILLAGE}/residents",
                   new_resident(nik, kk_number="7307031203159876", phone="081311122233"), operator).json_body
    put(client, f"/v1/villages/{VILLAGE}/residents/{created['id']}",
        {"version": 1, "kk_number": "7307031203155555"}, operator)
    kades = staff_token(client, f"kades.{VILLAGE}")
    assert get(client, f"/v1/villages/{VILLAGE}/residents/{created['id']}", kades).json_body["nik"] == nik
    for account in (f"camat.{KECAMATAN_SINJAI_TIMUR}", "admin"):
        token = staff_token(client, account)
        seen = get(client, f"/v1/villages/{VILLAGE}/residents/{created['id']}", token).json_body
        assert seen["nik"] == "************" + nik[-4:]
        assert seen["kk_number"] == "************5555" and seen["phone"] == "+62******2233"
        assert seen["history"][-1]["changes"]["kk_number"] == {"from": "************9876", "to": "************5555"}
        listed = {r["id"]: r for r in all_residents(client, token)}[created["id"]]
        assert listed["nik"].startswith("****") and listed["kk_number"].startswith("****")


def test_listing_is_by_name_and_paginated(client, operator):
    for name in ("Zainal Abidin", "Abdul Gaffar", "Maryam"):
        post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik_for((1980, 1, 15)), name=name), operator)
    names = [r["name"] for r in all_residents(client, operator)]
    assert names == sorted(names, key=lambda n: n.upper())
    first = get(client, f"/v1/villages/{VILLAGE}/residents?limit=1", operator).json_body
    assert len(first["items"]) == 1 and first["next"]
    for bad in ("limit=0", "limit=abc", "cursor=%7B%7D"):
        assert get(client, f"/v1/villages/{VILLAGE}/residents?{bad}", operator).status_code == 400


def test_other_regions_and_roles_cannot_touch_a_register(client, operator):
    nik = nik_for((1977, 7, 17))
    created = post(client, f"/v1/villages/{VILLAGE}/residents", new_resident(nik), operator).json_body
    path = f"/v1/villages/{VILLAGE}/residents"
    camat = staff_token(client, f"camat.{KECAMATAN_SINJAI_TIMUR}")
    # Another village's staff and the other kecamatan's camat: the register does not exist for them
    for account in (f"operator.{SAMATARING}", f"kades.{PULAU_HARAPAN}", "camat.73.07.09"):
        token = staff_token(client, account)
        assert get(client, path, token).status_code == 404
        assert get(client, f"{path}/{created['id']}", token).status_code == 404
        assert post(client, path, new_resident(nik_for((1977, 7, 18))), token).status_code == 404
        assert put(client, f"{path}/{created['id']}", {"version": 1, "name": "Diganti"}, token).status_code == 404
        assert upload(client, token, csv_bytes([row(nik, "Diganti", "")])).status_code == 404
    # The camat reads but does not write
    assert post(client, path, new_resident(nik_for((1977, 7, 19))), camat).status_code == 403
    assert put(client, f"{path}/{created['id']}", {"version": 1, "name": "Diganti"}, camat).status_code == 403
    assert upload(client, camat, csv_bytes([row(nik, "Diganti", "")])).status_code == 403
    assert get(client, f"{path}/{created['id']}", operator).json_body["name"] == "Andi Tenri Ajeng"


def test_a_citizen_cannot_read_or_write_a_register(client, citizen):
    path = f"/v1/villages/{SAMATARING}/residents"
    assert get(client, path, citizen["token"]).status_code == 403
    assert post(client, path, new_resident(citizen["nik"]), citizen["token"]).status_code == 403
    assert upload(client, citizen["token"], b"nik\n", village=SAMATARING).status_code == 403

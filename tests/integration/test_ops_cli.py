"""Operator CLI: import any kabupaten from the data set, activate a kecamatan, create accounts."""

from chalicelib.ops.__main__ import main
from chalicelib.ops.region_data import kabupaten_regions
from chalicelib.storage import regions
from tests.helpers import post


def test_region_data_reads_any_kabupaten_with_its_zone():
    jember = kabupaten_regions("35.09")
    assert jember[0].name == "Kabupaten Jember" and jember[0].timezone == "Asia/Jakarta"
    assert sum(r.level == "kecamatan" for r in jember) == 31
    assert all(not r.active for r in jember[1:])
    buton = kabupaten_regions("74.04")
    assert buton[0].timezone == "Asia/Makassar"


def test_import_and_activate_a_kecamatan(capsys):
    assert main(["import-regions", "62.02"]) == 0  # Kotawaringin Timur (WIB)
    kab = regions.get("62.02")
    assert kab is not None and kab.name == "Kabupaten Kotawaringin Timur" and kab.timezone == "Asia/Jakarta"
    kecamatan = regions.children("62.02")[0]
    assert main(["activate", kecamatan.code]) == 0
    villages = regions.children(kecamatan.code)
    assert villages and all(v.active for v in villages)
    assert "ODbL" in capsys.readouterr().out


def test_import_rejects_a_non_kabupaten_code():
    import pytest

    with pytest.raises(ValueError):
        kabupaten_regions("73.07.03")
    with pytest.raises(LookupError):
        kabupaten_regions("73.99")


def test_create_admin_then_login(client):
    assert main(["create-admin", "admin.kotim", "--region", "62.02", "--name", "Admin Kotim",
                 "--password", "rahasia-sekali-123"]) == 0
    assert main(["create-admin", "admin.kotim", "--region", "62.02", "--name", "Lagi",
                 "--password", "rahasia-sekali-123"]) == 1
    assert main(["create-staff", "pendek", "--region", "62.02", "--name", "X", "--role", "camat",
                 "--password", "short"]) == 2
    response = post(client, "/v1/auth/login", {"username": "admin.kotim", "password": "rahasia-sekali-123"})
    assert response.status_code == 200 and response.json_body["region"] == "62.02"

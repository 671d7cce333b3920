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


def test_create_admin_for_a_region_that_does_not_exist_is_refused(capsys):
    # Given no region 12.34 in the table
    assert regions.get("12.34") is None
    # When an operator creates an admin there, Then the CLI refuses and writes nothing
    assert main(["create-admin", "admin.nowhere", "--region", "12.34", "--name", "Admin Entah",
                 "--password", "rahasia-sekali-123"]) == 2
    assert "region_not_found" in capsys.readouterr().err
    from chalicelib.storage import people

    assert people.get_staff("admin.nowhere") is None


def test_each_role_is_created_only_at_its_region_level(capsys):
    from chalicelib.storage import people

    cases = [("admin", "73.07.03"), ("admin", "73.07.03.1001"), ("camat", "73.07"), ("camat", "73.07.03.1001"),
             ("operator", "73.07.03"), ("kades", "73.07")]
    for i, (role, region) in enumerate(cases):
        # When the level does not suit the role, Then it is refused and nothing is written
        assert main(["create-staff", f"salah.{i}", "--role", role, "--region", region, "--name", "Andi Salah",
                     "--password", "rahasia-sekali-123"]) == 2
        assert "region_level_mismatch" in capsys.readouterr().err
        assert people.get_staff(f"salah.{i}") is None
    # And the right level is accepted, with the profile's NIP validated and kept
    assert main(["create-staff", "camat.baru", "--role", "camat", "--region", "73.07.03", "--name",
                 "Drs. Muh. Idris", "--position", "Camat Sinjai Timur", "--nip", "197004121995031002",
                 "--password", "rahasia-sekali-123"]) == 0
    created = people.get_staff("camat.baru")
    assert created is not None and created.nip == "197004121995031002"
    assert created.position == "Camat Sinjai Timur"
    fullwidth_nip = "１９７００４１２１９９５０３１００２"
    assert main(["create-staff", "kades.nipsalah", "--role", "kades", "--region", "73.07.03.1001", "--name",
                 "Andi Salah", "--nip", fullwidth_nip, "--password", "rahasia-sekali-123"]) == 2
    assert "invalid_nip" in capsys.readouterr().err

"""The letter catalogue: the ten default types, field validation, village adjustments."""

import pytest

from chalicelib.domain import catalog
from chalicelib.domain.catalog import APPLICANT_PLACEHOLDERS, DEFAULT_CATALOG, effective_type, validate_fields
from chalicelib.errors import UnprocessableError, ValidationError


def test_at_least_ten_standard_types_each_complete():
    assert {"SKD", "SKU", "SKTM", "SPKTP", "SPKK", "SKL", "SKM", "SKP", "SPSKCK", "SKBM", "SKPH"} <= set(DEFAULT_CATALOG)
    for lt in DEFAULT_CATALOG.values():
        assert lt.fields and lt.attachments and lt.sla_hours > 0 and lt.classification
        placeholders = set(__import__("re").findall(r"{([^{}]*)}", lt.body_template))
        assert placeholders <= set(APPLICANT_PLACEHOLDERS) | {f.name for f in lt.fields}, lt.code


def test_valid_fields_are_cleaned():
    cleaned = validate_fields(DEFAULT_CATALOG["SKU"], {
        "nama_usaha": " Warung Berkah ", "jenis_usaha": "Kuliner", "alamat_usaha": "Jl. Poros",
        "mulai_usaha": "2019-03-01", "keperluan": "Pinjaman KUR"})
    assert cleaned["nama_usaha"] == "Warung Berkah"
    assert cleaned["mulai_usaha"] == "2019-03-01"


def test_every_wrong_field_is_reported():
    with pytest.raises(ValidationError) as err:
        validate_fields(DEFAULT_CATALOG["SKD"], {"lama_tinggal_tahun": "lima", "hobi": "x"})
    fields = {f["field"] for f in err.value.details["fields"]}
    assert fields == {"lama_tinggal_tahun", "keperluan", "hobi"}
    assert err.value.code == "invalid_fields"


@pytest.mark.parametrize("value", [True, -1, 1.5, "3"])
def test_integer_fields_reject_other_types(value):
    with pytest.raises(ValidationError):
        validate_fields(DEFAULT_CATALOG["SKD"], {"lama_tinggal_tahun": value, "keperluan": "x"})


def test_enum_and_date_fields():
    with pytest.raises(ValidationError):
        validate_fields(DEFAULT_CATALOG["SPKTP"], {"jenis_permohonan": "Gratis"})
    with pytest.raises(ValidationError):
        validate_fields(DEFAULT_CATALOG["SKM"], {"nama_almarhum": "A", "nik_almarhum": "1", "tanggal_meninggal":
                                                 "31-12-2025", "tempat_meninggal": "x", "sebab_meninggal": "x",
                                                 "hubungan_pelapor": "anak"})


def test_optional_field_may_be_missing():
    assert validate_fields(DEFAULT_CATALOG["SPKK"], {"jenis_permohonan": "KK baru"}) == {"jenis_permohonan": "KK baru"}


def test_village_adjustments_apply_on_top_of_defaults():
    lt = effective_type("SKD", {"SKD": {"enabled": False, "sla_hours": 4}})
    assert lt is not None and lt.enabled is False and lt.sla_hours == 4
    assert effective_type("XYZ", {}) is None


def test_adjustment_validation():
    assert catalog.validate_adjustment("SKD", {"sla_hours": 16}) == {"sla_hours": 16}
    with pytest.raises(ValidationError):
        catalog.validate_adjustment("SKD", {"sla_hours": 0})
    with pytest.raises(ValidationError):
        catalog.validate_adjustment("SKD", {"colour": "red"})
    with pytest.raises(ValidationError) as err:
        catalog.validate_adjustment("SKD", {"body_template": "Yang bersangkutan {tidak_ada} tinggal di sini."})
    assert err.value.code == "template_error"
    with pytest.raises(UnprocessableError):
        catalog.validate_adjustment("XYZ", {"enabled": True})

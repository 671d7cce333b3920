"""Letter body templates, Indonesian dates and the signed facts (masked names)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.letters import (
    LetterDocument,
    applicant_name_hash,
    fill_template,
    format_date_id,
    format_datetime_id,
    mask_name,
    signed_facts,
    template_placeholders,
)
from chalicelib.errors import ValidationError


def test_fill_template_with_dates_booleans_and_numbers() -> None:
    # Given a body template and a request's fields
    template = "Lahir pada {tanggal_lahir}, memiliki usaha: {punya_usaha}, omzet Rp{omzet:,}, ket: {catatan}."
    values = {
        "tanggal_lahir": date(1995, 3, 12),
        "punya_usaha": True,
        "omzet": 1500000,
        "catatan": None,
    }
    # When it is filled
    text = fill_template(template, values)
    # Then dates are Indonesian, booleans Ya/Tidak, missing values a dash
    assert (
        text
        == "Lahir pada 12 Maret 1995, memiliki usaha: Ya, omzet Rp1,500,000, ket: -."
    )


def test_false_renders_as_tidak() -> None:
    assert fill_template("{x}", {"x": False}) == "Tidak"


def test_literal_braces_are_kept() -> None:
    assert fill_template("{{RT}} {rt}", {"rt": "002"}) == "{RT} 002"


def test_unknown_placeholder_is_a_template_error() -> None:
    with pytest.raises(ValidationError) as info:
        fill_template("Nama: {nama}, keperluan: {keperluan}", {"nama": "Andi"})
    assert info.value.code == "template_error"
    assert info.value.details["placeholder"] == "keperluan"


@pytest.mark.parametrize(
    "template",
    [
        "{nama.__class__}",  # attribute access could reach Python internals
        "{nama[0]}",
        "{nama!r}",
        "{0}",
        "{}",
        "{nama",
        "{nama:{width}}",
    ],
)
def test_unsafe_or_broken_templates_are_refused(template: str) -> None:
    with pytest.raises(ValidationError) as info:
        fill_template(template, {"nama": "Andi", "width": 5})
    assert info.value.code == "template_error"


def test_bad_format_spec_is_a_template_error() -> None:
    with pytest.raises(ValidationError):
        fill_template("{n:zz}", {"n": 5})


def test_template_placeholders() -> None:
    assert template_placeholders("{a} dan {b} serta {a}") == {"a", "b"}


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2026, 11, 23), "23 November 2026"),
        (date(2027, 1, 1), "1 Januari 2027"),
        (date(2026, 8, 17), "17 Agustus 2026"),
    ],
)
def test_format_date_id(d: date, text: str) -> None:
    assert format_date_id(d) == text


def test_format_datetime_id_in_local_zone() -> None:
    moment = datetime(2026, 11, 23, 6, 5, tzinfo=UTC)
    assert (
        format_datetime_id(moment, "Asia/Makassar")
        == "23 November 2026 pukul 14.05 WITA"
    )
    assert (
        format_datetime_id(moment, "Asia/Jakarta") == "23 November 2026 pukul 13.05 WIB"
    )


def test_mask_name() -> None:
    assert mask_name("Andi Baso Tenri") == "A*** B*** T****"
    assert mask_name("  Sitti   Nurhaeda ") == "S**** N*******"
    assert mask_name("A") == "A"


def test_signed_facts_hold_no_name_in_clear() -> None:
    facts = signed_facts(
        letter_id="L1",
        number="470/012/DS-2001/XI/2026",
        letter_type="SKD",
        village_code="73.07.09.2001",
        issued_date=date(2026, 11, 23),
        signer_name="Muhammad  Yusuf",
        applicant_name="Andi Baso Tenri",
    )
    assert facts.pop("applicant_hash") == applicant_name_hash("L1", "andi  baso TENRI")
    assert facts == {
        "letter_id": "L1",
        "number": "470/012/DS-2001/XI/2026",
        "letter_type": "SKD",
        "village_code": "73.07.09.2001",
        "issued_date": "2026-11-23",
        "signer_name": "Muhammad Yusuf",
        "applicant_masked": "A*** B*** T****",
    }


def _doc(**overrides: object) -> LetterDocument:
    fields: dict[str, object] = {
        "kabupaten_name": "Sinjai",
        "kecamatan_name": "Pulau Sembilan",
        "village_name": "Pulau Harapan",
        "village_address": "Jalan Poros",
        "title": "Surat Keterangan Domisili",
        "number": "470/001/DS-2001/XI/2026",
        "opening": "Yang bertanda tangan di bawah ini:",
        "body": "Satu\nbaris.\n\n\nDua.",
        "closing": "Demikian.",
        "place": "Pulau Harapan",
        "issued_date": date(2026, 11, 23),
        "signer_position": "Kepala Desa Pulau Harapan",
        "signer_name": "Muhammad Yusuf",
        "verify_url": "http://x/v1/letters/verify/t",
    }
    fields.update(overrides)
    return LetterDocument(**fields)  # type: ignore[arg-type]


def test_letterhead_lines() -> None:
    assert _doc().letterhead_lines() == [
        "PEMERINTAH KABUPATEN SINJAI",
        "KECAMATAN PULAU SEMBILAN",
        "DESA PULAU HARAPAN",
    ]
    kota = _doc(
        kabupaten_name="Kota Makassar",
        kecamatan_name="Kecamatan Tamalate",
        village_name="Mannuruki",
        village_kind="kelurahan",
    )
    assert kota.letterhead_lines() == [
        "PEMERINTAH KOTA MAKASSAR",
        "KECAMATAN TAMALATE",
        "KELURAHAN MANNURUKI",
    ]


def test_body_paragraphs_split_on_blank_lines() -> None:
    assert _doc().body_paragraphs() == ["Satu baris.", "Dua."]


def test_document_rejects_unknown_paper() -> None:
    with pytest.raises(ValidationError):
        _doc(paper="Letter")

"""The letter PDF: its text, page flow with the signature kept whole, determinism and the QR code."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("fpdf")
pytest.importorskip("segno")

from chalicelib.adapters.pdf import pdf_text, render_letter
from chalicelib.domain.letters import LetterDocument

VERIFY_URL = (
    "http://127.0.0.1:8000/v1/letters/verify/eyJ2IjoxLCJraWQiOiJhMjk3ZDA4NyIsImxpZCI6IjAxSkQ4WjNRNVg3TjJLNFA5UjFU"
    "NlY4VzBZIiwiaCI6Inh0TEZOVnRsTXpiNy1YbEFnM2NnMVEifQ.TQM1s_oNVW_S9IySVIS0eTjDGY_gMiEtC1YPamgK5pazB23phj56NLQ"
    "A3qlDdipNQT-oLCrvQwHt1DTKul6qAA"
)

PARAGRAPH = (
    "Adapun yang bersangkutan selama bertempat tinggal di wilayah kami dikenal berkelakuan baik, tidak pernah "
    "terlibat dalam perkara pidana, aktif dalam kegiatan gotong royong dan kegiatan kemasyarakatan lainnya."
)


def make_document(**overrides: object) -> LetterDocument:
    fields: dict[str, object] = {
        "paper": "A4",
        "kabupaten_name": "Sinjai",
        "kecamatan_name": "Pulau Sembilan",
        "village_name": "Pulau Harapan",
        "village_kind": "desa",
        "village_address": "Jalan Poros Pulau Harapan No. 1, Kecamatan Pulau Sembilan, Kabupaten Sinjai 92661",
        "title": "Surat Keterangan Domisili",
        "number": "470/012/DS-2001/XI/2026",
        "opening": "Yang bertanda tangan di bawah ini, Kepala Desa Pulau Harapan, menerangkan bahwa:",
        "applicant_rows": [
            ("Nama", "Andi Baso Tenri"),
            ("Tempat/Tanggal Lahir", "Sinjai, 12 Maret 1995"),
            (
                "Alamat",
                (
                    "Dusun Kambuno, Jalan Poros Pulau Harapan No. 17, RT 002/RW 001, Desa Pulau Harapan, "
                    "Kecamatan Pulau Sembilan, Kabupaten Sinjai, Sulawesi Selatan"
                ),
            ),
        ],
        "body": "Nama tersebut di atas benar berdomisili di Desa Pulau Harapan sejak 1 Maret 2015.",
        "closing": "Demikian surat keterangan ini dibuat untuk dipergunakan sebagaimana mestinya.",
        "place": "Pulau Harapan",
        "issued_date": date(2026, 11, 23),
        "signer_position": "Kepala Desa Pulau Harapan",
        "signer_name": "Muhammad Yusuf Daeng Mattiro",
        "signer_nip": None,
        "verify_url": VERIFY_URL,
    }
    fields.update(overrides)
    return LetterDocument(**fields)  # type: ignore[arg-type]


def page_texts(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def test_letter_shows_number_title_name_and_signer() -> None:
    # Given a one-page Surat Keterangan Domisili
    pdf = render_letter(make_document())
    # When its text is extracted
    pages = page_texts(pdf)
    text = pages[0]
    # Then it is one page with the kop surat, title, number, applicant, date and signer
    assert pdf.startswith(b"%PDF-")
    assert len(pages) == 1
    for expected in (
        "PEMERINTAH KABUPATEN SINJAI",
        "KECAMATAN PULAU SEMBILAN",
        "DESA PULAU HARAPAN",
        "SURAT KETERANGAN DOMISILI",
        "Nomor: 470/012/DS-2001/XI/2026",
        "Andi Baso Tenri",
        "Pulau Harapan, 23 November 2026",
        "Kepala Desa Pulau Harapan",
        "Muhammad Yusuf Daeng Mattiro",
        "Pindai untuk verifikasi",
    ):
        assert expected in text, expected


def test_paper_sizes() -> None:
    a4 = pypdf.PdfReader(io.BytesIO(render_letter(make_document()))).pages[0].mediabox
    f4 = (
        pypdf.PdfReader(io.BytesIO(render_letter(make_document(paper="F4"))))
        .pages[0]
        .mediabox
    )
    mm = 72 / 25.4
    assert (round(float(a4.width) / mm), round(float(a4.height) / mm)) == (210, 297)
    assert (round(float(f4.width) / mm), round(float(f4.height) / mm)) == (215, 330)


def test_nip_and_kelurahan() -> None:
    doc = make_document(
        village_kind="kelurahan",
        village_name="Samataring",
        kecamatan_name="Sinjai Timur",
        signer_position="Lurah Samataring",
        signer_nip="19780412 200501 1 003",
    )
    text = page_texts(render_letter(doc))[0]
    assert "KELURAHAN SAMATARING" in text
    assert "NIP. 19780412 200501 1 003" in text


def test_long_body_flows_to_a_second_page_with_the_signature_whole() -> None:
    # Given a body far longer than one page
    doc = make_document(body="\n\n".join([PARAGRAPH] * 14))
    # When rendered
    pages = page_texts(render_letter(doc))
    # Then it takes two pages, and the date, position and name all sit on the last page together
    assert len(pages) == 2
    last = pages[-1]
    for part in (
        "Pulau Harapan, 23 November 2026",
        "Kepala Desa Pulau Harapan",
        "Muhammad Yusuf Daeng Mattiro",
        "Pindai untuk verifikasi",
    ):
        assert part in last
        assert (
            part not in pages[0] or part == "Kepala Desa Pulau Harapan"
        )  # the opening names the position
    assert "Muhammad Yusuf Daeng Mattiro" not in pages[0]
    assert "Halaman 2 dari 2" in last


@pytest.mark.parametrize("paragraphs", range(4, 20))
def test_signature_block_never_splits(paragraphs: int) -> None:
    # Whatever the body length, the date line and the signer's name land on the same (last) page
    pages = page_texts(
        render_letter(make_document(body="\n\n".join([PARAGRAPH] * paragraphs)))
    )
    last = pages[-1]
    assert "23 November 2026" in last and "Muhammad Yusuf Daeng Mattiro" in last
    assert all("Muhammad Yusuf Daeng Mattiro" not in page for page in pages[:-1])
    assert "Demikian surat keterangan" in last  # the closing travels with the signature


def test_very_long_words_and_values_do_not_overflow() -> None:
    # A 120-character unbroken word has to be cut rather than run past the margin (fpdf2 breaks it)
    doc = make_document(
        applicant_rows=[("Keperluan", "X" * 120), ("Nama", "Andi")],
        body="Y" * 300,
        signer_position="P " * 40,
    )
    pdf = render_letter(doc)
    assert len(page_texts(pdf)) >= 1


def test_same_document_gives_identical_bytes() -> None:
    doc = make_document(body="\n\n".join([PARAGRAPH] * 14))
    assert render_letter(doc) == render_letter(doc)
    # and a different issue date changes the file (the metadata follows the document)
    assert render_letter(doc) != render_letter(
        replace(doc, issued_date=date(2026, 11, 24))
    )


def test_logo_is_drawn() -> None:
    import segno

    buffer = io.BytesIO()
    segno.make("logo").save(
        buffer, kind="png", scale=5
    )  # any PNG serves as a stand-in logo
    pdf = render_letter(make_document(logo_png=buffer.getvalue()))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(list(reader.pages[0].images)) == 2  # logo and QR
    assert "DESA PULAU HARAPAN" in page_texts(pdf)[0]


def test_characters_outside_winansi_are_printed_not_crashed() -> None:
    # Names typed on phones: curly quotes and dashes are WinAnsi, "ş" becomes "s", a CJK character "?"
    assert (
        pdf_text("Andi \u2019Ical\u2019 \u2013 Şulaiman 王")
        == "Andi \u2019Ical\u2019 \u2013 Sulaiman ?"
    )
    text = page_texts(
        render_letter(make_document(signer_name="Hj. Şitti \u201cIda\u201d"))
    )[0]
    assert "Hj. Sitti" in text


def test_importing_the_adapter_does_not_load_fpdf_or_segno() -> None:
    code = "import sys, chalicelib.adapters.pdf; print(sorted(m for m in ('fpdf', 'segno', 'PIL') if m in sys.modules))"
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs pdftoppm and zbarimg (apt-get install poppler-utils zbar-tools)",
)
@pytest.mark.parametrize("paper", ["A4", "F4"])
def test_qr_decodes_to_the_verify_url(tmp_path: Path, paper: str) -> None:
    # Given the rendered letter as an image at an ordinary scanning resolution
    pdf_path = tmp_path / "letter.pdf"
    pdf_path.write_bytes(render_letter(make_document(paper=paper)))
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "200",
            "-singlefile",
            str(pdf_path),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    # When the QR code is read
    result = subprocess.run(
        [
            "zbarimg",
            "--quiet",
            "--raw",
            "-Sdisable",
            "-Sqrcode.enable",
            str(tmp_path / "page.png"),
        ],
        check=False,  # zbarimg exits non-zero when it finds nothing: the assert below says so better
        capture_output=True,
        text=True,
    )
    # Then it carries exactly the verification URL
    assert VERIFY_URL in result.stdout.splitlines()

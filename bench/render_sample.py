"""Write sample letters (short and long body) to .balai/ as PDF and PNG, to look at the layout by eye."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader

from chalicelib.adapters.pdf import render_letter
from chalicelib.domain.letters import (
    DEFAULT_NUMBER_FORMAT,
    LetterDocument,
    fill_template,
    format_number,
    kop_address,
    village_number_code,
)

OUT = Path(__file__).resolve().parent.parent / ".balai"

BODY_TEMPLATE = (
    "Berdasarkan data kependudukan yang ada pada kami, nama tersebut di atas benar berdomisili di "
    "{alamat} RT {rt}/RW {rw}, Desa Pulau Harapan, Kecamatan Pulau Sembilan, Kabupaten Sinjai, "
    "sejak {sejak}.\n\n"
    "Surat keterangan ini diberikan untuk keperluan {keperluan} dan berlaku sampai dengan {berlaku}."
)

LONG_EXTRA = (
    "Adapun yang bersangkutan selama bertempat tinggal di wilayah kami dikenal berkelakuan baik, tidak "
    "pernah terlibat dalam perkara pidana, aktif dalam kegiatan gotong royong dan kegiatan kemasyarakatan "
    "lainnya, serta tidak sedang menjadi tanggungan pihak lain. Keterangan ini dibuat berdasarkan surat "
    "pengantar Ketua RT {rt}/RW {rw} dan hasil pemeriksaan berkas oleh petugas pelayanan desa."
)


def sample_logo() -> bytes:
    """A stand-in lambang (a green shield with a gold star), 300 px high, JPEG on white as the upload
    route stores it."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (250, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(10, 10), (240, 10), (240, 170), (125, 290), (10, 170)], fill=(20, 110, 60, 255),
                 outline=(200, 160, 30, 255), width=8)
    star = [(125, 50), (142, 105), (200, 105), (153, 138), (171, 195), (125, 160), (79, 195), (97, 138),
            (50, 105), (108, 105)]
    draw.polygon(star, fill=(230, 190, 40, 255))
    paper = Image.new("RGB", image.size, (255, 255, 255))
    paper.paste(image, mask=image.getchannel("A"))
    out = io.BytesIO()
    paper.save(out, format="JPEG", quality=90, subsampling=0, optimize=True)
    return out.getvalue()


OFFICE = {"address": "Jalan Poros Pulau Harapan No. 1", "postcode": "92661", "phone": "(0482) 2410123",
          "email": "desa.pulauharapan@sinjaikab.go.id", "website": "pulauharapan.desa.id"}


def sample_document(long_body: bool = False, paper: str = "A4") -> LetterDocument:
    issued = date(2026, 11, 23)
    from datetime import datetime

    values = {
        "alamat": "Dusun Kambuno, Jalan Poros Pulau Harapan No. 17",
        "rt": "002",
        "rw": "001",
        "sejak": date(2015, 3, 1),
        "keperluan": "pendaftaran beasiswa pendidikan tinggi di Universitas Hasanuddin, Makassar",
        "berlaku": date(2027, 2, 23),
    }
    body = fill_template(BODY_TEMPLATE, values)
    if long_body:
        extra = fill_template(LONG_EXTRA, values)
        body = "\n\n".join([body] + [extra] * 9)
    number = format_number(
        DEFAULT_NUMBER_FORMAT,
        classification="470",
        seq=12,
        village_code=village_number_code("73.07.09.2001"),
        issued_local=datetime(2026, 11, 23, 10, 15),
    )
    return LetterDocument(
        paper=paper,
        kabupaten_name="Sinjai",
        kecamatan_name="Pulau Sembilan",
        village_name="Pulau Harapan",
        village_kind="desa",
        village_address=kop_address(OFFICE),
        logo_png=sample_logo(),
        electronic=True,
        title="Surat Keterangan Domisili",
        number=number,
        opening="Yang bertanda tangan di bawah ini, Kepala Desa Pulau Harapan, Kecamatan Pulau Sembilan, "
        "Kabupaten Sinjai, menerangkan dengan sebenarnya bahwa:",
        applicant_rows=[
            ("Nama", "Andi Baso Tenri"),
            ("NIK", "7307091203950002"),
            ("Tempat/Tanggal Lahir", "Sinjai, 12 Maret 1995"),
            ("Jenis Kelamin", "Laki-laki"),
            ("Agama", "Islam"),
            ("Status Perkawinan", "Belum Kawin"),
            ("Pekerjaan", "Nelayan"),
            (
                "Alamat",
                (
                    "Dusun Kambuno, Jalan Poros Pulau Harapan No. 17, RT 002/RW 001, Desa Pulau Harapan, "
                    "Kecamatan Pulau Sembilan, Kabupaten Sinjai"
                ),
            ),
        ],
        body=body,
        closing="Demikian surat keterangan ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya.",
        place="Pulau Harapan",
        issued_date=issued,
        signer_position="Kepala Desa Pulau Harapan",
        signer_name="Muhammad Yusuf Daeng Mattiro",
        signer_nip=None,
        verify_url="http://127.0.0.1:8000/v1/letters/verify/"
        "eyJ2IjoxLCJraWQiOiI5ZjJhMWIzYyIsImxpZCI6IjAxSkQ4WjNRNVg3TjJLNFA5UjFUNlY4VzBZIiwiaCI6IjN4N0Q5"
        "a2ZMMnBRd0VyVHlVaU9wQXMifQ.cS1fQm9yR2luZ1NpZ25hdHVyZV9leGFtcGxlX3NpeHR5Zm91cl9ieXRlc19sb25nX2V4"
        "YW1wbGVfc2lnbmF0dXJlX2FhYWFhYWFhYWE",
    )


def write(doc: LetterDocument, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pdf_path = OUT / f"{name}.pdf"
    pdf_path.write_bytes(render_letter(doc))
    print(f"wrote {pdf_path} ({pdf_path.stat().st_size} bytes)")
    if shutil.which("pdftoppm"):
        for old in OUT.glob(f"{name}*.png"):
            old.unlink()
        # Page one as NAME.png, and every page as NAME-N.png when the letter runs longer.
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "100",
                "-singlefile",
                str(pdf_path),
                str(OUT / name),
            ],
            check=True,
        )
        if len(PdfReader(pdf_path).pages) > 1:
            subprocess.run(
                ["pdftoppm", "-png", "-r", "100", str(pdf_path), str(OUT / name)],
                check=True,
            )
        for png in sorted(OUT.glob(f"{name}*.png")):
            print(f"wrote {png}")
    else:
        print("pdftoppm not found (apt-get install poppler-utils): no PNG")


if __name__ == "__main__":
    write(sample_document(), "sample-letter")
    write(sample_document(long_body=True), "sample-letter-long")
    write(
        replace(sample_document(), paper="F4", signer_nip="19780412 200501 1 003"),
        "sample-letter-f4",
    )

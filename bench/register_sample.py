"""A village's resident register as OpenSID exports it: the rows bench/residents_import.py and
bench/memory_sizing.py import (fictional residents of Saukang, Sinjai Timur)."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

HEADER = ["alamat", "dusun", "rw", "rt", "nama", "no_kk", "nik", "sex", "tempatlahir", "tanggallahir", "agama_id",
          "pekerjaan_id", "status_kawin", "telepon"]


def rows(n: int) -> list[list[Any]]:
    """n residents, four to a KK, with NIKs of kecamatan 73.07.03 that agree with their birth date and sex."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        female = rng.random() < 0.5
        y, m, d = rng.randint(1950, 2015), rng.randint(1, 12), rng.randint(1, 28)
        nik = f"730703{d + (40 if female else 0):02d}{m:02d}{y % 100:02d}{i + 1:04d}"
        out.append(["Jl. Lamatti No. 1", "Lappae", "001", f"{rng.randint(1, 9):03d}", f"Warga Nomor {chr(65 + i % 26)}",
                    f"73070301011{i // 4:05d}", nik, "2" if female else "1", "Sinjai", f"{y}-{m:02d}-{d:02d}", "1",
                    str(rng.randint(1, 89)), str(rng.randint(1, 4)), ""])
    return out


def workbook(n: int) -> bytes:
    """The register as an .xlsx file."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [HEADER, *rows(n)]:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_file(n: int) -> bytes:
    """The register as a CSV file with the same columns."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows(n)])
    return buffer.getvalue().encode()

"""Read an uploaded CSV or XLSX file into a header and numbered rows, within fixed bounds.

openpyxl is imported only when an XLSX file arrives: it costs ~100 ms, which the API's cold start should not pay.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import AppError, UnprocessableError, ValidationError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a village of 10 000 residents in OpenSID's columns is well below
MAX_ROWS = 10_000
MAX_RAW_ROWS = 2 * MAX_ROWS  # blank rows included
MAX_COLUMNS = 64
MAX_CELL_CHARS = 500
# An XLSX is a zip: refuse archives that would inflate far beyond what a register needs (zip bombs).
MAX_XLSX_UNZIPPED_BYTES = 64 * 1024 * 1024
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "application/vnd.ms-excel.sheet.macroenabled.12")
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
# OpenSID's template keeps its code tables in a sheet of this name; its data ends at a row whose second cell is ###.
CODE_SHEET = "Kode Data"
END_MARK = "###"


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (spreadsheet row number, column -> value)


def _too_large() -> AppError:
    return ValidationError(f"Berkas terlalu besar (paling besar {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).",
                           code="file_too_large").with_status(413)


def _unreadable(kind: str) -> ValidationError:
    return ValidationError(f"Berkas {kind} tidak dapat dibaca; simpan ulang sebagai .xlsx atau .csv (UTF-8).",
                           code="file_unreadable")


def detect_format(content_type: str | None, data: bytes) -> str:
    """"xlsx" or "csv", from the Content-Type or, for application/octet-stream, the file's first bytes."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in XLSX_TYPES:
        return "xlsx"
    if kind in CSV_TYPES:
        return "csv"
    if kind in ("application/octet-stream", ""):
        return "xlsx" if data[:4] == b"PK\x03\x04" else "csv"
    raise ValidationError("Jenis berkas harus .xlsx atau .csv.", code="unsupported_media_type").with_status(415)


def read_table(data: bytes, fmt: str) -> Table:
    """The header (lower-cased) and the non-blank rows up to OpenSID's end mark.

    Raises ValidationError (file_too_large 413, file_unreadable, empty_file) or UnprocessableError (too_many_rows).
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    if not data.strip():
        raise ValidationError("Berkas kosong.", code="empty_file")
    raw_rows = _xlsx_rows(data) if fmt == "xlsx" else _csv_rows(data)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in raw_rows:
        if header is None:
            if not any(_blank(c) is False for c in cells):
                continue
            header = [str(c).strip().lower() if c is not None else "" for c in cells]
            while header and header[-1] == "":
                header.pop()
            if len(header) > MAX_COLUMNS:
                raise UnprocessableError(f"Terlalu banyak kolom (paling banyak {MAX_COLUMNS}).",
                                         code="too_many_columns")
            continue
        if len(cells) > 1 and isinstance(cells[1], str) and cells[1].strip() == END_MARK:
            break
        if all(_blank(c) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise _too_many_rows()
        for c in cells:
            if isinstance(c, str) and len(c) > MAX_CELL_CHARS:
                raise ValidationError(f"Baris {number}: isi sel terlalu panjang (paling banyak {MAX_CELL_CHARS} "
                                      "karakter).", code="cell_too_long")
        rows.append((number, {h: cells[i] for i, h in enumerate(header) if h and i < len(cells)}))
    if header is None:
        raise ValidationError("Berkas kosong.", code="empty_file")
    return Table(header=header, rows=rows)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the ANSI code page.
        text = data.decode("cp1252", errors="strict") if _is_cp1252(data) else None  # type: ignore[assignment]
        if text is None:
            raise _unreadable("CSV") from None
    first = text.split("\n", 1)[0]
    # Excel in an Indonesian locale separates with ';' (the comma is the decimal separator there).
    delimiter = max((",", ";", "\t"), key=first.count)
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True),
                                        start=1):
            rows.append((number, list(values)))
            if len(rows) > MAX_RAW_ROWS:
                raise _too_many_rows()
    except csv.Error:
        raise _unreadable("CSV") from None
    return rows


def _too_many_rows() -> UnprocessableError:
    return UnprocessableError(f"Terlalu banyak baris (paling banyak {MAX_ROWS} penduduk per impor).",
                              code="too_many_rows")


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNZIPPED_BYTES:
                raise _too_large()
    except zipfile.BadZipFile:
        raise _unreadable("XLSX") from None
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors) for broken files
        raise _unreadable("XLSX") from None
    try:
        sheet = next((ws for ws in workbook.worksheets if ws.title != CODE_SHEET), None)
        if sheet is None:
            raise ValidationError("Berkas tidak berisi lembar data penduduk.", code="empty_file")
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1):
            rows.append((number, list(values)))
            if len(rows) > MAX_RAW_ROWS:
                raise _too_many_rows()
        return rows
    finally:
        workbook.close()

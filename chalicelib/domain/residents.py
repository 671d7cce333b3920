"""The resident register (data penduduk): OpenSID's import columns and code tables, row checks, masking.

Pure Python. OpenSID (github.com/OpenSID/OpenSID, donjo-app/models/Impor_model.php and the reference
tables seeded in donjo-app/models/seeders/Data_awal_seeder.php) exports and imports residents as a
spreadsheet whose first row holds its column names (`nik`, `nama`, `no_kk`, `sex`, `agama_id` …) and whose
coded columns take either the numeric code or its label (`1` or `LAKI-LAKI`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from chalicelib.domain.nik import mask_nik, parse_nik
from chalicelib.errors import ValidationError

# Every column OpenSID's importer knows (Impor_model::$daftar_kolom), plus `telepon`, the name of
# OpenSID's own phone column (tweb_penduduk.telepon), which Balai also reads. Columns Balai does not keep
# are accepted and ignored, so an unedited OpenSID export imports as it is.
OPENSID_COLUMNS = (
    "alamat", "dusun", "rw", "rt", "nama", "no_kk", "nik", "sex", "tempatlahir", "tanggallahir", "agama_id",
    "pendidikan_kk_id", "pendidikan_sedang_id", "pekerjaan_id", "status_kawin", "kk_level", "warganegara_id",
    "ayah_nik", "nama_ayah", "ibu_nik", "nama_ibu", "golongan_darah_id", "akta_lahir", "dokumen_pasport",
    "tanggal_akhir_paspor", "dokumen_kitas", "akta_perkawinan", "tanggalperkawinan", "akta_perceraian",
    "tanggalperceraian", "cacat_id", "cara_kb_id", "hamil", "ktp_el", "status_rekam", "alamat_sekarang",
    "status_dasar", "suku", "tag_id_card", "id_asuransi", "no_asuransi", "lat", "lng",
)
EXTRA_COLUMNS = ("telepon",)
KNOWN_COLUMNS = frozenset(OPENSID_COLUMNS + EXTRA_COLUMNS)
# Spreadsheet column -> Balai field.
COLUMN_FIELDS = {
    "nik": "nik", "no_kk": "kk_number", "nama": "name", "tempatlahir": "birth_place", "tanggallahir": "birth_date",
    "sex": "sex", "agama_id": "religion", "status_kawin": "marital_status", "pekerjaan_id": "occupation",
    "alamat": "address", "dusun": "dusun", "rt": "rt", "rw": "rw", "telepon": "phone",
}
FIELD_COLUMNS = {v: k for k, v in COLUMN_FIELDS.items()}
# What a resident record holds besides the NIK; `phone` is E.164.
FIELDS = ("kk_number", "name", "birth_place", "birth_date", "sex", "religion", "marital_status", "occupation",
          "address", "dusun", "rt", "rw", "phone")
# The fields a citizen's profile takes from the register (everything a letter prints about them).
PROFILE_FIELDS = ("name", "birth_place", "birth_date", "sex", "religion", "marital_status", "occupation",
                  "address", "rt", "rw", "kk_number")
REQUIRED_NEW = ("name", "kk_number")

# OpenSID code tables (tweb_penduduk_sex, _agama, _kawin, _pekerjaan) mapped to Balai's labels.
SEX_CODES = {"1": "L", "2": "P"}
SEX_LABELS = {"l": "L", "lk": "L", "laki-laki": "L", "lakilaki": "L", "p": "P", "pr": "P", "perempuan": "P"}
RELIGION_CODES = {"1": "Islam", "2": "Kristen", "3": "Katolik", "4": "Hindu", "5": "Buddha", "6": "Khonghucu",
                  "7": "Kepercayaan"}
RELIGION_LABELS = {"islam": "Islam", "kristen": "Kristen", "katholik": "Katolik", "katolik": "Katolik",
                   "hindu": "Hindu", "budha": "Buddha", "buddha": "Buddha", "khonghucu": "Khonghucu",
                   "konghucu": "Khonghucu", "kepercayaan": "Kepercayaan",
                   "kepercayaanterhadaptuhanyme/lainnya": "Kepercayaan", "lainnya": "Kepercayaan"}
MARITAL_CODES = {"1": "Belum Kawin", "2": "Kawin", "3": "Cerai Hidup", "4": "Cerai Mati"}
MARITAL_LABELS = {"bk": "Belum Kawin", "belumkawin": "Belum Kawin", "k": "Kawin", "kawin": "Kawin",
                  "ch": "Cerai Hidup", "ceraihidup": "Cerai Hidup", "cm": "Cerai Mati", "ceraimati": "Cerai Mati"}
OCCUPATIONS_OPENSID = (
    "BELUM/TIDAK BEKERJA", "MENGURUS RUMAH TANGGA", "PELAJAR/MAHASISWA", "PENSIUNAN", "PEGAWAI NEGERI SIPIL (PNS)",
    "TENTARA NASIONAL INDONESIA (TNI)", "KEPOLISIAN RI (POLRI)", "PERDAGANGAN", "PETANI/PEKEBUN", "PETERNAK",
    "NELAYAN/PERIKANAN", "INDUSTRI", "KONSTRUKSI", "TRANSPORTASI", "KARYAWAN SWASTA", "KARYAWAN BUMN",
    "KARYAWAN BUMD", "KARYAWAN HONORER", "BURUH HARIAN LEPAS", "BURUH TANI/PERKEBUNAN", "BURUH NELAYAN/PERIKANAN",
    "BURUH PETERNAKAN", "PEMBANTU RUMAH TANGGA", "TUKANG CUKUR", "TUKANG LISTRIK", "TUKANG BATU", "TUKANG KAYU",
    "TUKANG SOL SEPATU", "TUKANG LAS/PANDAI BESI", "TUKANG JAHIT", "TUKANG GIGI", "PENATA RIAS", "PENATA BUSANA",
    "PENATA RAMBUT", "MEKANIK", "SENIMAN", "TABIB", "PARAJI", "PERANCANG BUSANA", "PENTERJEMAH", "IMAM MASJID",
    "PENDETA", "PASTOR", "WARTAWAN", "USTADZ/MUBALIGH", "JURU MASAK", "PROMOTOR ACARA", "ANGGOTA DPR-RI",
    "ANGGOTA DPD", "ANGGOTA BPK", "PRESIDEN", "WAKIL PRESIDEN", "ANGGOTA MAHKAMAH KONSTITUSI",
    "ANGGOTA KABINET KEMENTERIAN", "DUTA BESAR", "GUBERNUR", "WAKIL GUBERNUR", "BUPATI", "WAKIL BUPATI",
    "WALIKOTA", "WAKIL WALIKOTA", "ANGGOTA DPRD PROVINSI", "ANGGOTA DPRD KABUPATEN/KOTA", "DOSEN", "GURU", "PILOT",
    "PENGACARA", "NOTARIS", "ARSITEK", "AKUNTAN", "KONSULTAN", "DOKTER", "BIDAN", "PERAWAT", "APOTEKER",
    "PSIKIATER/PSIKOLOG", "PENYIAR TELEVISI", "PENYIAR RADIO", "PELAUT", "PENELITI", "SOPIR", "PIALANG",
    "PARANORMAL", "PEDAGANG", "PERANGKAT DESA", "KEPALA DESA", "BIARAWATI", "WIRASWASTA", "LAINNYA",
)
_ACRONYMS = {"PNS", "(PNS)", "TNI", "(TNI)", "RI", "(POLRI)", "POLRI", "BUMN", "BUMD", "DPR-RI", "DPD", "BPK",
             "DPRD"}


def occupation_label(opensid_name: str) -> str:
    """`PETANI/PEKEBUN` -> `Petani/Pekebun`, `KEPOLISIAN RI (POLRI)` -> `Kepolisian RI (POLRI)`."""
    def word(w: str) -> str:
        if w in _ACRONYMS:
            return w
        return "/".join(p.capitalize() for p in w.split("/"))

    return " ".join(word(w) for w in opensid_name.split())


OCCUPATION_CODES = {str(i): occupation_label(name) for i, name in enumerate(OCCUPATIONS_OPENSID, start=1)}
OCCUPATION_LABELS = {re.sub(r"\s+", "", v.lower()): v for v in OCCUPATION_CODES.values()}

# Coded fields: (OpenSID code -> label, written label -> label, the reason when neither matches).
CODED = {
    "sex": (SEX_CODES, SEX_LABELS, "kode jenis kelamin tidak dikenal (1 laki-laki, 2 perempuan)"),
    "religion": (RELIGION_CODES, RELIGION_LABELS, "kode agama tidak dikenal (1 sampai 7)"),
    "marital_status": (MARITAL_CODES, MARITAL_LABELS, "kode status perkawinan tidak dikenal (1 sampai 4)"),
    "occupation": (OCCUPATION_CODES, OCCUPATION_LABELS, "kode pekerjaan tidak dikenal (1 sampai 89)"),
}
RELIGIONS = tuple(dict.fromkeys(RELIGION_CODES.values()))
MARITAL = tuple(MARITAL_CODES.values())
# Documents an operator may see for an in-person identity check.
IDENTITY_DOCUMENTS = ("KTP-el", "KK", "Akta Kelahiran", "Surat Keterangan Kependudukan", "Paspor")

# What a KTP name holds: Latin letters (accents included), spaces and . , ' -
_NAME_RE = re.compile(r"[^\W\d_]+(?:[ .,'\-]+[^\W\d_]*)*")
_DIGITS16 = re.compile(r"[0-9]{16}")
_RT_RW = re.compile(r"[0-9]{1,3}")
MAX_TEXT = {"name": 120, "birth_place": 80, "address": 200, "dusun": 80, "occupation": 80}


def _has_bad_chars(text: str) -> bool:
    """Control, format (bidi overrides, zero-width) and private-use characters have no place in a register."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text)


def _latin_only(text: str) -> bool:
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in text)


@dataclass
class Resident:
    """One row of a village's register. `nik_hash` keys it; the NIK is kept as an attribute."""

    village: str
    nik_hash: str
    nik: str
    data: dict[str, Any]
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    updated_by: str = ""

    def profile(self) -> dict[str, Any]:
        return {k: self.data.get(k) for k in PROFILE_FIELDS if self.data.get(k) not in (None, "")}


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ParsedRow:
    row: int
    nik: str
    data: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)


def _code(value: str, codes: dict[str, str], labels: dict[str, str]) -> str | None:
    if value in codes:
        return codes[value]
    return labels.get(re.sub(r"\s+", "", value.lower()).replace("_", ""))


def parse_date(value: Any) -> date:
    """An Excel date cell, `YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY` (OpenSID reads `/` as day first too)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip(" ")
    text = text[1:] if text.startswith("'") else text
    for pattern in (r"([0-9]{4})-([0-9]{2})-([0-9]{2})", r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})"):
        m = re.fullmatch(pattern, text)
        if m:
            a, b, c = (int(x) for x in m.groups())
            return date(a, b, c) if len(m.group(1)) == 4 else date(c, b, a)
    raise ValueError(text)


def _digits16(raw: Any, what: str) -> str:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # Excel keeps 15 significant digits: a 16-digit number typed as a number has lost its last digit.
        raise ValueError(f"{what} harus disimpan sebagai teks (diawali tanda petik ') agar tidak dibulatkan")
    text = str(raw).strip(" ")
    text = text[1:] if text.startswith("'") else text
    if not _DIGITS16.fullmatch(text):
        raise ValueError(f"{what} harus 16 angka")
    return text


def register_nik(value: Any) -> str:
    """A NIK as the register keys it: exactly 16 ASCII digits with a valid structure and birth date. Look-alikes
    (fullwidth or Arabic-Indic digits, a trailing newline) are refused, never folded into another person's NIK."""
    if not isinstance(value, str) or not _DIGITS16.fullmatch(value):
        raise ValidationError("NIK harus terdiri dari 16 angka.", code="invalid_nik")
    return parse_nik(value).nik


def clean_text(value: Any, name: str, limit: int) -> str:
    if _has_bad_chars(str(value)):
        raise ValueError("berisi karakter kendali atau tak terlihat (termasuk baris baru)")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise ValueError(f"paling banyak {limit} karakter")
    return text


def normalize_field(name: str, value: Any) -> Any:
    """One field in Balai's form; raises ValueError with a reason in Bahasa Indonesia."""
    if name == "kk_number":
        return _digits16(value, "Nomor KK")
    if name == "birth_date":
        try:
            born = parse_date(value)
        except ValueError:
            raise ValueError("tanggal tidak dikenal; gunakan DD-MM-YYYY atau YYYY-MM-DD") from None
        if born > date.today() or born.year < 1900:
            raise ValueError("tanggal lahir tidak masuk akal")
        return born.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.strip(" ") if isinstance(value, str) else str(value)
    text = text[1:] if text.startswith("'") else text
    if name in CODED:
        codes, labels, unknown = CODED[name]
        found = _code(text, codes, labels)
        if found is None:
            raise ValueError(unknown)
        return found
    if name in ("rt", "rw"):
        if not _RT_RW.fullmatch(text):
            raise ValueError("harus 1 sampai 3 angka, atau '-' bila tidak ada")
        return f"{int(text):03d}"
    if name == "phone":
        from chalicelib.domain.phones import normalize_phone

        try:
            return normalize_phone(text)
        except ValidationError:
            raise ValueError("nomor HP seluler Indonesia tidak valid") from None
    if name == "dusun":
        # OpenSID keeps dusun in capitals without the word DUSUN.
        text = clean_text(text.replace("_", " "), name, MAX_TEXT[name]).upper()
        return re.sub(r"^DUSUN\s+", "", text)
    text = clean_text(text, name, MAX_TEXT[name])
    if name == "name":
        if not _NAME_RE.fullmatch(text) or not _latin_only(text):
            raise ValueError("nama hanya boleh berisi huruf, spasi, titik, koma, tanda petik dan strip")
    return text


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip(" ") in ("", "-", "'", "'-"))


def parse_row(row_number: int, cells: dict[str, Any], today: date | None = None) -> ParsedRow:
    """Check one spreadsheet row; empty cells and '-' mean "not given" (they never erase stored data)."""
    parsed = ParsedRow(row=row_number, nik="", data={})
    raw_nik = cells.get("nik")
    try:
        parsed.nik = _digits16(raw_nik if raw_nik is not None else "", "NIK")
        parse_nik(parsed.nik, today)
    except ValueError as exc:
        parsed.errors.append(RowError(row_number, "nik", str(exc)))
    except ValidationError as exc:
        parsed.errors.append(RowError(row_number, "nik", exc.message))
    for column, name in COLUMN_FIELDS.items():
        if name == "nik" or column not in cells or _empty(cells[column]):
            continue
        try:
            parsed.data[name] = normalize_field(name, cells[column])
        except ValueError as exc:
            parsed.errors.append(RowError(row_number, column, str(exc)))
    if parsed.nik and not any(e.column == "nik" for e in parsed.errors):
        parsed.errors += [RowError(row_number, FIELD_COLUMNS[f], msg) for f, msg in nik_conflicts(parsed.nik,
                                                                                                   parsed.data)]
    return parsed


def nik_conflicts(nik: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Birth date and sex must agree with what the NIK encodes."""
    info = parse_nik(nik)
    found = []
    if data.get("birth_date") and data["birth_date"] != info.birth_date.isoformat():
        found.append(("birth_date", "tanggal lahir tidak sesuai dengan NIK"))
    if data.get("sex") and data["sex"] != info.sex:
        found.append(("sex", "jenis kelamin tidak sesuai dengan NIK"))
    return found


def missing_for_new(data: dict[str, Any]) -> list[str]:
    return [f for f in REQUIRED_NEW if not data.get(f)]


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Field -> {"from", "to"} for what differs; the phone is kept masked (audit entries are read by staff)."""
    from chalicelib.domain.phones import mask_phone

    diff = {}
    for name in FIELDS:
        old, new = before.get(name), after.get(name)
        if old != new:
            if name == "phone":
                old, new = (mask_phone(old) if old else None), (mask_phone(new) if new else None)
            diff[name] = {"from": old, "to": new}
    return diff


def masked_view(data: dict[str, Any], nik: str, full: bool) -> dict[str, Any]:
    """The resident as an API answer: camat and admin see NIK, KK number and phone masked."""
    from chalicelib.domain.phones import mask_phone

    view = {"nik": nik if full else mask_nik(nik), **{k: data.get(k) for k in FIELDS}}
    if not full:
        if view.get("kk_number"):
            view["kk_number"] = mask_nik(str(view["kk_number"]))
        if view.get("phone"):
            view["phone"] = mask_phone(str(view["phone"]))
    return view


def creation_changes(current: dict[str, Any], later: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The changes of a resident's creation, rebuilt: its current data with each later change undone, newest
    first (`later`: the `changes` of the entries after the creation, oldest first). A creation entry is stored
    without its values (they would repeat the resident's whole row, for every resident of every register);
    every value it set is either still the current one or the `from` of the first change that replaced it."""
    state = {name: c["to"] for name, c in changes({}, current).items()}  # the phone masked, as entries keep it
    for diff in reversed(later):
        for name, c in diff.items():
            state[name] = c.get("from")
    return {name: {"from": None, "to": value} for name in FIELDS if (value := state.get(name)) not in (None, "")}


def mask_changes(diff: dict[str, Any], full: bool) -> dict[str, Any]:
    if full:
        return diff
    return {k: ({"from": mask_nik(v.get("from")) or None, "to": mask_nik(v.get("to")) or None}
                if k == "kk_number" else v) for k, v in diff.items()}


def sort_name(name: str) -> str:
    """The listing order: case and accents folded, so `Ándi` sorts with `Andi`."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return " ".join(folded.split())

"""The kabupaten's default letter catalogue, village adjustments, and field validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Mapping

from chalicelib.errors import UnprocessableError, ValidationError

FIELD_TYPES = ("string", "text", "integer", "date", "enum", "boolean")
SIGNER_ROLES = ("kades", "operator")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    required: bool = True
    options: tuple[str, ...] = ()
    max_length: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type,
                                "required": self.required}
        if self.options:
            data["options"] = list(self.options)
        if self.max_length:
            data["max_length"] = self.max_length
        return data


# The longest side, in pixels, the portal shrinks a photo of an attachment to before uploading it. A whole
# page (a KK, a letter) keeps 1600: its smallest print (~2 mm) gets ~5 px a mm. A card (KTP, 86 x 54 mm) is
# legible at 1024 (its smallest print ~2.5 mm at ~8 px a mm with the table around it), at about half the bytes
# stored and sent to every officer who opens it.
PAGE_PHOTO_PX = 1600
CARD_PHOTO_PX = 1024


@dataclass(frozen=True)
class AttachmentSpec:
    name: str
    label: str
    required: bool = True
    photo_max_px: int = PAGE_PHOTO_PX

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "required": self.required,
                "photo_max_px": self.photo_max_px}


@dataclass(frozen=True)
class LetterType:
    code: str
    name: str
    title: str
    classification: str
    sla_hours: int
    fields: tuple[FieldSpec, ...]
    attachments: tuple[AttachmentSpec, ...]
    body_template: str
    signer_role: str = "kades"
    enabled: bool = True

    def to_dict(self, with_template: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code, "name": self.name, "title": self.title,
            "classification": self.classification, "sla_hours": self.sla_hours,
            "signer_role": self.signer_role, "enabled": self.enabled,
            "fields": [f.to_dict() for f in self.fields],
            "attachments": [a.to_dict() for a in self.attachments],
        }
        if with_template:
            data["body_template"] = self.body_template
        return data


def _f(name: str, label: str, type_: str = "string", required: bool = True, options: tuple[str, ...] = (),
       max_length: int | None = None) -> FieldSpec:
    return FieldSpec(name, label, type_, required, options, max_length or (200 if type_ == "string" else
                                                                          1000 if type_ == "text" else None))


_KTP = AttachmentSpec("ktp", "Foto KTP", photo_max_px=CARD_PHOTO_PX)
_KK = AttachmentSpec("kk", "Foto Kartu Keluarga")
_RT = AttachmentSpec("pengantar_rt", "Surat pengantar RT/RW")
_KEPERLUAN = _f("keperluan", "Keperluan", "text")

# Applicant placeholders every template may use (from the citizen's profile snapshot).
APPLICANT_PLACEHOLDERS = ("nama", "nik", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "agama",
                          "status_perkawinan", "pekerjaan", "alamat", "rt", "rw", "desa", "kecamatan",
                          "kabupaten")

_DEFAULTS: tuple[LetterType, ...] = (
    LetterType(
        "SKD", "Surat Keterangan Domisili", "SURAT KETERANGAN DOMISILI", "470", 8,
        (_f("lama_tinggal_tahun", "Lama tinggal (tahun)", "integer"), _KEPERLUAN),
        (_KTP, _KK, _RT),
        "Orang tersebut di atas benar-benar berdomisili di {alamat} RT {rt} RW {rw}, {desa}, Kecamatan "
        "{kecamatan}, {kabupaten}, sejak kurang lebih {lama_tinggal_tahun} tahun yang lalu.\n\n"
        "Surat keterangan ini dibuat untuk keperluan {keperluan}.",
    ),
    LetterType(
        "SKU", "Surat Keterangan Usaha", "SURAT KETERANGAN USAHA", "510", 16,
        (_f("nama_usaha", "Nama usaha"), _f("jenis_usaha", "Jenis usaha"),
         _f("alamat_usaha", "Alamat usaha", "text"), _f("mulai_usaha", "Mulai usaha", "date"), _KEPERLUAN),
        (_KTP, _KK, AttachmentSpec("foto_usaha", "Foto tempat usaha")),
        "Berdasarkan pengamatan dan keterangan yang bersangkutan, orang tersebut di atas benar memiliki "
        "usaha {jenis_usaha} dengan nama \"{nama_usaha}\" yang beralamat di {alamat_usaha}, dan telah "
        "menjalankan usaha tersebut sejak {mulai_usaha}.\n\nSurat keterangan ini dibuat untuk keperluan "
        "{keperluan}.",
    ),
    LetterType(
        "SKTM", "Surat Keterangan Tidak Mampu", "SURAT KETERANGAN TIDAK MAMPU", "401", 16,
        (_f("penghasilan_bulanan", "Penghasilan keluarga per bulan (Rp)", "integer"),
         _f("jumlah_tanggungan", "Jumlah tanggungan keluarga", "integer"), _KEPERLUAN),
        (_KTP, _KK, _RT),
        "Orang tersebut di atas adalah benar warga {desa} yang tergolong keluarga tidak mampu, dengan "
        "penghasilan keluarga sebesar Rp {penghasilan_bulanan} per bulan dan menanggung "
        "{jumlah_tanggungan} orang anggota keluarga.\n\nSurat keterangan ini dibuat untuk keperluan "
        "{keperluan}.",
    ),
    LetterType(
        "SPKTP", "Surat Pengantar KTP", "SURAT PENGANTAR PEMBUATAN KTP-EL", "470", 8,
        (_f("jenis_permohonan", "Jenis permohonan", "enum",
            options=("Baru", "Perpanjangan", "Penggantian karena hilang", "Penggantian karena rusak",
                     "Perubahan data")),),
        (_KK, _RT),
        "Orang tersebut di atas adalah benar penduduk {desa} dan bermaksud mengajukan permohonan KTP-el "
        "({jenis_permohonan}) ke Dinas Kependudukan dan Pencatatan Sipil {kabupaten}.\n\nMohon kiranya "
        "yang bersangkutan dapat diberikan pelayanan sebagaimana mestinya.",
    ),
    LetterType(
        "SPKK", "Surat Pengantar Kartu Keluarga", "SURAT PENGANTAR KARTU KELUARGA", "470", 8,
        (_f("jenis_permohonan", "Jenis permohonan", "enum",
            options=("KK baru", "Penambahan anggota keluarga", "Pengurangan anggota keluarga",
                     "Perubahan data", "Penggantian karena hilang/rusak")),
         _f("keterangan", "Keterangan perubahan", "text", required=False)),
        (_KK, _RT),
        "Orang tersebut di atas adalah benar penduduk {desa} dan bermaksud mengajukan permohonan Kartu "
        "Keluarga ({jenis_permohonan}) ke Dinas Kependudukan dan Pencatatan Sipil {kabupaten}.\n\n"
        "Keterangan: {keterangan}",
    ),
    LetterType(
        "SKL", "Surat Keterangan Kelahiran", "SURAT KETERANGAN KELAHIRAN", "474.1", 8,
        (_f("nama_bayi", "Nama bayi"), _f("jenis_kelamin_bayi", "Jenis kelamin bayi", "enum",
                                           options=("Laki-laki", "Perempuan")),
         _f("tanggal_lahir_bayi", "Tanggal lahir bayi", "date"), _f("tempat_lahir_bayi", "Tempat lahir bayi"),
         _f("nama_ayah", "Nama ayah"), _f("nama_ibu", "Nama ibu")),
        (_KK, AttachmentSpec("keterangan_lahir", "Surat keterangan lahir dari bidan/rumah sakit")),
        "Menerangkan bahwa pada tanggal {tanggal_lahir_bayi} di {tempat_lahir_bayi} telah lahir seorang "
        "anak {jenis_kelamin_bayi} bernama {nama_bayi}, dari seorang ayah bernama {nama_ayah} dan ibu "
        "bernama {nama_ibu}.\n\nSurat keterangan ini dibuat atas permohonan orang tersebut di atas untuk "
        "pengurusan akta kelahiran.",
    ),
    LetterType(
        "SKM", "Surat Keterangan Kematian", "SURAT KETERANGAN KEMATIAN", "474.3", 8,
        (_f("nama_almarhum", "Nama almarhum/almarhumah"), _f("nik_almarhum", "NIK almarhum/almarhumah"),
         _f("tanggal_meninggal", "Tanggal meninggal", "date"), _f("tempat_meninggal", "Tempat meninggal"),
         _f("sebab_meninggal", "Sebab meninggal"), _f("hubungan_pelapor", "Hubungan pelapor")),
        (_KK, AttachmentSpec("ktp_almarhum", "KTP almarhum/almarhumah", photo_max_px=CARD_PHOTO_PX)),
        "Menerangkan bahwa {nama_almarhum} (NIK {nik_almarhum}) telah meninggal dunia pada tanggal "
        "{tanggal_meninggal} di {tempat_meninggal} karena {sebab_meninggal}.\n\nSurat keterangan ini "
        "dibuat atas laporan orang tersebut di atas selaku {hubungan_pelapor} almarhum/almarhumah.",
    ),
    LetterType(
        "SKP", "Surat Keterangan Pindah", "SURAT KETERANGAN PINDAH", "475", 16,
        (_f("alamat_tujuan", "Alamat tujuan", "text"), _f("alasan_pindah", "Alasan pindah"),
         _f("jumlah_pengikut", "Jumlah anggota keluarga yang ikut pindah", "integer")),
        (_KTP, _KK, _RT),
        "Orang tersebut di atas adalah benar penduduk {desa} yang bermaksud pindah ke {alamat_tujuan} "
        "dengan alasan {alasan_pindah}, bersama {jumlah_pengikut} orang anggota keluarga.\n\nDemikian "
        "surat keterangan ini dibuat untuk dipergunakan sebagaimana mestinya.",
    ),
    LetterType(
        "SPSKCK", "Surat Pengantar SKCK", "SURAT PENGANTAR SKCK", "331", 8,
        (_KEPERLUAN,),
        (_KTP, _KK, _RT),
        "Orang tersebut di atas adalah benar penduduk {desa} dan sepanjang pengetahuan kami berkelakuan "
        "baik serta tidak pernah tersangkut perkara pidana.\n\nSurat pengantar ini diberikan untuk "
        "pengurusan Surat Keterangan Catatan Kepolisian (SKCK) dengan keperluan {keperluan}.",
    ),
    LetterType(
        "SKBM", "Surat Keterangan Belum Menikah", "SURAT KETERANGAN BELUM PERNAH MENIKAH", "474.2", 8,
        (_KEPERLUAN,),
        (_KTP, _KK, _RT),
        "Berdasarkan data kependudukan dan keterangan yang bersangkutan, orang tersebut di atas sampai "
        "dengan saat ini belum pernah menikah.\n\nSurat keterangan ini dibuat untuk keperluan {keperluan}.",
    ),
    LetterType(
        "SKPH", "Surat Keterangan Penghasilan", "SURAT KETERANGAN PENGHASILAN", "460", 8,
        (_f("penghasilan_bulanan", "Penghasilan per bulan (Rp)", "integer"),
         _f("sumber_penghasilan", "Sumber penghasilan"), _KEPERLUAN),
        (_KTP, _KK),
        "Orang tersebut di atas adalah benar penduduk {desa} yang bekerja sebagai {pekerjaan} dengan "
        "sumber penghasilan dari {sumber_penghasilan} dan penghasilan rata-rata sebesar Rp "
        "{penghasilan_bulanan} per bulan.\n\nSurat keterangan ini dibuat untuk keperluan {keperluan}.",
    ),
)

DEFAULT_CATALOG: dict[str, LetterType] = {lt.code: lt for lt in _DEFAULTS}

# What a village may change about a letter type.
ADJUSTABLE = ("enabled", "sla_hours", "classification", "body_template", "signer_role")


def validate_adjustment(code: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check a village's adjustment of one letter type; return the cleaned changes."""
    if code not in DEFAULT_CATALOG:
        raise UnprocessableError("Jenis surat tidak dikenal.", code="unknown_letter_type")
    unknown = sorted(set(changes) - set(ADJUSTABLE))
    if unknown:
        raise ValidationError(f"Pengaturan tidak dikenal: {', '.join(unknown)}.", code="invalid_setting")
    cleaned: dict[str, Any] = {}
    if "enabled" in changes:
        if not isinstance(changes["enabled"], bool):
            raise ValidationError("enabled harus true atau false.", code="invalid_setting")
        cleaned["enabled"] = changes["enabled"]
    if "sla_hours" in changes:
        sla = changes["sla_hours"]
        if isinstance(sla, bool) or not isinstance(sla, int) or not 1 <= sla <= 240:
            raise ValidationError("SLA harus 1 sampai 240 jam kerja.", code="invalid_setting")
        cleaned["sla_hours"] = sla
    if "classification" in changes:
        cls_ = changes["classification"]
        if not isinstance(cls_, str) or not re.fullmatch(r"\d{3}(\.\d{1,3})*", cls_):
            raise ValidationError("Kode klasifikasi arsip tidak valid.", code="invalid_setting")
        cleaned["classification"] = cls_
    if "signer_role" in changes:
        if changes["signer_role"] not in SIGNER_ROLES:
            raise ValidationError("Penanda tangan harus kades atau operator.", code="invalid_setting")
        cleaned["signer_role"] = changes["signer_role"]
    if "body_template" in changes:
        template = changes["body_template"]
        if not isinstance(template, str) or not 20 <= len(template) <= 5000:
            raise ValidationError("Templat isi surat harus 20 sampai 5000 karakter.", code="invalid_setting")
        allowed = set(APPLICANT_PLACEHOLDERS) | {f.name for f in DEFAULT_CATALOG[code].fields}
        used = set(re.findall(r"{([^{}]*)}", template))
        bad = sorted(used - allowed)
        if bad:
            raise ValidationError(f"Isian templat tidak dikenal: {', '.join(bad)}.", code="template_error")
        cleaned["body_template"] = template
    return cleaned


def effective_type(code: str, adjustments: Mapping[str, Mapping[str, Any]] | None) -> LetterType | None:
    """The default letter type with the village's adjustments applied, or None if unknown."""
    base = DEFAULT_CATALOG.get(code)
    if base is None:
        return None
    changes = dict((adjustments or {}).get(code) or {})
    return replace(base, **{k: v for k, v in changes.items() if k in ADJUSTABLE})


def village_catalog(adjustments: Mapping[str, Mapping[str, Any]] | None) -> list[LetterType]:
    return [lt for code in DEFAULT_CATALOG if (lt := effective_type(code, adjustments)) is not None]


def _field_error(spec: FieldSpec, message: str) -> dict[str, str]:
    return {"field": spec.name, "message": message}


def validate_fields(letter_type: LetterType, values: Any) -> dict[str, Any]:
    """Check submitted values against the letter type's schema; return JSON-safe cleaned values.

    Raises ValidationError(invalid_fields) listing every wrong field, so a form can mark them all.
    """
    if not isinstance(values, dict):
        raise ValidationError("Isian surat harus berupa objek.", code="invalid_fields")
    specs = {f.name: f for f in letter_type.fields}
    errors: list[dict[str, str]] = []
    for name in sorted(set(values) - set(specs)):
        errors.append({"field": name, "message": "Isian tidak dikenal untuk jenis surat ini."})
    cleaned: dict[str, Any] = {}
    for spec in letter_type.fields:
        value = values.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors.append(_field_error(spec, f"{spec.label} wajib diisi."))
            continue
        if spec.type in ("string", "text", "enum"):
            if not isinstance(value, str):
                errors.append(_field_error(spec, f"{spec.label} harus berupa teks."))
                continue
            value = value.strip()
            if spec.max_length and len(value) > spec.max_length:
                errors.append(_field_error(spec, f"{spec.label} paling banyak {spec.max_length} karakter."))
                continue
            if spec.type == "enum" and value not in spec.options:
                errors.append(_field_error(spec, f"{spec.label} harus salah satu dari: {', '.join(spec.options)}."))
                continue
        elif spec.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
                errors.append(_field_error(spec, f"{spec.label} harus berupa bilangan bulat tidak negatif."))
                continue
        elif spec.type == "boolean":
            if not isinstance(value, bool):
                errors.append(_field_error(spec, f"{spec.label} harus ya atau tidak (true/false)."))
                continue
        elif spec.type == "date":
            try:
                parsed = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
            except ValueError:
                parsed = None
            if parsed is None:
                errors.append(_field_error(spec, f"{spec.label} harus tanggal dengan format YYYY-MM-DD."))
                continue
            value = parsed.isoformat()
        cleaned[spec.name] = value
    if errors:
        raise ValidationError("Isian surat tidak lengkap atau tidak valid.", code="invalid_fields", fields=errors)
    return cleaned

"""Notification texts in Bahasa Indonesia, one per (event, channel), and GSM-7 helpers for SMS."""

from __future__ import annotations

import html
import math
import re
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Template forms: "sms" (one GSM-7 part where it fits) and "email" (subject, text, HTML) are written per event;
# "short" (the portal inbox, Web Push) is the SMS wording in full Unicode under the e-mail's subject.
# A channel (chalicelib/channels/) names the form it renders.
FORMS = ("sms", "email")
DERIVED_FORMS = ("short",)
SMS_MAX_CHARS = 160
_ELLIPSIS = "..."  # "…" is not in the GSM-7 alphabet and would turn the SMS into UCS-2 (70 chars)
_MIN_TRUNCATED = 12  # below this a truncated name or note says nothing

# GSM 03.38 basic alphabet (one septet each) and the extension table (escape + char: two septets each).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")
# Characters people paste from word processors and phones, mapped to GSM-7 look-alikes.
_GSM7_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "`": "'", "´": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "«": '"', "»": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\t": " ", "•": "-", "·": ".", "°": "o", "×": "x",
}  # fmt: skip


@dataclass(frozen=True)
class Message:
    """A rendered notification: `subject` and `html` are None for SMS."""

    subject: str | None
    text: str
    html: str | None


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM-7 alphabet (basic or extension table)."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def gsm7_length(text: str) -> int:
    """Septets the text takes in GSM-7: extension characters (e.g. "{", "€") count twice."""
    return sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)


def sms_segments(text: str) -> int:
    """How many SMS parts the text is billed as: 160/153 septets in GSM-7, else 70/67 UTF-16 units."""
    if not text:
        return 0
    if is_gsm7(text):
        length, single, multi = gsm7_length(text), 160, 153
    else:
        length, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else math.ceil(length / multi)


def to_gsm7(text: str) -> str:
    """Replace look-alike punctuation and strip accents so the text stays GSM-7; anything else becomes "?"."""
    out: list[str] = []
    for ch in text:
        if ch in _GSM7_BASIC or ch in _GSM7_EXTENDED:
            out.append(ch)
        elif ch in _GSM7_REPLACEMENTS:
            out.append(_GSM7_REPLACEMENTS[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and is_gsm7(base) else "?")
    return "".join(out)


def _one_line(value: str) -> str:
    # Edges are kept: optional sentences carry their own leading space; doubled spaces are squeezed later.
    return re.sub(r"\s+", " ", value)


def _truncate(value: str, length: int) -> str:
    if len(value) <= length:
        return value
    cut = value[: max(length - len(_ELLIPSIS), 1)]
    space = cut.rfind(" ")
    if space > 0 and len(cut) - space <= 10:  # end on a whole word unless that throws much away
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + _ELLIPSIS


def _number(value: Any) -> str:
    """Counts and hours as people write them in Indonesia: 12 or 12,5 (decimal comma)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return str(int(value))


@dataclass(frozen=True)
class Template:
    """One event's text for one channel; `prepare` checks the data and derives optional lines."""

    text: str
    subject: str | None = None
    truncatable: tuple[str, ...] = ()  # free-text fields an SMS may shorten, most expendable first

    def fields(self) -> set[str]:
        names = {name for _, name, _, _ in string.Formatter().parse(self.text) if name}
        if self.subject:
            names |= {name for _, name, _, _ in string.Formatter().parse(self.subject) if name}
        return names


Prepare = Callable[[Mapping[str, Any]], dict[str, str]]


def _require(data: Mapping[str, Any], *names: str) -> dict[str, str]:
    missing = [n for n in names if data.get(n) in (None, "")]
    if missing:
        raise ValueError(f"message data is missing {', '.join(missing)}")
    return {n: str(data[n]) for n in names}


def _prepare_otp(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "code", "minutes")
    values["minutes"] = _number(data["minutes"])
    return values


def _prepare_request(data: Mapping[str, Any]) -> dict[str, str]:
    return _require(data, "tracking_code", "letter_name", "village_name")


def _prepare_awaiting_signature(data: Mapping[str, Any]) -> dict[str, str]:
    # One letter names it; a batch (the usual case for a busy kades) gives a count.
    if data.get("count") is not None:
        return {"what": f"{_number(data['count'])} surat"}
    values = _require(data, "letter_name", "tracking_code")
    return {"what": f"{values['letter_name']} ({values['tracking_code']})"}


def _prepare_revision(data: Mapping[str, Any]) -> dict[str, str]:
    return _require(data, "tracking_code", "note")


def _prepare_letter(data: Mapping[str, Any]) -> dict[str, str]:
    return _require(data, "tracking_code", "letter_name")


def _prepare_issued(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "tracking_code", "letter_name")
    url = data.get("download_url")
    values["download_url"] = str(url) if url else ""
    return values


def _prepare_rejected(data: Mapping[str, Any]) -> dict[str, str]:
    return _require(data, "tracking_code", "letter_name", "reason")


def _prepare_sla_reminder(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "letter_name", "tracking_code")
    due = data.get("due_at")  # already formatted in the kabupaten's zone, e.g. "18/08 14.00 WITA"
    values["due"] = f" Batas waktu {due}." if due else ""
    return values


def _prepare_sla_escalation(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "village_name", "letter_name", "tracking_code")
    if data.get("overdue_hours") is None:
        raise ValueError("message data is missing overdue_hours")
    values["overdue_hours"] = _number(data["overdue_hours"])
    return values


def _prepare_digest(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "village_name")
    for name in ("waiting", "near_sla", "overdue"):
        if data.get(name) is None:
            raise ValueError(f"message data is missing {name}")
        values[name] = _number(data[name])
    return values


def _prepare_complaint(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "reference", "title", "kind_label", "village_name", "unit_name")
    note = data.get("note")
    values["note"] = f" Catatan: {note}" if note else ""
    values["status_label"] = str(data.get("status_label") or "")
    return values


def _prepare_complaint_sla(data: Mapping[str, Any]) -> dict[str, str]:
    values = _require(data, "reference", "title", "village_name", "unit_name")
    due = data.get("due_at")
    values["due"] = f" Batas waktu {due}." if due else ""
    hours = data.get("overdue_hours")
    values["overdue_hours"] = _number(hours) if hours is not None else "0"
    return values


_PREPARE: dict[str, Prepare] = {
    "otp": _prepare_otp,
    "request_received": _prepare_request,
    "new_request": _prepare_request,
    "awaiting_signature": _prepare_awaiting_signature,
    "needs_revision": _prepare_revision,
    "approved": _prepare_letter,
    "issued": _prepare_issued,
    "rejected": _prepare_rejected,
    "sla_reminder": _prepare_sla_reminder,
    "sla_escalation": _prepare_sla_escalation,
    "daily_digest": _prepare_digest,
    "complaint_received": _prepare_complaint,
    "new_complaint": _prepare_complaint,
    "complaint_status": _prepare_complaint,
    "complaint_moderated": _prepare_complaint,
    "complaint_sla_reminder": _prepare_complaint_sla,
    "complaint_sla_escalation": _prepare_complaint_sla,
}

_FOOTER = "\n\nPesan ini dikirim otomatis oleh Balai, layanan publik desa. Mohon tidak membalas email ini."

TEMPLATES: dict[tuple[str, str], Template] = {
    ("otp", "sms"): Template(
        "Kode verifikasi Balai: {code}. Berlaku {minutes} menit. JANGAN berikan kode ini kepada siapa pun, "
        "termasuk petugas."
    ),
    ("otp", "email"): Template(
        subject="Kode verifikasi Balai",
        text="Kode verifikasi Anda: {code}\n\nKode ini berlaku {minutes} menit. Jangan berikan kode ini kepada "
        "siapa pun, termasuk petugas desa.\n\nJika Anda tidak meminta kode ini, abaikan email ini.",
    ),
    ("request_received", "sms"): Template(
        "Balai: Permohonan {letter_name} di {village_name} diterima. Kode lacak: {tracking_code}. "
        "Simpan kode ini untuk cek status.",
        truncatable=("village_name", "letter_name"),
    ),
    ("request_received", "email"): Template(
        subject="Permohonan diterima: {letter_name} ({tracking_code})",
        text="Permohonan {letter_name} Anda di {village_name} telah kami terima.\n\nKode lacak: {tracking_code}\n\n"
        "Simpan kode ini untuk memeriksa status permohonan di:\n{track_url}\n\nKami akan memberi kabar setiap "
        "ada perubahan.",
    ),
    ("new_request", "sms"): Template(
        "Balai: Permohonan baru {letter_name} ({tracking_code}) di {village_name}. Mohon segera diproses.",
        truncatable=("village_name", "letter_name"),
    ),
    ("new_request", "email"): Template(
        subject="Permohonan baru: {letter_name} ({tracking_code})",
        text="Ada permohonan baru di {village_name}.\n\nJenis surat: {letter_name}\nKode lacak: {tracking_code}\n\n"
        "Mohon segera diperiksa dan diproses di konsol petugas Balai:\n{staff_url}",
    ),
    ("awaiting_signature", "sms"): Template(
        "Balai: {what} menunggu tanda tangan Anda. Periksa di {staff_url}",
        truncatable=("what",),
    ),
    ("awaiting_signature", "email"): Template(
        subject="{what} menunggu tanda tangan Anda",
        text="{what} menunggu tanda tangan Anda.\n\nSilakan periksa dan tanda tangani di konsol petugas Balai:\n"
        "{staff_url}",
    ),
    ("needs_revision", "sms"): Template(
        "Balai: Permohonan {tracking_code} perlu diperbaiki. Catatan petugas: {note} Perbaiki di {portal}",
        truncatable=("note",),
    ),
    ("needs_revision", "email"): Template(
        subject="Permohonan {tracking_code} perlu diperbaiki",
        text="Permohonan Anda dengan kode lacak {tracking_code} perlu diperbaiki.\n\nCatatan petugas:\n{note}\n\n"
        "Silakan perbaiki dan kirim ulang permohonan Anda di portal Balai:\n{portal}",
    ),
    ("approved", "sms"): Template(
        "Balai: Permohonan {letter_name} ({tracking_code}) disetujui. Surat sedang disiapkan untuk ditandatangani.",
        truncatable=("letter_name",),
    ),
    ("approved", "email"): Template(
        subject="Permohonan disetujui: {letter_name} ({tracking_code})",
        text="Permohonan {letter_name} Anda dengan kode lacak {tracking_code} telah disetujui.\n\n"
        "Surat sedang disiapkan untuk ditandatangani. Kami akan memberi kabar setelah surat terbit.",
    ),
    ("issued", "sms"): Template(
        "Balai: {letter_name} ({tracking_code}) sudah terbit. {download}",
        truncatable=("letter_name",),
    ),
    ("issued", "email"): Template(
        subject="Surat terbit: {letter_name} ({tracking_code})",
        text="{letter_name} Anda dengan kode lacak {tracking_code} sudah terbit.\n\n{download}",
    ),
    ("rejected", "sms"): Template(
        "Balai: Permohonan {tracking_code} ditolak. Alasan: {reason}",
        truncatable=("reason",),
    ),
    ("rejected", "email"): Template(
        subject="Permohonan ditolak: {letter_name} ({tracking_code})",
        text="Mohon maaf, permohonan {letter_name} Anda dengan kode lacak {tracking_code} ditolak.\n\n"
        "Alasan:\n{reason}\n\nAnda dapat mengajukan permohonan baru melalui portal Balai:\n{portal}",
    ),
    ("sla_reminder", "sms"): Template(
        "Balai: Permohonan {letter_name} ({tracking_code}) hampir melewati batas waktu layanan.{due} "
        "Mohon segera diproses.",
        truncatable=("letter_name",),
    ),
    ("sla_reminder", "email"): Template(
        subject="Segera diproses: {letter_name} ({tracking_code})",
        text="Permohonan {letter_name} dengan kode lacak {tracking_code} hampir melewati batas waktu "
        "layanan.{due}\n\nMohon segera diproses di konsol petugas Balai:\n{staff_url}",
    ),
    ("sla_escalation", "sms"): Template(
        "Balai: Permohonan {letter_name} ({tracking_code}) di {village_name} terlambat {overdue_hours} jam kerja "
        "dari batas waktu layanan. Mohon ditindaklanjuti.",
        truncatable=("village_name", "letter_name"),
    ),
    ("sla_escalation", "email"): Template(
        subject="Permohonan terlambat: {tracking_code} di {village_name}",
        text="Permohonan {letter_name} dengan kode lacak {tracking_code} di {village_name} telah melewati batas "
        "waktu layanan selama {overdue_hours} jam kerja.\n\nMohon ditindaklanjuti bersama petugas desa.",
    ),
    ("daily_digest", "sms"): Template(
        "Balai {village_name} hari ini: {waiting} permohonan menunggu, {near_sla} hampir lewat batas waktu, "
        "{overdue} terlambat.",
        truncatable=("village_name",),
    ),
    ("daily_digest", "email"): Template(
        subject="Ringkasan harian {village_name}",
        text="Ringkasan permohonan di {village_name} pagi ini:\n\n"
        "Menunggu diproses: {waiting}\nHampir lewat batas waktu: {near_sla}\nTerlambat: {overdue}\n\n"
        "Silakan buka konsol petugas Balai untuk memprosesnya:\n{staff_url}",
    ),
}

# Complaints and aspirations (issue 12): the citizen hears of each change, the handling unit of new work.
TEMPLATES.update({
    ("complaint_received", "sms"): Template(
        "Balai: {kind_label} \"{title}\" di {village_name} diterima (ref {reference}), ditangani {unit_name}.",
        truncatable=("title", "unit_name", "village_name"),
    ),
    ("complaint_received", "email"): Template(
        subject="{kind_label} diterima: {title}",
        text="{kind_label} Anda \"{title}\" di {village_name} telah kami terima dengan nomor referensi "
        "{reference}.\n\nYang menangani: {unit_name}\n\nAnda dapat mengikuti perkembangannya di portal Balai:\n"
        "{portal}",
    ),
    ("new_complaint", "sms"): Template(
        "Balai: {kind_label} baru untuk {unit_name} dari {village_name}: \"{title}\" (ref {reference}).{note}",
        truncatable=("note", "title", "village_name", "unit_name"),
    ),
    ("new_complaint", "email"): Template(
        subject="{kind_label} baru: {title} ({village_name})",
        text="Ada {kind_label} untuk {unit_name} dari {village_name}.\n\nJudul: {title}\nReferensi: {reference}"
        "{note}\n\nMohon segera ditindaklanjuti di konsol petugas Balai:\n{staff_url}",
    ),
    ("complaint_status", "sms"): Template(
        "Balai: {kind_label} \"{title}\" (ref {reference}) kini {status_label}.{note}",
        truncatable=("note", "title"),
    ),
    ("complaint_status", "email"): Template(
        subject="{kind_label} {reference}: {status_label}",
        text="{kind_label} Anda \"{title}\" (referensi {reference}) kini berstatus {status_label}.{note}\n\n"
        "Yang menangani: {unit_name}\n\nLihat perkembangannya di portal Balai:\n{portal}",
    ),
    ("complaint_moderated", "sms"): Template(
        "Balai: {kind_label} \"{title}\" (ref {reference}) tidak lagi ditampilkan untuk umum.{note}",
        truncatable=("note", "title"),
    ),
    ("complaint_moderated", "email"): Template(
        subject="{kind_label} {reference} disembunyikan dari umum",
        text="{kind_label} Anda \"{title}\" (referensi {reference}) tidak lagi ditampilkan untuk umum.{note}\n\n"
        "Penanganannya tetap berjalan; Anda dapat mengikutinya di portal Balai:\n{portal}",
    ),
    ("complaint_sla_reminder", "sms"): Template(
        "Balai: Pengaduan \"{title}\" (ref {reference}) di {village_name} hampir lewat batas waktu.{due} "
        "Mohon segera ditangani.",
        truncatable=("title", "village_name"),
    ),
    ("complaint_sla_reminder", "email"): Template(
        subject="Segera ditangani: pengaduan {reference}",
        text="Pengaduan \"{title}\" (referensi {reference}) di {village_name} untuk {unit_name} hampir melewati "
        "batas waktu layanan.{due}\n\nMohon segera ditangani di konsol petugas Balai:\n{staff_url}",
    ),
    ("complaint_sla_escalation", "sms"): Template(
        "Balai: Pengaduan \"{title}\" (ref {reference}) di {village_name} terlambat {overdue_hours} jam kerja "
        "di {unit_name}. Mohon ditindaklanjuti.",
        truncatable=("title", "unit_name", "village_name"),
    ),
    ("complaint_sla_escalation", "email"): Template(
        subject="Pengaduan terlambat: {reference} di {village_name}",
        text="Pengaduan \"{title}\" (referensi {reference}) di {village_name} telah melewati batas waktu layanan "
        "selama {overdue_hours} jam kerja.\n\nYang menangani: {unit_name}\n\nMohon ditindaklanjuti.",
    ),
})

EVENTS = tuple(_PREPARE)


def _download_line(url: str, channel: str, track_url: str = "") -> str:
    if url:
        return f"Unduh: {url}" if channel == "sms" else f"Unduh surat Anda di:\n{url}"
    if track_url:
        return f"Unduh di {track_url}" if channel == "sms" else f"Silakan unduh surat Anda di:\n{track_url}"
    return "Unduh di portal Balai." if channel == "sms" else "Silakan unduh surat Anda di portal Balai."


def _squeeze(text: str) -> str:
    return re.sub(r" {2,}", " ", text).strip()


def _fit_sms(template: Template, values: dict[str, str]) -> str:
    """Render, then shorten the truncatable fields until the SMS fits one GSM-7 part.

    The longest field gives up a character at a time, so a long letter name and a long village name end
    up trimmed to similar lengths rather than one of them cut to nothing.
    """
    text = _squeeze(template.text.format_map(values))
    targets = {name: len(values[name]) for name in template.truncatable}
    shortened = dict(values)
    while gsm7_length(text) > SMS_MAX_CHARS:
        candidates = [n for n, length in targets.items() if length > _MIN_TRUNCATED]
        if not candidates:
            break  # "where it can": a long URL or tracking code is never cut, the SMS just takes two parts
        name = max(candidates, key=lambda n: targets[n])
        targets[name] -= 1
        shortened[name] = _truncate(values[name], targets[name])
        text = _squeeze(template.text.format_map(shortened))
    return text


_LINKS = ("portal", "track_url", "staff_url")


def _to_html(template_text: str, values: Mapping[str, str], raw: Mapping[str, Any]) -> str:
    """The plain-text template as HTML: literal text and values escaped separately, URLs as links."""
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template_text):
        parts.append(html.escape(literal))
        if not name:
            continue
        value = html.escape(values[name])
        if name in _LINKS:
            value = f'<a href="{value}">{value}</a>'
        elif name == "download":
            # The download line ends with a link: the letter's own, or the portal's tracking page.
            url = raw.get("download_url") or values.get("track_url")
            if url:
                escaped = html.escape(str(url))
                value = value.replace(escaped, f'<a href="{escaped}">{escaped}</a>', 1)
        parts.append(value)
    body = "".join(parts)
    paragraphs = [p.replace("\n", "<br>\n") for p in body.split("\n\n")]
    inner = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8"></head>\n'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222">\n'
        f"{inner}\n</body></html>"
    )


def portal_links(portal: str, tracking_code: str | None = None) -> dict[str, str]:
    """Where a message sends people on the web front end: the portal, the tracking page, the staff console."""
    base = portal.rstrip("/")
    links = {"portal": base + "/", "staff_url": base + "/staf/"}
    if tracking_code:
        links["track_url"] = f"{base}/lacak/?kode={tracking_code}"
    return links


def _default_portal() -> str:
    from chalicelib.config import get_settings

    return get_settings().web_base_url


def render_message(event: str, channel: str, data: Mapping[str, Any], portal: str | None = None) -> Message:
    """Fill the (event, channel) template from `data`; links point to the web portal at `portal`
    (default: the stage's web base URL).

    Raises ValueError for an unknown event or channel or missing data: those are programming errors.
    SMS text is converted to GSM-7 and shortened to 160 characters where free-text fields allow it.
    """
    if channel == "short":
        return _render_short(event, data, portal)
    template = TEMPLATES.get((event, channel))
    if template is None:
        raise ValueError(f"no template for event {event!r} on channel {channel!r}")
    values = _PREPARE[event](data)
    values.update(portal_links(portal if portal is not None else _default_portal(), values.get("tracking_code")))
    signin = data.get("signin_url") if channel == "sms" else None
    if signin:
        # The SMS's one-time sign-in link (services/signin_links.py) opens the request already logged in.
        values["portal"] = str(signin)
        if "download_url" in values:
            values["download_url"] = str(signin)
    if "download_url" in values:
        values["download"] = _download_line(values.pop("download_url"), channel, values.get("track_url", ""))
    if channel == "sms":
        values = {k: to_gsm7(_one_line(v)) for k, v in values.items()}
        return Message(subject=None, text=_fit_sms(template, values), html=None)
    text = template.text.format_map(values) + _FOOTER
    subject_values = {k: _one_line(v) for k, v in values.items()}  # a newline in a header would break it
    subject = template.subject.format_map(subject_values).strip() if template.subject else "Balai"
    subject = subject[:1].upper() + subject[1:]
    return Message(subject=_truncate(subject, 150), text=text, html=_to_html(template.text + _FOOTER, values, data))


def _render_short(event: str, data: Mapping[str, Any], portal: str | None) -> Message:
    """The inbox and push form: a title (the e-mail's subject) and the SMS text, neither cut nor converted."""
    short, long = TEMPLATES.get((event, "sms")), TEMPLATES.get((event, "email"))
    if short is None or long is None:
        raise ValueError(f"no template for event {event!r}")
    values = _PREPARE[event](data)
    values.update(portal_links(portal if portal is not None else _default_portal(), values.get("tracking_code")))
    if "download_url" in values:
        values["download"] = _download_line(values.pop("download_url"), "sms", values.get("track_url", ""))
    values = {k: _one_line(v) for k, v in values.items()}
    text = _squeeze(short.text.format_map(values))
    if text.startswith("Balai: "):
        text = text[len("Balai: "):]
    subject = long.subject.format_map(values).strip() if long.subject else "Balai"
    return Message(subject=_truncate(subject[:1].upper() + subject[1:], 150), text=text, html=None)

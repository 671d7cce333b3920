"""Notification templates: every event on both channels, SMS length and alphabet, HTML escaping."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.templates.messages import (
    EVENTS,
    FORMS,
    TEMPLATES,
    gsm7_length,
    is_gsm7,
    render_message,
    sms_segments,
    to_gsm7,
)

# Realistic worst cases: the longest names in the catalogue and region data, officers' long notes with
# characters pasted from a phone keyboard, and a long signed download link.
WORST_CASE: dict[str, Any] = {
    "code": "483920",
    "minutes": 10,
    "tracking_code": "SJ7-2026-ABCD-1234",
    "letter_name": "Surat Keterangan Tidak Mampu untuk Keperluan Beasiswa Pendidikan Anak Sekolah",
    "village_name": "Kelurahan Pulau Harapan Sembilan Timur Laut",
    "count": 128,
    "note": "Foto KTP buram – mohon unggah ulang foto KTP & KK yang jelas, terbaca seluruhnya (termasuk NIK "
    "dan tanda tangan “asli”), lalu kirim kembali… terima kasih 🙏",
    "reason": "Data KK tidak sesuai dengan data kependudukan Dukcapil; silakan perbarui KK di Disdukcapil "
    "Kabupaten Sinjai, lalu ajukan kembali permohonan ini melalui aplikasi.",
    "download_url": "https://balai.sinjaikab.go.id/d/7Q2M-X9KD-4PZA",
    "due_at": "Selasa 18/08 14.00 WITA",
    "overdue_hours": 123.5,
    "waiting": 1234,
    "near_sla": 567,
    "overdue": 890,
    "reference": "46DH3H9Z",
    "title": "Jalan poros Samataring–Bikeru berlubang besar di depan SD Negeri 12, sudah tiga bulan tidak diperbaiki",
    "kind_label": "Pengaduan",
    "unit_name": "Dinas Pekerjaan Umum dan Penataan Ruang (PUPR)",
    "status_label": "sedang ditangani",
}

TYPICAL: dict[str, Any] = {
    "code": "123456",
    "minutes": 5,
    "tracking_code": "SJ7-K2P9",
    "letter_name": "Surat Keterangan Domisili",
    "village_name": "Desa Bonto",
    "count": 3,
    "note": "Lampirkan KK.",
    "reason": "NIK tidak terdaftar.",
    "download_url": "https://balai.example/d/K2P9",
    "overdue_hours": 4,
    "waiting": 5,
    "near_sla": 1,
    "overdue": 0,
    "reference": "46DH3H9Z",
    "title": "Lampu jalan mati",
    "kind_label": "Aspirasi",
    "unit_name": "Kelurahan Samataring",
    "status_label": "diterima petugas",
}


def test_every_event_has_a_template_for_every_channel() -> None:
    assert set(TEMPLATES) == {(e, c) for e in EVENTS for c in FORMS}
    assert {"otp", "request_received", "new_request", "awaiting_signature", "needs_revision", "approved"} <= set(EVENTS)
    assert {"issued", "rejected", "sla_reminder", "sla_escalation", "daily_digest"} <= set(EVENTS)


# A district's real portal address is longer than local mode's.
PORTAL = "https://layanan.sinjaikab.go.id"


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("data", [TYPICAL, WORST_CASE, {k: v for k, v in WORST_CASE.items() if k != "download_url"}],
                         ids=["typical", "worst_case", "worst_case_no_link"])
def test_every_sms_renders_as_one_gsm7_part(event: str, data: dict[str, Any]) -> None:
    # Given realistic data, including the worst case, and a deployed portal's address
    # When the SMS is rendered
    message = render_message(event, "sms", data, portal=PORTAL)
    # Then it is GSM-7 only, at most 160 characters (one SMS), with no subject or HTML
    assert is_gsm7(message.text), message.text
    assert gsm7_length(message.text) <= 160, (gsm7_length(message.text), message.text)
    assert sms_segments(message.text) == 1
    assert message.subject is None and message.html is None
    assert "{" not in message.text and "  " not in message.text


@pytest.mark.parametrize("event", EVENTS)
def test_every_email_has_subject_text_and_html(event: str) -> None:
    message = render_message(event, "email", TYPICAL)
    assert message.subject and "\n" not in message.subject
    assert message.text.strip()
    assert message.html is not None and message.html.startswith("<!DOCTYPE html>")
    assert '<html lang="id">' in message.html
    assert "{" not in message.text


def test_citizen_messages_carry_what_the_citizen_needs() -> None:
    received = render_message("request_received", "sms", TYPICAL).text
    assert "SJ7-K2P9" in received and "Surat Keterangan Domisili" in received and "Desa Bonto" in received
    assert "Lampirkan KK." in render_message("needs_revision", "sms", TYPICAL).text
    assert "NIK tidak terdaftar." in render_message("rejected", "email", TYPICAL).text
    issued = render_message("issued", "email", TYPICAL)
    assert "https://balai.example/d/K2P9" in issued.text
    assert '<a href="https://balai.example/d/K2P9">' in (issued.html or "")


def test_issued_without_a_link_points_to_the_portals_tracking_page() -> None:
    # Issue 10: there is no "aplikasi Balai" to download; the web portal is where the letter is
    data = {k: v for k, v in TYPICAL.items() if k != "download_url"}
    sms = render_message("issued", "sms", data, portal=PORTAL).text
    assert sms.endswith("Unduh di https://layanan.sinjaikab.go.id/lacak/?kode=SJ7-K2P9")
    email = render_message("issued", "email", data, portal=PORTAL)
    assert "https://layanan.sinjaikab.go.id/lacak/?kode=SJ7-K2P9" in email.text
    assert '<a href="https://layanan.sinjaikab.go.id/lacak/?kode=SJ7-K2P9">' in (email.html or "")


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_no_message_mentions_an_app_that_does_not_exist(event: str, channel: str) -> None:
    assert "aplikasi" not in render_message(event, channel, TYPICAL, portal=PORTAL).text.lower()


def test_messages_point_citizens_and_staff_to_their_pages() -> None:
    assert "https://layanan.sinjaikab.go.id/lacak/?kode=SJ7-K2P9" in render_message(
        "request_received", "email", TYPICAL, portal=PORTAL).text
    assert "https://layanan.sinjaikab.go.id/staf/" in render_message("awaiting_signature", "sms", TYPICAL,
                                                                    portal=PORTAL).text
    assert "https://layanan.sinjaikab.go.id/" in render_message("needs_revision", "sms", TYPICAL, portal=PORTAL).text


def test_the_portal_defaults_to_the_stages_web_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import reset_caches

    monkeypatch.setenv("BALAI_WEB_BASE_URL", "https://desa.example.go.id/")
    reset_caches()
    try:
        assert "https://desa.example.go.id/staf/" in render_message("new_request", "email", TYPICAL).text
    finally:
        monkeypatch.undo()
        reset_caches()


def test_awaiting_signature_names_one_letter_or_counts_many() -> None:
    one = {"letter_name": "Surat Keterangan Usaha", "tracking_code": "SJ7-AAAA"}
    assert render_message("awaiting_signature", "sms", one).text.startswith(
        "Balai: Surat Keterangan Usaha (SJ7-AAAA) menunggu tanda tangan"
    )
    many = render_message("awaiting_signature", "email", {"count": 7})
    assert many.subject == "7 surat menunggu tanda tangan Anda"


def test_numbers_use_the_indonesian_decimal_comma() -> None:
    text = render_message("sla_escalation", "sms", TYPICAL | {"overdue_hours": 12.5}).text
    assert "12,5 jam kerja" in text
    digest = render_message("daily_digest", "email", TYPICAL).text
    assert "Menunggu diproses: 5" in digest and "Terlambat: 0" in digest


@pytest.mark.parametrize("event", ["issued", "needs_revision"])
def test_a_status_sms_with_its_sign_in_link_stays_one_part_and_the_link_is_never_cut(event: str) -> None:
    # Given the worst-case data and the one-time sign-in link the outbox sender made for this SMS
    link = PORTAL + "/#masuk/" + "A1b2C3d4E5f6G7h8I9j0_-"
    data = WORST_CASE | {"signin_url": link}
    # When the SMS is rendered
    text = render_message(event, "sms", data, portal=PORTAL).text
    # Then it ends with the whole link, instead of the tracking page or the portal, in one GSM-7 part
    assert text.endswith(link), text
    assert "/lacak/" not in text and sms_segments(text) == 1
    # And the e-mail and the inbox never carry it (it proves the phone only when it arrives by SMS)
    assert "#masuk/" not in render_message(event, "email", data, portal=PORTAL).text
    assert "#masuk/" not in render_message(event, "short", data, portal=PORTAL).text


def test_long_free_text_is_cut_with_three_dots_not_an_ellipsis_character() -> None:
    text = render_message("needs_revision", "sms", WORST_CASE, portal=PORTAL).text
    assert "... Perbaiki di https://layanan.sinjaikab.go.id/" in text  # the link is never cut
    assert "…" not in text
    assert "SJ7-2026-ABCD-1234" in text  # the tracking code is never cut


def test_values_are_html_escaped_in_the_html_part_only() -> None:
    # Given a note with markup in it
    data = TYPICAL | {"note": '<script>alert("x")</script> & <b>tebal</b>'}
    # When the email is rendered
    message = render_message("needs_revision", "email", data)
    # Then the HTML part escapes it and the plain-text part keeps it as typed
    assert message.html is not None
    assert "<script>" not in message.html and "<b>tebal</b>" not in message.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;tebal&lt;/b&gt;" in message.html
    assert '<script>alert("x")</script>' in message.text


def test_a_link_with_quotes_cannot_break_out_of_the_href() -> None:
    data = TYPICAL | {"download_url": 'https://x.example/d/1" onclick="evil()'}
    html = render_message("issued", "email", data).html or ""
    assert 'onclick="evil()"' not in html


def test_newlines_never_reach_the_subject() -> None:
    data = TYPICAL | {"letter_name": "Surat\nBcc: korban@example.com"}
    message = render_message("approved", "email", data)
    assert message.subject is not None and "\n" not in message.subject


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("otp", {"code": "123456"}),
        ("request_received", {"tracking_code": "X", "letter_name": "Y"}),
        ("needs_revision", {"tracking_code": "X", "note": ""}),
        ("awaiting_signature", {"letter_name": "Y"}),
        ("sla_escalation", {"village_name": "V", "letter_name": "Y", "tracking_code": "X"}),
        ("daily_digest", {"village_name": "V", "waiting": 1, "near_sla": 2}),
        ("daily_digest", {"village_name": "V", "waiting": "banyak", "near_sla": 2, "overdue": 3}),
    ],
)
def test_missing_or_wrong_data_is_a_programming_error(event: str, data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        render_message(event, "sms", data)


def test_unknown_event_or_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        render_message("no_such_event", "sms", TYPICAL)
    with pytest.raises(ValueError):
        render_message("otp", "whatsapp", TYPICAL)


class TestGsm7:
    def test_alphabet(self) -> None:
        assert is_gsm7("Kode: 123456 @ £ é ü {}€")
        assert not is_gsm7("terima kasih…")
        assert not is_gsm7("“kutip”")
        assert not is_gsm7("🙏")

    def test_extension_characters_count_twice(self) -> None:
        assert gsm7_length("abc") == 3
        assert gsm7_length("{€}") == 6

    def test_segments(self) -> None:
        assert sms_segments("") == 0
        assert sms_segments("a" * 160) == 1
        assert sms_segments("a" * 161) == 2
        assert sms_segments("a" * 306) == 2
        assert sms_segments("a" * 307) == 3
        assert sms_segments("€" * 80) == 1  # 160 septets
        assert sms_segments("…" * 70) == 1  # UCS-2
        assert sms_segments("…" * 71) == 2

    def test_to_gsm7_keeps_the_meaning(self) -> None:
        assert to_gsm7("“asli” – terima kasih…") == '"asli" - terima kasih...'
        assert to_gsm7("Ñusa Ćiamis") == "Ñusa Ciamis"
        assert to_gsm7("ok 🙏") == "ok ?"

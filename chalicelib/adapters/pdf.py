"""Letter PDF rendering with fpdf2 and a segno QR code; the libraries load on first render, not on import."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.letters import LetterDocument

# Paper sizes in mm: F4 ("folio") is what many Indonesian village offices print on.
PAPER_SIZES: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "F4": (215.0, 330.0),
}

MARGIN_LEFT = 25.0
MARGIN_RIGHT = 20.0
MARGIN_TOP = 15.0
MARGIN_BOTTOM = 20.0

FONT = "Times"
BODY_SIZE = 12
LINE_H = 6.0  # mm per body line: roughly 1.4 line spacing at 12 pt
LOGO_H = 24.0
QR_SIZE = 28.0
SIGNATURE_W = 78.0
SIGNATURE_GAP = 22.0  # blank space for the wet signature and stamp
QR_CAPTION = "Pindai untuk verifikasi\nkeaslian surat"
# A fixed mask skips segno's evaluation of all eight masks, which costs about 15 ms for a ~250-character URL
# (most of a render). The token is base64 noise, so every mask scores alike; zbar decodes it (see tests).
QR_MASK = 2
CORE_ENCODING = (
    "cp1252"  # WinAnsi: covers Indonesian plus typographic quotes and dashes
)


def pdf_text(text: str) -> str:
    """Make text printable with the core fonts: keep cp1252, strip accents from the rest, else "?".

    Names typed on phones bring characters WinAnsi lacks; dropping the letter would be worse than
    printing its base letter.
    """
    text = unicodedata.normalize("NFC", text).replace("\t", " ")
    out: list[str] = []
    for char in text:
        if char == "\n" or (char.isprintable() and _encodable(char)):
            out.append(char)
            continue
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(c)
        )
        out.append(
            base
            if base and all(_encodable(c) and c.isprintable() for c in base)
            else "?"
        )
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _qr_png(url: str) -> bytes:
    import segno

    # Error level M survives a stamp or fold over part of the code; scale 4 keeps viewers from blurring it.
    qr = segno.make(url, error="m", micro=False, boost_error=False, mask=QR_MASK)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=4, border=0)
    return buffer.getvalue()


def render_letter(doc: LetterDocument) -> bytes:
    """The letter as PDF bytes; the same document always gives the same bytes (dates and ids are fixed)."""
    from fpdf import FPDF

    width, height = PAPER_SIZES[doc.paper]
    pdf = FPDF(orientation="P", unit="mm", format=(width, height))
    pdf.core_fonts_encoding = CORE_ENCODING
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)
    _set_metadata(pdf, doc)
    pdf.add_page()

    _letterhead(pdf, doc, width)
    _title(pdf, doc)
    _paragraph(pdf, doc.opening, space_before=6)
    _applicant_table(pdf, doc)
    for paragraph in doc.body_paragraphs():
        _paragraph(pdf, paragraph, space_before=3)
    _signature_block(pdf, doc, width)
    _page_footers(pdf, doc, width, height)
    return bytes(pdf.output())


def _set_metadata(pdf: Any, doc: LetterDocument) -> None:
    # A fixed creation date (from the issue date) makes /CreationDate and the file /ID reproducible.
    pdf.set_creation_date(datetime.combine(doc.issued_date, time(0, 0), tzinfo=UTC))
    pdf.set_title(pdf_text(f"{doc.title} - {doc.number}"))
    pdf.set_subject(pdf_text(doc.title))
    pdf.set_author(
        pdf_text(f"Pemerintah {doc.village_kind.capitalize()} {doc.village_name}")
    )
    pdf.set_creator("Balai")
    pdf.set_producer("Balai")
    pdf.set_lang("id-ID")


def _letterhead(pdf: Any, doc: LetterDocument, page_w: float) -> None:
    content_w = page_w - MARGIN_LEFT - MARGIN_RIGHT
    top = pdf.get_y()
    if doc.logo_png:
        pdf.image(io.BytesIO(doc.logo_png), x=MARGIN_LEFT, y=top, h=LOGO_H)
        # The text stays centred on the page, so keep the same band free on both sides.
        text_x, text_w = MARGIN_LEFT + LOGO_H + 4, content_w - 2 * (LOGO_H + 4)
    else:
        text_x, text_w = MARGIN_LEFT, content_w
    sizes = (14, 14, 16)
    for line, size in zip(doc.letterhead_lines(), sizes, strict=True):
        pdf.set_font(FONT, "B", size)
        pdf.set_x(text_x)
        pdf.multi_cell(
            text_w,
            size * 0.45,
            pdf_text(line),
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if doc.village_address:
        pdf.set_font(FONT, "I", 10)
        pdf.set_x(text_x)
        pdf.multi_cell(
            text_w,
            4.6,
            pdf_text(doc.village_address),
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    bottom = max(pdf.get_y(), top + LOGO_H if doc.logo_png else 0.0) + 2
    # The double rule of an official kop surat: a thick line with a thin one under it.
    pdf.set_line_width(0.8)
    pdf.line(MARGIN_LEFT, bottom, page_w - MARGIN_RIGHT, bottom)
    pdf.set_line_width(0.25)
    pdf.line(MARGIN_LEFT, bottom + 1.3, page_w - MARGIN_RIGHT, bottom + 1.3)
    pdf.set_y(bottom + 1.3)


def _title(pdf: Any, doc: LetterDocument) -> None:
    pdf.set_y(pdf.get_y() + 7)
    pdf.set_font(FONT, "BU", 13)
    pdf.multi_cell(
        0, 6, pdf_text(doc.title.upper()), align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FONT, "", BODY_SIZE)
    pdf.multi_cell(
        0,
        LINE_H,
        pdf_text(f"Nomor: {doc.number}"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _fits(pdf: Any, width: float, text: str) -> bool:
    return bool(pdf.get_string_width(text) <= width - 2 * pdf.c_margin)


def _line_count(pdf: Any, width: float, text: str) -> int:
    # Most labels and names fit on one line: a width check is far cheaper than fpdf2's line-breaking dry run.
    if _fits(pdf, width, text):
        return 1
    return len(pdf.multi_cell(width, LINE_H, text, dry_run=True, output="LINES"))


def _text_block(pdf: Any, width: float, text: str, align: str) -> None:
    """Text at the current position in `width`, wrapping when needed; ends at the next line, same x."""
    if _fits(pdf, width, text):
        pdf.cell(width, LINE_H, text, align=align, new_x="LEFT", new_y="NEXT")
    else:
        pdf.multi_cell(width, LINE_H, text, align=align, new_x="LEFT", new_y="NEXT")


def _paragraph(pdf: Any, text: str, *, space_before: float) -> None:
    text = " ".join(text.split())
    if not text:
        return
    pdf.set_font(FONT, "", BODY_SIZE)
    pdf.set_y(pdf.get_y() + space_before)
    pdf.multi_cell(0, LINE_H, pdf_text(text), align="J", new_x="LMARGIN", new_y="NEXT")


def _applicant_table(pdf: Any, doc: LetterDocument) -> None:
    if not doc.applicant_rows:
        return
    pdf.set_font(FONT, "", BODY_SIZE)
    indent = 10.0
    colon_w = 4.0
    content_w = pdf.w - MARGIN_LEFT - MARGIN_RIGHT
    rows = [
        (pdf_text(label), pdf_text(" ".join(str(value).split()) or "-"))
        for label, value in doc.applicant_rows
    ]
    # The label column fits the longest label, capped so the values keep most of the width.
    label_w = min(max(pdf.get_string_width(label) for label, _ in rows) + 4, 60.0)
    value_w = content_w - indent - label_w - colon_w
    x_label = MARGIN_LEFT + indent
    pdf.set_y(pdf.get_y() + 3)
    for label, value in rows:
        row_h = LINE_H * max(
            _line_count(pdf, label_w, label), _line_count(pdf, value_w, value)
        )
        if pdf.get_y() + row_h > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(x_label, y)
        _text_block(pdf, label_w, label, "L")
        pdf.set_xy(x_label + label_w, y)
        pdf.cell(colon_w, LINE_H, ":")
        pdf.set_xy(x_label + label_w + colon_w, y)
        _text_block(pdf, value_w, value, "L")
        pdf.set_xy(MARGIN_LEFT, y + row_h)


def _signature_block(pdf: Any, doc: LetterDocument, page_w: float) -> None:
    """Closing, signature at the right and QR at the left: one unit that moves to a new page rather than split.

    The closing sentence travels with the signature so a signature never stands alone on a page.
    """
    pdf.set_font(FONT, "", BODY_SIZE)
    closing = pdf_text(" ".join(doc.closing.split()))
    closing_h = (
        3
        + LINE_H * len(pdf.multi_cell(0, LINE_H, closing, dry_run=True, output="LINES"))
        if closing
        else 0
    )
    position_lines = _line_count(pdf, SIGNATURE_W, pdf_text(doc.signer_position))
    pdf.set_font(FONT, "BU", BODY_SIZE)
    name_lines = _line_count(pdf, SIGNATURE_W, pdf_text(doc.signer_name))
    signature_h = LINE_H * (1 + position_lines) + SIGNATURE_GAP + LINE_H * name_lines
    if doc.signer_nip:
        signature_h += LINE_H
    caption_h = 7.0
    qr_h = QR_SIZE + 2 + caption_h
    gap_before = 8.0
    block_h = gap_before + max(signature_h, qr_h)
    page_room = pdf.page_break_trigger - MARGIN_TOP
    if (
        closing_h + block_h <= page_room
        and pdf.get_y() + closing_h + block_h > pdf.page_break_trigger
    ):
        pdf.add_page()
    _paragraph(pdf, doc.closing, space_before=3)
    if pdf.get_y() + block_h > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y() + gap_before
    # No automatic break inside the block: it was measured to fit above.
    pdf.set_auto_page_break(False)

    x_sig = page_w - MARGIN_RIGHT - SIGNATURE_W
    pdf.set_font(FONT, "", BODY_SIZE)
    pdf.set_xy(x_sig, top)
    _text_block(pdf, SIGNATURE_W, pdf_text(doc.date_line()), "C")
    _text_block(pdf, SIGNATURE_W, pdf_text(doc.signer_position), "C")
    pdf.set_y(pdf.get_y() + SIGNATURE_GAP)
    pdf.set_x(x_sig)
    pdf.set_font(FONT, "BU", BODY_SIZE)
    _text_block(pdf, SIGNATURE_W, pdf_text(doc.signer_name), "C")
    if doc.signer_nip:
        pdf.set_font(FONT, "", BODY_SIZE)
        _text_block(pdf, SIGNATURE_W, pdf_text(f"NIP. {doc.signer_nip}"), "C")

    # The QR's bottom lines up with the bottom of the signature block when the block is the taller one.
    qr_top = top + max(0.0, signature_h - qr_h)
    pdf.image(
        io.BytesIO(_qr_png(doc.verify_url)),
        x=MARGIN_LEFT,
        y=qr_top,
        w=QR_SIZE,
        h=QR_SIZE,
    )
    caption_w = QR_SIZE + 10
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(MARGIN_LEFT - 5, qr_top + QR_SIZE + 2)
    pdf.multi_cell(caption_w, 3.2, QR_CAPTION, align="C")
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)


ENOTE_SIZE = 7
ENOTE_LINE_H = 2.9


def _wrap(pdf: Any, text: str, width: float) -> list[str]:
    """Greedy line breaking at spaces, breaking a word longer than a line (the verification URL) anywhere.

    fpdf2's multi_cell does the same but costs several ms for a 300-character URL on every letter.
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if pdf.get_string_width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while pdf.get_string_width(current) > width:
            cut = len(current)
            while cut > 1 and pdf.get_string_width(current[:cut]) > width:
                cut = max(1, int(cut * width / pdf.get_string_width(current[:cut])) if cut > 8 else cut - 1)
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _electronic_notes(pdf: Any, doc: LetterDocument, page_w: float, page_h: float) -> None:
    """The footer of an electronically issued letter, on every page, in the bottom margin under a thin rule;
    the verification address in it is a link."""
    if not doc.electronic:
        return
    pdf.set_auto_page_break(False)
    last = pdf.page
    content_w = page_w - MARGIN_LEFT - MARGIN_RIGHT
    pdf.set_font("Helvetica", "", ENOTE_SIZE)
    note = pdf_text(doc.electronic_note())
    top = page_h - MARGIN_BOTTOM + 1.5
    total = pdf.pages_count
    for page in range(1, total + 1):
        # A longer letter names its number and page in the same footer, so the two never overlap.
        text = pdf_text(f"Nomor {doc.number} \u00b7 Halaman {page} dari {total}. ") + note if total > 1 else note
        pdf.page = page
        pdf.current_font_is_set_on_page = False
        pdf.set_line_width(0.2)
        pdf.line(MARGIN_LEFT, top - 0.8, page_w - MARGIN_RIGHT, top - 0.8)
        lines = _wrap(pdf, text, content_w - 2 * pdf.c_margin)
        for i, line in enumerate(lines):
            pdf.set_xy(MARGIN_LEFT, top + i * ENOTE_LINE_H)
            pdf.cell(content_w, ENOTE_LINE_H, line)
        # The whole note is a link to the verification page (viewers show the address when hovered).
        pdf.link(MARGIN_LEFT, top, content_w, len(lines) * ENOTE_LINE_H, doc.verify_url)
    pdf.page = last
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)


def _page_footers(pdf: Any, doc: LetterDocument, page_w: float, page_h: float) -> None:
    """On letters of more than one page, say which page of how many, with the number, on each page."""
    if doc.electronic:
        _electronic_notes(pdf, doc, page_w, page_h)
        return
    total = pdf.pages_count
    if total < 2:
        return
    pdf.set_auto_page_break(False)
    last = pdf.page
    pdf.set_font("Helvetica", "", 8)
    for page in range(1, total + 1):
        pdf.page = page
        # Font state is global but each page's stream needs its own font operator.
        pdf.current_font_is_set_on_page = False
        pdf.set_xy(MARGIN_LEFT, page_h - 13)
        text = pdf_text(f"Nomor {doc.number} \u00b7 Halaman {page} dari {total}")
        pdf.cell(page_w - MARGIN_LEFT - MARGIN_RIGHT, 4, text, align="R")
    pdf.page = last

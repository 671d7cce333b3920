"""The portal scales a phone camera photo down before it uploads it (issue 14: storage and transfer are paid per
byte, a slow link per second); a PDF goes as it is. Checked on the stored object in a real browser."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path
from typing import Any

from tests.browser.conftest import SCREENSHOTS, VILLAGE, LocalSite, citizen_login, shoot
from tests.browser.test_citizen_and_staff import choose_letter


def document_photo(width: int = 4000, height: int = 3000, seed: int = 14) -> bytes:
    """A 12 MP phone-camera-like photo of a Kartu Keluarga on a table: paper with a ruled table of small print
    (about 2 mm letters at the scale of a KK filling the frame), uneven light, sensor noise, a little blur; saved
    as a camera does (JPEG quality 92, 2-3 MB)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rnd = random.Random(seed)
    table = Image.merge("RGB", [Image.effect_noise((width, height), 40).point(
        lambda v, o=o: min(255, max(0, v // 3 + o))) for o in (90, 60, 35)])
    size = (int(width * 0.86), int(height * 0.8))
    paper = Image.new("RGB", size, (246, 244, 236))
    draw = ImageDraw.Draw(paper)
    draw.text((size[0] // 2 - 900, 60), "KARTU KELUARGA  No. 7307031203850001", fill=(20, 20, 30),
              font=ImageFont.load_default(size=90))
    small = ImageFont.load_default(size=26)
    top, row_h = 260, 78
    cols = [60, 520, 1100, 1500, 1900, 2350, 2800, size[0] - 60]
    for r in range(26):
        y = top + r * row_h
        draw.line((60, y, size[0] - 60, y), fill=(60, 60, 70), width=3)
        for x in cols[:-1]:
            words = "".join(rnd.choice("ABCDEFGHIJKLMNOPRSTUWY0123456789 ") for _ in range(rnd.randint(6, 14)))
            draw.text((x + 12, y + 24), words, fill=(25, 25, 35), font=small)
    for x in cols:
        draw.line((x, top, x, top + 26 * row_h), fill=(60, 60, 70), width=3)
    mask = Image.new("L", size, 255).rotate(2.5, expand=True, fillcolor=0)
    paper = paper.rotate(2.5, expand=True, fillcolor=(0, 0, 0))
    table.paste(paper, ((width - paper.width) // 2, (height - paper.height) // 2), mask)
    light = Image.linear_gradient("L").resize((width, height)).point(lambda v: 150 + v // 3)
    img = Image.composite(table, Image.new("RGB", (width, height)), light)
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 14) for _ in range(3)])
    img = Image.blend(img, noise, 0.2).filter(ImageFilter.GaussianBlur(0.7))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def card_photo(width: int = 4000, height: int = 3000, seed: int = 15) -> bytes:
    """A 12 MP phone-camera-like photo of a KTP (86 x 54 mm) on a table, the card about two thirds of the frame's
    width: a pale blue card with fine wavy security lines, its NIK (~3.5 mm digits), ten rows of ~2.5 mm print, a
    photo block, noise and a little blur."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rnd = random.Random(seed)
    table = Image.merge("RGB", [Image.effect_noise((width, height), 40).point(
        lambda v, o=o: min(255, max(0, v // 3 + o))) for o in (80, 55, 40)])
    card_w = int(width * 0.68)
    card_h = int(card_w * 54 / 86)
    per_mm = card_w / 86
    card = Image.new("RGB", (card_w, card_h), (196, 222, 240))
    draw = ImageDraw.Draw(card)
    # The security print's fine wavy lines (guilloche), which cost bytes as a real card's do
    import math

    for k in range(0, card_h, int(1.2 * per_mm)):
        points = [(x, k + 0.8 * per_mm * math.sin(x / (2.5 * per_mm) + k)) for x in range(0, card_w, 8)]
        draw.line(points, fill=(168, 200, 226), width=max(2, int(0.25 * per_mm)))
    draw.text((int(card_w * 0.25), int(4 * per_mm)), "PROVINSI SULAWESI SELATAN", fill=(20, 20, 40),
              font=ImageFont.load_default(size=int(3.2 * per_mm)))
    draw.text((int(4 * per_mm), int(12 * per_mm)), "NIK : 7307031203850001", fill=(10, 10, 20),
              font=ImageFont.load_default(size=int(4.5 * per_mm)))
    small = ImageFont.load_default(size=int(2.6 * per_mm))
    for r in range(10):
        words = "".join(rnd.choice("ABCDEFGHIJKLMNOPRSTUWY0123456789 -/") for _ in range(rnd.randint(10, 24)))
        draw.text((int(4 * per_mm), int((19 + r * 3.3) * per_mm)), words, fill=(20, 20, 30), font=small)
    draw.rectangle((int(62 * per_mm), int(14 * per_mm), int(82 * per_mm), int(42 * per_mm)), fill=(170, 60, 60))
    mask = Image.new("L", card.size, 255).rotate(-3, expand=True, fillcolor=0)
    card = card.rotate(-3, expand=True, fillcolor=(0, 0, 0))
    table.paste(card, ((width - card.width) // 2, (height - card.height) // 2), mask)
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 14) for _ in range(3)])
    img = Image.blend(table, noise, 0.2).filter(ImageFilter.GaussianBlur(0.7))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def _stored_uploads(site: LocalSite) -> dict[Path, float]:
    folder = site.data_dir / "files" / "attachments" / VILLAGE  # an upload lands at its final key
    return {p: p.stat().st_mtime for p in folder.glob("*")} if folder.exists() else {}


def _wait_new_upload(site: LocalSite, before: dict[Path, float]) -> Path:
    deadline = time.time() + 30
    while time.time() < deadline:
        new = [p for p in _stored_uploads(site) if p not in before and not p.name.startswith(".")]
        if new:
            return new[0]
        time.sleep(0.2)
    raise AssertionError("no upload stored")


def _pick_photo(page: Any, site: LocalSite, attachment: str, photo: Path) -> Path:
    """Pick `photo` for the form's `attachment` and wait until the portal says it is uploaded as WebP; returns
    the stored file."""
    before = _stored_uploads(site)
    page.locator(f"#a-{attachment}").set_input_files(str(photo))
    box = page.locator(".field").filter(has=page.locator(f"#a-{attachment}"))
    box.locator(f".hint:text('Terunggah: {photo.stem}.webp'), .field-error").first.wait_for()
    assert box.locator(".field-error").count() == 0, box.inner_text()
    return _wait_new_upload(site, before)


def test_camera_photos_are_scaled_to_a_page_or_a_card_before_upload_and_a_pdf_is_not(
        site: LocalSite, phone_ctx: Any, tmp_path: Path) -> None:
    from PIL import Image

    # Given a 12 MP camera photo of a KK (2-3 MB) and a scanned PDF
    photo = tmp_path / "IMG_20261202_0931.jpg"
    photo.write_bytes(document_photo())
    original = photo.stat().st_size
    assert 1_500_000 < original < 4_500_000, original
    pdf = tmp_path / "pengantar-rt.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 1200 + b"\n%%EOF\n")
    # And a citizen on a phone at the letter's form
    page = phone_ctx.new_page()
    citizen_login(page, site)
    choose_letter(page, "Surat Keterangan Domisili")

    # When she picks the photo for the KK
    stored = _pick_photo(page, site, "kk", photo)
    # Then what reached storage is a WebP (Chromium encodes it) whose long side is 1600 px, the aspect kept, a
    # tenth of the bytes or less
    image = Image.open(stored)
    assert image.format == "WEBP" and image.size == (1600, 1200), (image.format, image.size)
    size = stored.stat().st_size
    assert size < original / 10 and size < 250_000, (size, original)
    # And it is smaller than the same picture as the JPEG the portal sent before (quality 0.8, PIL's encoder)
    jpeg = io.BytesIO()
    image.convert("RGB").save(jpeg, "JPEG", quality=80)
    assert size < len(jpeg.getvalue()), (size, len(jpeg.getvalue()))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.crop((300, 250, 1100, 650)).save(SCREENSHOTS / "photo-resize-kk-detail-1600.png")  # legible print?
    print(f"\nphoto resize: {original} bytes 4000x3000 -> {size} bytes {image.size[0]}x{image.size[1]} WebP "
          f"(as JPEG q80: {len(jpeg.getvalue())} bytes)")

    # When she picks the PDF for the pengantar RT
    before = _stored_uploads(site)
    page.locator("#a-pengantar_rt").set_input_files(str(pdf))
    box = page.locator(".field").filter(has=page.locator("#a-pengantar_rt"))
    box.locator(".hint:text('Terunggah: pengantar-rt.pdf'), .field-error").first.wait_for()
    # Then it is stored byte for byte
    assert _wait_new_upload(site, before).read_bytes() == pdf.read_bytes()
    shoot(page, "17-citizen-photo-resized")

    # When she picks a 12 MP camera photo of her KTP (in the same form: one more login would pass the per-phone
    # code limit of the suite's shared site)
    card = tmp_path / "IMG_20261203_0815.jpg"
    card.write_bytes(card_photo())
    stored = _pick_photo(page, site, "ktp", card)
    # Then it is stored at a card's size (the letter type's photo_max_px for a KTP), not a page's
    image = Image.open(stored)
    assert image.format == "WEBP" and image.size == (1024, 768), (image.format, image.size)
    size = stored.stat().st_size
    assert size < 80_000, size
    image.crop((150, 150, 874, 620)).save(SCREENSHOTS / "photo-resize-ktp-detail-1024.png")  # legible print?
    print(f"\nKTP photo resize: {card.stat().st_size} bytes 4000x3000 -> {size} bytes {image.size[0]}x{image.size[1]} "
          "WebP")


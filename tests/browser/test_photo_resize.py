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


def test_a_camera_photo_is_scaled_down_before_upload_and_a_pdf_is_not(site: LocalSite, phone_ctx: Any,
                                                                        tmp_path: Path) -> None:
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
    before = _stored_uploads(site)
    page.locator("#a-kk").set_input_files(str(photo))
    box = page.locator(".field").filter(has=page.locator("#a-kk"))
    box.locator(".hint:text('Terunggah: IMG_20261202_0931.webp'), .field-error").first.wait_for()
    assert box.locator(".field-error").count() == 0, box.inner_text()
    stored = _wait_new_upload(site, before)
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

"""Image handling with Pillow (loaded on first use): the village lambang, checked and shrunk once at upload."""

from __future__ import annotations

import io

from chalicelib.errors import ValidationError

LOGO_MAX_PIXELS = 4_000_000  # refuses decompression bombs before decoding
LOGO_HEIGHT_PX = 300  # 24 mm on the kop at about 300 dpi: plenty, and every letter embeds it


def normalised_logo(data: bytes, expected_format: str, height_px: int = LOGO_HEIGHT_PX) -> tuple[bytes, int, int]:
    """Decode `data` as `expected_format` ("PNG" or "JPEG") only, refuse bombs and broken files, shrink to
    `height_px`, lay it on white paper and answer (JPEG bytes, width, height).

    Raises ValidationError(invalid_logo).
    """
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = LOGO_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data), formats=[expected_format]) as image:
            if image.width * image.height > LOGO_MAX_PIXELS or min(image.size) < 16:
                raise ValidationError("Ukuran gambar logo tidak wajar.", code="invalid_logo")
            image.load()
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise ValidationError("Berkas logo rusak atau bukan gambar.", code="invalid_logo") from exc
    if rgba.height > height_px:
        rgba.thumbnail((height_px * 4, height_px), Image.Resampling.LANCZOS)
    paper = Image.new("RGB", rgba.size, (255, 255, 255))
    paper.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    # No chroma subsampling: a lambang's thin coloured lines stay sharp.
    paper.save(out, format="JPEG", quality=90, subsampling=0, optimize=True)
    return out.getvalue(), paper.width, paper.height

"""The sample images every drawn card uses, in one place: the golden tests, the designer's
contact sheets (``tests/golden/sheet.py``) and the README's (``tools/contact_sheet.py``).

Drawn here (no photo or brand to license) and deterministic, then re-encoded exactly as the
server re-encodes a fetched avatar or logo, so a sheet shows what a request would get.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from ogmint.rendering.images import _to_png as reencode
from ogmint.rendering.pipeline import IMAGE_SIDES
from ogmint.settings import Settings


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def avatar_png() -> bytes:
    """A 256x256 portrait: a gradient backdrop with a head and shoulders."""
    im = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(im)
    for y in range(256):
        draw.line([(0, y), (255, y)], fill=(40 + y // 3, 90 + y // 4, 200 - y // 3))
    draw.ellipse([78, 50, 178, 150], fill=(245, 214, 186))
    draw.ellipse([38, 160, 218, 340], fill=(245, 214, 186))
    return _png(im)


def logo_png() -> bytes:
    """A 128x128 brand mark with transparent corners."""
    im = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle([4, 4, 124, 124], 30, fill=(236, 72, 153, 255))
    draw.polygon([(34, 94), (64, 30), (94, 94)], fill=(255, 255, 255, 255))
    return _png(im)


def wordmark_png() -> bytes:
    """A wide logo (5:1): a mark and a word drawn as blocks, on transparency."""
    im = Image.new("RGBA", (500, 100), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.ellipse([0, 10, 80, 90], fill=(37, 99, 235, 255))
    widths = (60, 48, 70, 52, 64)
    for i, w in enumerate(widths):
        x = 100 + sum(widths[:i]) + 12 * i
        draw.rounded_rectangle([x, 22, x + w, 78], 10, fill=(30, 41, 59, 255))
    return _png(im)


def fetched(field: str, source: bytes) -> bytes:
    """``source`` as the server hands an ``avatar`` or ``logo`` to the renderer: re-encoded
    and reduced to that field's side."""
    return reencode(source, IMAGE_SIDES[field], Settings.from_env({}).image_max_pixels)

"""Generated images for the decoding tests: decompression bombs and truncated files."""

from __future__ import annotations

import functools
import io
import struct

from PIL import Image


def encoded(
    fmt: str,
    size: tuple[int, int],
    mode: str = "RGB",
    *,
    color: object = "teal",
    noise: bool = False,
    **options: object,
) -> bytes:
    image = Image.effect_noise(size, 64).convert(mode) if noise else Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to claim ``width`` x ``height``."""
    data = bytearray(encoded("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@functools.cache
def bombs() -> dict[str, bytes]:
    """Decompression bombs (5000 x 5000 = 25 MP in a few KB) and truncated images."""
    side = (5000, 5000)
    return {
        "/bomb-png": encoded("PNG", side, "1"),
        "/bomb-gif": encoded("GIF", side, "P"),
        "/bomb-webp": encoded("WEBP", side),
        "/bomb-webp-lossless": encoded("WEBP", side, lossless=True),
        "/bomb-webp-alpha": encoded("WEBP", side, "RGBA", color=(0, 0, 0, 0), lossless=True),
        "/bomb-jpeg": jpeg_claiming(60_000, 60_000),
        "/truncated-png": encoded("PNG", (400, 400), "RGB", noise=True)[:3000],
        "/truncated-jpeg": encoded("JPEG", (400, 400), "RGB", noise=True)[:3000],
        "/truncated-webp": encoded("WEBP", (400, 400), "RGB", noise=True)[:3000],
        "/truncated-gif": encoded("GIF", (400, 400), "P", noise=True)[:3000],
        "/big-jpeg": encoded("JPEG", side),  # a real 25 MP photo: decoded at 1/8 scale
    }

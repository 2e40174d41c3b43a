"""Output formats (SPEC §1.1): PNG from the native encoder, WebP and JPEG from Pillow.

Lossy formats are encoded by well-kept libraries — libwebp and libjpeg-turbo, as Pillow
ships them — from the straight pixels the renderer hands over, laid out as Pillow keeps them
(4 bytes a pixel, ``RGBX`` or ``RGBA``) so it maps the buffer instead of unpacking it; Pillow
releases the GIL while it encodes, so the render pool's threads encode in parallel. Measured on
the ``blog`` card they were 1.6x (WebP) and 6.7x (JPEG) faster than the Rust encoders tried
(commit 109cee5); sizes and times against the PNG in bench/RESULTS.md (section ``format``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from PIL import Image

Format = Literal["png", "webp", "jpeg"]

FORMATS: Final[tuple[Format, ...]] = ("png", "webp", "jpeg")
CONTENT_TYPES: Final[dict[str, str]] = {
    "png": "image/png",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
}
DEFAULT_QUALITY: Final = 85
#: libwebp's effort, 0 (fastest) … 6 (smallest). 1 is the least that keeps every measured card
#: and size under half the PNG's bytes at quality 85 (method 0 left a cover-scaled `story` at
#: 0.58x) for 7-20 % more CPU per render than 0; 2 and above cost far more for little
#: (bench/RESULTS.md, section ``format``).
WEBP_METHOD: Final = 1
#: Huffman tables fitted to each JPEG (still baseline): smaller, at an extra pass's cost.
JPEG_OPTIMIZE: Final = True


class Pixels(Protocol):
    """Straight pixels from the renderer (``_native.RawImage``): ``RGBX`` or ``RGBA``."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Output:
    """How a render is encoded: the format, its quality (lossy only) and the colour a JPEG is
    flattened on (it has no transparency)."""

    format: Format = "png"
    quality: int = DEFAULT_QUALITY
    matte: str = "#ffffff"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def lossy(self) -> bool:
        return self.format != "png"

    @property
    def jpeg_matte(self) -> str | None:
        """The colour transparent pixels are flattened on: JPEG only (WebP keeps alpha)."""
        return self.matte if self.format == "jpeg" else None


def encode(raw: Pixels, output: Output) -> bytes:
    """``raw`` (straight pixels from the renderer) as WebP or JPEG."""
    # Mapped, not copied: the mode is Pillow's own 4-byte layout.
    image = Image.frombuffer(raw.mode, (raw.width, raw.height), raw.data, "raw", raw.mode, 0, 1)
    out = io.BytesIO()
    if output.format == "webp":
        image.save(out, "WEBP", quality=output.quality, method=WEBP_METHOD)
    elif output.format == "jpeg":
        # Baseline (not progressive), 4:2:0 as libjpeg's default, optimised Huffman tables.
        image.save(out, "JPEG", quality=output.quality, optimize=JPEG_OPTIMIZE, progressive=False)
    else:
        raise ValueError(f"{output.format} is not a lossy format")
    return out.getvalue()


def content_type_of(data: bytes) -> str:
    """The ``Content-Type`` of an encoded image, from its signature (previews, which are not
    stored with a record)."""
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return CONTENT_TYPES["webp"]
    if data.startswith(b"\xff\xd8\xff"):
        return CONTENT_TYPES["jpeg"]
    return CONTENT_TYPES["png"]

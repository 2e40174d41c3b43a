"""Custom templates with a document per size (SPEC §5.1) for tests: each document fills its
canvas with a colour of its own, so a test can tell from the pixels which one was drawn."""

from __future__ import annotations

import io

from PIL import Image

#: The colour each size's document is filled with (``og``: the upload's ``svg``).
COLOURS = {
    "og": (0xD0, 0x20, 0x20),
    "twitter": (0x20, 0xA0, 0x40),
    "linkedin": (0x20, 0x40, 0xD0),
    "square": (0xE0, 0xC0, 0x10),
    "portrait": (0x90, 0x20, 0xB0),
    "story": (0x10, 0xB0, 0xB0),
}
CANVASES = {
    "og": (1200, 630),
    "twitter": (1200, 600),
    "linkedin": (1200, 627),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "story": (1080, 1920),
}


def document(preset: str, *, canvas: tuple[int, int] | None = None, extra: str = "") -> str:
    """The document for ``preset``: its canvas (or ``canvas``) filled with its colour, the
    title in a band across the middle, and ``extra`` markup."""
    width, height = canvas or CANVASES[preset]
    r, g, b = COLOURS[preset]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"\n'
        f'     width="{width}" height="{height}" viewBox="0 0 {width} {height}">\n'
        f'  <rect width="{width}" height="{height}" fill="#{r:02x}{g:02x}{b:02x}"/>\n'
        f'  <og:text field="title" x="60" y="{height // 2 - 60}" width="{width - 120}"'
        ' height="120" max-size="48" min-size="24" max-lines="2"/>\n'
        f"  {extra}\n"
        "</svg>\n"
    )


def upload(*presets: str) -> dict[str, object]:
    """An upload body: the og document as ``svg`` and one per other preset in ``sizes``."""
    return {"svg": document("og"), "sizes": {p: document(p) for p in presets}}


def corner(png: bytes) -> tuple[int, int, int]:
    """The colour of the image's top-left pixel (the documents' fill: no text there)."""
    with Image.open(io.BytesIO(png)) as image:
        pixel = image.convert("RGB").getpixel((2, 2))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def size_of(png: bytes) -> tuple[int, int]:
    """The image's width and height in pixels."""
    with Image.open(io.BytesIO(png)) as image:
        return image.size

"""Lossy output formats (SPEC §1.1) through the renderer: what the encoders are handed and
what comes out — decoded with Pillow, checked for size, mode, pixels and quality."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ogmint.rendering.formats import Output, content_type_of
from ogmint.rendering.native import Renderer

W, H = 320, 176
#: An opaque card: a gradient, a panel and text (the hard part for lossy encoders).
CARD = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
    '<defs><linearGradient id="g" x2="1"><stop offset="0" stop-color="#1d2b64"/>'
    '<stop offset="1" stop-color="#f8cdda"/></linearGradient></defs>'
    f'<rect width="{W}" height="{H}" fill="url(#g)"/>'
    '<rect x="20" y="20" width="140" height="60" rx="8" fill="#ffffff" fill-opacity="0.8"/>'
    '<text x="24" y="130" font-family="Inter" font-size="28" fill="#101010">Lossy card</text>'
    "</svg>"
)
#: Transparent except for a half-opaque red square.
SEE_THROUGH = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
    '<rect x="40" y="40" width="80" height="80" fill="#ff0000" fill-opacity="0.5"/></svg>'
)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(decode(data).convert("RGB"), dtype=np.int16)


def test_opaque_pixels_are_the_png_pixels_as_rgbx(renderer: Renderer) -> None:
    raw = renderer._native.render_svg_pixels(CARD)
    assert (raw.width, raw.height, raw.mode) == (W, H, "RGBX")
    assert len(raw.data) == W * H * 4
    exported = np.frombuffer(raw.data, dtype=np.uint8).reshape(H, W, 4)
    assert np.array_equal(exported[..., :3], rgb(renderer.render_svg(CARD)))
    assert (exported[..., 3] == 255).all()


def test_transparent_pixels_are_straight_rgba(renderer: Renderer) -> None:
    raw = renderer._native.render_svg_pixels(SEE_THROUGH)
    assert raw.mode == "RGBA"
    px = np.frombuffer(raw.data, dtype=np.uint8).reshape(H, W, 4)
    assert tuple(px[0, 0]) == (0, 0, 0, 0)
    assert tuple(px[80, 80]) == (255, 0, 0, 128)  # un-premultiplied


def test_matte_flattens_to_rgbx(renderer: Renderer) -> None:
    raw = renderer._native.render_svg_pixels(SEE_THROUGH, matte="#0000ff")
    assert raw.mode == "RGBX"
    px = np.frombuffer(raw.data, dtype=np.uint8).reshape(H, W, 4)
    assert tuple(px[0, 0]) == (0, 0, 255, 255)
    assert tuple(px[80, 80]) == (128, 0, 127, 255)


@pytest.mark.parametrize(("fmt", "name"), [("webp", "WEBP"), ("jpeg", "JPEG")])
def test_lossy_output_decodes_close_to_the_png(renderer: Renderer, fmt: str, name: str) -> None:
    png = rgb(renderer.render_svg(CARD))
    data = renderer.render_svg(CARD, output=Output(fmt, 85))  # type: ignore[arg-type]
    image = decode(data)
    assert (image.format, image.size, image.mode) == (name, (W, H), "RGB")
    assert content_type_of(data) == f"image/{fmt}"
    # Lossy, but close: mean error within a few levels of the lossless pixels.
    assert np.abs(rgb(data) - png).mean() < 3


@pytest.mark.parametrize("fmt", ["webp", "jpeg"])
def test_quality_trades_bytes_for_fidelity(renderer: Renderer, fmt: str) -> None:
    png = rgb(renderer.render_svg(CARD))
    low, high = (renderer.render_svg(CARD, output=Output(fmt, q)) for q in (30, 95))  # type: ignore[arg-type]
    assert len(low) < len(high)
    assert np.abs(rgb(low) - png).mean() > np.abs(rgb(high) - png).mean()


def test_webp_keeps_alpha_and_jpeg_takes_the_matte(renderer: Renderer) -> None:
    webp = decode(renderer.render_svg(SEE_THROUGH, output=Output("webp", 90)))
    assert webp.mode == "RGBA"
    assert webp.getpixel((0, 0))[3] == 0
    assert abs(webp.getpixel((80, 80))[3] - 128) <= 2
    jpeg = decode(renderer.render_svg(SEE_THROUGH, output=Output("jpeg", 90, matte="#00ff00")))
    assert jpeg.mode == "RGB"
    assert max(abs(a - b) for a, b in zip(jpeg.getpixel((5, 5)), (0, 255, 0), strict=True)) <= 3


@pytest.mark.parametrize("fmt", ["webp", "jpeg"])
def test_layers_encode_the_same_image_as_one_pass(renderer: Renderer, fmt: str) -> None:
    """Over a cached background, untouched bands come from the cache: the encoder sees the
    same pixels as for the whole document drawn in one pass (so the same bytes)."""
    background = CARD.replace(
        '<text x="24" y="130" font-family="Inter" font-size="28" fill="#101010">Lossy card</text>',
        "",
    )
    text = (
        '<text x="24" y="130" font-family="Inter" font-size="28" fill="#101010">Lossy card</text>'
    )
    foreground = f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">{text}</svg>'
    output = Output(fmt, 85)  # type: ignore[arg-type]
    for _ in range(2):  # the second over the cached background
        layered = renderer.render_layers(background, foreground, "test-lossy", output=output)
        assert layered == renderer.render_svg(CARD, output=output)

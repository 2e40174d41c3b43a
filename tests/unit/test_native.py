"""The Rust renderer through its Python API: limits, safety, fonts, text layout."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ogmint._native import RenderError
from ogmint.rendering.native import Renderer

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">{body}</svg>'


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def doc(body: str, w: int = 400, h: int = 200) -> str:
    return SVG.format(w=w, h=h, body=f'<rect width="{w}" height="{h}" fill="#fff"/>{body}')


def ink(r: Renderer, body: str) -> int:
    return int((pixels(r.render_svg(doc(body))) < 128).all(axis=2).sum())


def test_renders_png_of_the_canvas_size(renderer: Renderer) -> None:
    png = renderer.render_svg(doc("", 1200, 630))
    img = Image.open(io.BytesIO(png))
    assert img.size == (1200, 630)
    assert img.mode == "RGB"  # opaque output drops the alpha channel


def test_accepts_bytes(renderer: Renderer) -> None:
    assert renderer.render_svg(doc("").encode()).startswith(b"\x89PNG")


@pytest.mark.parametrize("family", ["Inter", "Roboto", "Montserrat"])
def test_bold_is_really_bold(renderer: Renderer, family: str) -> None:
    text = f'<text x="10" y="120" font-family="{family}" font-size="64" font-weight="{{w}}">Hamburg</text>'
    regular = ink(renderer, text.format(w=400))
    bold = ink(renderer, text.format(w=700))
    assert bold > regular * 1.3, (regular, bold)


def test_loads_no_files_or_urls(renderer: Renderer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    img = tmp_path / "black.png"
    Image.new("RGB", (50, 50), "black").save(img)
    for href in (str(img), f"file://{img}", "https://example.com/x.png"):
        body = f'<image href="{href}" x="0" y="0" width="400" height="200"/>'
        assert ink(renderer, body) == 0


def test_data_url_png_is_drawn(renderer: Renderer) -> None:
    import base64

    buf = io.BytesIO()
    Image.new("RGB", (10, 10), "black").save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    body = f'<image href="data:image/png;base64,{data}" width="400" height="200"/>'
    assert ink(renderer, body) == 200 * 200  # square image, aspect ratio kept


def test_nested_svg_data_url_is_refused(renderer: Renderer) -> None:
    import base64

    inner = base64.b64encode(doc('<rect width="400" height="200"/>').encode()).decode()
    body = f'<image href="data:image/svg+xml;base64,{inner}" width="400" height="200"/>'
    assert ink(renderer, body) == 0


@pytest.mark.parametrize("d", ["M20 100H380", "M200 20V180"], ids=["horizontal", "vertical"])
def test_axis_aligned_stroked_lines_are_drawn(renderer: Renderer, d: str) -> None:
    assert ink(renderer, f'<path d="{d}" stroke="#000" stroke-width="4"/>') > 300


def test_limits_give_clear_errors(renderer: Renderer) -> None:
    from ogmint.rendering.native import bundled_font_dirs

    small = Renderer(bundled_font_dirs()[:1], threads=1, queue=0, max_svg_bytes=4000, max_nodes=50)
    with pytest.raises(RenderError, match="bytes"):
        small.render_svg(doc("<g/>" * 2000))
    with pytest.raises(RenderError, match="nodes"):
        small.render_svg(doc("<g></g>" * 100))
    with pytest.raises(RenderError, match="canvas"):
        small.render_svg(doc("", 20000, 100))
    with pytest.raises(RenderError, match="nesting"):
        renderer.render_svg(doc("<g>" * 100 + "</g>" * 100))
    with pytest.raises(RenderError):
        small.render_svg(b"\xff\xfe not utf-8")
    with pytest.raises(RenderError, match="invalid SVG"):
        small.render_svg("<svg")
    with pytest.raises(RenderError):
        small.render_svg(
            '<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>'
        )


def test_threads_share_one_renderer(renderer: Renderer) -> None:
    svg = doc('<text x="10" y="100" font-size="40">Threads</text>')
    expected = renderer.render_svg(svg)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: renderer.render_svg(svg), range(16)))
    assert all(r == expected for r in results)


BOX = {
    "family": "Inter",
    "weight": 700,
    "x": 0.0,
    "y": 0.0,
    "width": 600.0,
    "height": 200.0,
    "max_size": 60.0,
    "min_size": 20.0,
    "line_height": 1.2,
    "max_lines": 3,
}


def test_short_text_keeps_max_size(renderer: Renderer) -> None:
    fitted = renderer.fit_text("Hello", **BOX)  # type: ignore[arg-type]
    assert fitted.font_size == 60
    assert fitted.lines == ["Hello"]
    assert not fitted.truncated
    assert 0 < fitted.width <= 600


def test_long_text_wraps_then_shrinks_then_clamps(renderer: Renderer) -> None:
    medium = renderer.fit_text("The quick brown fox jumps over the lazy dog " * 2, **BOX)  # type: ignore[arg-type]
    assert 20 <= medium.font_size < 60
    assert len(medium.lines) <= 3
    assert not medium.truncated
    huge = renderer.fit_text("word " * 200, **BOX)  # type: ignore[arg-type]
    assert huge.font_size == 20
    assert huge.truncated
    assert huge.lines[-1].endswith("…")
    assert len(huge.lines) <= 3
    assert huge.width <= 600.5


def test_unbreakable_word_is_broken_not_overflowing(renderer: Renderer) -> None:
    fitted = renderer.fit_text("x" * 300, **BOX)  # type: ignore[arg-type]
    assert fitted.width <= 600.5


def test_cjk_wraps_without_spaces(renderer: Renderer) -> None:
    fitted = renderer.fit_text("日本語のテキストは空白なしで折り返されます" * 3, **BOX)  # type: ignore[arg-type]
    assert len(fitted.lines) > 1
    assert fitted.width <= 600.5


def test_rtl_text_is_anchored_right(renderer: Renderer) -> None:
    fitted = renderer.fit_text("مرحبا بالعالم", **{**BOX, "max_size": 40.0})  # type: ignore[arg-type]
    root = ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{fitted.svg}</svg>')
    xs = [float(t.get("x", "0")) for t in root.iter("{http://www.w3.org/2000/svg}tspan")]
    assert min(xs) > 300  # starts at the right edge of the 600 px box


def test_scripts_and_emoji_get_their_fonts(renderer: Renderer) -> None:
    svg = renderer.fit_text("Hi مرحبا שלום 你好 नमस्ते สวัสดี 🎉", **BOX).svg  # type: ignore[arg-type]
    for family in (
        "Noto Sans Arabic",
        "Heebo",
        "Noto Sans CJK",
        "Noto Sans Devanagari",
        "Noto Sans Thai",
        "Noto Color Emoji",
    ):
        assert family in svg, family


def test_emoji_render_in_colour(renderer: Renderer) -> None:
    fitted = renderer.fit_text("🎉👨‍👩‍👧", **BOX)  # type: ignore[arg-type]
    px = pixels(renderer.render_svg(doc(fitted.svg, 600, 200)))
    saturated = (px.max(axis=2) - px.min(axis=2)) > 80
    assert saturated.sum() > 500


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_any_text_is_escaped_into_valid_svg(renderer: Renderer, text: str) -> None:
    fitted = renderer.fit_text(text, **BOX)  # type: ignore[arg-type]
    root = ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{fitted.svg}</svg>')
    assert len(root) <= 1
    assert "<script" not in fitted.svg
    renderer.render_svg(doc(fitted.svg, 600, 200))


def test_markup_in_text_is_literal(renderer: Renderer) -> None:
    fitted = renderer.fit_text('<script>alert("x")</script> & co', **BOX)  # type: ignore[arg-type]
    assert "&lt;script&gt;" in fitted.svg
    root = ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{fitted.svg}</svg>')
    assert "".join(root.itertext()).startswith('<script>alert("x")</script>')


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("日本語のテキスト", "Noto Sans CJK SC"),
        ("مرحبا بالعالم", "Noto Sans Arabic"),
        ("नमस्ते दुनिया", "Noto Sans Devanagari"),
        ("สวัสดีชาวโลก", "Noto Sans Thai"),
        ("שלום עולם", "Heebo"),
    ],
)
def test_static_text_falls_back_to_the_fitted_text_fonts(
    renderer: Renderer, text: str, family: str
) -> None:
    # A template's own <text> in a family without the script draws it with the family fitted
    # text falls back to: the same pixels as naming that family, not empty boxes.
    static = '<text x="10" y="120" font-family="{}" font-size="48">{}</text>'
    fallen_back = renderer.render_svg(doc(static.format("Inter", text)))
    direct = renderer.render_svg(doc(static.format(family, text)))
    assert np.array_equal(pixels(fallen_back), pixels(direct))
    assert ink(renderer, static.format("Inter", text)) > 0


def test_cache_stats_count_lookups_and_bytes(renderer: Renderer) -> None:
    def stats() -> dict[str, tuple[int, int, int, int]]:
        return {
            name: (s.hits, s.misses, s.bytes, s.max_bytes) for name, s in renderer.cache_stats()
        }

    background = doc("", 300, 100)
    foreground = SVG.format(
        w=300, h=100, body='<text x="10" y="60" font-family="Inter" font-size="30">Cached</text>'
    )
    before = stats()
    for _ in range(3):
        renderer.render_layers(background, foreground, "test-cache-stats")
    after = stats()
    bg_hits, bg_misses = (after["background"][i] - before["background"][i] for i in (0, 1))
    assert (bg_hits, bg_misses) in ((2, 1), (3, 0))
    glyph_lookups = sum(after["glyph"][i] - before["glyph"][i] for i in (0, 1))
    assert glyph_lookups == 3 * len("Cached")
    for name in ("glyph", "background"):
        assert 0 < after[name][2] <= after[name][3]


def test_internal_failures_are_not_refusals() -> None:
    # A renderer bug must reach the server's 500 handler, not the 4xx paths that catch
    # RenderError / ValueError; refusals and timeouts stay ValueErrors.
    from ogmint import _native
    from ogmint.rendering.native import RenderInternalError

    assert RenderInternalError is _native.RenderInternalError
    assert issubclass(RenderInternalError, RuntimeError)
    assert not issubclass(RenderInternalError, ValueError)
    assert issubclass(_native.RenderTimeoutError, RenderError)
    assert issubclass(RenderError, ValueError)

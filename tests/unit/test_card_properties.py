"""What every built-in card promises, measured on rendered pixels (SPEC §1).

- Contrast: whenever the caller's text and background are ≥ 4.5:1 apart, every text a
  template draws is ≥ 4.5:1 against the pixels behind it.
- Boxes: whatever the text (long words, URLs, mixed scripts, emoji), no ink leaves its box.

Each text is found by rendering the card with and without it: the pixels that change are its
ink, the card without it is what lies behind. Hypothesis runs few, derandomised examples per
template so the suite stays fast and repeatable.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ogmint.rendering.images import _to_png as reencode
from ogmint.rendering.native import Renderer
from ogmint.rendering.palettes import AA, PALETTES, contrast, tones
from ogmint.rendering.params import RenderSpec, parse_params
from ogmint.rendering.pipeline import IMAGE_SIDES
from ogmint.rendering.template import Template, load_directory
from ogmint.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = load_directory(ROOT / "templates")
NAMES = sorted(TEMPLATES)
#: Examples per template and property: enough to meet hard pairs, few enough to stay fast.
EXAMPLES = 8
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Recorder:
    """A text fitter that fits with the real renderer and records every text it places; with
    ``only`` set it draws that text alone (the others fitted, placed, but not inked)."""

    renderer: Renderer
    only: int | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def fit_text(self, text: str, **box: object) -> Any:
        fitted = self.renderer.fit_text(text, **box)
        index = len(self.calls)
        self.calls.append({"text": text, **box})
        if self.only is not None and self.only != index:
            return _Blank(fitted.width)
        return fitted


@dataclass(frozen=True)
class _Blank:
    width: float
    svg: str = ""


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def render(
    renderer: Renderer,
    t: Template,
    spec: RenderSpec,
    images: Mapping[str, bytes],
    only: int | None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    rec = Recorder(renderer, only)
    layers = t.layers(spec, images, rec)  # as the service renders: background cached
    png = renderer.render_layers(layers.background, layers.foreground, layers.key)
    return pixels(png), rec.calls


def texts(
    renderer: Renderer, t: Template, spec: RenderSpec, images: Mapping[str, bytes]
) -> tuple[np.ndarray, list[tuple[dict[str, Any], np.ndarray, np.ndarray]]]:
    """The card without any text, and each text's call, the card with it alone, its ink."""
    bare, calls = render(renderer, t, spec, images, only=-1)
    out = []
    for i, call in enumerate(calls):
        alone, _ = render(renderer, t, spec, images, only=i)
        out.append((call, alone, np.abs(alone - bare).max(axis=2) > 0))
    return bare, out


def spec_of(params: Mapping[str, str], renderer: Renderer) -> RenderSpec:
    return parse_params(
        params,
        strict=True,
        template_exists=TEMPLATES.__contains__,
        resolve_font=renderer.resolve_family,
    )


def hexes(rgb: np.ndarray) -> list[str]:
    return ["".join(f"{int(v):02x}" for v in px) for px in rgb.reshape(-1, 3)]


def worst_contrast(ink: np.ndarray, bare: np.ndarray, mask: np.ndarray) -> tuple[float, str, str]:
    """The ink colour (the pixel that differs most from what is behind it) against every
    distinct colour behind the text's ink and a 2 px ring around it."""
    ys, xs = np.nonzero(mask)
    distance = np.abs(ink[ys, xs] - bare[ys, xs]).sum(axis=1)
    k = int(distance.argmax())
    colour = hexes(ink[ys[k], xs[k]])[0]
    grown = mask.copy()
    for dy in (-2, -1, 1, 2):
        grown |= np.roll(mask, dy, axis=0)
    for dx in (-2, -1, 1, 2):
        grown |= np.roll(grown, dx, axis=1)
    behind = set(hexes(bare[grown]))
    worst = min(behind, key=lambda b: contrast(colour, b))
    return contrast(colour, worst), colour, worst


colours = st.integers(0, 0xFFFFFF).map(lambda v: f"{v:06x}")


@st.composite
def caller_colours(draw: st.DrawFn) -> dict[str, str]:
    """A background and text at least 4.5:1 apart, an accent, sometimes a surface."""
    bg = draw(colours)
    text = draw(colours.filter(lambda c: contrast(c, bg) >= AA))
    out = {"bgColor": bg, "textColor": text, "accentColor": draw(colours)}
    if draw(st.booleans()):
        out["surfaceColor"] = draw(colours)
    return out


SAMPLE = {
    "title": "Shipping faster with edge rendering",
    "description": "How we cut p95 latency by moving image generation to the edge.",
    "tag": "Engineering",
    "author": "Ada Lovelace",
}


@pytest.mark.parametrize("name", NAMES)
def test_every_text_keeps_aa_contrast_for_any_readable_colour_pair(
    name: str, renderer: Renderer
) -> None:
    @FAST
    @given(caller_colours())
    def check(colors: dict[str, str]) -> None:
        spec = spec_of({"template": name, **SAMPLE, **colors}, renderer)
        bare, found = texts(renderer, TEMPLATES[name], spec, {})
        assert found, "the card drew no text"
        for call, alone, mask in found:
            if not mask.any():
                continue
            ratio, ink, behind = worst_contrast(alone, bare, mask)
            assert ratio >= AA, (
                f"{name}: {call['text']!r} ink #{ink} on #{behind} is {ratio:.2f}:1 "
                f"with colours {colors}"
            )

    check()


def test_palettes_keep_aa_for_every_tone() -> None:
    for name, c in PALETTES.items():
        t = tones(c)
        for ink in (c.text, t.muted, t.accentText):
            for behind in (c.bg, c.surface, t.tint):
                assert contrast(ink, behind) >= AA, (name, ink, behind)
        assert contrast(c.bg, t.accentText) >= AA, name  # labels on a solid accent badge


# -- text never leaves its box --------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "edge",
        "rendering",
        "Überschrift",
        "naïve",
        "Supercalifragilisticexpialidocious" * 2,
        "https://example.com/a/very/long/path/to/some-resource?with=query&and=more",
        "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
        "שלום",
        "עברית",
        "مرحبا",
        "بالعالم",
        "日本語のテキスト",
        "你好世界",
        "🚀",
        "🎉🎉",
        "👩‍💻",
        "—",
        "(2026)",
        "x" * 60,
    ]
)


def phrase(max_chars: int) -> st.SearchStrategy[str]:
    return (
        st.lists(WORDS, min_size=1, max_size=30)
        .map(" ".join)
        .map(lambda s: s[:max_chars].strip() or "x")
    )


def _avatar() -> bytes:
    im = Image.new("RGB", (64, 64), (200, 120, 80))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return reencode(buf.getvalue(), IMAGE_SIDES["avatar"], Settings.from_env({}).image_max_pixels)


@pytest.mark.parametrize("name", NAMES)
def test_no_ink_outside_the_text_boxes(name: str, renderer: Renderer) -> None:
    avatar = _avatar()

    @FAST
    @given(
        title=phrase(200),
        description=phrase(500),
        tag=phrase(50),
        author=phrase(100),
        with_avatar=st.booleans(),
        palette=st.sampled_from(sorted(PALETTES)),
    )
    def check(
        title: str, description: str, tag: str, author: str, with_avatar: bool, palette: str
    ) -> None:
        params = {
            "template": name,
            "title": title,
            "description": description,
            "tag": tag,
            "author": author,
            "palette": palette,
        }
        images = {}
        if with_avatar:
            params["avatar"] = "https://images.example.com/a.png"
            images["avatar"] = avatar
        spec = spec_of(params, renderer)
        full, calls = render(renderer, TEMPLATES[name], spec, images, only=None)
        bare, _ = render(renderer, TEMPLATES[name], spec, images, only=-1)
        ink = np.abs(full - bare).max(axis=2) > 24
        allowed = np.zeros_like(ink)
        for call in calls:
            allowed[_box(call, ink.shape)] = True
        outside = ink & ~allowed
        if outside.any():
            ys, xs = np.nonzero(outside)
            raise AssertionError(
                f"{name}: {int(outside.sum())} ink pixels outside the boxes, e.g. at "
                f"x={int(xs[0])}, y={int(ys[0])}; boxes {[_box_tuple(c) for c in calls]}; "
                f"params {params}"
            )

    check()


def _box_tuple(call: Mapping[str, Any]) -> tuple[float, float, float, float]:
    return (call["x"], call["y"], call["width"], call["height"])


def _box(call: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The text's box, with the slack glyphs are allowed: 2 px sideways (anti-aliasing,
    overhangs) and, vertically, a quarter of the largest size (accents and descenders of
    scripts taller than Latin)."""
    x, y, w, h = _box_tuple(call)
    size = float(call["max_size"])
    dy = size * 0.25
    x0, x1 = max(0, int(x - 2)), min(shape[1], int(np.ceil(x + w + 2)))
    y0, y1 = max(0, int(y - dy)), min(shape[0], int(np.ceil(y + h + dy)))
    return slice(y0, y1), slice(x0, x1)

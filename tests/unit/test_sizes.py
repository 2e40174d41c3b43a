"""Sizes (SPEC §1.1): the nearest aspect's document, drawn at size × scale pixels."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from ogmint.rendering.params import PRESETS, parse_params
from ogmint.rendering.pipeline import render_image
from ogmint.rendering.sanitiser import TemplateError
from ogmint.rendering.sizes import (
    ASPECTS,
    OG_PIXELS,
    aspect_of,
    nearest,
    nearest_aspect,
    resize,
    timeout_for,
)
from ogmint.rendering.template import compile_template, load_directory
from sized import document

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EXPECTED_ASPECT = {
    "og": "landscape",
    "twitter": "landscape",
    "linkedin": "landscape",
    "square": "square",
    "portrait": "portrait",
    "story": "tall",
}


@pytest.mark.parametrize(("preset", "aspect"), EXPECTED_ASPECT.items())
def test_each_preset_takes_its_aspect_class(preset: str, aspect: str) -> None:
    assert nearest_aspect(*PRESETS[preset], tuple(ASPECTS)) == aspect


def test_missing_aspects_fall_back_to_the_nearest() -> None:
    assert nearest_aspect(1080, 1920, ("landscape", "square")) == "square"
    assert nearest_aspect(1080, 1920, ("landscape",)) == "landscape"
    assert nearest_aspect(2400, 100, ("square", "tall")) == "square"


def test_resize_keeps_the_viewbox_and_covers_other_aspects() -> None:
    svg = '<svg xmlns="x" width="1200" height="630" viewBox="0 0 1200 630"><rect/></svg>'
    same = resize(svg, 2400, 1260, cover=False)
    assert 'width="2400" height="1260"' in same and 'viewBox="0 0 1200 630"' in same
    assert "preserveAspectRatio" not in same
    covered = resize(svg, 1080, 1080, cover=True)
    assert 'preserveAspectRatio="xMidYMid slice"' in covered
    assert covered.count("width=") == 1 and covered.endswith("<rect/></svg>")


def test_built_in_layouts_are_loaded_per_aspect() -> None:
    templates = load_directory(TEMPLATES)
    # Every built-in is laid out for every aspect class (SPEC §1.1): none is cover-cropped.
    assert set(templates) == {"blog", "changelog", "docs", "event", "minimal", "product", "quote"}
    for name, template in templates.items():
        assert {a for a, _ in template.layouts} == {"square", "portrait", "tall"}, name
        for preset, aspect in EXPECTED_ASPECT.items():
            assert template.document_for(*PRESETS[preset]).canvas == ASPECTS[aspect]
    # No stray templates named after a layout file.
    assert not [name for name in templates if "." in name]


def test_a_layout_without_its_landscape_document_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lonely.square.svg").write_bytes((TEMPLATES / "minimal.square.svg").read_bytes())
    with pytest.raises(TemplateError, match="lonely"):
        load_directory(tmp_path)


def test_a_layout_must_have_its_aspect_canvas(tmp_path: Path) -> None:
    (tmp_path / "card.svg").write_bytes((TEMPLATES / "minimal.svg").read_bytes())
    (tmp_path / "card.tall.svg").write_bytes((TEMPLATES / "minimal.square.svg").read_bytes())
    with pytest.raises(TemplateError, match="width=1080 height=1920"):
        load_directory(tmp_path)


@pytest.mark.parametrize("preset", [*PRESETS, "640x480"])
@pytest.mark.parametrize("scale", [1, 2])
def test_renders_have_size_times_scale_pixels(  # type: ignore[no-untyped-def]
    renderer, preset: str, scale: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Up to 8.3 M pixels on a shared, loaded host: the size is under test here, not the speed.
    monkeypatch.setattr(renderer, "timeout", 30.0)
    templates = load_directory(TEMPLATES)
    spec = parse_params(
        {"template": "minimal", "title": "Sizes", "size": preset, "scale": scale},
        strict=True,
        template_exists=templates.__contains__,
        resolve_font=renderer.resolve_family,
    )
    image = Image.open(io.BytesIO(render_image(renderer, templates["minimal"], spec, {})))
    assert image.size == spec.pixels


def test_a_tall_document_is_bounded_against_its_own_canvas() -> None:
    """A user-space filter over the whole 1080×1920 canvas was refused as taller than 3 × 630
    (the og canvas); a document's bounds are its own canvas's."""
    blur = (
        '<defs><filter id="f" filterUnits="userSpaceOnUse" x="0" y="0" width="1080" '
        'height="1920"><feGaussianBlur stdDeviation="4"/></filter></defs>'
        '<rect width="1080" height="1920" fill="#000" filter="url(#f)" opacity="0.5"/>'
    )
    tall = document("story", extra=blur).encode()
    assert compile_template("t", tall, custom=True, canvas=(1080, 1920)).canvas == (1080, 1920)
    # The region bound is 3 × the canvas: 5760 high here (unused, so no cost counted).
    over = tall.replace(b'height="1920"><feGaussian', b'height="5800"><feGaussian')
    over = over.replace(b' filter="url(#f)"', b"")
    with pytest.raises(TemplateError, match="filter region height='5800' is larger than allowed"):
        compile_template("t", over, custom=True, canvas=(1080, 1920))


def test_the_nearest_canvas_rule() -> None:
    canvases = {"og": (1200, 630), "twitter": (1200, 600), "square": (1080, 1080)}
    assert nearest(1200, 600, canvases) == "twitter"
    assert nearest(1200, 627, canvases) == "og"
    assert nearest(1000, 1100, canvases) == "square"
    assert nearest(100, 2400, {"og": (1200, 630)}) == "og"
    assert aspect_of(1200, 600) == "landscape" and aspect_of(1080, 1350) == "portrait"


def test_the_deadline_scales_with_the_pixel_count() -> None:
    assert timeout_for(2.0, 1200, 630) == 2.0
    assert timeout_for(2.0, 100, 100) == 2.0  # never less than the og card's
    assert timeout_for(2.0, 2160, 3840) == pytest.approx(2.0 * 2160 * 3840 / OG_PIXELS)
    assert timeout_for(2.0, 2160, 3840) == pytest.approx(21.94, abs=0.01)


@pytest.mark.parametrize(("size", "scale"), [("og", 1), ("story", 1), ("story", 2)])
def test_a_render_is_given_the_deadline_of_its_pixels(  # type: ignore[no-untyped-def]
    renderer, size: str, scale: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = load_directory(TEMPLATES)
    spec = parse_params(
        {"template": "docs", "title": "Deadline", "size": size, "scale": scale},
        strict=True,
        template_exists=templates.__contains__,
        resolve_font=renderer.resolve_family,
    )
    given: list[float] = []
    draw = renderer.render_layers

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        given.append(args[3])  # the timeout, then the real render
        return draw(*args, **kwargs)

    monkeypatch.setattr(renderer, "render_layers", recording)
    render_image(renderer, templates["docs"], spec, {})
    width, height = spec.pixels
    assert given == [pytest.approx(renderer.timeout * max(1, width * height / OG_PIXELS))]


@pytest.mark.parametrize(
    "name", ["blog", "changelog", "docs", "event", "minimal", "product", "quote"]
)
def test_story_at_2x_renders_every_built_in_within_the_default_timeout(  # type: ignore[no-untyped-def]
    renderer, name: str
) -> None:
    """A cold render (its background not cached: a colour no other test uses) of the largest
    preset at the largest scale the pixel cap allows, under the default render timeout."""
    assert renderer.timeout == 2.0
    templates = load_directory(TEMPLATES)
    params = {
        "template": name,
        "title": "Shipping faster with edge rendering and smart caching",
        "description": "How we cut p95 latency by 63% with edge rendering.",
        "tag": "Engineering",
        "author": "Ada Lovelace",
        "accentColor": "1f7a5c",
        "size": "story",
        "scale": 2,
    }
    spec = parse_params(
        params,
        strict=True,
        template_exists=templates.__contains__,
        resolve_font=renderer.resolve_family,
    )
    image = Image.open(io.BytesIO(render_image(renderer, templates[name], spec, {})))
    assert image.size == (2160, 3840)


OG = "{https://ogmint.dev/ns/template}"


def _boxes(path: Path) -> list[tuple[str, float, float, float, float]]:
    """Every box a text or image may be drawn in: (element, left, top, right, bottom)."""
    boxes = []
    for el in ET.parse(path).getroot().iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(OG):
            continue
        kind = el.tag.removeprefix(OG)
        x, y, height = (float(el.get(a, "0")) for a in ("x", "y", "height"))
        if kind == "pill":  # a capsule up to max-width long, from x or ending at x
            width = float(el.get("max-width", "600"))
            x = x - width if el.get("align") == "end" else x
        else:
            width = float(el.get("width", "0"))
        boxes.append((f"{kind} {el.get('field')}", x, y, x + width, y + height))
    return boxes


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.svg")), ids=lambda p: p.name)
def test_no_text_or_image_is_cut_by_the_presets_drawn_from_a_document(path: Path) -> None:
    """Every preset drawn from a document shows all its text and images: an aspect layout's
    canvas holds them with a margin, and the landscape card keeps them clear of the 15 px that
    ``twitter`` (1200×600) crops from its top and bottom (``linkedin``: 1.5 px)."""
    _, _, aspect = path.stem.partition(".")
    width, height = ASPECTS[aspect or "landscape"]
    presets = [
        p
        for p, size in PRESETS.items()
        if nearest_aspect(*size, tuple(ASPECTS)) == (aspect or "landscape")
    ]
    # The part of the document each preset shows (cover-scaled and centred).
    top = max((height - width * h / w) / 2 for w, h in (PRESETS[p] for p in presets))
    left = max((width - height * w / h) / 2 for w, h in (PRESETS[p] for p in presets))
    for what, x0, y0, x1, y1 in _boxes(path):
        assert left + 24 <= x0 and x1 <= width - left - 24, (what, x0, x1)
        assert top + 24 <= y0 and y1 <= height - top - 24, (what, y0, y1)

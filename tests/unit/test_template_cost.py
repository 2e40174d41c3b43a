"""The template cost model (``rendering/cost.py``) and the sanitiser checks around it: every
bound refuses what crosses it and names it, real templates and design-tool exports pass
(false positives: none), og: numbers stay in the ranges the renderer can take, and colour
placeholders and hex colours neither hide nor fake numbers (issue 19, items 1, 4, 11)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from ogmint.rendering.cost import CostLimits, outline_length, path_geometry, transform_matrix
from ogmint.rendering.sizes import ASPECTS, LANDSCAPE
from ogmint.rendering.template import TemplateError, TemplateLimits, compile_template

ROOT = Path(__file__).resolve().parents[2]
REAL = sorted(
    [
        *(ROOT / "templates").glob("*.svg"),
        *(ROOT / "templates" / "examples").glob("*.svg"),
        *(ROOT / "tests" / "designs").glob("*.svg"),
    ]
)

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" width="1200" height="630">'
)
TITLE = '<og:text field="title" x="0" y="0" width="100" height="100" max-size="40"/>'
SHADOW = (
    '<filter id="f" x="-10%" y="-10%" width="120%" height="120%">'
    '<feGaussianBlur stdDeviation="8"/><feOffset dx="4" dy="4"/></filter>'
)


def doc(body: str) -> bytes:
    return (HEAD + body + TITLE + "</svg>").encode()


def compiles(body: str, **cost: float) -> None:
    limits = TemplateLimits(cost=replace(CostLimits(), **cost))  # type: ignore[arg-type]
    compile_template("t", doc(body), limits, custom=True)


def refused(body: str, match: str, **cost: float) -> None:
    with pytest.raises(TemplateError, match=match):
        compiles(body, **cost)


def test_the_real_corpus_is_large_enough() -> None:
    assert len([p for p in REAL if p.parent.name == "designs"]) >= 4


@pytest.mark.parametrize("path", REAL, ids=[f"{p.parent.name}/{p.stem}" for p in REAL])
def test_real_templates_and_design_exports_pass(path: Path) -> None:
    # A built-in's aspect layouts (blog.square.svg …) declare their own canvas.
    name, _, aspect = path.stem.partition(".")
    aspect = aspect if aspect in ASPECTS else LANDSCAPE
    compile_template(name, path.read_bytes(), custom=True, canvas=ASPECTS[aspect])


# -- filters ----------------------------------------------------------------------------------
def test_filter_work_counts_region_primitives_and_uses() -> None:
    shadowed = f'<defs>{SHADOW}<rect id="r" width="600" height="300" filter="url(#f)"/></defs>'
    # 720 × 360 px region × (1 + blur 3 + offset 1) = 1.3 megapixel-primitives per use.
    compiles(shadowed + '<use href="#r"/>' * 9)
    refused(shadowed + '<use href="#r"/>' * 10, "filters cost 13.0 megapixel-primitives")
    compiles(shadowed + '<use href="#r"/>' * 10, max_filter_work=13.5)


def test_filter_regions_follow_units_and_scale() -> None:
    big = '<filter id="f" x="-1" y="-1" width="3" height="3"><feOffset dx="1"/></filter>'
    # 300 % of the canvas, 2 primitives' worth: 6.8 Mpx × 2.
    refused(f'<defs>{big}</defs><rect width="1200" height="630" filter="url(#f)"/>', "13.6")
    compiles(f'<defs>{big}</defs><rect width="100" height="100" filter="url(#f)"/>')
    scaled = f'<defs>{big}</defs><g transform="scale(12)"><rect width="100" height="100" filter="url(#f)"/></g>'
    refused(scaled, "filters cost")
    user = (
        '<filter id="f" filterUnits="userSpaceOnUse" x="0" y="0" width="1200" height="630">'
        + '<feOffset dx="1"/>' * 7
        + "</filter>"
    )
    compiles(f'<defs>{user}</defs><rect width="10" height="10" filter="url(#f)"/>')  # 6 Mpx
    refused(
        f'<defs>{user}</defs><rect width="10" height="10" filter="url(#f)"/>' * 2, "filters cost"
    )


def test_small_blurs_weigh_more() -> None:
    def blur(deviation: str) -> str:
        return (
            f'<defs><filter id="f" x="0" y="0" width="1" height="1"><feGaussianBlur '
            f'stdDeviation="{deviation}"/></filter></defs>'
            + '<rect width="1200" height="630" filter="url(#f)"/>'
            * 2
        )

    compiles(blur("8"))  # 0.76 Mpx × 4 × 2
    refused(blur("1"), "filters cost")  # 0.76 Mpx × 12 × 2


def test_merge_nodes_are_bounded_and_counted() -> None:
    merge = "<feMerge>" + '<feMergeNode in="SourceGraphic"/>' * 17 + "</feMerge>"
    body = f'<defs><filter id="f">{merge}</filter></defs><rect width="10" height="10" filter="url(#f)"/>'
    refused(body, "17 nodes, more than 16")
    compiles(body, max_merge_nodes=17)


def test_the_groups_box_sizes_its_filter_region() -> None:
    group = (
        f'<defs>{SHADOW}</defs><g filter="url(#f)"><rect x="100" y="100" width="50" height="50"/>'
        '<circle cx="300" cy="200" r="20"/><path d="M100 100 h 20 v 200 z"/></g>'
    )
    compiles(group, max_filter_work=0.4)  # 264 × 264 px × 5 = 0.35
    refused(group, "filters cost", max_filter_work=0.3)


# -- painting, dashes, text ---------------------------------------------------------------------
def test_painted_pixels_are_bounded() -> None:
    gradient = (
        '<defs><linearGradient id="g"><stop stop-color="#000"/><stop offset="1"/></linearGradient>'
        '<rect id="r" width="1200" height="630" fill="url(#g)"/></defs>'
    )
    compiles(gradient + '<use href="#r"/>' * 15)  # 11 canvases each
    refused(gradient + '<use href="#r"/>' * 20, "paints more than 200 canvases")
    layers = '<g opacity="0.5"><rect width="1200" height="630"/></g>' * 30
    refused(layers, "paints more than", max_paint=200)
    compiles('<rect width="1200" height="630"/>' * 150)


def test_dash_segments_follow_outline_length_and_inheritance() -> None:
    long_path = '<path d="M0 0 H100000 V1 H0" fill="none" stroke="#000"/>'
    compiles(long_path.replace("/>", ' stroke-dasharray="4 4"/>'))  # 200,001 / 8 × 2 = 50,000
    refused(long_path.replace("/>", ' stroke-dasharray="2 2"/>'), "dash segments")
    refused(f'<g stroke-dasharray="2 2">{long_path}</g>', "dash segments")
    refused(f'<g stroke-dasharray="1">{long_path}</g>', "dash segments")  # odd: "1 1"
    compiles(f'<g stroke-dasharray="2 2"><g stroke-dasharray="none">{long_path}</g></g>')
    used = '<defs><path id="p" d="M0 0 H50000" stroke="#000" stroke-dasharray="10 10"/></defs>'
    compiles(used + '<use href="#p"/>' * 20)  # 5,000 segments each
    refused(used + '<use href="#p"/>' * 21, "dash segments")


def test_path_segments_are_bounded_counting_uses() -> None:
    path = '<defs><path id="p" d="M0 0' + " l1 1" * 3333 + '"/></defs>'  # 10,002 values
    compiles(path + '<use href="#p"/>' * 19)
    refused(path + '<use href="#p"/>' * 20, "more than 200000 path segments")
    points = " ".join(f"{i},{i}" for i in range(2000))
    refused(
        f'<defs><polyline id="l" points="{points}"/></defs>' + '<use href="#l"/>' * 101,
        "path segments",
    )


def test_static_text_is_bounded_counting_uses() -> None:
    text = '<text id="t" x="0" y="50" font-family="Inter" font-size="20">{}</text>'
    compiles(text.format("x" * 2000))
    refused(text.format("x" * 2001), "static text of more than 2000 characters")
    refused(
        "<defs>" + text.format("y" * 1001) + '</defs><use href="#t"/><use href="#t"/>',
        "static text",
    )
    refused(text.format("<tspan>" + "z" * 1500 + "</tspan>" + "z" * 600), "static text")


# -- nested viewports (item 11) ---------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        '<svg width="1200" height="630" viewBox="0 0 12 6.3"><rect width="1" height="1"/></svg>',
        '<svg viewBox="0 0 1 1"><rect width="1" height="1"/></svg>',  # 100 %: the canvas
        '<defs><symbol id="s" viewBox="0 0 1 1"><circle r="1"/></symbol></defs>'
        '<use href="#s" width="600" height="600"/>',
        '<defs><symbol id="s" viewBox="0 0 10 10"><circle r="1"/></symbol></defs>'
        '<g transform="scale(4)"><use href="#s" width="100" height="100"/></g>',
        '<svg width="1200" height="630" viewBox="0 0 300 158"><svg width="300" height="158" '
        'viewBox="0 0 75 40"><svg width="75" height="40" viewBox="0 0 19 10"><rect/></svg></svg>'
        "</svg>",
        '<defs><pattern id="p" width="100" height="100" patternUnits="userSpaceOnUse" '
        'viewBox="0 0 1 1"><rect width="1" height="1"/></pattern></defs>'
        '<rect width="100" height="100" fill="url(#p)"/>',
    ],
)
def test_nested_viewports_count_toward_the_scale_limit(body: str) -> None:
    refused(body, "scale by more than 16")


def test_viewports_within_the_scale_limit_pass() -> None:
    compiles('<svg width="1200" height="630" viewBox="0 0 300 158"><rect/></svg>')
    compiles(
        '<defs><symbol id="s" viewBox="0 0 24 24"><path d="M2 2h20v20H2z"/></symbol></defs>'
        '<use href="#s" x="10" y="10" width="96" height="96"/>'
    )
    refused('<svg width="10" height="10" viewBox="0 0 0 1"><rect/></svg>', "viewBox")


def test_gradient_transforms_are_not_zooms() -> None:
    """Figma exports radial gradients as a unit circle scaled by its radius."""
    compiles(
        '<defs><radialGradient id="g" cx="0" cy="0" r="1" gradientUnits="userSpaceOnUse" '
        'gradientTransform="translate(600 315) rotate(90) scale(286)"><stop stop-color="#fff"/>'
        '</radialGradient></defs><rect width="1200" height="630" fill="url(#g)"/>'
    )


# -- numbers in attributes (item 11) ----------------------------------------------------------
@pytest.mark.parametrize("colour", ["#2e5aa8", "#1e3a8a", "#0e1e2e", "#123456", "#fff", "#9e9"])
def test_hex_colours_are_not_numbers(colour: str) -> None:
    compiles(
        f'<rect width="10" height="10" fill="{colour}" stroke="{colour}"/>'
        f'<linearGradient id="g"><stop stop-color="{colour}"/></linearGradient>'
        f'<rect id="a1e9" width="10" height="10" fill="url(#a1e9)"/>'
    )


@pytest.mark.parametrize(
    "attribute",
    [
        'stroke-width="{{bg}} 1e9"',
        'width="1e9{{text}}"',
        'stroke-dasharray="{{accent}} 0.001 0.001"',
        'stroke-width="{{surface}}9000"',
    ],
)
def test_placeholders_do_not_switch_off_numeric_checks(attribute: str) -> None:
    with pytest.raises(TemplateError):
        compiles(f'<rect width="10" height="10" fill="{{{{accent}}}}" {attribute}/>')


def test_placeholders_still_work() -> None:
    compiles('<rect width="10" height="10" fill="{{accent}}" stroke="{{text}}" stroke-width="2"/>')


# -- og: numbers (item 4) ---------------------------------------------------------------------
OG_TEXT = '<og:text field="description" x="0" y="200" width="400" height="100" max-size="30" {}/>'
OG_PILL = '<og:pill field="tag" x="0" y="500" height="40" {}/>'
OG_IMAGE = '<og:image field="avatar" x="0" y="0" width="80" height="80" {}/>'


@pytest.mark.parametrize(
    ("element", "attribute"),
    [
        (OG_TEXT, 'weight="-1"'),
        (OG_TEXT, 'weight="65536"'),
        (OG_TEXT, 'weight="450.5"'),
        (OG_TEXT, 'max-lines="-3"'),
        (OG_TEXT, 'max-lines="0"'),
        (OG_TEXT, 'max-lines="4294967296"'),
        (OG_TEXT, 'max-lines="2.5"'),
        (OG_TEXT, 'min-size="-4"'),
        (OG_TEXT, 'min-size="40"'),  # larger than max-size
        (OG_TEXT, 'line-height="0"'),
        (OG_TEXT, 'letter-spacing="50"'),
        (OG_TEXT.replace('width="400"', 'width="-400"'), ""),
        (OG_TEXT.replace('max-size="30"', 'max-size="1e4"'), ""),
        (OG_PILL, 'weight="-600"'),
        (OG_PILL, 'size="0"'),
        (OG_PILL, 'padding="-5"'),
        (OG_PILL, 'fill-opacity="2"'),
        (OG_PILL, 'max-width="-1"'),
        (OG_IMAGE, 'radius="-1"'),
        (OG_IMAGE.replace('width="80"', 'width="0"'), ""),
    ],
)
def test_og_numbers_out_of_range_are_refused(element: str, attribute: str) -> None:
    for body in (element.format(attribute), f'<g og:unless="tag">{element.format(attribute)}</g>'):
        with pytest.raises(TemplateError, match=r"out of range|whole number|min-size"):
            compiles(body)


def test_og_numbers_in_range_pass() -> None:
    compiles(OG_TEXT.format('weight="1000" max-lines="100" min-size="1" letter-spacing="-0.5"'))
    compiles(OG_PILL.format('weight="1" size="1000" padding="0" fill-opacity="0"'))


# -- geometry -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("d", "length", "box"),
    [
        ("M0 0 H100 V50 H0 Z", 300, (0, 0, 100, 50)),
        ("m10 10 l10 0 l0 10 z", 20 + 10 * math.sqrt(2), (10, 10, 20, 20)),
        ("M0 0 10 0 10 10", 20, (0, 0, 10, 10)),  # implicit linetos
        ("M0 0 C0 10 10 10 10 0", 30, (0, 0, 10, 10)),  # control polygon
        ("M0 0 A5 5 0 1 1 10 0", 2 * math.pi * 5, (-5, -5, 10, 5)),
        ("M0 0 a5 5 0 1110 0", 2 * math.pi * 5, (-5, -5, 10, 5)),  # flags written together
        ("M0 0 q5 10 10 0 t10 0", 2 * math.hypot(5, 10) + 10, (0, 0, 20, 10)),
    ],
)
def test_path_geometry_bounds_length_and_box(d: str, length: float, box: tuple[float, ...]) -> None:
    found = path_geometry(d)
    assert found is not None
    assert found[0] == pytest.approx(length, rel=1e-6)
    assert found[1] == pytest.approx(box)


@pytest.mark.parametrize("d", ["M0 0 L", "10 10", "M0 0 X5", "M0 0 A5 5 0 2 1 10 0"])
def test_unreadable_path_data_has_no_geometry(d: str) -> None:
    assert path_geometry(d) is None


def test_outline_lengths_of_shapes() -> None:
    import xml.etree.ElementTree as ET

    def length(xml: str) -> float:
        el = ET.fromstring(xml)
        return outline_length(el, el.tag)

    assert length('<rect width="10" height="5"/>') == 30
    assert length('<circle r="1"/>') == pytest.approx(2 * math.pi)
    assert length('<line x1="0" y1="0" x2="3" y2="4"/>') == 5
    assert length('<polygon points="0,0 3,0 3,4"/>') == 12
    assert length('<path d="M0 0 L1e3 0 ?"/>') == 1000  # unreadable: its numbers' sum


def test_transform_matrices() -> None:
    assert transform_matrix("translate(10 20) scale(2)") == (2, 0, 0, 2, 10, 20)
    a, b, c, d, _, _ = transform_matrix("rotate(90)")
    assert (a, b, c, d) == pytest.approx((0, 1, -1, 0))
    assert transform_matrix("bogus(1)") == (1, 0, 0, 1, 0, 0)

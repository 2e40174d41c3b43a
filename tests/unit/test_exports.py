"""Design-tool exports upload as they are (issue 23 item 4, SPEC §5.1): ``style`` attributes
and simple ``<style>`` rules become presentation attributes before the checks (so the cost
model sees them), a bare DOCTYPE line is dropped, ``xml:space`` is kept; unknown placeholders
and font families are refused with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogmint.rendering.cost import CostLimits
from ogmint.rendering.native import Renderer
from ogmint.rendering.template import TemplateError, TemplateLimits, compile_template

ROOT = Path(__file__).resolve().parents[2]
HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" '
    'width="1200" height="630">'
)
TITLE = '<og:text field="title" x="0" y="0" width="100" height="100" max-size="40"/>'


def doc(body: str, prolog: str = "") -> bytes:
    return (prolog + HEAD + body + TITLE + "</svg>").encode()


def static(body: str, prolog: str = "") -> str:
    template = compile_template("t", doc(body, prolog), custom=True)
    return "".join(p for p in template.parts if isinstance(p, str))


def test_style_attribute_becomes_presentation_attributes() -> None:
    out = static('<rect width="10" height="10" fill="#000" style="fill:#ff0000; opacity: .5"/>')
    assert 'fill="#ff0000"' in out and 'opacity=".5"' in out and "style" not in out


def test_stylesheet_rules_apply_in_cascade_order() -> None:
    css = (
        "<style>rect{fill:#111111} .a{fill:#222222;stroke:#333333} "
        "#r{fill:#444444} rect.a.b{stroke-width:3}</style>"
    )
    out = static(css + '<rect id="r" class="a b" width="1" height="1" style="stroke:#555555"/>')
    # id beats class beats type; the style attribute beats every rule.
    assert 'fill="#444444"' in out and 'stroke="#555555"' in out and 'stroke-width="3"' in out
    assert "<style" not in out


def test_selector_lists_and_cdata_and_comments() -> None:
    out = static(
        "<style><![CDATA[ /* Illustrator */ .st0, .st1 { fill: #abcdef } ]]></style>"
        '<rect class="st1" width="1" height="1"/>'
    )
    assert 'fill="#abcdef"' in out


def test_inert_and_vendor_properties_are_dropped() -> None:
    out = static(
        '<text x="1" y="20" style="line-height:1.25;-inkscape-font-specification:\'Inter Bold\';'
        'white-space:pre;font-family:Inter">Hi</text>'
    )
    assert "line-height" not in out and "inkscape" not in out and 'font-family="Inter"' in out


def test_the_cost_model_sees_styled_properties() -> None:
    """A dasharray set in a rule is bounded like an attribute (before: styles were refused;
    an attribute-only model would miss it if styles were applied after the checks)."""
    body = (
        "<style>.d{stroke-dasharray:1 1;stroke:#000000}</style>"
        '<path class="d" d="M0 0 L1200 630 L0 630 L1200 0"/>'
    )
    compile_template("t", doc(body), custom=True)
    limits = TemplateLimits(cost=CostLimits(max_dash_segments=100))
    with pytest.raises(TemplateError, match="dash"):
        compile_template("t", doc(body), limits, custom=True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<style>@import url(#x);</style>", "at-rules"),
        ("<style>@font-face { font-family: X }</style>", "at-rules"),
        ("<style>g rect { fill: red }</style>", "selector"),
        ("<style>rect:hover { fill: red }</style>", "selector"),
        ("<style>* { fill: red }</style>", "selector"),
        ("<style>rect { behavior: x }</style>", "behavior"),
        ("<style>rect { fill: red </style>", "cannot read"),
        ('<style type="text/xsl">rect{fill:red}</style>', "text/css"),
        ('<rect width="1" height="1" style="transform: scale(99)"/>', "transform"),
        ('<rect width="1" height="1" style="fill: url(https://e.com/p#g)"/>', "url()"),
        ('<rect width="1" height="1" style="fill: \\75rl(x)"/>', "escapes"),
        ('<rect width="1" height="1" style="stroke-width: 9999"/>', "stroke-width"),
        (
            '<og:text style="fill:red" field="tag" x="0" y="0" width="1" height="1" max-size="9"/>',
            "og:",
        ),
    ],
)
def test_refused_styles_name_their_line(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        compile_template("t", doc("\n" + body), custom=True)
    assert message.lower() in str(info.value).lower()
    assert info.value.line == 2


PUBLIC = (
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
)


@pytest.mark.parametrize(
    "prolog",
    [
        PUBLIC,
        '<?xml version="1.0" encoding="utf-8"?>\n<!-- Generator: Adobe Illustrator -->\n' + PUBLIC,
        '<!DOCTYPE svg SYSTEM "svg11.dtd">\n',
        "<!DOCTYPE svg>\n",
    ],
    ids=["public", "illustrator", "system", "bare"],
)
def test_bare_doctype_is_dropped_and_lines_stay_right(prolog: str) -> None:
    static("", prolog)
    with pytest.raises(TemplateError) as info:
        compile_template("t", doc("\n<script/>", prolog), custom=True)
    assert info.value.line == prolog.count("\n") + 2


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE svg [<!ENTITY x "boom">]>\n',
        '<!DOCTYPE svg SYSTEM "x.dtd" [ ]>\n',
        "<!DOCTYPE html>\n",
        PUBLIC + PUBLIC,
    ],
    ids=["internal-subset", "empty-subset", "not-svg", "twice"],
)
def test_other_doctypes_stay_refused(prolog: str) -> None:
    with pytest.raises(TemplateError, match="DTD"):
        compile_template("t", doc("", prolog), custom=True)


def test_xml_space_is_accepted_and_kept() -> None:
    out = static('<text xml:space="preserve" x="1" y="9">a  b</text>')
    assert 'xml:space="preserve"' in out
    with pytest.raises(TemplateError, match="space"):
        static('<text xml:space="bogus" x="1" y="9">a</text>')


def test_inkscape_metadata_is_dropped() -> None:
    head = HEAD.replace(
        "<svg ",
        '<svg xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        'xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" '
        'inkscape:version="1.3" ',
    )
    source = (
        head + '<sodipodi:namedview id="n" inkscape:zoom="1"/><metadata><x/></metadata>'
        '<rect inkscape:label="bg" width="1" height="1"/>' + TITLE + "</svg>"
    )
    out = "".join(
        p for p in compile_template("t", source.encode(), custom=True).parts if isinstance(p, str)
    )
    assert "namedview" not in out and "metadata" not in out and "inkscape" not in out


@pytest.mark.parametrize(
    "body", ['<rect width="1" height="1" fill="{{brand}}"/>', "<desc>{{ title }}</desc>"]
)
def test_unknown_placeholders_are_refused(body: str) -> None:
    with pytest.raises(TemplateError, match="unknown placeholder") as info:
        compile_template("t", doc("\n" + body))
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        ('<text font-family="Inter" x="1" y="9">a</text>', True),
        ('<text font-family="\'Inter-Bold\', Inter" x="1" y="9">a</text>', True),
        ('<text font-family="sans-serif" x="1" y="9">a</text>', True),
        ('<text font-family="Comic Sans MS, sans-serif" x="1" y="9">a</text>', False),
        ('<text style="font-family:Helvetica Neue" x="1" y="9">a</text>', False),
        ('<og:text field="tag" x="0" y="0" width="1" height="1" max-size="9" font="Inter"/>', True),
        (
            '<og:text field="tag" x="0" y="0" width="1" height="1" max-size="9" font="Arial"/>',
            False,
        ),
    ],
)
def test_font_families_must_be_available(body: str, ok: bool, renderer: Renderer) -> None:
    source = doc("\n" + body)
    if ok:
        compile_template("t", source, custom=True, fonts=renderer.resolve_family)
        return
    with pytest.raises(TemplateError, match="font family") as info:
        compile_template("t", source, custom=True, fonts=renderer.resolve_family)
    assert info.value.line == 2


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "designs").glob("*.svg")), ids=str)
def test_design_exports_compile_with_the_font_check(path: Path, renderer: Renderer) -> None:
    compile_template(path.stem, path.read_bytes(), custom=True, fonts=renderer.resolve_family)

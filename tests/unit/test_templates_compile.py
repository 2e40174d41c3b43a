"""Built-in templates compile; the template sanitiser refuses unsafe or malformed documents."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from ogmint.rendering.params import IMAGE_FIELDS, TEXT_LIMITS
from ogmint.rendering.template import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_TEMPLATE_BYTES,
    TemplateError,
    TemplateLimits,
    compile_template,
    load_directory,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
BUILT_INS = sorted(p.stem for p in TEMPLATES.glob("*.svg") if "." not in p.stem)
KNOWN_FIELDS = {*TEXT_LIMITS, *IMAGE_FIELDS}

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" width="1200" height="630">'
)
TITLE = '<og:text field="title" x="0" y="0" width="100" height="100" max-size="40"/>'


def doc(body: str, head: str = HEAD) -> bytes:
    return (head + body + TITLE + "</svg>").encode()


def test_there_are_several_built_ins() -> None:
    assert {"blog", "docs", "product", "event", "changelog", "minimal"} <= set(BUILT_INS)


@pytest.mark.parametrize("name", BUILT_INS)
def test_built_in_compiles(name: str) -> None:
    template = compile_template(name, (TEMPLATES / f"{name}.svg").read_bytes())
    fields = {f.name: f for f in template.fields}
    assert "title" in fields and fields["title"].required
    assert set(fields) <= KNOWN_FIELDS
    assert all(not f.required for n, f in fields.items() if n != "title")
    assert template.description, "the root needs an og:description"


@pytest.mark.parametrize("name", BUILT_INS)
def test_built_in_stays_small(name: str) -> None:
    """Templates are rendered per request: keep them far below the engine's limits."""
    source = (TEMPLATES / f"{name}.svg").read_bytes()
    assert len(source) < 16 * 1024
    assert source.count(b"<") - source.count(b"</") - source.count(b"<!--") < 100


def test_load_directory_names_templates_by_stem() -> None:
    assert sorted(load_directory(TEMPLATES)) == BUILT_INS


def test_minimal_document_compiles() -> None:
    template = compile_template("t", doc('<rect width="10" height="10" fill="{{accent}}"/>'))
    assert [f.name for f in template.fields] == ["title"]


def test_digest_follows_content() -> None:
    a = compile_template("t", doc('<rect width="1" height="1"/>'))
    b = compile_template("t", doc('<rect width="2" height="1"/>'))
    assert a.digest != b.digest
    assert a.digest == compile_template("other", doc('<rect width="1" height="1"/>')).digest


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<script>alert(1)</script>", "script"),
        ('<foreignObject width="10" height="10"><p>x</p></foreignObject>', "foreignObject"),
        ('<image href="https://example.com/a.png" width="1" height="1"/>', "<image>"),
        ("<style>rect[width] { fill: red }</style>", "selector"),
        ('<a href="#x"><rect width="1" height="1"/></a>', "<a>"),
        ('<rect width="1" height="1" onload="alert(1)"/>', "onload"),
        ('<rect width="1" height="1" onclick="x()"/>', "onclick"),
        ('<rect width="1" height="1" style="behavior:url(#x)"/>', "behavior"),
        ('<use href="https://example.com/s.svg#a"/>', "href"),
        ('<use xlink:href="https://example.com/s.svg#a"/>', "href"),
        ('<use href="data:image/svg+xml,&lt;svg/&gt;"/>', "href"),
        ('<rect width="1" height="1" fill="url(http://example.com/p.svg#g)"/>', "url()"),
        ('<rect width="1" height="1" fill="url( \'https://e.com/x\' )"/>', "url()"),
        ('<rect width="1" height="1" filter="url(file:///etc/passwd)"/>', "url()"),
        ('<og:chart field="title"/>', "og:chart"),
        ('<og:text field="Price" x="0" y="0" width="1" height="1" max-size="9"/>', "Price"),
        ('<og:text field="bgColor" x="0" y="0" width="1" height="1" max-size="9"/>', "bgColor"),
        ('<g og:if="price"><rect width="1" height="1"/></g>', "price"),
        ('<og:image field="title" x="0" y="0" width="1" height="1"/>', "og:image"),
        ('<og:text field="avatar" x="0" y="0" width="1" height="1" max-size="9"/>', "avatar"),
        ('<og:text field="tag" x="0" y="0" width="1" height="1"/>', "max-size"),
        ('<og:text field="tag" x="a" y="0" width="1" height="1" max-size="9"/>', "number"),
        (
            '<og:text field="tag" x="0" y="0" width="1" height="1" max-size="9" align="left"/>',
            "align",
        ),
    ],
)
def test_sanitiser_refuses(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        compile_template("t", doc(body))
    assert message.lower() in str(info.value).lower()


@pytest.mark.parametrize(
    "source",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "boom">]>'
        + HEAD.encode()
        + b"<desc>&x;</desc>"
        + TITLE.encode()
        + b"</svg>",
        b'<!DOCTYPE svg SYSTEM "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [ ]>'
        + HEAD.encode()
        + TITLE.encode()
        + b"</svg>",
    ],
    ids=["entity", "external-dtd-with-subset"],
)
def test_refuses_dtds_and_entities(source: bytes) -> None:
    with pytest.raises(TemplateError, match="DTD"):
        compile_template("t", source)


def test_refuses_entities_in_utf16_documents() -> None:
    source = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE svg [<!ENTITY x "boom">]>'
        + HEAD
        + "<desc>&x;</desc>"
        + TITLE
        + "</svg>"
    ).encode("utf-16")
    # Either reason keeps the entity out; any other (a missing title, say) would hide a bypass.
    with pytest.raises(TemplateError, match=r"^(template must be UTF-8|DTDs and entities)"):
        compile_template("t", source)


@pytest.mark.parametrize(
    "head",
    [
        HEAD.replace('width="1200"', 'width="1201"'),
        HEAD.replace('height="630"', 'height="1000"'),
        HEAD.replace(' width="1200" height="630"', ""),
    ],
    ids=["width", "height", "missing"],
)
def test_refuses_wrong_root_size(head: str) -> None:
    with pytest.raises(TemplateError, match="width=1200 height=630"):
        compile_template("t", doc("", head=head))


@pytest.mark.parametrize(
    ("width", "height"),
    [("1200px", "630px"), ("1200.0", "630"), (" 1200px ", "630.00px")],
    ids=["illustrator", "decimal", "spaces"],
)
def test_root_size_in_px_is_accepted_and_normalised(width: str, height: str) -> None:
    # Illustrator writes the artboard's size with units: width="1200px" height="630px".
    head = HEAD.replace('width="1200"', f'width="{width}"').replace(
        'height="630"', f'height="{height}"'
    )
    template = compile_template("t", doc("", head=head), custom=True)
    static = "".join(p for p in template.parts if isinstance(p, str))
    assert 'width="1200" height="630"' in static and "px" not in static


@pytest.mark.parametrize(
    ("attr", "value"),
    [("width", "1200pt"), ("height", "630mm"), ("width", "100%"), ("height", "17.5in")],
)
def test_root_size_in_other_units_is_refused_naming_the_line(attr: str, value: str) -> None:
    default = "1200" if attr == "width" else "630"
    head = "\n" + HEAD.replace(f'{attr}="{default}"', f'{attr}="{value}"')
    with pytest.raises(TemplateError, match=f"{attr}='{value}': only px units") as info:
        compile_template("t", doc("", head=head), custom=True)
    assert info.value.line == 2


def test_refuses_root_outside_svg_namespace() -> None:
    source = b'<svg xmlns:og="https://ogmint.dev/ns/template" width="1200" height="630"/>'
    with pytest.raises(TemplateError, match="namespace"):
        compile_template("t", source)


def test_refuses_foreign_namespaced_attribute() -> None:
    head = HEAD.replace("<svg ", '<svg xmlns:x="urn:x" ')
    with pytest.raises(TemplateError, match="not allowed"):
        compile_template("t", doc('<rect x:evil="1" width="1" height="1"/>', head=head))


def test_refuses_template_without_title() -> None:
    source = HEAD + '<rect width="1" height="1"/></svg>'
    with pytest.raises(TemplateError, match="title"):
        compile_template("t", source.encode())


def test_refuses_malformed_xml() -> None:
    with pytest.raises(TemplateError, match="well-formed"):
        compile_template("t", (HEAD + "<rect>").encode())


def test_refuses_oversized_documents() -> None:
    padding = "<!--" + "x" * MAX_TEMPLATE_BYTES + "-->"
    with pytest.raises(TemplateError, match="larger"):
        compile_template("t", doc(padding))


def test_refuses_too_many_elements() -> None:
    with pytest.raises(TemplateError, match="elements"):
        compile_template("t", doc("<g/>" * MAX_ELEMENTS))


def test_refuses_deep_nesting() -> None:
    depth = MAX_DEPTH + 2
    with pytest.raises(TemplateError, match="deeper"):
        compile_template("t", doc("<g>" * depth + "</g>" * depth))


def test_allows_internal_references() -> None:
    body = (
        '<defs><linearGradient id="g"><stop offset="0" stop-color="{{bg}}"/></linearGradient>'
        '<symbol id="s"><rect width="1" height="1"/></symbol></defs>'
        '<rect width="1" height="1" fill="url(#g)"/><use href="#s"/><use xlink:href="#s"/>'
    )
    compile_template("t", doc(body))


def test_text_content_is_escaped_in_output() -> None:
    """Static text survives compilation escaped, so it cannot open new elements."""
    template = compile_template("t", doc("<desc>a &lt;script&gt; b</desc>"))
    static = "".join(p for p in template.parts if isinstance(p, str))
    assert "<script>" not in static and "&lt;script&gt;" in static


def _png(size: tuple[int, int], kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, kind)
    return out.getvalue()


def _image(data: bytes, mime: str = "image/png") -> str:
    encoded = base64.b64encode(data).decode()
    return f'<image width="10" height="10" href="data:{mime};base64,{encoded}"/>'


def test_errors_name_the_element_and_its_line() -> None:
    source = (HEAD + "\n<g>\n  <rect width='1' height='1' onclick='x()'/>\n</g>" + TITLE).encode()
    with pytest.raises(TemplateError) as info:
        compile_template("t", source + b"</svg>")
    assert (info.value.element, info.value.line) == ("rect", 3)
    assert str(info.value) == "line 3, <rect>: attribute 'onclick' is not allowed"


def test_embedded_images_only_in_custom_templates_and_re_encoded() -> None:
    jpeg = _image(_png((40, 30), "JPEG"), "image/jpeg")
    with pytest.raises(TemplateError, match="not allowed"):
        compile_template("t", doc(jpeg))  # built-ins may not embed images
    template = compile_template("t", doc(jpeg), custom=True)
    svg = "".join(p for p in template.parts if isinstance(p, str))
    (data,) = re.findall(r'href="data:image/png;base64,([^"]+)"', svg)
    assert base64.b64decode(data).startswith(b"\x89PNG")  # the JPEG came back as a PNG
    with pytest.raises(TemplateError, match="pixels"):
        compile_template("t", doc(_image(_png((2000, 1001)))), custom=True)


def test_use_instances_are_counted_after_expansion() -> None:
    fan = '<defs><rect id="r" width="1" height="1"/><g id="g">' + '<use href="#r"/>' * 10
    fan += "</g></defs>" + '<use href="#g"/>' * 10  # 22 elements, ~130 drawn
    compile_template("t", doc(fan))
    with pytest.raises(TemplateError, match="expand to more than 100"):
        compile_template("t", doc(fan), TemplateLimits(max_instances=100))


@pytest.mark.parametrize("deviation", ["40", "0 40", "40,2"])
def test_filter_blur_up_to_the_bound_is_accepted(deviation: str) -> None:
    blur = f'<filter id="f"><feGaussianBlur stdDeviation="{deviation}"/></filter>'
    compile_template("t", doc(f'<defs>{blur}</defs><rect width="9" height="9" filter="url(#f)"/>'))


@pytest.mark.parametrize("deviation", ["41", "0 40.5", "2,1000", "1e9"])
def test_filter_blur_beyond_the_bound_is_refused(deviation: str) -> None:
    """SPEC §7: filters are bounded (a blur's layers grow with its reach)."""
    blur = f'<filter id="f"><feGaussianBlur stdDeviation="{deviation}"/></filter>'
    with pytest.raises(TemplateError, match="blur larger than 40"):
        compile_template("t", doc(f"<defs>{blur}</defs>"))


class _Echo:
    """A fitter that draws each text as a marker naming its field's text."""

    def fit_text(self, text: str, **box: object) -> object:
        class Fitted:
            svg = f"<!--{text}-->"
            width = 10.0

        return Fitted()


def _spec(**params: str) -> object:
    from ogmint.rendering.params import parse_params

    return parse_params(
        {"template": "t", "title": "Hi", **params},
        strict=True,
        template_exists=lambda _: True,
        resolve_font=lambda name: name,
    )


def test_logo_wide_tells_wordmarks_from_marks() -> None:
    body = (
        '<og:image og:if="logo.wide" field="logo" x="0" y="0" width="200" height="40" '
        'shape="rect" fit="contain" align="end"/>'
        '<desc og:if="logo" og:unless="logo.wide">mark</desc>'
    )
    t = compile_template("t", doc(body))
    spec = _spec(logo="https://x.example/l.png")
    wide = t.render(spec, {"logo": _png((500, 100))}, _Echo())  # type: ignore[arg-type]
    square = t.render(spec, {"logo": _png((100, 100))}, _Echo())  # type: ignore[arg-type]
    assert 'preserveAspectRatio="xMaxYMid meet"' in wide and "mark" not in wide
    assert "<image" not in square and "mark" in square


def test_rtl_condition_follows_the_fields_reading_direction() -> None:
    body = '<desc og:if="title.rtl">rtl</desc><desc og:unless="title.rtl">ltr</desc>'
    t = compile_template("t", doc(body))
    for title, want in [("שלום world", "rtl"), ("Hello שלום", "ltr"), ("2026 مرحبا", "rtl")]:
        out = t.render(_spec(title=title), {}, _Echo())  # type: ignore[arg-type]
        assert want in out and ({"rtl", "ltr"} - {want}).pop() not in out, title


@pytest.mark.parametrize("condition", ["title.wide", "logo.rtl", "logo.tall", "nope.wide"])
def test_refuses_unknown_conditions(condition: str) -> None:
    with pytest.raises(TemplateError, match="unknown"):
        compile_template("t", doc(f'<desc og:if="{condition}">x</desc>'))


def test_tone_placeholders_are_filled() -> None:
    t = compile_template(
        "t", doc('<rect fill="{{muted}}" stroke="{{accentText}}" color="{{tint}}"/>')
    )
    out = t.render(_spec(palette="paper"), {}, _Echo())  # type: ignore[arg-type]
    assert "{{" not in out and out.count('="#') >= 3

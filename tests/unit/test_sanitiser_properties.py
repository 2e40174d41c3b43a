"""Property: whatever an upload contains, compiling it either succeeds or raises TemplateError,
and a template that compiles renders or raises the renderer's typed error — never anything
else (which the API would answer with a 500)."""

from __future__ import annotations

import contextlib
from xml.sax.saxutils import quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogmint.domain.templates import SAMPLE
from ogmint.rendering.native import Renderer
from ogmint.rendering.template import TemplateError, compile_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" width="1200" height="630" viewBox="0 0 1200 630">'
)
TITLE = '<og:text field="title" x="72" y="72" width="1000" height="300" max-size="60"/>'
ELEMENTS = ["rect", "circle", "path", "g", "use", "pattern", "filter", "feGaussianBlur",
            "linearGradient", "stop", "text", "image", "clipPath", "mask", "og:text", "og:pill",
            "og:image", "script", "svg", "symbol"]  # fmt: skip
ATTRIBUTES = ["x", "y", "width", "height", "r", "d", "transform", "href", "xlink:href", "fill",
              "stroke-width", "stroke-dasharray", "stdDeviation", "viewBox", "id", "filter",
              "clip-path", "mask", "field", "max-size", "min-size", "max-lines", "weight",
              "offset", "patternUnits", "onload", "og:if"]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "#a",
            "url(#a)",
            "1e308",
            "nan",
            "-0",
            "scale(1e9)",
            "M0 0L1e9 1e9",
            "title",
            "0 0 0 0",
            "data:image/png;base64,AAAA",
            "9" * 40,
        ]
    ),
)
ELEMENT = st.tuples(
    st.sampled_from(ELEMENTS),
    st.dictionaries(st.sampled_from(ATTRIBUTES), VALUES, max_size=4),
)


def render(elements: list[tuple[str, dict[str, str]]], nest: bool) -> bytes:
    parts = []
    for i, (name, attrs) in enumerate(elements):
        attrs = {"id": "a", **attrs} if i == 0 else attrs
        text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
        parts.append(f"<{name}{text}>" if nest else f"<{name}{text}/>")
    closing = "".join(f"</{name}>" for name, _ in reversed(elements)) if nest else ""
    return (HEAD + "".join(parts) + closing + TITLE + "</svg>").encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ELEMENT, max_size=6), st.booleans())
def test_any_upload_compiles_or_is_refused_with_a_typed_error(
    renderer: Renderer, elements: list[tuple[str, dict[str, str]]], nest: bool
) -> None:
    try:
        template = compile_template("t", render(elements, nest), custom=True)
    except TemplateError:
        return
    # RenderError is a ValueError: the typed 400 the pipeline answers.
    with contextlib.suppress(ValueError):
        renderer.render_svg(template.render(SAMPLE, {}, renderer))

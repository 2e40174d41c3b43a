"""A template's own fields (issue 23 item 3, SPEC §1.2): declared by the og: elements that show
them, checked at compile time, drawn from the spec, and filled in by the upload's test render."""

from __future__ import annotations

import dataclasses

import pytest

from ogmint.domain.templates import SAMPLE, SAMPLE_IMAGE_URL, sample_renders
from ogmint.rendering.native import Renderer
from ogmint.rendering.template import FieldInfo, TemplateError, compile_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" '
    'width="1200" height="630">\n'
)
TITLE = '<og:text field="title" x="0" y="0" width="100" height="100" max-size="40"/>'


def box(kind: str, name: str, extra: str = "") -> str:
    size = ' max-size="20"' if kind != "image" else ""
    return f'<og:{kind} field="{name}" x="10" y="300" width="200" height="50"{size}{extra}/>\n'


def compile_body(body: str) -> list[FieldInfo]:
    source = (HEAD + body + TITLE + "</svg>").encode()
    return list(compile_template("t", source, custom=True).fields)


def test_elements_declare_fields_in_document_order() -> None:
    fields = compile_body(
        box("text", "readingTime", ' limit="12"')
        + box("image", "screenshot")
        + box("pill", "price")
        + box("text", "description")
    )
    assert [(f.name, f.kind, f.max_length, f.custom) for f in fields] == [
        ("title", "text", 200, False),
        ("description", "text", 500, False),
        ("readingTime", "text", 12, True),
        ("screenshot", "image", None, True),
        ("price", "text", 100, True),  # no limit given: the default
    ]
    assert fields[3].side == 400  # fetched at twice its largest box side


def test_a_field_shown_twice_agrees_with_itself() -> None:
    fields = compile_body(box("text", "date") + box("pill", "date", ' limit="30"'))
    assert [(f.name, f.max_length) for f in fields if f.custom] == [("date", 30)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (box("text", "date") + box("image", "date"), "'date' is image here but text on line 2"),
        (box("text", "date", ' limit="9"') + box("pill", "date", ' limit="8"'), "limit 8 here"),
        (box("text", "tag", ' limit="9"'), "fixed limit"),
        (box("image", "shot", ' limit="9"'), "no limit"),
        (box("text", "avatar"), "cannot show image field"),
        (box("image", "author"), "cannot show text field"),
        (box("text", "palette"), "unknown field 'palette'"),
        (box("text", "Date"), "unknown field 'Date'"),
        (box("text", "a" * 33), "unknown field"),
        (box("text", "date", ' limit="0"'), "out of range"),
        (box("text", "date", ' limit="2.5"'), "whole number"),
        ("".join(box("text", f"f{i}") for i in range(21)), "more than 20 custom fields"),
        ('<rect og:unless="date" width="1" height="1"/>', "unknown field 'date'"),
        (
            "".join(box("text", f"f{i}", f' og:if="f{i}"') for i in range(9)),
            "depend on 9 fields",
        ),
    ],
)
def test_field_mistakes_are_refused_with_their_line(body: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as info:
        compile_body(body)
    assert info.value.line is not None


def test_custom_fields_render_when_given_and_branches_follow_them(renderer: Renderer) -> None:
    source = (
        HEAD
        + box("text", "date")
        + '<rect og:if="date" id="badge" width="9" height="9"/>'
        + '<rect og:unless="date" id="none" width="9" height="9"/>'
        + TITLE
        + "</svg>"
    ).encode()
    template = compile_template("t", source, custom=True)
    with_date = dataclasses.replace(SAMPLE, fields=(("date", "May 4"),))
    drawn = template.render(with_date, {}, renderer)
    assert "May" in drawn and 'id="badge"' in drawn and 'id="none"' not in drawn
    plain = template.render(SAMPLE, {}, renderer)
    assert "May" not in plain and 'id="none"' in plain


def test_the_test_render_fills_and_varies_custom_fields() -> None:
    source = (
        HEAD
        + box("text", "date", ' limit="5" og:if="shot"')
        + box("image", "shot", ' og:unless="date"')
        + TITLE
        + "</svg>"
    ).encode()
    template = compile_template("t", source, custom=True)
    renders = list(sample_renders(template))
    assert len(renders) == 4  # date and shot, each present or absent
    spec, images = renders[0]
    assert dict(spec.fields) == {"date": "Sampl", "shot": SAMPLE_IMAGE_URL}
    assert set(images) >= {"shot"}
    assert {tuple(n for n, _ in s.fields) for s, _ in renders} == {
        ("date", "shot"),
        ("shot",),
        ("date",),
        (),
    }


def test_wide_and_rtl_conditions_hold_for_own_fields_of_their_kind() -> None:
    compile_body(
        box("image", "shot")
        + box("text", "date")
        + '<rect og:if="shot.wide date.rtl" width="1" height="1"/>'
    )
    for wrong in ("date.wide", "shot.rtl", "shot.tall"):
        with pytest.raises(TemplateError, match="unknown condition"):
            compile_body(
                box("image", "shot") + box("text", "date") + f'<rect og:if="{wrong}" width="1"/>'
            )

"""Render parameters: validation, aliases, palettes, canonical dedup form (SPEC §1, §3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogmint.errors import ValidationError
from ogmint.rendering.palettes import DEFAULT, PALETTES, contrast
from ogmint.rendering.params import KNOWN, RenderSpec, parse_params

FONTS = {"inter": "Inter", "playfair display": "Playfair Display"}


def parse(strict: bool = True, **raw: object) -> RenderSpec:
    return parse_params(
        raw,
        strict=strict,
        template_exists=lambda t: t == "blog",
        resolve_font=lambda f: FONTS.get(f.lower()),
    )


def test_defaults() -> None:
    spec = parse(template="blog", title="Hi")
    assert spec.colors == DEFAULT
    assert spec.font == "Inter"
    assert spec.description is None


def test_colour_precedence_explicit_then_palette_then_default() -> None:
    spec = parse(template="blog", title="Hi", palette="paper", accent="ABCDEF")
    assert spec.colors.accent == "abcdef"
    assert spec.colors.bg == PALETTES["paper"].bg


def test_canonical_form_folds_aliases_and_palettes() -> None:
    a = parse(template="blog", title="Hi", palette="ocean")
    o = PALETTES["ocean"]
    b = parse(
        template="blog",
        title="Hi",
        bg=o.bg.upper(),
        textColor=o.text,
        accent=o.accent,
        surfaceColor=o.surface,
        font="inter",
    )
    assert a.digest("d1") == b.digest("d1")
    assert a.digest("d1") != a.digest("d2")  # the template's content is part of the key


def test_strict_mode_rejects_unknown_names_v1_ignores_them() -> None:
    with pytest.raises(ValidationError) as e:
        parse(template="blog", title="Hi", utm="x")
    assert e.value.details[0].field == "utm"
    assert parse(strict=False, template="blog", title="Hi", utm="x").title == "Hi"


def test_wrong_types_are_400() -> None:
    with pytest.raises(ValidationError) as e:
        parse(template="blog", title=5, bgColor=["000000"])
    assert {d.field for d in e.value.details} == {"title", "bgColor"}


def test_all_errors_reported_together() -> None:
    with pytest.raises(ValidationError) as e:
        parse(template="x", title="", palette="neon", bg="#000")
    assert {d.field for d in e.value.details} == {"template", "title", "palette", "bg"}


@pytest.mark.parametrize("name", list(PALETTES))
def test_palettes_meet_wcag_aa(name: str) -> None:
    p = PALETTES[name]
    assert contrast(p.text, p.bg) >= 4.5
    assert contrast(p.text, p.surface) >= 4.5


values = st.one_of(
    st.none(), st.text(max_size=600), st.integers(), st.lists(st.text()), st.booleans(), st.floats()
)


@settings(max_examples=300)
@given(
    st.dictionaries(st.sampled_from(sorted(KNOWN | {"junk"})), values, max_size=12), st.booleans()
)
def test_any_input_gives_a_spec_or_a_typed_400(raw: dict[str, object], strict: bool) -> None:
    try:
        spec = parse(strict, **raw)
    except ValidationError as e:
        assert e.status == 400
        assert e.details and all(d.field for d in e.details)
    else:
        assert 1 <= len(spec.title) <= 200
        assert len(spec.digest("x")) == 64


def test_canonical_form_covers_every_field() -> None:
    import dataclasses

    import orjson

    from ogmint.rendering.palettes import Colors

    spec = parse(template="blog", title="Hi")
    doc = orjson.loads(spec.canonical("d"))
    expected = {f.name for f in dataclasses.fields(RenderSpec)} - {"colors"}
    expected |= {f.name for f in dataclasses.fields(Colors)} | {"template_digest"}
    assert set(doc) == expected

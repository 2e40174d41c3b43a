"""Render parameters: validation, aliases, palettes, canonical dedup form (SPEC §1, §3)."""

from __future__ import annotations

import dataclasses
import unicodedata

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogmint.errors import ValidationError
from ogmint.rendering.palettes import DEFAULT, PALETTES, Colors, contrast
from ogmint.rendering.params import (
    KNOWN,
    FieldRule,
    RenderSpec,
    bind_fields,
    custom_field_name,
    parse_params,
)

FONTS = {"inter": "Inter", "playfair display": "Playfair Display"}


def parse(strict: bool = True, **raw: object) -> RenderSpec:
    """Parsed, then bound to a template without fields of its own (a built-in)."""
    spec = parse_params(
        raw,
        strict=strict,
        template_exists=lambda t: t == "blog",
        resolve_font=lambda f: FONTS.get(f.lower()),
    )
    return bind_fields(spec, (), strict=strict)


def test_defaults() -> None:
    spec = parse(template="blog", title="Hi")
    # SPEC §1's literal defaults, not the implementation's own constant.
    assert spec.colors == Colors(bg="0a0a0f", text="f0f0f8", accent="6366f1", surface="13131a")
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


TEXTS = {"title": 200, "description": 500, "tag": 50, "author": 100}  # SPEC §1
COLOURS = {"bgColor": "bg", "textColor": "text", "accentColor": "accent", "surfaceColor": None}

#: Anything a JSON body may hold.
anything = st.one_of(
    st.none(), st.text(max_size=600), st.integers(), st.lists(st.text()), st.booleans(), st.floats()
)


def field_values(name: str, valid: bool = False) -> st.SearchStrategy[object]:
    """Values for ``name``: valid ones up to the bounds, with ``valid=False`` also values just
    past them, and anything."""
    if name in TEXTS:
        bounds = [1, TEXTS[name]] if valid else [0, 1, TEXTS[name], TEXTS[name] + 1]
        lengths = st.sampled_from(bounds) | st.integers(1 if valid else 0, TEXTS[name] + 1 - valid)
        near = lengths.map(lambda n: "é" * n)  # code points, not bytes
    elif name in COLOURS or name in {"bg", "text", "accent"}:
        near = st.from_regex(r"[0-9a-fA-F]{6}" if valid else r"[0-9a-gA-G#]{5,7}", fullmatch=True)
    else:
        choices = {
            "template": (["blog"], ["nope", ""]),
            "palette": ([*PALETTES], ["neon", ""]),
            "font": (["inter", "Playfair DISPLAY"], ["Comic Sans", ""]),
            "avatar": (["https://i.example.com/a.png"], ["http://i.example.com/a.png", ""]),
            "logo": (["https://" + "l" * 2040], ["https://" + "l" * 2041, "data:,x"]),
            "junk": (["x"], ["x"]),
        }[name]
        near = st.sampled_from(choices[0] if valid else choices[0] + choices[1])
    return near if valid else st.one_of(near, anything)


def raws(valid: bool = False) -> st.SearchStrategy[dict[str, object]]:
    optional = sorted(KNOWN - {"template", "title"})
    if valid:  # an alias and its name would conflict: only names
        optional = [n for n in optional if n not in {"bg", "text", "accent"}]
    return st.fixed_dictionaries(
        {"template": field_values("template", valid), "title": field_values("title", valid)},
        optional={name: field_values(name, valid) for name in [*optional, "junk"]},
    )


def expected_parse(raw: dict[str, object], strict: bool) -> tuple[set[str], dict[str, object]]:
    """An independent reading of SPEC §1: the fields that must be refused, else the result.
    A name a template could declare as its own field (``junk``) is refused only once the
    template is known: after every other problem (SPEC §1.2)."""
    unknown = {k for k in raw if strict and k not in KNOWN}
    bad: set[str] = {k for k in unknown if raw[k] is not None and not isinstance(raw[k], str)}
    want: dict[str, object] = {"fields": ()}

    def text(name: str) -> str | None:
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            bad.add(name)
            return None
        return value

    template = text("template")
    if template != "blog":
        bad.add("template")
    want["template"] = template
    for name, limit in TEXTS.items():
        value = text(name)
        if value is not None and len(value) > limit:
            bad.add(name)
        want[name] = value or None
    title = want["title"]
    # A title must draw something: not only separators, controls, format characters or fillers.
    if not isinstance(title, str) or not any(
        unicodedata.category(c)[0] not in "ZC" and c not in "\u115f\u1160\u3164\uffa0\u2800"
        for c in title
    ):
        bad.add("title")
    for name in ("avatar", "logo"):
        value = text(name)
        if value and not (value.startswith("https://") and len(value) <= 2048):
            bad.add(name)
        want[name] = value or None
    font = text("font")
    want["font"] = FONTS.get(font.lower(), "?") if font else "Inter"
    if want["font"] == "?":
        bad.add("font")
    palette = text("palette")
    if palette and palette not in PALETTES:
        bad.add("palette")
    colors = PALETTES.get(palette or "", DEFAULT)
    for name, alias in COLOURS.items():
        value, alias_value = text(name), text(alias) if alias else None
        if value is not None and alias_value is not None and value.lower() != alias_value.lower():
            bad.add(name)
            continue
        chosen, source = (value, name) if value is not None else (alias_value, alias or name)
        if chosen is None:
            continue
        if len(chosen) != 6 or any(c not in "0123456789abcdefABCDEF" for c in chosen):
            bad.add(source)
            continue
        colors = dataclasses.replace(colors, **{name.removesuffix("Color"): chosen.lower()})
    want["colors"] = colors
    return (bad or unknown), want


@settings(max_examples=300, deadline=None)  # no deadline: a loaded CI machine is slow, not wrong
@given(raws(), st.booleans())
def test_any_input_gives_a_spec_or_a_typed_400(raw: dict[str, object], strict: bool) -> None:
    bad, want = expected_parse(raw, strict)
    try:
        spec = parse(strict, **raw)
    except ValidationError as e:
        assert e.status == 400
        assert e.details and all(d.field for d in e.details)
        assert {d.field for d in e.details} == bad, raw
    else:
        assert not bad, raw
        got = {f.name: getattr(spec, f.name) for f in dataclasses.fields(RenderSpec)}
        assert got == want
        assert len(spec.digest("x")) == 64


@pytest.mark.parametrize(("name", "limit"), [*TEXTS.items(), ("avatar", 2048), ("logo", 2048)])
def test_each_bound_is_exact(name: str, limit: int) -> None:
    def value(n: int) -> str:
        return "https://" + "é" * (n - 8) if name in ("avatar", "logo") else "é" * n

    base = {"template": "blog", "title": "Hi"}
    assert getattr(parse(**{**base, name: value(limit)}), name) == value(limit)
    with pytest.raises(ValidationError) as e:
        parse(**{**base, name: value(limit + 1)})
    assert [d.field for d in e.value.details] == [name]


@settings(max_examples=150, deadline=None)
@given(raws(valid=True))
def test_any_valid_input_gives_exactly_the_spec_it_describes(raw: dict[str, object]) -> None:
    bad, want = expected_parse(raw, strict=False)
    assert not bad
    spec = parse(False, **raw)
    assert {f.name: getattr(spec, f.name) for f in dataclasses.fields(RenderSpec)} == want


def test_canonical_form_covers_every_field() -> None:
    spec = parse(template="blog", title="Hi")
    doc = orjson.loads(spec.canonical("d"))
    expected = {f.name for f in dataclasses.fields(RenderSpec)} - {"colors", "fields"}
    expected |= {f.name for f in dataclasses.fields(Colors)} | {"template_digest"}
    assert set(doc) == expected  # no custom fields: the keys (and digests) of before
    with_fields = dataclasses.replace(spec, fields=(("date", "May 4"),))
    assert orjson.loads(with_fields.canonical("d"))["fields"] == {"date": "May 4"}
    assert with_fields.digest("d") != spec.digest("d")


DECLARED = (FieldRule("date", "text", 20), FieldRule("shot", "image", None))


def bound(strict: bool, **raw: object) -> RenderSpec:
    spec = parse_params(
        {"template": "blog", "title": "Hi", **raw},
        strict=strict,
        template_exists=lambda t: t == "blog",
        resolve_font=lambda f: FONTS.get(f.lower()),
    )
    return bind_fields(spec, DECLARED, strict=strict)


def test_custom_fields_are_kept_validated_and_sorted() -> None:
    spec = bound(True, shot="https://i.example.com/s.png", date="May 4")
    assert spec.fields == (("date", "May 4"), ("shot", "https://i.example.com/s.png"))
    assert spec.text("date") == "May 4" and spec.text("nope") is None
    assert bound(True, date="", shot=None).fields == ()  # empty is absent


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"date": "é" * 21}, "date"),
        ({"shot": "http://i.example.com/s.png"}, "shot"),
        ({"shot": "https://" + "s" * 2041}, "shot"),
        ({"date": 5}, "date"),
        ({"other": "x"}, "other"),
        ({"other": None}, "other"),
    ],
)
def test_bad_custom_fields_are_400_naming_them(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        bound(True, **raw)
    assert [d.field for d in e.value.details] == [field]


def test_v1_ignores_fields_the_template_does_not_declare() -> None:
    spec = bound(False, other="x", date="May 4", utm_source="feed")
    assert spec.fields == (("date", "May 4"),)
    assert bound(True, date="é" * 20).text("date") == "é" * 20  # the limit is exact


def test_custom_field_names_exclude_parameters() -> None:
    assert custom_field_name("readingTime") and custom_field_name("a_1")
    for name in ("bgColor", "bg", "size", "webhookUrl", "sig", "Date", "1a", "a" * 33, "a-b"):
        assert not custom_field_name(name), name

"""Render parameters: validation, aliases, palettes, canonical dedup form (SPEC §1, §3)."""

from __future__ import annotations

import dataclasses
import unicodedata

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogmint.errors import ValidationError
from ogmint.rendering.palettes import DEFAULT, PALETTES, Colors, contrast, derive, tones
from ogmint.rendering.params import (
    KNOWN,
    OUTPUT_FIELDS,
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
        parse(template="x", title="", palette="neon", bg="#00")
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
        pattern = r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})" if valid else r"[0-9a-gA-G#]{2,8}"
        near = st.from_regex(pattern, fullmatch=True)
    else:
        choices = {
            "template": (["blog"], ["nope", ""]),
            "palette": ([*PALETTES], ["neon", ""]),
            "font": (["inter", "Playfair DISPLAY"], ["Comic Sans", ""]),
            "avatar": (["https://i.example.com/a.png"], ["http://i.example.com/a.png", ""]),
            "logo": (["https://" + "l" * 2040], ["https://" + "l" * 2041, "data:,x"]),
            # Resolved by the domain before parsing (tests/unit/domain/test_brands.py); the
            # parser accepts the name and leaves the value alone.
            "brand": (["brand_0123456789ab"], ["", "nope"]),
            "junk": (["x"], ["x"]),
        }[name]
        near = st.sampled_from(choices[0] if valid else choices[0] + choices[1])
    return near if valid else st.one_of(near, anything)


def raws(valid: bool = False) -> st.SearchStrategy[dict[str, object]]:
    # Output parameters have their own tests (test_output_params.py).
    optional = sorted(KNOWN - {"template", "title", *OUTPUT_FIELDS})
    if valid:  # an alias and its name would conflict: only names
        optional = [n for n in optional if n not in {"bg", "text", "accent"}]
    return st.fixed_dictionaries(
        {"template": field_values("template", valid), "title": field_values("title", valid)},
        optional={name: field_values(name, valid) for name in [*optional, "junk"]},
    )


def _hex(value: str) -> str | None:
    """SPEC §1: ``rrggbb`` or ``rgb``, ``#`` optional, any case → lower-case ``rrggbb``."""
    digits = value.removeprefix("#")
    if len(digits) not in (3, 6) or any(c not in "0123456789abcdefABCDEF" for c in digits):
        return None
    digits = digits.lower()
    return digits if len(digits) == 6 else "".join(c + c for c in digits)


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
        # Only spaces, NBSPs, zero-width characters: absent (the title is refused instead).
        if (
            name != "title"
            and value
            and not any(
                unicodedata.category(c)[0] not in "ZC" and c not in "\u115f\u1160\u3164\uffa0\u2800"
                for c in value
            )
        ):
            want[name] = None
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
    given: dict[str, str | None] = {}
    for name, alias in COLOURS.items():
        given[name.removesuffix("Color")] = None
        spelled = {n: v for n, v in ((name, text(name)), (alias, text(alias) if alias else None))}
        canonical = {n: _hex(v) for n, v in spelled.items() if n and v is not None}
        bad |= {n for n, c in canonical.items() if c is None}
        if None in canonical.values():
            continue
        if len(set(canonical.values())) > 1:
            bad.add(name)
            continue
        given[name.removesuffix("Color")] = next(iter(canonical.values()), None)
    # Resolution of missing colours (derived, not the default look) is palettes.derive's,
    # tested on its own; here: that the parsed colours reach it.
    want["colors"] = derive(PALETTES.get(palette or "", DEFAULT), **given)
    want["brand"] = want["brand_logo"] = None  # set by the domain from the brand, not parsed
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
        assert spec_fields(spec) == want
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
    assert spec_fields(spec) == want


def spec_fields(spec: RenderSpec) -> dict[str, object]:
    """The spec's fields but the output parameters (not generated here: test_output_params)."""
    output = {"size", "width", "height", "scale", "format", "quality"}
    fields = dataclasses.fields(RenderSpec)
    return {f.name: getattr(spec, f.name) for f in fields if f.name not in output}


def test_canonical_form_covers_every_field() -> None:
    # Output parameters join only when not the default (test_output_params.py); the logical
    # width and height follow from the size.
    spec = parse(template="blog", title="Hi", size="square", scale="2", format="webp")
    # A brand's logo image is covered by its version (``brand``), which only branded specs
    # carry: every render without a brand keeps the key it had.
    branded = dataclasses.replace(spec, brand="v1", brand_logo=b"png")
    fields = {f.name for f in dataclasses.fields(RenderSpec)}
    expected = fields - {"colors", "brand_logo", "width", "height", "fields"}
    expected |= {f.name for f in dataclasses.fields(Colors)} | {"template_digest"}
    assert set(orjson.loads(branded.canonical("d"))) == expected
    assert set(orjson.loads(spec.canonical("d"))) == expected - {"brand"}
    assert branded.digest("d") != spec.digest("d")
    assert dataclasses.replace(branded, brand="v2").digest("d") != branded.digest("d")
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
    assert bound(True, date=" \u00a0\u200b").fields == ()  # so is blank


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


@pytest.mark.parametrize("spelling", ["#FF5A3C", "ff5a3c", "FF5A3C", "#ff5a3c"])
def test_colours_in_any_spelling_are_canonical(spelling: str) -> None:
    spec = parse(template="blog", title="Hi", accentColor=spelling)
    assert spec.colors.accent == "ff5a3c"
    assert spec.digest("d") == parse(template="blog", title="Hi", accent="ff5a3c").digest("d")
    assert parse(template="blog", title="Hi", bg="#F53").colors.bg == "ff5533"
    # An alias spelled differently but meaning the same colour is no conflict.
    both = parse(template="blog", title="Hi", accentColor=spelling, accent="#FF5A3C")
    assert both.colors.accent == "ff5a3c"


def test_caller_background_and_text_derive_the_surface_not_the_default() -> None:
    spec = parse(template="blog", title="Hi", bgColor="ffffff", textColor="111111")
    c = spec.colors
    assert c.surface != DEFAULT.surface
    assert contrast(c.text, c.surface) >= 4.5
    t = tones(c)
    for ink in (c.text, t.muted, t.accentText):
        assert contrast(ink, c.bg) >= 4.5 and contrast(ink, c.surface) >= 4.5
    # A background alone gets a readable text colour, a text alone a readable background.
    assert contrast(parse(template="blog", title="Hi", bg="ffffff").colors.text, "ffffff") >= 4.5
    assert contrast(parse(template="blog", title="Hi", text="111111").colors.bg, "111111") >= 4.5


@pytest.mark.parametrize("blank", [" ", "\u00a0", "\u200b", " \u00a0\u200b\ufeff ", "\u3000"])
def test_whitespace_only_fields_are_absent(blank: str) -> None:
    spec = parse(template="blog", title="Hi", tag=blank, author=blank, description=blank)
    assert (spec.tag, spec.author, spec.description) == (None, None, None)

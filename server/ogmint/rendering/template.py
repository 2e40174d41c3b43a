"""Declarative SVG templates: compile once, render many times.

A template is an SVG document plus a few ``og:`` elements and attributes (see
``templates/README.md``). Compilation validates and sanitises it and turns it into a flat
program of static strings and slots, so a render is string joins plus native text fitting.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

from ogmint.rendering.exports import normalise
from ogmint.rendering.palettes import Colors
from ogmint.rendering.params import (
    IMAGE_FIELDS,
    MAX_CUSTOM_FIELDS,
    MAX_CUSTOM_LIMIT,
    TEXT_LIMITS,
    FieldRule,
    RenderSpec,
    custom_field_name,
)
from ogmint.rendering.sanitiser import (
    OG_NS,
    SVG_NS,
    XLINK_NS,
    Document,
    TemplateError,
    TemplateLimits,
    TemplateTooLarge,
    check_attribute,
    check_document,
    check_element,
    embedded_image,
    local_name,
    parse,
)
from ogmint.rendering.sizes import ASPECTS, LANDSCAPE, nearest

__all__ = ["Template", "TemplateError", "TemplateLimits", "TemplateTooLarge", "compile_template"]

#: Colour placeholders: the four colours and the tones derived from them (palettes.Tones).
PLACEHOLDER = re.compile(r"\{\{(bg|text|accent|surface|muted|accentText|tint)\}\}")
#: Anything written as a placeholder: one that is not a colour is a mistake (refused).
ANY_PLACEHOLDER = re.compile(r"\{\{([^{}]{0,40})\}\}")
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: Generic families the renderer maps to a font it has (``native/src/fonts.rs``).
GENERIC_FAMILIES = frozenset({"serif", "sans-serif", "monospace"})
FontResolver = Callable[[str], "str | None"]
DEFAULT_LIMITS = TemplateLimits()
MAX_TEMPLATE_BYTES = DEFAULT_LIMITS.max_bytes
MAX_ELEMENTS = DEFAULT_LIMITS.max_elements
MAX_DEPTH = DEFAULT_LIMITS.max_depth
#: A custom text field's limit when no element showing it sets ``limit``.
DEFAULT_CUSTOM_LIMIT = 100
#: Distinct fields the ``og:if``/``og:unless`` of one template may depend on: an upload is
#: test-rendered once per combination of them.
MAX_CONDITION_FIELDS = 8
#: Largest side a custom image field is fetched at (2× its largest box, up to this).
MAX_CUSTOM_IMAGE_SIDE = 1200
#: Condition suffix: ``logo.wide`` holds for a wordmark-shaped image (see :func:`_is_wide`).
WIDE = ".wide"
#: Condition suffix: ``title.rtl`` holds when the field reads right to left (its first strong
#: character is Hebrew, Arabic, …), so a template can mirror what sits beside it.
RTL = ".rtl"
#: Width/height from which an image counts as wide (a wordmark rather than a mark).
WIDE_ASPECT = 1.6
#: Largest number an og: element attribute may hold (positions, sizes).
MAX_OG_NUMBER = 10_000.0
#: The range of each numeric og: attribute whose meaning has a narrower one than a position:
#: ``(lowest, highest, whole number)``; anything outside is refused at upload, so no stored
#: template can hand the renderer a value it cannot take (a weight must fit a u16).
OG_RANGES: dict[str, tuple[float, float, bool]] = {
    "width": (0.01, MAX_OG_NUMBER, False),
    "height": (0.01, MAX_OG_NUMBER, False),
    "max-width": (0.01, MAX_OG_NUMBER, False),
    "max-size": (1.0, 1000.0, False),
    "min-size": (1.0, 1000.0, False),
    "size": (1.0, 1000.0, False),
    "weight": (1.0, 1000.0, True),
    "line-height": (0.5, 5.0, False),
    "max-lines": (1.0, 100.0, True),
    "letter-spacing": (-1.0, 1.0, False),
    "padding": (0.0, 1000.0, False),
    "fill-opacity": (0.0, 1.0, False),
    "radius": (0.0, MAX_OG_NUMBER, False),
    "limit": (1.0, float(MAX_CUSTOM_LIMIT), True),
}

#: SVG elements a template may use; everything else (script, foreignObject, …) is refused.
ALLOWED_ELEMENTS = frozenset(
    (
        "svg g defs rect circle ellipse line polyline polygon path text tspan linearGradient "
        "radialGradient stop clipPath mask pattern use symbol title desc filter feGaussianBlur "
        "feOffset feFlood feComposite feMerge feMergeNode feBlend feColorMatrix"
    ).split()
)


class TextFitter(Protocol):
    def fit_text(self, text: str, **box: object) -> _Fitted: ...


class _Fitted(Protocol):
    @property
    def svg(self) -> str: ...
    @property
    def width(self) -> float: ...


class FittedLines(Protocol):
    """What a dry run reports of a fitted text."""

    @property
    def lines(self) -> list[str]: ...
    @property
    def font_size(self) -> float: ...
    @property
    def truncated(self) -> bool: ...


class LayoutFitter(Protocol):
    def fit_text(self, text: str, **box: object) -> FittedLines: ...


@dataclass(frozen=True, slots=True)
class Color:
    """A palette colour reference, substituted as ``#rrggbb``."""

    name: str


Paint = tuple["str | Color", ...]


@dataclass(frozen=True, slots=True)
class TextSlot:
    field: str
    box: Mapping[str, object]
    fill: Paint
    family: str | None
    upper: bool


@dataclass(frozen=True, slots=True)
class PillSlot:
    field: str
    x: float
    y: float
    height: float
    max_width: float
    padding: float
    size: float
    weight: int
    align: str
    fill: Paint
    fill_opacity: float
    text_fill: Paint
    family: str | None
    upper: bool


@dataclass(frozen=True, slots=True)
class ImageSlot:
    field: str
    index: int
    x: float
    y: float
    width: float
    height: float
    shape: str
    radius: float
    fit: str
    align: str


@dataclass(frozen=True, slots=True)
class Cond:
    """Parts rendered only when all ``fields`` are present (or, negated, all absent)."""

    fields: tuple[str, ...]
    negate: bool
    parts: tuple[Part, ...]


Part = str | Color | TextSlot | PillSlot | ImageSlot | Cond


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A field a template shows: a built-in one, or its own (``custom``, SPEC §1.2)."""

    name: str
    kind: str  # "text" or "image"
    required: bool
    max_length: int | None
    custom: bool = False
    #: Largest side an image field is fetched at (custom image fields; built-ins have theirs).
    side: int | None = None

    def rule(self) -> FieldRule:
        return FieldRule(self.name, self.kind, self.max_length)


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled template."""

    name: str
    description: str
    digest: str
    fields: tuple[FieldInfo, ...]
    parts: tuple[Part, ...] = field(repr=False)
    background: tuple[Part, ...] = field(repr=False)
    foreground: tuple[Part, ...] = field(repr=False)
    #: The width and height this document is laid out for (its root's, ``rendering/sizes``).
    canvas: tuple[int, int] = ASPECTS[LANDSCAPE]
    #: Documents laid out for other canvases, by name: an aspect class for the built-ins
    #: (``name.square.svg``), a preset for custom templates (their upload's ``sizes``).
    layouts: tuple[tuple[str, Template], ...] = field(default=(), repr=False)

    def document_for(self, width: int, height: int) -> Template:
        """The document drawn for a ``width`` × ``height`` image: this one or the layout of the
        nearest aspect ratio (cover-scaled to the exact size by the pipeline)."""
        if not self.layouts:
            return self
        documents = [self, *(t for _, t in self.layouts)]
        return documents[nearest(width, height, dict(enumerate(t.canvas for t in documents)))]

    def with_layouts(self, layouts: Mapping[str, Template]) -> Template:
        """This template with documents for other canvases; its digest covers them all, its
        fields are every document's (one that shows a field another does not still takes it;
        an image field is fetched at the largest side any document draws it)."""
        digest = hashlib.sha256(
            self.digest.encode() + b"".join(f"|{a}:{t.digest}".encode() for a, t in layouts.items())
        ).hexdigest()
        fields = {f.name: f for f in self.fields}
        for f in (f for t in layouts.values() for f in t.fields):
            known = fields.setdefault(f.name, f)
            if f.side is not None and (known.side or 0) < f.side:
                fields[f.name] = replace(known, side=f.side)
        return replace(
            self, digest=digest, fields=tuple(fields.values()), layouts=tuple(layouts.items())
        )

    @property
    def custom_fields(self) -> tuple[FieldInfo, ...]:
        """The template's own fields (SPEC §1.2), in the order the document shows them."""
        return tuple(f for f in self.fields if f.custom)

    def condition_fields(self) -> frozenset[str]:
        """The fields some ``og:if``/``og:unless`` depends on."""
        return frozenset(f for cond in _conds(self.parts) for f in cond.fields)

    def size(self) -> int:
        """Roughly the bytes this compiled template holds (its static strings dominate)."""
        own = sum(_part_size(p) for p in (*self.parts, *self.background, *self.foreground))
        return own + sum(t.size() for _, t in self.layouts)

    def render(self, spec: RenderSpec, images: Mapping[str, bytes], fitter: TextFitter) -> str:
        """The whole SVG document for ``spec`` (previews); ``images`` maps field → PNG bytes."""
        return self._build(self.parts, spec, images, fitter)

    def present(self, spec: RenderSpec, images: Mapping[str, bytes]) -> set[str]:
        """The conditions that hold for ``spec``: the fields it gives (image fields: also
        fetched), built-in or the template's, ``<image>.wide`` and ``<text>.rtl``."""
        kinds = {f: "text" for f in TEXT_LIMITS} | {f: "image" for f in IMAGE_FIELDS}
        kinds |= {f.name: f.kind for f in self.custom_fields}
        given = {f for f, k in kinds.items() if spec.text(f) and (k == "text" or f in images)}
        wide = {f + WIDE for f in given if kinds[f] == "image" and _is_wide(images[f])}
        rtl = {f + RTL for f in given if kinds[f] == "text" and _is_rtl(spec.text(f) or "")}
        present = given | wide | rtl
        return present

    def layers(self, spec: RenderSpec, images: Mapping[str, bytes], fitter: TextFitter) -> Layers:
        """The document as a cacheable background and a per-render foreground."""
        colors = spec.colors
        return Layers(
            background=self._build(self.background, spec, images, fitter),
            foreground=self._build(self.foreground, spec, images, fitter),
            key=f"{self.digest}:{colors.bg}{colors.text}{colors.accent}{colors.surface}",
        )

    def layout(self, spec: RenderSpec, fitter: LayoutFitter) -> dict[str, FittedLines]:
        """How each text field of ``spec`` fits its box, without drawing: what ``render``
        would fit, with every image given in ``spec`` taken as fetched (and, as its shape is not
        known without fetching it, not wide)."""
        kinds = {f: "text" for f in TEXT_LIMITS} | {f: "image" for f in IMAGE_FIELDS}
        kinds |= {f.name: f.kind for f in self.custom_fields}
        given = {f for f in kinds if spec.text(f)}
        rtl = {f + RTL for f in given if kinds[f] == "text" and _is_rtl(spec.text(f) or "")}
        fitted: dict[str, FittedLines] = {}
        _fit(self.parts, spec, fitter, given | rtl, fitted)
        return fitted

    def _build(
        self,
        parts: tuple[Part, ...],
        spec: RenderSpec,
        images: Mapping[str, bytes],
        fitter: TextFitter,
    ) -> str:
        out: list[str] = []
        _emit(parts, out, spec, images, fitter, self.present(spec, images))
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Layers:
    """A render split for the native layer cache: ``key`` identifies the background art."""

    background: str
    foreground: str
    key: str


def _conds(parts: tuple[Part, ...]) -> Iterator[Cond]:
    for part in parts:
        if isinstance(part, Cond):
            yield part
            yield from _conds(part.parts)


#: What a part object costs besides its strings (CPython object headers and fields).
_PART_OVERHEAD = 64


def _part_size(part: Part) -> int:
    if isinstance(part, str):
        return len(part) + _PART_OVERHEAD
    if isinstance(part, Cond):
        return _PART_OVERHEAD + sum(_part_size(p) for p in part.parts)
    return 4 * _PART_OVERHEAD


def _paint(paint: Paint, colors: Colors) -> str:
    return "".join(p if isinstance(p, str) else "#" + colors.tone(p.name) for p in paint)


def _emit(
    parts: tuple[Part, ...],
    out: list[str],
    spec: RenderSpec,
    images: Mapping[str, bytes],
    fitter: TextFitter,
    present: set[str],
) -> None:
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Color):
            out.append("#" + spec.colors.tone(part.name))
        elif isinstance(part, Cond):
            if all((f in present) != part.negate for f in part.fields):
                _emit(part.parts, out, spec, images, fitter, present)
        elif isinstance(part, TextSlot):
            text = spec.text(part.field)
            if text:
                fitted = fitter.fit_text(
                    text.upper() if part.upper else text,
                    family=part.family or spec.font,
                    fill=_paint(part.fill, spec.colors),
                    **part.box,
                )
                out.append(fitted.svg)
        elif isinstance(part, PillSlot):
            _emit_pill(part, out, spec, fitter)
        elif part.field in present:
            _emit_image(part, out, images[part.field])


def _fit(
    parts: tuple[Part, ...],
    spec: RenderSpec,
    fitter: LayoutFitter,
    present: set[str],
    out: dict[str, FittedLines],
) -> None:
    """``_emit`` without the drawing: the fit of every text slot drawn, by field."""
    for part in parts:
        if isinstance(part, Cond):
            if all((f in present) != part.negate for f in part.fields):
                _fit(part.parts, spec, fitter, present, out)
        elif isinstance(part, TextSlot):
            text = spec.text(part.field)
            if text:
                out[part.field] = fitter.fit_text(
                    text.upper() if part.upper else text,
                    family=part.family or spec.font,
                    **part.box,
                )
        elif isinstance(part, PillSlot):
            text = spec.text(part.field)
            if text:
                out[part.field] = fitter.fit_text(
                    text.upper() if part.upper else text,
                    family=part.family or spec.font,
                    weight=part.weight,
                    x=0.0,
                    y=part.y,
                    width=part.max_width - 2 * part.padding,
                    height=part.height,
                    max_size=part.size,
                    min_size=part.size,
                    line_height=1.2,
                    max_lines=1,
                    align="middle",
                    valign="middle",
                )


def _emit_pill(p: PillSlot, out: list[str], spec: RenderSpec, fitter: TextFitter) -> None:
    text = spec.text(p.field)
    if not text:
        return
    label = text.upper() if p.upper else text

    def fit(x: float, width: float) -> _Fitted:
        return fitter.fit_text(
            label,
            family=p.family or spec.font,
            weight=p.weight,
            x=x,
            y=p.y,
            width=width,
            height=p.height,
            max_size=p.size,
            min_size=p.size,
            line_height=1.2,
            max_lines=1,
            align="middle",
            valign="middle",
            fill=_paint(p.text_fill, spec.colors),
        )

    # Measure first, then centre the label in the capsule: correct for either direction.
    measured = fit(0.0, p.max_width - 2 * p.padding)
    width = measured.width + 2 * p.padding
    x = p.x if p.align == "start" else p.x - width
    # A little slack so rounding cannot make the second fit clamp more than the first.
    fitted = fit(x + p.padding - 2, measured.width + 4)
    out.append(
        f'<rect x="{x:.2f}" y="{p.y}" width="{width:.2f}" height="{p.height}" '
        f'rx="{p.height / 2}" fill={quoteattr(_paint(p.fill, spec.colors))} '
        f'fill-opacity="{p.fill_opacity}"/>'
    )
    out.append(fitted.svg)


def _is_rtl(text: str) -> bool:
    """The base direction of ``text`` by its first strong character (UAX #9 rules P2, P3),
    as the renderer decides it."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


def _is_wide(png: bytes) -> bool:
    """Whether a PNG (the server re-encodes every image as one) is at least
    :data:`WIDE_ASPECT` times as wide as tall, read from its IHDR chunk."""
    if len(png) < 24 or png[12:16] != b"IHDR":
        return False
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return height > 0 and width >= WIDE_ASPECT * height


def _emit_image(s: ImageSlot, out: list[str], png: bytes) -> None:
    clip = f"ogmint-clip-{s.index}"
    if s.shape == "circle":
        r = min(s.width, s.height) / 2
        shape = f'<circle cx="{s.x + s.width / 2}" cy="{s.y + s.height / 2}" r="{r}"/>'
    else:
        shape = f'<rect x="{s.x}" y="{s.y}" width="{s.width}" height="{s.height}" rx="{s.radius}"/>'
    x_align = {"start": "xMin", "middle": "xMid", "end": "xMax"}[s.align]
    aspect = "xMidYMid slice" if s.fit == "cover" else f"{x_align}YMid meet"
    data = base64.b64encode(png).decode("ascii")
    out.append(
        f'<clipPath id="{clip}">{shape}</clipPath>'
        f'<image x="{s.x}" y="{s.y}" width="{s.width}" height="{s.height}" '
        f'preserveAspectRatio="{aspect}" clip-path="url(#{clip})" '
        f'href="data:image/png;base64,{data}"/>'
    )


# ---------------------------------------------------------------------------------------------
# Compilation


def compile_template(
    name: str,
    source: bytes,
    limits: TemplateLimits = DEFAULT_LIMITS,
    *,
    custom: bool = False,
    canvas: tuple[int, int] = ASPECTS[LANDSCAPE],
    fonts: FontResolver | None = None,
) -> Template:
    """Validates, sanitises and compiles a template document.

    ``custom`` (uploads) also accepts ``<image>`` with an embedded PNG/JPEG, re-encoded here.
    With ``fonts`` (a family name → the installed family, or None), every family the
    template names must be one the renderer has.
    """
    doc = parse(source, limits)
    normalise(doc, limits)  # design-tool styles into attributes: the checks see them all
    check_document(doc, limits, canvas)
    root = doc.root
    compiler = _Compiler(doc, limits, custom, fonts, canvas)
    head = compiler.open_tag(root, root=True)
    children = [(local_name(c.tag)[1], compiler.child(c, 1)) for c in root]
    # The background layer is the longest run of leading children that depend on nothing
    # but the colours: it is rasterised once per palette and cached by the renderer. <defs>
    # from it are repeated in the foreground so later elements can still reference them.
    n_static = next((i for i, (_, p) in enumerate(children) if not _is_static(p)), len(children))
    background = [*head, *(p for _, c in children[:n_static] for p in c), "</svg>"]
    foreground = [
        *head,
        *(p for tag, c in children[:n_static] if tag == "defs" for p in c),
        *(p for _, c in children[n_static:] for p in c),
        "</svg>",
    ]
    parts = [*head, *(p for _, c in children for p in c), "</svg>"]
    if "title" not in compiler.fields:
        raise doc.error(root, 'template must place the title (og:text field="title")')
    fields = compiler.field_infos()
    return Template(
        name=name,
        description=root.get(f"{{{OG_NS}}}description", ""),
        digest=hashlib.sha256(source).hexdigest(),
        fields=fields,
        parts=tuple(_merge(parts)),
        background=tuple(_merge(background)),
        foreground=tuple(_merge(foreground)),
        canvas=canvas,
    )


def _is_static(parts: list[Part]) -> bool:
    return all(isinstance(p, str | Color) for p in parts)


def load_directory(directory: Path) -> dict[str, Template]:
    """Compiles every ``*.svg`` in ``directory``: ``NAME.svg`` is the template ``NAME`` (its
    landscape document), ``NAME.ASPECT.svg`` its layout for another aspect class."""
    templates: dict[str, Template] = {}
    layouts: dict[str, dict[str, Template]] = {}
    for path in sorted(directory.glob("*.svg")):
        name, _, aspect = path.stem.partition(".")
        try:
            if aspect and aspect not in ASPECTS:
                raise TemplateError(f"unknown aspect {aspect!r}: one of {', '.join(ASPECTS)}")
            compiled = compile_template(
                name, path.read_bytes(), canvas=ASPECTS[aspect or LANDSCAPE]
            )
        except TemplateError as e:
            raise TemplateError(f"{path.name}: {e}") from e
        if aspect:
            layouts.setdefault(name, {})[aspect] = compiled
        else:
            templates[name] = compiled
    for name, extra in layouts.items():
        if name not in templates:
            raise TemplateError(f"{name}.*.svg: no {name}.svg (the landscape layout) beside it")
        templates[name] = templates[name].with_layouts(extra)
    return templates


def _merge(parts: list[Part]) -> Iterator[Part]:
    """Joins adjacent static strings so rendering appends fewer pieces."""
    buf: list[str] = []
    for p in parts:
        if isinstance(p, str):
            buf.append(p)
            continue
        if buf:
            yield "".join(buf)
            buf = []
        yield p
    if buf:
        yield "".join(buf)


class _Compiler:
    def __init__(
        self,
        doc: Document,
        limits: TemplateLimits,
        custom: bool,
        fonts: FontResolver | None,
        canvas: tuple[int, int],
    ) -> None:
        self.doc = doc
        self.limits = limits
        self.canvas = canvas
        self.custom = custom
        self.fonts = fonts
        #: Every field an og: element shows; the template's own ones with what they declare.
        self.fields: set[str] = set()
        self.declared: dict[str, _Declared] = {}
        self.conditions: list[tuple[tuple[str, ...], ET.Element]] = []
        self.images = 0
        self.embedded = 0

    def declare(self, local: str, el: ET.Element, a: _Attrs) -> str:
        """The field an og: element shows. A name that is not built-in declares the
        template's own field: its kind from the element, a text field's limit from ``limit``;
        each use must agree with the others."""
        name = a.req("field")
        kind = "image" if local == "image" else "text"
        limit = int(a.num("limit")) if el.get("limit") is not None else None
        self.fields.add(name)
        if name in TEXT_LIMITS or name in IMAGE_FIELDS:
            builtin = "image" if name in IMAGE_FIELDS else "text"
            if builtin != kind:
                raise TemplateError(f"og:{local} cannot show {builtin} field {name!r}")
            if limit is not None:
                raise TemplateError(f"built-in field {name!r} has a fixed limit; drop 'limit'")
            return name
        if not custom_field_name(name):
            raise TemplateError(
                f"unknown field {name!r} (a template's own field is named "
                "[a-z][a-zA-Z0-9_]{0,31} and is not a render parameter)"
            )
        if kind == "image" and limit is not None:
            raise TemplateError(f"image field {name!r} takes no limit")
        side = (
            min(MAX_CUSTOM_IMAGE_SIDE, math.ceil(2 * max(a.num("width"), a.num("height"))))
            if kind == "image"
            else None
        )
        known = self.declared.get(name)
        if known is None:
            if len(self.declared) >= MAX_CUSTOM_FIELDS:
                raise TemplateError(f"more than {MAX_CUSTOM_FIELDS} custom fields")
            self.declared[name] = _Declared(kind, limit, self.doc.line(el), side)
            return name
        first = f"line {known.line}" if known.line else "elsewhere"
        if known.kind != kind:
            raise TemplateError(f"field {name!r} is {kind} here but {known.kind} on {first}")
        if limit is not None and known.limit is not None and limit != known.limit:
            raise TemplateError(
                f"field {name!r} has limit {limit} here but {known.limit} on {first}"
            )
        known.limit = known.limit if limit is None else limit
        known.side = max(known.side or 0, side or 0) or None
        return name

    def field_infos(self) -> tuple[FieldInfo, ...]:
        """The fields the template shows, built-in first; checks every condition names a
        field the template can have."""
        kinds = {f: "text" for f in TEXT_LIMITS} | {f: "image" for f in IMAGE_FIELDS}
        kinds |= {name: d.kind for name, d in self.declared.items()}
        for names, el in self.conditions:
            for name in names:
                f, dot, suffix = name.partition(".")
                if f not in kinds:
                    raise self.doc.error(el, f"unknown field {f!r} (no og: element shows it)")
                if dot and "." + suffix != (WIDE if kinds[f] == "image" else RTL):
                    raise self.doc.error(
                        el,
                        f"unknown condition {name!r}: use a field, <image field>{WIDE} or "
                        f"<text field>{RTL}",
                    )
        depends = {n.partition(".")[0] for names, _ in self.conditions for n in names} - {"title"}
        if len(depends) > MAX_CONDITION_FIELDS:
            raise self.doc.error(
                self.conditions[-1][1],
                f"og:if/og:unless depend on {len(depends)} fields, more than "
                f"{MAX_CONDITION_FIELDS}",
            )
        builtins = tuple(
            FieldInfo(
                name=f,
                kind="image" if f in IMAGE_FIELDS else "text",
                required=f == "title",
                max_length=TEXT_LIMITS.get(f),
            )
            for f in (*TEXT_LIMITS, *IMAGE_FIELDS)
            if f in self.fields
        )
        own = tuple(
            FieldInfo(
                name=name,
                kind=d.kind,
                required=False,
                max_length=None if d.kind == "image" else (d.limit or DEFAULT_CUSTOM_LIMIT),
                custom=True,
                side=d.side,
            )
            for name, d in self.declared.items()
        )
        return builtins + own

    def element(self, el: ET.Element, depth: int, root: bool = False) -> list[Part]:
        if depth > self.limits.max_depth:
            raise self.doc.error(el, f"elements nested deeper than {self.limits.max_depth}")
        ns, local = local_name(el.tag)
        if ns == OG_NS:
            try:
                part = self.og_element(local, el)
            except TemplateError as e:
                if e.line is not None:
                    raise
                raise self.doc.error(el, e.reason) from e
            return self.conditional(el, [part])
        check_element(self.doc, el, self.limits, self.canvas)
        parts = self.open_tag(el, root)
        if (el.text and el.text.strip()) or local in {"text", "tspan", "title", "desc"}:
            parts.extend(self.substitute(el, escape(el.text or "")))
        for child in el:
            parts.extend(self.child(child, depth + 1))
        parts.append(f"</{local}>")
        return parts if root else self.conditional(el, parts)

    def child(self, el: ET.Element, depth: int) -> list[Part]:
        parts = self.element(el, depth)
        if el.tail and el.tail.strip():
            parts.extend(self.substitute(el, escape(el.tail)))
        return parts

    def open_tag(self, el: ET.Element, root: bool = False) -> list[Part]:
        ns, local = local_name(el.tag)
        image = self.custom and local == "image"
        if ns != SVG_NS or (local not in ALLOWED_ELEMENTS and not image):
            raise self.doc.error(el, "element is not allowed")
        if image:
            self.embedded += 1
            if self.embedded > self.limits.max_images:
                raise self.doc.error(el, f"more than {self.limits.max_images} embedded images")
        parts: list[Part] = [f"<{local}"]
        if root:
            parts.append(f' xmlns="{SVG_NS}"')
        for key, value in el.attrib.items():
            kns, kname = local_name(key)
            if kns == OG_NS:
                continue
            if kns == XLINK_NS and kname == "href":
                kname = "href"
            elif kns == XML_NS and kname == "space" and value in {"default", "preserve"}:
                parts.append(f' xml:space="{value}"')  # Illustrator's; whitespace in <text>
                continue
            elif kns:
                raise self.doc.error(el, f"attribute {kname!r} in namespace {kns} is not allowed")
            check_attribute(self.doc, el, kname, value, self.limits, self.custom)
            if image and kname == "href":
                value = embedded_image(self.doc, el, value, self.limits)
            if kname == "font-family":
                self.check_families(el, value)
            parts.append(f" {kname}=")
            parts.extend(self.substitute(el, quoteattr(value)))
        parts.append(">")
        return parts

    def substitute(self, el: ET.Element, text: str) -> list[Part]:
        try:
            return _substitute(text)
        except TemplateError as e:
            raise self.doc.error(el, e.reason) from e

    def check_families(self, el: ET.Element, value: str) -> None:
        """A ``font-family`` list must name a family the renderer has (the first it has is
        drawn, as in CSS); only generic families is fine too."""
        if self.fonts is None:
            return
        names = [n.strip().strip("'\"").strip() for n in value.split(",")]
        named = [n for n in names if n and n.lower() not in GENERIC_FAMILIES]
        if named and not any(self.fonts(n) for n in named):
            raise self.doc.error(el, f"font family {named[0]!r} is not available (GET /api/fonts)")

    def conditional(self, el: ET.Element, parts: list[Part]) -> list[Part]:
        for attr, negate in (("if", False), ("unless", True)):
            names = el.get(f"{{{OG_NS}}}{attr}")
            if names is not None:
                fields = tuple(names.split())
                self.conditions.append((fields, el))  # checked once every field is known
                parts = [Cond(fields, negate, tuple(_merge(parts)))]
        return parts

    def family(self, a: _Attrs) -> str | None:
        """The family an og: element fixes, if any: one the renderer has."""
        family = a.opt("font")
        if family is not None and self.fonts is not None and self.fonts(family) is None:
            raise TemplateError(f"font family {family!r} is not available (GET /api/fonts)")
        return family

    def og_element(self, local: str, el: ET.Element) -> Part:
        a = _Attrs(el)
        if local not in {"text", "pill", "image"}:
            raise TemplateError(f"unknown element og:{local}")
        name = self.declare(local, el, a)
        if local == "text":
            if a.num("min-size", a.num("max-size")) > a.num("max-size"):
                raise TemplateError("og:text min-size must not be larger than max-size")
            box = {
                "x": a.num("x"),
                "y": a.num("y"),
                "width": a.num("width"),
                "height": a.num("height"),
                "max_size": a.num("max-size"),
                "min_size": a.num("min-size", a.num("max-size")),
                "weight": int(a.num("weight", 400)),
                "line_height": a.num("line-height", 1.2),
                "max_lines": int(a.num("max-lines", 3)),
                "align": a.choice("align", ("start", "middle", "end")),
                "valign": a.choice("valign", ("top", "middle", "bottom")),
                "letter_spacing": a.num("letter-spacing", 0.0),
                "mirror_rtl": a.opt("mirror") != "false",
            }
            return TextSlot(name, box, a.paint("fill", "{{text}}"), self.family(a), a.upper())
        if local == "pill":
            return PillSlot(
                field=name,
                x=a.num("x"),
                y=a.num("y"),
                height=a.num("height"),
                max_width=a.num("max-width", 600),
                padding=a.num("padding", 16),
                size=a.num("size", 20),
                weight=int(a.num("weight", 600)),
                align=a.choice("align", ("start", "end")),
                fill=a.paint("fill", "{{accent}}"),
                fill_opacity=a.num("fill-opacity", 1.0),
                text_fill=a.paint("text-fill", "{{text}}"),
                family=self.family(a),
                upper=a.upper(),
            )
        if local == "image":
            self.images += 1
            return ImageSlot(
                field=name,
                index=self.images,
                x=a.num("x"),
                y=a.num("y"),
                width=a.num("width"),
                height=a.num("height"),
                shape=a.choice("shape", ("circle", "rect")),
                radius=a.num("radius", 0.0),
                fit=a.choice("fit", ("cover", "contain")),
                align=a.choice("align", ("middle", "start", "end")),
            )
        raise TemplateError(f"unknown element og:{local}")


@dataclass(slots=True)
class _Declared:
    """A template's own field as its og: elements declare it (``line``: the first)."""

    kind: str
    limit: int | None
    line: int | None
    side: int | None


def _substitute(text: str) -> list[Part]:
    for m in ANY_PLACEHOLDER.finditer(text):
        if PLACEHOLDER.fullmatch(m.group(0)) is None:
            raise TemplateError(
                f"unknown placeholder {m.group(0)!r} (colours: {{{{bg}}}}, {{{{text}}}}, "
                "{{accent}}, {{surface}})"
            )
    out: list[Part] = []
    pos = 0
    for m in PLACEHOLDER.finditer(text):
        out.append(text[pos : m.start()])
        out.append(Color(m.group(1)))
        pos = m.end()
    out.append(text[pos:])
    return [p for p in out if p != ""]


class _Attrs:
    def __init__(self, el: ET.Element) -> None:
        self.el = el
        self.tag = local_name(el.tag)[1]

    def req(self, key: str) -> str:
        value = self.el.get(key)
        if value is None:
            raise TemplateError(f"og:{self.tag} needs attribute {key!r}")
        return value

    def opt(self, key: str) -> str | None:
        return self.el.get(key)

    def num(self, key: str, default: float | None = None) -> float:
        value = self.el.get(key)
        if value is None:
            if default is None:
                raise TemplateError(f"og:{self.tag} needs attribute {key!r}")
            return default
        try:
            number = float(value)
        except ValueError as e:
            raise TemplateError(f"og:{self.tag} {key}={value!r} is not a number") from e
        lowest, highest, whole = OG_RANGES.get(key, (-MAX_OG_NUMBER, MAX_OG_NUMBER, False))
        if not math.isfinite(number) or not lowest <= number <= highest:
            raise TemplateError(
                f"og:{self.tag} {key}={value!r} is out of range ({lowest:g} to {highest:g})"
            )
        if whole and not number.is_integer():
            raise TemplateError(f"og:{self.tag} {key}={value!r} must be a whole number")
        return number

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.el.get(key, options[0])
        if value not in options:
            raise TemplateError(f"og:{self.tag} {key} must be one of {options}")
        return value

    def paint(self, key: str, default: str) -> Paint:
        value = self.el.get(key, default)
        return tuple(_substitute(value))  # type: ignore[arg-type]

    def upper(self) -> bool:
        return self.el.get("case") == "upper"


TemplateLookup = Callable[[str], Template | None]

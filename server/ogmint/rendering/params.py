"""Render parameters (SPEC §1): validation, alias folding, palette resolution, canonical form."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypedDict

import orjson

from ogmint.errors import FieldError, ValidationError
from ogmint.rendering.formats import DEFAULT_QUALITY, FORMATS, Format, Output
from ogmint.rendering.palettes import DEFAULT, PALETTES, Colors, derive, parse_color

MAX_URL = 2048

#: Text fields and their maximum length in code points (title also needs ≥ 1).
TEXT_LIMITS = {"title": 200, "description": 500, "tag": 50, "author": 100}
COLOR_FIELDS = {"bgColor": "bg", "textColor": "text", "accentColor": "accent", "surfaceColor": None}
IMAGE_FIELDS = ("avatar", "logo")
OUTPUT_FIELDS = ("size", "scale", "format", "quality")
KNOWN = frozenset(
    ["template", "font", "palette", "brand", *TEXT_LIMITS, *COLOR_FIELDS, *IMAGE_FIELDS]
    + [*OUTPUT_FIELDS]
    + [a for a in COLOR_FIELDS.values() if a]
)
#: Names a custom field may not take (SPEC §1.2): every render parameter of the contract,
#: the V2 body's other keys and a signed URL's.
RESERVED = KNOWN | frozenset(
    "brand size scale format quality webhookUrl webhookSecret metadata kid exp sig".split()
)
#: A custom field's name (SPEC §1.2).
FIELD_NAME = re.compile(r"[a-z][a-zA-Z0-9_]{0,31}")
#: Custom fields per template, and the longest limit a custom text field may have.
MAX_CUSTOM_FIELDS = 20
MAX_CUSTOM_LIMIT = 500


def custom_field_name(name: str) -> bool:
    """Whether ``name`` may name a template's own field."""
    return FIELD_NAME.fullmatch(name) is not None and name not in RESERVED


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What a template's own field accepts: ``text`` up to ``limit`` code points, or an
    ``image`` URL."""

    name: str
    kind: str
    limit: int | None


#: Size presets (SPEC §1.1): name → (width, height) in logical pixels.
PRESETS: dict[str, tuple[int, int]] = {
    "og": (1200, 630),
    "twitter": (1200, 600),
    "linkedin": (1200, 627),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "story": (1080, 1920),
}
DEFAULT_SIZE = "og"
MIN_SIDE, MAX_SIDE = 100, 2400
MAX_SCALE = 3
#: The image's pixel caps (SPEC §1.1): size × scale may not exceed these.
MAX_PIXEL_SIDE = 4096
MAX_PIXELS = 8_294_400
_WXH = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")
_INT = re.compile(r"[0-9]{1,5}")


#: Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(text: str) -> bool:
    """Whether ``text`` draws something: not only spaces, controls, format or unassigned."""
    return any(unicodedata.category(ch)[0] not in "ZC" and ch not in _BLANK for ch in text)


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """A validated render request with every default and palette resolved."""

    template: str
    title: str
    description: str | None
    tag: str | None
    author: str | None
    avatar: str | None
    logo: str | None
    font: str
    colors: Colors
    #: The version of the brand (SPEC §6.1) that filled in parameters, if one did.
    brand: str | None = None
    #: The brand's stored logo PNG, drawn instead of fetching ``logo`` (then a ``brand:`` name).
    brand_logo: bytes | None = field(default=None, repr=False, compare=False)
    #: ``og`` … ``story`` or ``WIDTHxHEIGHT``; the logical size is ``width`` × ``height``.
    size: str = DEFAULT_SIZE
    width: int = PRESETS[DEFAULT_SIZE][0]
    height: int = PRESETS[DEFAULT_SIZE][1]
    scale: int = 1
    format: Format = "png"
    quality: int = DEFAULT_QUALITY

    @property
    def pixels(self) -> tuple[int, int]:
        """The image's size in pixels: the logical size times ``scale``."""
        return self.width * self.scale, self.height * self.scale

    def output(self) -> Output:
        """How the image is encoded: a JPEG is flattened on the card's background colour."""
        return Output(self.format, self.quality, "#" + self.colors.bg)

    #: The template's own fields (SPEC §1.2) given, ``(name, value)`` sorted by name; before
    #: :func:`bind_fields`, every name a template could declare.
    fields: tuple[tuple[str, str], ...] = ()

    def canonical(self, template_digest: str) -> bytes:
        """Canonical JSON of everything that determines the image (the dedup/ETag input)."""
        c = self.colors
        # Built by hand: dataclasses.asdict deep-copies and is slow on the dedup-hit path.
        doc: dict[str, object] = {
            "template": self.template,
            "title": self.title,
            "description": self.description,
            "tag": self.tag,
            "author": self.author,
            "avatar": self.avatar,
            "logo": self.logo,
            "font": self.font,
            "bg": c.bg,
            "text": c.text,
            "accent": c.accent,
            "surface": c.surface,
            "template_digest": template_digest,
        }
        # Output parameters join only when not the default, so the canonical form (the ETag
        # and dedup key) of a default 1200×630 PNG stays what it was before they existed.
        if self.size != DEFAULT_SIZE:
            doc["size"] = self.size
        if self.scale != 1:
            doc["scale"] = self.scale
        if self.format != "png":
            doc["format"] = self.format
            doc["quality"] = self.quality  # lossy formats only (SPEC §1.1)
        if self.brand is not None:  # absent otherwise: renders without a brand keep their keys
            doc["brand"] = self.brand
        if self.fields:  # absent otherwise: requests without custom fields keep their keys
            doc["fields"] = dict(self.fields)
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    def digest(self, template_digest: str) -> str:
        """SHA-256 hex of the canonical form."""
        return hashlib.sha256(self.canonical(template_digest)).hexdigest()

    def text(self, field: str) -> str | None:
        """The value of a field, built-in or the template's own (None when absent)."""
        if field in KNOWN:
            value = getattr(self, field, None)
            return value if isinstance(value, str) else None
        return next((v for n, v in self.fields if n == field), None)


def parse_params(
    raw: Mapping[str, object],
    *,
    strict: bool,
    template_exists: Callable[[str], bool],
    resolve_font: Callable[[str], str | None],
    default_font: str = "Inter",
) -> RenderSpec:
    """Validates raw parameters. ``strict`` (V2 bodies) rejects unknown names; V1 ignores them.

    All problems are reported together, each naming its field.
    """
    errors: list[FieldError] = []
    if strict:  # names a template may declare are checked against it by bind_fields
        errors += [
            FieldError(k, "unknown parameter")
            for k in raw
            if k not in KNOWN and not custom_field_name(k)
        ]

    def string(name: str) -> str | None:
        value = raw.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            errors.append(FieldError(name, "must be a string"))
            return None
        return value

    template = string("template")
    if not template:
        errors.append(FieldError("template", "is required"))
    elif not template_exists(template):
        errors.append(
            FieldError("template", f"unknown template {template!r}; see GET /api/templates")
        )

    texts: dict[str, str | None] = {}
    for name, limit in TEXT_LIMITS.items():
        value = string(name)
        if value is not None and len(value) > limit:
            errors.append(FieldError(name, f"must be at most {limit} characters"))
        texts[name] = value or None
    if texts["title"] is None and not any(e.field == "title" for e in errors):
        errors.append(FieldError("title", "is required (1-200 characters)"))
    elif texts["title"] is not None and not _visible(texts["title"]):
        errors.append(FieldError("title", "must contain a visible character"))
    # A field of only spaces, NBSPs or zero-width characters is absent (SPEC §1): no empty pill.
    for name in ("description", "tag", "author"):
        value = texts[name]
        if value is not None and not _visible(value):
            texts[name] = None

    images: dict[str, str | None] = {}
    for name in IMAGE_FIELDS:
        value = string(name)
        if value and (not value.startswith("https://") or len(value) > MAX_URL):
            errors.append(FieldError(name, "must be an https:// URL of at most 2048 characters"))
        images[name] = value or None

    font = default_font
    font_raw = string("font")
    if font_raw:
        resolved = resolve_font(font_raw)
        if resolved is None:
            errors.append(FieldError("font", f"unknown font {font_raw!r}; see GET /api/fonts"))
        else:
            font = resolved

    palette = DEFAULT
    palette_raw = string("palette")
    if palette_raw:
        if palette_raw in PALETTES:
            palette = PALETTES[palette_raw]
        else:
            names = ", ".join(PALETTES)
            errors.append(FieldError("palette", f"must be one of {names}"))

    given: dict[str, str | None] = {}
    for name, alias in COLOR_FIELDS.items():
        key = name.removesuffix("Color")
        given[key] = None
        # Each spelling given (name, alias), canonicalised; None where it is no colour.
        parsed = {
            src: parse_color(value)
            for src in (name, alias)
            if src is not None and (value := string(src)) is not None
        }
        errors += [
            FieldError(src, "must be a colour: rrggbb or rgb, '#' optional")
            for src, color in parsed.items()
            if color is None
        ]
        colors = set(parsed.values())
        if None in colors:
            continue
        if len(colors) > 1:
            errors.append(FieldError(name, f"conflicts with its alias {alias!r}"))
            continue
        given[key] = next(iter(colors), None)

    output = _output(raw, errors)
    # Names a template may declare, kept for bind_fields (a null as "": absent, but named).
    custom: dict[str, str] = {}
    for name, own in raw.items():
        if name in KNOWN or not custom_field_name(name):
            continue
        if isinstance(own, str) or own is None:
            custom[name] = own or ""
        elif strict:
            errors.append(FieldError(name, "must be a string"))

    if errors:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    title = texts["title"]
    if template is None or title is None:  # unreachable: both were reported above
        raise ValidationError("template and title are required")
    return RenderSpec(
        template=template,
        title=title,
        description=texts["description"],
        tag=texts["tag"],
        author=texts["author"],
        avatar=images["avatar"],
        logo=images["logo"],
        font=font,
        colors=derive(palette, **given),
        **output,
        fields=tuple(sorted(custom.items())),
    )


def bind_fields(spec: RenderSpec, declared: Sequence[FieldRule], *, strict: bool) -> RenderSpec:
    """``spec`` with only the custom fields its template declares, each validated like a
    built-in one (400 naming every bad field). A name the template does not declare is
    ignored, or with ``strict`` (V2 bodies) refused as an unknown parameter."""
    rules = {r.name: r for r in declared}
    errors: list[FieldError] = []
    kept: list[tuple[str, str]] = []
    for name, value in spec.fields:
        rule = rules.get(name)
        if rule is None:
            if strict:
                errors.append(
                    FieldError(name, "unknown parameter (the template has no such field)")
                )
        elif rule.kind == "image":
            if value and (not value.startswith("https://") or len(value) > MAX_URL):
                errors.append(
                    FieldError(name, f"must be an https:// URL of at most {MAX_URL} characters")
                )
            elif value:
                kept.append((name, value))
        elif rule.limit is not None and len(value) > rule.limit:
            errors.append(FieldError(name, f"must be at most {rule.limit} characters"))
        elif _visible(value):  # only spaces or zero-width characters: absent, as built-ins
            kept.append((name, value))
    if errors:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return replace(spec, fields=tuple(kept))


def _integer(value: object) -> int | None:
    """An integer parameter, from a JSON number or a query string's digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return None


def parse_size(value: object) -> tuple[str, int, int] | None:
    """``(canonical name, width, height)`` of a ``size`` value, None when it is none."""
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    if name in PRESETS:
        return (name, *PRESETS[name])
    m = _WXH.fullmatch(name)
    if m is None:
        return None
    width, height = int(m[1]), int(m[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return None
    return f"{width}x{height}", width, height


def output_pixels(raw: Mapping[str, object]) -> tuple[int, int]:
    """The image's pixels for ``raw``'s ``size`` and ``scale`` as a render reads them (SPEC
    §1.1), each that a render would refuse taken as its default (``og``, 1): for forms that
    show the size before the render has checked it."""
    parsed = parse_size(raw.get("size", DEFAULT_SIZE))
    _, width, height = parsed or (DEFAULT_SIZE, *PRESETS[DEFAULT_SIZE])
    n = _integer(raw.get("scale", 1))
    scale = n if n is not None and 1 <= n <= MAX_SCALE else 1
    return width * scale, height * scale


class _Output(TypedDict, total=False):
    size: str
    width: int
    height: int
    scale: int
    format: Format
    quality: int


def _output(raw: Mapping[str, object], errors: list[FieldError]) -> _Output:
    """The output parameters (SPEC §1.1): ``size``, ``scale``, ``format``, ``quality``."""
    out: _Output = {}
    size = raw.get("size")
    if size is not None:
        parsed = parse_size(size)
        if parsed is None:
            presets = ", ".join(PRESETS)
            errors.append(
                FieldError(
                    "size",
                    f"must be one of {presets} or WIDTHxHEIGHT, each side {MIN_SIDE}-{MAX_SIDE}",
                )
            )
        else:
            out["size"], out["width"], out["height"] = parsed
    scale = raw.get("scale")
    if scale is not None:
        n = _integer(scale)
        if n is None or not 1 <= n <= MAX_SCALE:
            errors.append(FieldError("scale", f"must be 1, 2 or {MAX_SCALE}"))
        else:
            out["scale"] = n
    fmt = raw.get("format")
    if fmt is not None:
        name = fmt.strip().lower() if isinstance(fmt, str) else None
        if name == "jpg":
            name = "jpeg"
        for known in FORMATS:
            if name == known:
                out["format"] = known
                break
        else:
            errors.append(FieldError("format", f"must be one of {', '.join(FORMATS)}"))
    quality = raw.get("quality")
    if quality is not None:
        n = _integer(quality)
        if n is None or not 1 <= n <= 100:
            errors.append(FieldError("quality", "must be an integer from 1 to 100"))
        else:
            out["quality"] = n
    if "size" in out or "scale" in out:
        scale_by = out.get("scale", 1)
        width = out.get("width", PRESETS[DEFAULT_SIZE][0]) * scale_by
        height = out.get("height", PRESETS[DEFAULT_SIZE][1]) * scale_by
        field = "scale" if "scale" in out else "size"
        if max(width, height) > MAX_PIXEL_SIDE:
            errors.append(
                FieldError(field, f"{width}x{height} exceeds {MAX_PIXEL_SIDE} pixels on a side")
            )
        elif width * height > MAX_PIXELS:
            errors.append(
                FieldError(field, f"{width}x{height} exceeds {MAX_PIXELS:,} pixels in all")
            )
    return out

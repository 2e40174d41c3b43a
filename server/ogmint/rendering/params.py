"""Render parameters (SPEC §1): validation, alias folding, palette resolution, canonical form."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import orjson

from ogmint.errors import FieldError, ValidationError
from ogmint.rendering.palettes import DEFAULT, PALETTES, Colors, derive, parse_color

MAX_URL = 2048

#: Text fields and their maximum length in code points (title also needs ≥ 1).
TEXT_LIMITS = {"title": 200, "description": 500, "tag": 50, "author": 100}
COLOR_FIELDS = {"bgColor": "bg", "textColor": "text", "accentColor": "accent", "surfaceColor": None}
IMAGE_FIELDS = ("avatar", "logo")
KNOWN = frozenset(
    ["template", "font", "palette", "brand", *TEXT_LIMITS, *COLOR_FIELDS, *IMAGE_FIELDS]
    + [a for a in COLOR_FIELDS.values() if a]
)


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

    def canonical(self, template_digest: str) -> bytes:
        """Canonical JSON of everything that determines the image (the dedup/ETag input)."""
        c = self.colors
        # Built by hand: dataclasses.asdict deep-copies and is slow on the dedup-hit path.
        doc = {
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
        if self.brand is not None:  # absent otherwise: renders without a brand keep their keys
            doc["brand"] = self.brand
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    def digest(self, template_digest: str) -> str:
        """SHA-256 hex of the canonical form."""
        return hashlib.sha256(self.canonical(template_digest)).hexdigest()

    def text(self, field: str) -> str | None:
        value = getattr(self, field, None)
        return value if isinstance(value, str) else None


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
    if strict:
        errors += [FieldError(k, "unknown parameter") for k in raw if k not in KNOWN]

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
    )

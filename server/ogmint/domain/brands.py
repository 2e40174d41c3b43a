"""Brands (SPEC §6.1): a user's saved look — colours, palette, font and logo — that a render
names with ``brand=<id>`` instead of repeating them.

A brand's fields are validated like render parameters and kept canonical (colours lower-case
``rrggbb``, the font's family name). The logo is fetched once, when the brand is saved, through
the guarded image fetcher, checked, re-encoded as a bounded PNG and stored with the brand:
renders never fetch it. The version is a digest of the brand's id, look and logo image; it is
part of the ETag and dedup key of every render that uses the brand, so an edit is a new image.

Precedence (SPEC §1): a parameter the request sets, then the brand's, then the palette's
colour (the request's palette, else the brand's), then the default — colours a request or brand
leaves out are derived from the ones set, as for any render.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import orjson
from PIL import Image

from ogmint.cache import BoundedCache
from ogmint.clock import now_iso
from ogmint.errors import BrandLimitError, BrandNotFoundError, FieldError, ValidationError
from ogmint.ids import new_id
from ogmint.rendering.palettes import PALETTES, parse_color
from ogmint.rendering.params import COLOR_FIELDS, MAX_URL, RenderSpec
from ogmint.state.brands import BrandMeta as BrandMeta
from ogmint.state.brands import BrandStore

PREFIX = "brand_"
ID_LENGTH = 12
MAX_NAME = 100
#: What a brand may set besides its name, in the order responses list them.
LOOK_FIELDS = ("bgColor", "textColor", "accentColor", "surfaceColor", "palette", "font", "logo")
BRAND_FIELDS = ("name", *LOOK_FIELDS)
#: Largest stored logo: a safety net, as a re-encoded PNG of at most 480x480 RGBA pixels
#: (0.9 MB raw) stays under it even for noise.
MAX_LOGO_BYTES = 1024 * 1024
#: Brands kept per worker for renders, by version (a version never changes meaning).
CACHE_BYTES = 16 << 20

FetchLogo = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand as renders use it: its current version, look and logo PNG (``b""``: none)."""

    id: str
    version: str
    look: Mapping[str, str]
    logo: bytes

    def fill(self, raw: Mapping[str, object]) -> dict[str, object]:
        """``raw`` with the brand's values where the request sets none (an empty value is
        none, as the parser reads it); ``brand`` itself removed."""
        out = {k: v for k, v in raw.items() if k != "brand"}

        def unset(*names: str | None) -> bool:
            return all(n is None or raw.get(n) in (None, "") for n in names)

        for name, alias in COLOR_FIELDS.items():
            if name in self.look and unset(name, alias):
                out[name] = self.look[name]
        for name in ("palette", "font"):
            if name in self.look and unset(name):
                out[name] = self.look[name]
        return out

    def finish(self, spec: RenderSpec) -> RenderSpec:
        """The spec marked with the brand's version, drawing its logo unless the request
        gave one."""
        if self.logo and spec.logo is None:
            return dataclasses.replace(
                spec, logo=f"brand:{self.id}", brand=self.version, brand_logo=self.logo
            )
        return dataclasses.replace(spec, brand=self.version)


def _weigh(brand: Brand) -> int:
    return len(brand.logo) + 512


def look_of(meta: BrandMeta) -> dict[str, str | None]:
    """Every look field of a brand, ``None`` where it sets nothing."""
    look: dict[str, str] = orjson.loads(meta.look)
    return {f: look.get(f) for f in LOOK_FIELDS}


def parse_brand(
    body: Mapping[str, object], resolve_font: Callable[[str], str | None]
) -> tuple[str, dict[str, str]]:
    """The name and canonical look of a brand body; a 400 naming every bad field (unknown
    fields included). ``null`` or an empty string sets nothing."""
    errors = [FieldError(k, "unknown field") for k in body if k not in BRAND_FIELDS]
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        errors.append(FieldError("name", f"is required: a string of 1-{MAX_NAME} characters"))
    look: dict[str, str] = {}
    for field in LOOK_FIELDS:
        value = body.get(field)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            errors.append(FieldError(field, "must be a string"))
        elif field == "palette":
            if value in PALETTES:
                look[field] = value
            else:
                errors.append(FieldError(field, f"must be one of {', '.join(PALETTES)}"))
        elif field == "font":
            family = resolve_font(value)
            if family is None:
                errors.append(FieldError(field, f"unknown font {value!r}; see GET /api/fonts"))
            else:
                look[field] = family
        elif field == "logo":
            if value.startswith("https://") and len(value) <= MAX_URL:
                look[field] = value
            else:
                errors.append(
                    FieldError(field, f"must be an https:// URL of at most {MAX_URL} characters")
                )
        else:
            color = parse_color(value)
            if color is None:
                errors.append(FieldError(field, "must be a colour: rrggbb or rgb, '#' optional"))
            else:
                look[field] = color
    if errors:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    assert isinstance(name, str)
    return name, look


def _stored_png(png: bytes) -> bytes:
    """The fetched (already checked and re-encoded) logo, compressed for keeping."""
    with Image.open(io.BytesIO(png), formats=("PNG",)) as img:
        out = io.BytesIO()
        img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _version(brand_id: str, look: str, logo: bytes) -> str:
    h = hashlib.sha256(brand_id.encode())
    h.update(b"\0" + look.encode() + b"\0")
    h.update(hashlib.sha256(logo).digest())
    return h.hexdigest()[:32]


class Brands:
    """Users' brands: create, list, get, update, delete, and the one a render names."""

    def __init__(
        self,
        store: BrandStore,
        *,
        resolve_font: Callable[[str], str | None],
        fetch_logo: FetchLogo,
        max_per_user: int,
    ) -> None:
        self._store = store
        self._resolve_font = resolve_font
        self._fetch_logo = fetch_logo
        self.max_per_user = max_per_user
        self._cache: BoundedCache[str, Brand] = BoundedCache(
            None, max_weight=CACHE_BYTES, weigh=_weigh
        )

    @property
    def cache(self) -> BoundedCache[str, Brand]:
        """The brands kept by version (for the metrics)."""
        return self._cache

    # -- renders ------------------------------------------------------------------------------
    async def resolve(self, user: str | None, brand_id: object) -> Brand:
        """The brand a render names, at its current version (one state read when this worker
        has seen that version). Anyone else's, unknown, deleted, or no user (anonymous V1):
        404 ``brand_not_found``."""
        if not isinstance(brand_id, str):
            raise ValidationError.field("brand", "must be a string")
        missing = BrandNotFoundError(details=[FieldError("brand", f"no brand {brand_id!r}")])
        if user is None or not brand_id.startswith(PREFIX):
            raise missing
        version = await self._store.brand_version(user, brand_id)
        if version is None:
            raise missing
        cached = self._cache.get(version)
        if cached is not None:
            return cached
        found = await self._store.get_brand(user, brand_id)
        if found is None:
            raise missing
        meta, logo = found
        brand = Brand(meta.id, meta.version, orjson.loads(meta.look), logo)
        self._cache.put(meta.version, brand)
        return brand

    # -- the brands themselves ----------------------------------------------------------------
    async def _look(self, body: Mapping[str, object]) -> tuple[str, str, bytes]:
        """Name, look JSON and logo PNG of a body: validated, the logo fetched (400 naming
        ``logo`` when it cannot be) and re-encoded."""
        name, look = parse_brand(body, self._resolve_font)
        logo = b""
        if "logo" in look:
            logo = await asyncio.to_thread(_stored_png, await self._fetch_logo(look["logo"]))
            if len(logo) > MAX_LOGO_BYTES:
                raise ValidationError.field(
                    "logo", f"the re-encoded image is larger than {MAX_LOGO_BYTES} bytes"
                )
        return name, orjson.dumps(look, option=orjson.OPT_SORT_KEYS).decode(), logo

    async def create(self, user: str, body: Mapping[str, object]) -> BrandMeta:
        brand_id = new_id(PREFIX, ID_LENGTH)
        name, look, logo = await self._look(body)
        stamp = now_iso()
        meta = BrandMeta(brand_id, user, name, look, _version(brand_id, look, logo), stamp, stamp)
        if not await self._store.create_brand(meta, logo, self.max_per_user):
            raise BrandLimitError(f"A user may have at most {self.max_per_user} brands")
        return meta

    async def update(self, user: str, brand_id: str, body: Mapping[str, object]) -> BrandMeta:
        """Replaces the brand's name and whole look (fields left out are unset)."""
        current = await self._store.brand_version(user, brand_id)
        if current is None:
            raise BrandNotFoundError()
        name, look, logo = await self._look(body)
        version = _version(brand_id, look, logo)
        meta = BrandMeta(brand_id, user, name, look, version, "", now_iso())
        stored = await self._store.update_brand(meta, logo)
        if stored is None:  # deleted meanwhile
            raise BrandNotFoundError()
        return stored

    async def delete(self, user: str, brand_id: str) -> None:
        if not await self._store.delete_brand(user, brand_id):
            raise BrandNotFoundError()

    async def get(self, user: str, brand_id: str) -> BrandMeta:
        found = await self._store.get_brand(user, brand_id)
        if found is None:
            raise BrandNotFoundError()
        return found[0]

    async def list(self, user: str) -> list[BrandMeta]:
        """The user's brands, newest first."""
        return await self._store.list_brands(user)

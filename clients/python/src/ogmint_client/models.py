"""What the API answers with, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ogmint_client.errors import OgmintError


@dataclass(frozen=True, slots=True)
class Render:
    """A V2 render: its slug and public image URL; ``cached`` for a dedup hit."""

    slug: str
    url: str
    cached: bool
    webhook_dispatched: bool

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Render:
        return cls(
            slug=doc["slug"],
            url=doc["url"],
            cached=bool(doc.get("cached", False)),
            webhook_dispatched=bool(doc.get("webhook_dispatched", False)),
        )


@dataclass(frozen=True, slots=True)
class Template:
    """A custom template (SPEC §5.1): ``sizes`` lists the presets it renders; ``svg`` and
    ``size_svgs`` (its document per other preset, as uploaded in ``sizes``) are set only by
    ``templates.get``."""

    id: str
    name: str | None
    version: str
    fields: list[dict[str, Any]]
    created_at: str
    updated_at: str
    svg: str | None = field(default=None, repr=False)
    sizes: list[str] = field(default_factory=list)
    size_svgs: dict[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Template:
        return cls(
            id=doc["id"],
            name=doc.get("name"),
            version=doc["version"],
            fields=list(doc.get("fields") or []),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            svg=doc.get("svg"),
            sizes=list(doc.get("sizes") or []),
            size_svgs=doc.get("sizeSvgs"),
        )


@dataclass(frozen=True, slots=True)
class SigningKeyInfo:
    """An active signing key as listed (the secret is only shown at creation)."""

    id: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand (SPEC §6.1): a saved look that renders name with ``brand=<id>``. Colours are
    canonical ``rrggbb``; a field the brand does not set is ``None``; ``logo`` is the URL it
    was fetched from when saved (the server keeps the image)."""

    id: str
    name: str
    bg_color: str | None
    text_color: str | None
    accent_color: str | None
    surface_color: str | None
    palette: str | None
    font: str | None
    logo: str | None
    version: str
    created_at: str
    updated_at: str

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Brand:
        return cls(
            id=doc["id"],
            name=doc["name"],
            bg_color=doc.get("bgColor"),
            text_color=doc.get("textColor"),
            accent_color=doc.get("accentColor"),
            surface_color=doc.get("surfaceColor"),
            palette=doc.get("palette"),
            font=doc.get("font"),
            logo=doc.get("logo"),
            version=doc["version"],
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )


@dataclass(frozen=True, slots=True)
class StoredRender:
    """A stored render as listed (SPEC §3.1 ``R``); ``params`` and ``deliveries`` are set only by
    ``renders.get`` (the canonical render parameters, and its webhook deliveries with attempts)."""

    slug: str
    url: str
    template: str
    format: str
    width: int
    height: int
    bytes: int
    created_at: str
    params: dict[str, Any] | None = field(default=None, repr=False)
    deliveries: list[dict[str, Any]] | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StoredRender:
        return cls(
            slug=doc["slug"],
            url=doc["url"],
            template=doc["template"],
            format=doc["format"],
            width=int(doc["width"]),
            height=int(doc["height"]),
            bytes=int(doc["bytes"]),
            created_at=doc["createdAt"],
            params=doc.get("params"),
            deliveries=doc.get("deliveries"),
        )


@dataclass(frozen=True, slots=True)
class RenderPage:
    """One page of ``renders.list``: newest first; ``next_cursor`` is None on the last page."""

    renders: list[StoredRender]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One item's answer in a batch: exactly what a single render would have answered. On
    success ``render`` is set (``status`` 201 or 200 for a dedup hit); otherwise ``error``."""

    status: int
    render: Render | None
    error: OgmintError | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """How a text field was fitted by ``validate``: its lines, font size and truncation."""

    lines: list[str]
    font_size: float
    truncated: bool


@dataclass(frozen=True, slots=True)
class Validation:
    """A dry run's layout (SPEC §3.1 validate): the size and each text field's fitting."""

    width: int
    height: int
    fields: dict[str, FieldLayout]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Validation:
        fields = {
            name: FieldLayout(
                lines=list(f.get("lines") or []),
                font_size=f.get("fontSize", 0),
                truncated=bool(f.get("truncated", False)),
            )
            for name, f in (doc.get("fields") or {}).items()
        }
        return cls(width=int(doc["width"]), height=int(doc["height"]), fields=fields)


@dataclass(frozen=True, slots=True)
class UsageDay:
    """Renders on one UTC day: V1, V2 and free dedup hits."""

    date: str
    v1: int
    v2: int
    dedup: int


@dataclass(frozen=True, slots=True)
class Usage:
    """This month's usage (SPEC §3.1): plan, quota, used, remaining, reset time, per day."""

    plan: str
    quota: int | None
    used: int
    remaining: int | None
    resets_at: str
    days: list[UsageDay]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Usage:
        return cls(
            plan=doc["plan"],
            quota=doc.get("quota"),
            used=int(doc["used"]),
            remaining=doc.get("remaining"),
            resets_at=doc["resetsAt"],
            days=[
                UsageDay(d["date"], int(d["v1"]), int(d["v2"]), int(d["dedup"]))
                for d in doc.get("days") or []
            ],
        )

"""What the API answers with, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """A custom template (SPEC §5.1); ``svg`` is set only by ``templates.get``."""

    id: str
    name: str | None
    version: str
    fields: list[dict[str, Any]]
    created_at: str
    updated_at: str
    svg: str | None = field(default=None, repr=False)

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

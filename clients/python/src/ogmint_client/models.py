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

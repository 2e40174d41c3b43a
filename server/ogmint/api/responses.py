"""Response builders: JSON via orjson, images with cache headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import orjson
from sanic import HTTPResponse

from ogmint.rendering.formats import content_type_of


def json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(
        orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def image(data: bytes, headers: dict[str, str], content_type: str = "image/png") -> HTTPResponse:
    return HTTPResponse(data, status=200, headers=headers, content_type=content_type)


def not_modified(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``etag``; ``*`` matches any current representation."""
    return if_none_match.strip() == "*" or etag in if_none_match


def preview(data: bytes, headers: dict[str, str]) -> HTTPResponse:
    """An unstored image (a preview): its type is read from its bytes."""
    return image(data, headers, content_type_of(data))


@dataclass(frozen=True, slots=True)
class Answer:
    """A JSON answer before it is sent: what an endpoint says for a key holder's call, so the
    dashboard's try-it form shows exactly what the API would."""

    body: dict[str, object]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> HTTPResponse:
        return json(self.body, self.status, self.headers or None)


class Stamped(Protocol):
    """A user's named, versioned resource (a brand, a custom template)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def updated_at(self) -> str: ...


def resource_json(meta: Stamped, **fields: object) -> dict[str, object]:
    """A resource's JSON: id and name, its own ``fields``, then version and times."""
    return {
        "id": meta.id,
        "name": meta.name,
        **fields,
        "version": meta.version,
        "createdAt": meta.created_at,
        "updatedAt": meta.updated_at,
    }


def one(kind: str, item: dict[str, object], status: int = 200) -> HTTPResponse:
    """``{"success": true, kind: item}``: a resource made, read or changed."""
    return json({"success": True, kind: item}, status=status)


def listed(kind: str, items: list[dict[str, object]]) -> Answer:
    """``{"success": true, kind: [...]}``: a user's resources."""
    return Answer({"success": True, kind: items})


def deleted() -> HTTPResponse:
    """``{"success": true}``: a resource deleted."""
    return json({"success": True})

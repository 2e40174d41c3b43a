"""Response builders: JSON via orjson, images with cache headers."""

from __future__ import annotations

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

"""Response builders: JSON via orjson, images with cache headers."""

from __future__ import annotations

import orjson
from sanic import HTTPResponse


def json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(
        orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def image(data: bytes, headers: dict[str, str], content_type: str = "image/png") -> HTTPResponse:
    return HTTPResponse(data, status=200, headers=headers, content_type=content_type)


def not_modified(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``etag``; ``*`` matches any current representation."""
    return if_none_match.strip() == "*" or etag in if_none_match


def png(data: bytes, headers: dict[str, str]) -> HTTPResponse:
    return image(data, headers)

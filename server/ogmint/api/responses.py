"""Response builders: JSON via orjson, images with cache headers."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from sanic import HTTPResponse


def json(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(
        orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def png(data: bytes, headers: Mapping[str, str]) -> HTTPResponse:
    return HTTPResponse(data, status=200, headers=headers, content_type="image/png")

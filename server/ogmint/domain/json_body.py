"""Request bodies of the JSON API: one JSON object."""

from __future__ import annotations

from typing import Any

import orjson

from ogmint.errors import BadJSONError


def json_object(raw: bytes) -> dict[str, Any]:
    """``raw`` parsed, which must be a JSON object (400 ``invalid_json`` otherwise)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadJSONError(f"Request body is not valid JSON: {e}") from e
    if not isinstance(body, dict):
        raise BadJSONError("Request body must be a JSON object")
    return body

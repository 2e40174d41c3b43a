"""Request bodies of the JSON API: one JSON object, each name given once."""

from __future__ import annotations

import json
from typing import Any

import orjson

from ogmint.errors import BadJSONError, FieldError


def json_object(raw: bytes) -> dict[str, Any]:
    """``raw`` parsed, which must be a JSON object (400 ``invalid_json`` otherwise); a name
    given twice in one object is a 400 naming it."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadJSONError(f"Request body is not valid JSON: {e}") from e
    if not isinstance(body, dict):
        raise BadJSONError("Request body must be a JSON object")
    _names_once(raw)
    return body


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            message = "is given twice; give each name once"
            raise BadJSONError(f"{name}: {message}", [FieldError(name, message)])
        seen.add(name)


def _names_once(raw: bytes) -> None:
    """400 for a name repeated in any object of ``raw`` (valid JSON). orjson keeps the last
    value silently, while a proxy or gateway in front may have read the first: which one
    counts is ambiguous, so neither does. Read again by the standard library, the only parser
    here that shows an object's pairs, with nothing kept."""
    try:
        json.loads(raw, object_pairs_hook=_refuse_repeats)
    except RecursionError:
        # Deeper than the standard parser goes: such a body is refused for its depth (a
        # metadata bound) or its types anyway.
        return

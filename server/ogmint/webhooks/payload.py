"""The ``render.completed`` body, serialised exactly as JavaScript's ``JSON.stringify`` would.

Receivers often verify the signature over ``JSON.stringify(JSON.parse(body))`` instead of the
raw bytes, so the body must be a fixed point of that round trip: compact, the documented key
order, JavaScript's number formatting and string escaping, and the property order JavaScript
objects use (array-index keys first, ascending; then insertion order).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from ogmint.state.renders import RenderRecord

EVENT = "render.completed"

# JSON.stringify's escapes: short forms for five controls, \u00xx (lower-case) for the rest of
# C0, and for lone surrogates (well-formed JSON.stringify, ES2019). Everything else is literal.
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_MAX_ARRAY_INDEX = 2**32 - 2
_MAX_SAFE_INT = 2**53
#: orjson parses integer literals from 2**64 on as doubles, hiding the rounding from _js_int.
_MAX_INT = 2**64
#: Deepest nesting of ``metadata`` accepted (deeper would only exhaust the stack).
MAX_DEPTH = 32
_REPR = re.compile(r"([0-9]+)(?:\.([0-9]+))?(?:e([+-][0-9]+))?")


class NotRepresentable(ValueError):
    """A value has no exact JavaScript equivalent (a number JS would change)."""


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _SHORT.get(ch) or f"\\u{ord(ch):04x}"


def js_string(value: str) -> str:
    """A string literal exactly as ``JSON.stringify`` writes it."""
    return '"' + _ESCAPED.sub(_escape, value) + '"'


def js_number(value: float) -> str:
    """``Number.prototype.toString`` (ECMA-262 Number::toString) of a finite double."""
    if not math.isfinite(value):
        raise NotRepresentable("numbers must be finite")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-tripping digits, the same digits JavaScript picks.
    match = _REPR.fullmatch(repr(abs(value)))
    if match is None:
        raise NotRepresentable(f"unexpected float form {value!r}")
    whole, frac, exp = match.group(1), match.group(2) or "", int(match.group(3) or 0)
    raw = whole + frac
    significant = raw.lstrip("0")
    # ECMA's ``n``: where the decimal point sits relative to the first significant digit.
    point = len(whole) + exp - (len(raw) - len(significant))
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        text = digits + "0" * (point - k)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        e = point - 1
        exponent = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        text = digits + exponent if k == 1 else digits[0] + "." + digits[1:] + exponent
    return sign + text


def _js_int(value: int) -> str:
    if abs(value) >= _MAX_SAFE_INT and int(float(value)) != value:
        raise NotRepresentable(f"integer {value} is not exactly representable in JavaScript")
    return js_number(float(value))


def _is_array_index(key: str) -> bool:
    return _ARRAY_INDEX.fullmatch(key) is not None and int(key) <= _MAX_ARRAY_INDEX


def _object(value: Mapping[str, object]) -> str:
    # JavaScript objects enumerate array-index keys first, in ascending numeric order.
    indexes = sorted((k for k in value if _is_array_index(k)), key=int)
    others = [k for k in value if not _is_array_index(k)]
    return "{" + ",".join(f"{js_string(k)}:{js_json(value[k])}" for k in indexes + others) + "}"


def js_json(value: object) -> str:
    """``JSON.stringify(value)`` for the JSON data model (what ``orjson.loads`` returns).

    Raises :class:`NotRepresentable` for values the round trip would change (NaN, infinities,
    integers beyond 2**53 that a double cannot hold exactly).
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, int):
        return _js_int(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("object keys must be strings")
        return _object(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def shape(value: object) -> tuple[int, bool]:
    """The nesting depth of a JSON value (counted up to ``MAX_DEPTH + 1``), and whether it
    holds an integral double of 2**64 or more: what orjson makes of a too-large integer
    literal, so the text must be read again to tell (see :data:`_MAX_INT`)."""
    deepest, big = 0, False
    stack = [(value, 0)]
    while stack and deepest <= MAX_DEPTH:
        item, depth = stack.pop()
        if isinstance(item, Mapping | list):
            deepest = max(deepest, depth + 1)
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and abs(item) >= _MAX_INT and item.is_integer():
            big = True
    return deepest, big


def render_completed(record: RenderRecord, url: str, metadata: Mapping[str, object]) -> bytes:
    """The exact body of the ``render.completed`` event for ``record`` (SPEC §4)."""
    data = {
        "url": url,
        "slug": record.slug,
        "template": record.template,
        "metadata": dict(metadata),
        "createdAt": record.created_at,
    }
    # Built by hand, not via _object: the documented key order is part of the contract.
    fields = ",".join(f"{js_string(k)}:{js_json(v)}" for k, v in data.items())
    return f'{{"event":{js_string(EVENT)},"data":{{{fields}}}}}'.encode()

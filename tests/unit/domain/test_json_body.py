"""Request bodies: one JSON object, or 400 ``invalid_json``."""

from __future__ import annotations

import pytest

from ogmint.domain.json_body import json_object
from ogmint.errors import BadJSONError


def test_only_an_object_is_a_body() -> None:
    assert json_object(b'{"a": 1}') == {"a": 1}
    for raw in (b"", b"{", b"[]", b'"x"', b"\xff"):
        with pytest.raises(BadJSONError):
            json_object(raw)

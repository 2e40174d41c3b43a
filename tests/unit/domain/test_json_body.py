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


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b'{"size": "og", "size": "story"}', "size"),
        (b'{"title": "a", "\\u0074itle": "b"}', "title"),  # the same name, escaped
        (b'{"items": [{"title": "a"}, {"scale": 1, "scale": 3}]}', "scale"),  # a batch item
        (b'{"metadata": {"a": {"b": 1, "b": 2}}}', "b"),
    ],
)
def test_a_name_given_twice_is_refused_naming_it(raw: bytes, name: str) -> None:
    # Review 2026-12: the last value won silently (orjson), so a gateway reading the first
    # saw another request than the app.
    with pytest.raises(BadJSONError) as e:
        json_object(raw)
    assert [d.field for d in e.value.details] == [name]


def test_same_names_in_different_objects_are_fine() -> None:
    raw = b'{"items": [{"title": "a"}, {"title": "b"}], "title": "c"}'
    assert json_object(raw)["title"] == "c"
    # Within orjson's depth, past the standard parser's recursion: parsed, not a 500.
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    assert "a" in json_object(deep)

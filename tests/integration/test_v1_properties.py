"""Property: any V1 query string gives a PNG or a typed 4xx JSON error, never a 5xx."""

from __future__ import annotations

import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Server
from support import assert_error, request

NAMES = [
    "template",
    "title",
    "description",
    "tag",
    "author",
    "font",
    "bgColor",
    "bg",
    "textColor",
    "accent",
    "surfaceColor",
    "palette",
    "avatar",
    "junk",
]
VALUES = st.one_of(
    st.text(max_size=260),
    st.sampled_from(["blog", "ff00AA", "paper", "Inter", "https://127.0.0.1/x.png", "🎉" * 3]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=8))
def test_any_query_is_png_or_typed_4xx(server: Server, params: dict[str, str]) -> None:
    query = urllib.parse.urlencode(params)
    reply = request(f"{server.url}/api/og?{query}")
    if reply.status == 200:
        assert reply.body.startswith(b"\x89PNG")
    else:
        assert_error(reply, 400)

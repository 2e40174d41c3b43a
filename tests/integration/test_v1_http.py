"""V1 ``GET /api/og`` through real HTTP against a running server (SPEC §1, §2, §7)."""

from __future__ import annotations

import concurrent.futures
import urllib.parse

import pytest

from conftest import Server
from support import Reply, assert_error, request

BASE = {"template": "blog", "title": "Hello World", "author": "Jane", "palette": "sunset"}


def og(server: Server, headers: dict[str, str] | None = None, **params: str):  # type: ignore[no-untyped-def]
    query = urllib.parse.urlencode(params)
    return request(f"{server.url}/api/og?{query}", headers=headers)


def test_renders_png_with_cache_headers(server: Server) -> None:
    r = og(server, **BASE)
    assert r.status == 200
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=86400, s-maxage=86400"
    assert r.headers["etag"].startswith('"')
    img = r.image()
    assert img.size == (1200, 630)
    assert img.format == "PNG"
    for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert h in r.headers


def test_if_none_match_gives_304(server: Server) -> None:
    etag = og(server, **BASE).headers["etag"]
    r = og(server, headers={"If-None-Match": etag}, **BASE)
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == etag


def test_aliases_unknown_params_and_palette_spelled_out_share_etag(server: Server) -> None:
    a = og(server, template="blog", title="Same", bgColor="112233", textColor="FFFFFF")
    b = og(server, template="blog", title="Same", bg="112233", text="ffffff", utm_source="x")
    assert a.status == b.status == 200
    assert a.headers["etag"] == b.headers["etag"]
    # The paper palette spelled out as its four colours is the same render.
    c = og(server, template="blog", title="P", palette="paper")
    d = og(
        server,
        template="blog",
        title="P",
        bg="faf7f0",
        text="1c1917",
        accent="b45309",
        surfaceColor="efe8da",
    )
    assert c.headers["etag"] == d.headers["etag"]
    # Colours as Figma and CSS hand them out (`#`, sent as %23; three digits; any case).
    e = og(server, template="blog", title="Same", bgColor="#123", accent="#FF5A3C", text="FFF")
    f = og(server, template="blog", title="Same", bg="112233", accent="ff5a3c", text="ffffff")
    assert e.status == f.status == 200
    assert e.headers["etag"] == f.headers["etag"]


def test_explicit_colour_beats_palette(server: Server) -> None:
    r = og(
        server,
        template="blog",
        title="Red",
        palette="paper",
        bgColor="ff0000",
        surfaceColor="ff0000",
    )
    px = r.image().convert("RGB").getpixel((5, 620))
    assert px[0] > 200 and px[1] < 60 and px[2] < 60, px


def test_conflicting_aliases_are_rejected(server: Server) -> None:
    assert_error(
        og(server, template="blog", title="x", bgColor="000000", bg="ffffff"), 400, "bgColor"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"template": "blog"}, "title"),
        ({"template": "blog", "title": ""}, "title"),
        ({"template": "blog", "title": "x" * 201}, "title"),
        ({"template": "blog", "title": "x", "description": "d" * 501}, "description"),
        ({"template": "blog", "title": "x", "tag": "t" * 51}, "tag"),
        ({"template": "blog", "title": "x", "author": "a" * 101}, "author"),
        ({"template": "nope", "title": "x"}, "template"),
        ({"title": "x"}, "template"),
        ({"template": "blog", "title": "x", "bgColor": "#00000"}, "bgColor"),
        ({"template": "blog", "title": "x", "accent": "12345g"}, "accent"),
        ({"template": "blog", "title": "x", "palette": "neon"}, "palette"),
        ({"template": "blog", "title": "x", "font": "Comic Sans MS"}, "font"),
        ({"template": "blog", "title": "x", "avatar": "http://example.com/a.png"}, "avatar"),
        ({"template": "blog", "title": "x", "logo": "data:image/png;base64,AAAA"}, "logo"),
        ({"template": "blog", "title": "x", "avatar": "https://127.0.0.1/a.png"}, "avatar"),
        ({"template": "blog", "title": "x", "logo": "https://localhost/l.png"}, "logo"),
        ({"template": "blog", "title": "x", "avatar": "https://2130706433/a.png"}, "avatar"),
    ],
)
def test_bad_parameters_get_400_naming_the_field(
    server: Server, params: dict[str, str], field: str
) -> None:
    assert_error(og(server, **params), 400, field)


def test_unknown_font_points_at_font_list(server: Server) -> None:
    body = assert_error(og(server, template="blog", title="x", font="Nope Sans"), 400, "font")
    assert "/api/fonts" in body["error"]


def test_title_length_counts_code_points(server: Server) -> None:
    assert og(server, template="blog", title="🎉" * 200).status == 200
    assert_error(og(server, template="blog", title="🎉" * 201), 400, "title")


def test_font_names_are_case_insensitive(server: Server) -> None:
    lower = og(server, template="blog", title="Serif", font="playfair display")
    proper = og(server, template="blog", title="Serif", font="Playfair Display")
    inter = og(server, template="blog", title="Serif")
    assert lower.status == proper.status == inter.status == 200
    assert lower.headers["etag"] == proper.headers["etag"] != inter.headers["etag"]
    assert lower.body == proper.body != inter.body  # the serif font is drawn, not the default


def test_invalid_api_key_is_401_not_anonymous(server: Server) -> None:
    r = og(server, headers={"x-api-key": "ogm_live_" + "x" * 32}, **BASE)
    assert_error(r, 401)


def test_unknown_route_and_method_are_json(server: Server) -> None:
    assert_error(request(server.url + "/nope"), 404)
    assert_error(request(server.url + "/api/og", method="POST", body=b"{}"), 405)


def test_anonymous_daily_limit_per_ip(server_factory) -> None:  # type: ignore[no-untyped-def]
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="3", OGMINT_TRUSTED_PROXIES="127.0.0.1")
    # Refused requests are free: these 400s use none of the allowance.
    for _ in range(3):
        assert_error(og(s, template="blog", title="x", bg="nothex"), 400, "bg")
    replies = [og(s, template="blog", title=f"n{i}") for i in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in replies] == ["2", "1", "0"]
    assert {r.headers["x-ratelimit-limit"] for r in replies} == {"3"}
    r = og(s, template="blog", title="n4")
    body = assert_error(r, 429)
    assert "daily" in body["error"].lower()
    assert int(r.headers["retry-after"]) > 0
    assert r.headers["x-ratelimit-remaining"] == "0"
    # Another address (believed from X-Forwarded-For: 127.0.0.1 is configured as a trusted proxy)
    # has an allowance of its own.
    other = {"X-Forwarded-For": "203.0.113.9"}
    elsewhere = og(s, headers=other, template="blog", title="elsewhere")
    assert elsewhere.status == 200 and elsewhere.headers["x-ratelimit-remaining"] == "2"


def test_v1_with_a_key_counts_against_the_monthly_quota(server_factory) -> None:  # type: ignore[no-untyped-def]
    s = server_factory(
        OGMINT_PLAN_QUOTAS="free=2,starter=1000,pro=10000,agency=50000",
        OGMINT_ANONYMOUS_DAILY_LIMIT="0",  # so nothing below can pass as anonymous
    )
    key = {"x-api-key": s.create_key("v1-quota", plan="free")}
    first = og(s, headers=key, template="blog", title="Keyed 1")
    assert first.status == 200, first.body
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == (
        "2",
        "1",
    )
    assert_error(og(s, headers=key, template="blog", title=""), 400, "title")  # free
    second = og(s, headers=key, template="blog", title="Keyed 2")
    assert second.status == 200 and second.headers["x-ratelimit-remaining"] == "0"
    over = og(s, headers=key, template="blog", title="Keyed 3")
    assert "monthly" in assert_error(over, 429)["error"].lower()
    # The quota is the user's: V2 with the same key finds it used up too.
    v2 = request(
        s.url + "/api/v2/render",
        "POST",
        {**key, "content-type": "application/json"},
        b'{"template": "blog", "title": "Keyed V2"}',
    )
    assert "monthly" in assert_error(v2, 429)["error"].lower()


def test_forwarded_for_only_from_trusted_proxy(server_factory) -> None:  # type: ignore[no-untyped-def]
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1", OGMINT_TRUSTED_PROXIES="10.9.9.9")
    assert (
        og(s, headers={"X-Forwarded-For": "198.51.100.1"}, template="blog", title="a").status == 200
    )
    # The peer (127.0.0.1) is not trusted here, so a new X-Forwarded-For does not reset the limit.
    r = og(s, headers={"X-Forwarded-For": "198.51.100.2"}, template="blog", title="b")
    assert_error(r, 429)


def test_saturation_answers_503_not_500(server_factory) -> None:  # type: ignore[no-untyped-def]
    s = server_factory(
        OGMINT_RENDER_THREADS="1", OGMINT_RENDER_QUEUE="0", OGMINT_ANONYMOUS_DAILY_LIMIT="100000"
    )
    long = "A long title that wraps and shrinks " * 5
    replies: list[Reply] = []
    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        # 24 concurrent renders on one render thread with no queue must meet a full pool; more
        # rounds only for a machine so loaded that the requests arrived one by one.
        for round_ in range(5):
            replies += pool.map(
                lambda i: og(s, template="blog", title=f"{long[:170]} {i}", description="d" * 400),
                range(48 * round_, 48 * (round_ + 1)),
            )
            if any(r.status == 503 for r in replies):
                break
    statuses = [r.status for r in replies]
    assert set(statuses) == {200, 503}, statuses
    for r in replies:
        if r.status == 503:
            assert_error(r, 503)
            assert r.headers["retry-after"] == "1"
    # Refused renders are free: only the 200s used the (single) client address's allowance.
    after = og(s, template="blog", title="After the storm")
    assert after.status == 200
    assert int(after.headers["x-ratelimit-remaining"]) == 100000 - statuses.count(200) - 1


def test_templates_and_fonts_are_listed(server: Server) -> None:
    t = request(server.url + "/api/templates").json()
    names = {x["name"] for x in t["templates"]}
    assert "blog" in names
    blog = next(x for x in t["templates"] if x["name"] == "blog")
    title = {"name": "title", "type": "text", "required": True, "maxLength": 200, "custom": False}
    assert title in blog["fields"]
    assert set(t["palettes"]) == {"midnight", "paper", "forest", "sunset", "ocean", "light", "dark"}
    f = request(server.url + "/api/fonts").json()
    families = {x["family"] for x in f["fonts"]}
    assert "Inter" in families and len(families) >= 25


def test_health_and_openapi(server: Server) -> None:
    assert request(server.url + "/healthz").json() == {"status": "ok"}
    assert request(server.url + "/readyz").json() == {"status": "ready"}
    doc = request(server.url + "/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/api/og" in doc["paths"]

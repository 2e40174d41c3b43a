"""V2 ``POST /api/v2/render`` and ``/i/{slug}`` through real HTTP, on both backends:
embedded (SQLite + local files) and scale-out (real redis-server + real S3-protocol server)."""

from __future__ import annotations

import concurrent.futures
import re
import uuid
from collections.abc import Callable, Iterator

import orjson
import pytest
import redis

from backends import RedisServer, S3Server
from conftest import Server
from support import Reply, assert_error, request

BODY = {"template": "blog", "title": "Hello V2", "author": "Ada", "palette": "ocean"}


@pytest.fixture(scope="module", params=["embedded", "redis-s3"])
def backend(
    request: pytest.FixtureRequest,
    server_factory: Callable[..., Server],
) -> dict[str, str]:
    """Settings selecting the backend; each test module gets fresh state."""
    if request.param == "embedded":
        return {}
    redis: RedisServer = request.getfixturevalue("redis_server")
    s3: S3Server = request.getfixturevalue("s3_server")
    return {
        **redis.namespace(),
        **s3.env(),
        "OGMINT_S3_PREFIX": "v2test",
    }


#: SPEC quotas, except a tiny starter plan so the quota test stays quick.
QUOTAS = "free=100,starter=3,pro=10000,agency=50000"
SLUG = re.compile(r"[A-Za-z0-9]{8}")


@pytest.fixture(scope="module")
def srv(backend: dict[str, str], server_factory: Callable[..., Server]) -> Iterator[Server]:
    s = server_factory(OGMINT_PLAN_QUOTAS=QUOTAS, **backend)
    yield s
    s.stop()  # before the other backend's server starts: one idle server less


def render(server: Server, key: str | None, body: object) -> Reply:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return request(server.url + "/api/v2/render", "POST", headers, data)


def test_new_render_then_dedup_hit(srv: Server) -> None:
    key = srv.create_key("alice")
    first = render(srv, key, BODY)
    assert first.status == 201, first.body
    body = first.json()
    assert body["success"] is True
    assert SLUG.fullmatch(body["slug"]), body
    assert body["url"] == f"{srv.url}/i/{body['slug']}"
    assert body["webhook_dispatched"] is False
    assert "cached" not in body
    for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert h in first.headers
    # Same render: other webhook fields, aliases, palette spelled out as its colours.
    again = render(
        srv,
        key,
        {
            "template": "blog",
            "title": "Hello V2",
            "author": "Ada",
            "bg": "061a2b",
            "text": "E6F6FF",
            "accentColor": "38bdf8",
            "surfaceColor": "0c2a44",
            "webhookUrl": "https://hooks.example.com/x",
            "webhookSecret": "s3cret",
            "metadata": {"post": 42},
        },
    )
    assert again.status == 200, again.body
    assert again.json() == {**body, "cached": True}
    # Storage locations never leak: every field is one of these, and the only URL is ours.
    assert set(body) == {
        "success",
        "slug",
        "url",
        "webhook_dispatched",
        "width",
        "height",
        "format",
    }
    assert (body["width"], body["height"], body["format"]) == (1200, 630, "png")


def test_dedup_hit_uses_no_quota(srv: Server) -> None:
    key = srv.create_key("quota-user", plan="free")
    first = render(srv, key, {**BODY, "title": "Quota"})
    remaining = int(first.headers["x-ratelimit-remaining"])
    assert first.headers["x-ratelimit-limit"] == "100"
    render(srv, key, {**BODY, "title": "Quota"})
    third = render(srv, key, {**BODY, "title": "Quota 2"})
    assert third.status == 201
    assert int(third.headers["x-ratelimit-remaining"]) == remaining - 1


def test_dedup_is_per_api_key(srv: Server) -> None:
    a = render(srv, srv.create_key("k1"), {**BODY, "title": "Per key"})
    b = render(srv, srv.create_key("k2"), {**BODY, "title": "Per key"})
    assert a.status == b.status == 201
    assert a.json()["slug"] != b.json()["slug"]


def test_dedup_is_per_api_key_of_one_user(srv: Server) -> None:
    first, second = srv.create_key("two-keys"), srv.create_key("two-keys")
    a = render(srv, first, {**BODY, "title": "Per key, one user"})
    b = render(srv, second, {**BODY, "title": "Per key, one user"})
    assert a.status == b.status == 201  # each key renders its own
    assert a.json()["slug"] != b.json()["slug"]
    for key, made in ((first, a), (second, b)):
        again = render(srv, key, {**BODY, "title": "Per key, one user"})
        assert again.status == 200
        assert again.json()["slug"] == made.json()["slug"]


def test_failed_render_is_refunded(srv: Server) -> None:
    key = srv.create_key("v2-refunds", plan="free")
    first = render(srv, key, {**BODY, "title": "Charged"})
    assert first.status == 201
    remaining = int(first.headers["x-ratelimit-remaining"])
    # Admitted (burst token, quota), then the avatar's address is refused when fetched.
    failed = render(srv, key, {**BODY, "title": "Refunded", "avatar": "https://10.0.0.1/a.png"})
    assert_error(failed, 400, "avatar")
    again = render(srv, key, {**BODY, "title": "Charged again"})
    assert again.status == 201
    assert int(again.headers["x-ratelimit-remaining"]) == remaining - 1


def test_image_endpoint_serves_exact_bytes(srv: Server) -> None:
    key = srv.create_key("img")
    slug = render(srv, key, {**BODY, "title": "Served"}).json()["slug"]
    rendered = request(f"{srv.url}/api/og?template=blog&title=Served&author=Ada&palette=ocean")
    got = request(f"{srv.url}/i/{slug}")
    assert got.status == 200
    assert got.headers["content-type"] == "image/png"
    assert got.image().size == (1200, 630)
    assert "immutable" in got.headers["cache-control"]
    etag = got.headers["etag"]
    head = request(f"{srv.url}/i/{slug}", "HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["etag"] == etag
    assert int(head.headers["content-length"]) == len(got.body)
    assert request(f"{srv.url}/i/{slug}", headers={"If-None-Match": etag}).status == 304
    assert got.body == rendered.body  # the same render as V1 draws, byte for byte


def test_stored_image_is_served_by_another_server(
    srv: Server, backend: dict[str, str], server_factory: Callable[..., Server]
) -> None:
    """The storage read path: a server that did not render the image (so has it in no memory
    cache) reads it back from the backend, local files or S3, byte for byte."""
    key = srv.create_key("img-elsewhere")
    slug = render(srv, key, {**BODY, "title": "Stored"}).json()["slug"]
    original = request(f"{srv.url}/i/{slug}")
    assert original.status == 200
    env = {**backend, "OGMINT_PLAN_QUOTAS": QUOTAS, "OGMINT_DATA_DIR": str(srv.data_dir)}
    other = server_factory(**env)
    try:
        got = request(f"{other.url}/i/{slug}")
        assert got.status == 200, got.body[:300]
        assert got.body == original.body
        assert got.headers["etag"] == original.headers["etag"]
        head = request(f"{other.url}/i/{slug}", "HEAD")
        assert int(head.headers["content-length"]) == len(original.body)
        assert_error(request(f"{other.url}/i/zzzzzzzz"), 404)
    finally:
        other.stop()


@pytest.mark.parametrize("slug", ["zzzzzzzz", "short", "../../etc", "a" * 9])
def test_unknown_slug_is_404_json(srv: Server, slug: str) -> None:
    assert_error(request(f"{srv.url}/i/{slug}"), 404)


def test_auth_errors(srv: Server) -> None:
    assert_error(render(srv, None, BODY), 401)
    assert_error(render(srv, "ogm_live_" + "0" * 40, BODY), 401)
    key = srv.create_key("revoked")
    key_id = next(
        line.split("\t")[0] for line in srv.cli("keys", "list", "--user", "revoked").splitlines()
    )
    srv.cli("keys", "revoke", key_id)
    assert_error(render(srv, key, BODY), 401)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"[1, 2]", 400, None),
        ({"template": "blog"}, 400, "title"),
        ({**BODY, "unknown": 1}, 400, "unknown"),
        ({**BODY, "title": 7}, 400, "title"),
        ({**BODY, "bg": "000000", "bgColor": "ffffff"}, 400, "bgColor"),
        ({**BODY, "webhookUrl": "http://x.example.com"}, 400, "webhookUrl"),
        ({**BODY, "webhookSecret": "s" * 101}, 400, "webhookSecret"),
        ({**BODY, "metadata": [1]}, 400, "metadata"),
        ({**BODY, "metadata": {"x": "y" * 5000}}, 400, "metadata"),
        ({**BODY, "template": "custom_nope"}, 404, "template"),
    ],
)
def test_bad_bodies(srv: Server, body: object, status: int, field: str | None) -> None:
    # One user per case: the burst limit (5/s per user) must not decide the outcome.
    key = srv.create_key(f"bad-bodies-{uuid.uuid4().hex}", plan="agency")
    assert_error(render(srv, key, body), status, field)


def test_body_too_large_is_413(srv: Server) -> None:
    key = srv.create_key("big")
    assert_error(render(srv, key, b'{"title": "' + b"x" * 200_000 + b'"}'), 413)


def test_burst_limit_is_429_with_headers(srv: Server) -> None:
    key = srv.create_key("bursty", plan="agency")
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda i: render(srv, key, b"[]"), range(12)))
    limited = [r for r in replies if r.status == 429]
    assert len(limited) >= 6  # at most 5 tokens (+ a refill) get through
    body = assert_error(limited[0], 429)
    assert "burst" in body["error"].lower()
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].headers["x-ratelimit-limit"] == "5"


def test_monthly_quota_is_429_naming_the_limit(srv: Server) -> None:
    key = srv.create_key("tiny", plan="starter")  # 3 renders a month on this server
    for i in range(3):
        r = render(srv, key, {**BODY, "title": f"Quota {i}", "template": "minimal"})
        assert r.status == 201, r.body
    over = render(srv, key, {**BODY, "title": "One too many", "template": "minimal"})
    body = assert_error(over, 429)
    assert "monthly" in body["error"].lower()
    assert over.headers["x-ratelimit-limit"] == "3"
    assert over.headers["x-ratelimit-remaining"] == "0"
    # Dedup hits stay free even when the quota is used up.
    assert render(srv, key, {**BODY, "title": "Quota 0", "template": "minimal"}).status == 200


def test_redis_prefix_keeps_deployments_apart(
    redis_server: RedisServer, server_factory: Callable[..., Server]
) -> None:
    blue, green = redis_server.namespace(), redis_server.namespace()
    a, b = server_factory(**blue), server_factory(**green)
    try:
        key = a.create_key("prefixed")
        assert render(a, key, {**BODY, "title": "Blue"}).status == 201
        assert_error(render(b, key, {**BODY, "title": "Blue"}), 401)  # another deployment
        client = redis.Redis.from_url(redis_server.url)
        try:
            assert client.keys(blue["OGMINT_REDIS_PREFIX"] + "*")
            assert not client.keys(green["OGMINT_REDIS_PREFIX"] + "*{u:prefixed}*")
        finally:
            client.close()
    finally:
        a.stop()
        b.stop()

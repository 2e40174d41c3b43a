"""The V1 repeat cache over real HTTP (SPEC §2): a card rendered within 24 hours is served
again without rendering and without counting against any limit — anonymous daily, burst,
quota — on both backends, across app servers sharing Redis and S3, with no nginx in front; a
deleted custom template's images leave it. Also the anonymous limit's ``0`` and ``unlimited``
and its 429, which points to signed URLs."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from backends import RedisServer, S3Server
from conftest import ROOT, Server
from ogmint_client import Client, image_url
from support import Reply, assert_error, request

CARD = {"template": "blog", "title": "Asked for again and again", "palette": "forest"}


@pytest.fixture(scope="module", params=["embedded", "redis"])
def srv(request: pytest.FixtureRequest, server_factory: Callable[..., Server]) -> Server:
    env = {"OGMINT_PLAN_QUOTAS": "free=2,starter=1000,pro=10000,agency=50000"}
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        env["OGMINT_REDIS_URL"] = redis.url + "/12"
    return server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1", **env)


def og(server: Server, params: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
    return request(image_url(server.url, params), headers=headers)


def assert_png(reply: Reply) -> None:
    assert reply.status == 200, reply.body[:300]
    assert reply.headers["content-type"] == "image/png"
    assert reply.body.startswith(b"\x89PNG")


def cached_files(server: Server, etag: str) -> list[Path]:
    """The repeat cache's blobs of one card in a server's local storage."""
    return list((server.data_dir / "repeats").rglob(f"{etag.strip(chr(34))}-*"))


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Whether ``check()`` turns true within ``timeout`` (saves happen after the response)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_anonymous_repeats_are_free_and_the_429_points_to_signed_urls(srv: Server) -> None:
    headers = {"x-forwarded-for": "198.51.100.1"}  # not believed: every test here is 127.0.0.1
    first = og(srv, CARD, headers)
    assert_png(first)
    assert first.headers["x-ratelimit-remaining"] == "0"  # the one anonymous render of the day
    for _ in range(5):  # no nginx in front: the app answers repeats itself, free
        again = og(srv, CARD, headers)
        assert_png(again)
        assert again.body == first.body and again.headers["etag"] == first.headers["etag"]
        assert again.headers["cache-control"] == "public, max-age=86400, s-maxage=86400"
    # Spelled differently, the same card is the same ETag: still a repeat.
    query = "palette=forest&title=Asked+for+again+and+again&template=blog&utm_source=junk"
    assert request(f"{srv.url}/api/og?{query}").body == first.body
    refused = og(srv, {**CARD, "title": "A new card"})
    body = assert_error(refused, 429)
    for hint in ("signed URL", "ogmint sign-url", "Embed in your pages"):
        assert hint in body["error"], body["error"]
    assert eventually(lambda: len(cached_files(srv, first.headers["etag"])) == 1)


def test_keyed_repeats_take_no_burst_token_and_no_quota(srv: Server) -> None:
    key = {"x-api-key": srv.create_key("repeat-keyed", plan="free")}  # 2 renders a month
    card = {**CARD, "title": "A key holder's card"}
    assert_png(og(srv, card, key))
    # Twelve at once: the burst bucket holds five, the quota one more render. Repeats take
    # neither, so every one is served.
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda _: og(srv, card, key), range(12)))
    assert [r.status for r in replies] == [200] * 12
    assert not any("x-ratelimit-remaining" in r.headers for r in replies)  # nothing counted
    second = og(srv, {**card, "title": "A second card"}, key)
    assert_png(second)
    assert second.headers["x-ratelimit-remaining"] == "0"  # one render was left, as before
    over = og(srv, {**card, "title": "A third card"}, key)
    assert "monthly" in assert_error(over, 429)["error"].lower()
    assert_png(og(srv, card, key))  # still a repeat, with the quota used up
    # The image is the card's, not the caller's: an anonymous caller gets the repeat too.
    assert_png(og(srv, card))


def test_a_deleted_templates_images_leave_the_cache(srv: Server) -> None:
    api_key = srv.create_key("repeat-template")
    with Client(srv.url, api_key) as client:
        template = client.templates.create((ROOT / "templates" / "minimal.svg").read_text())
        card = {"template": template.id, "title": "From a template soon deleted"}
        first = og(srv, card, {"x-api-key": api_key})
        assert_png(first)
        etag = first.headers["etag"]
        assert eventually(lambda: len(cached_files(srv, etag)) == 1)
        assert og(srv, card, {"x-api-key": api_key}).body == first.body
        client.templates.delete(template.id)
    gone = og(srv, card, {"x-api-key": api_key})
    assert assert_error(gone, 404)["code"] == "template_not_found"
    assert eventually(lambda: cached_files(srv, etag) == [])  # the blob is deleted too


def test_anonymous_limit_zero(server_factory: Callable[..., Server]) -> None:
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="0")
    card = {"template": "minimal", "title": "No anonymous renders here"}
    body = assert_error(og(s, card), 429)
    assert "no anonymous renders" in body["error"] and "signed URL" in body["error"]
    # A card a key holder rendered is a repeat, which is no render: anyone may fetch it.
    assert_png(og(s, card, {"x-api-key": s.create_key("zero")}))
    assert_png(og(s, card))


def test_anonymous_limit_unlimited(server_factory: Callable[..., Server]) -> None:
    s = server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="unlimited")
    for n in range(12):  # more than the default 10
        reply = og(s, {"template": "minimal", "title": f"Unlimited {n}"})
        assert_png(reply)
        assert "x-ratelimit-limit" not in reply.headers  # no limit to report


@pytest.fixture(scope="module")
def pair(
    server_factory: Callable[..., Server],
    redis_server_factory: Callable[[], RedisServer],
    s3_server_factory: Callable[[], S3Server],
) -> tuple[Server, Server, S3Server]:
    """Two app servers sharing a Redis and a (moto) S3, no nginx."""
    redis = redis_server_factory()
    s3 = s3_server_factory()
    env = {
        "OGMINT_REDIS_URL": redis.url,
        **s3.env(),
        "OGMINT_ANONYMOUS_DAILY_LIMIT": "1",
    }
    return server_factory(**env), server_factory(**env), s3


def s3_keys(s3: S3Server, prefix: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    listing = client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def test_a_render_on_one_server_is_a_free_repeat_on_the_other(
    pair: tuple[Server, Server, S3Server],
) -> None:
    a, b, s3 = pair
    card = {"template": "blog", "title": "Rendered once, for both servers"}
    first = og(a, card)
    assert_png(first)  # the address's one anonymous render of the day (shared by both)
    digest = first.headers["etag"].strip('"')
    assert eventually(lambda: any(digest in k for k in s3_keys(s3, "repeats/")))
    for server in (b, a, b):
        again = og(server, card)
        assert_png(again)
        assert again.body == first.body
    assert_error(og(b, {**card, "title": "Not rendered before"}), 429)
    # A key holder's render is shared too, and counted once.
    key = {"x-api-key": a.create_key("pair", plan="free")}
    keyed = {**card, "title": "Keyed, on server b"}
    assert og(b, keyed, key).headers["x-ratelimit-remaining"] == "99"
    assert eventually(lambda: og(a, keyed).status == 200)  # anonymous on a: a repeat
    assert og(a, {**keyed, "title": "Counted"}, key).headers["x-ratelimit-remaining"] == "98"

"""Scale-out: two app server processes sharing one Redis and one S3-protocol server.

Identical concurrent renders produce one render and one slug; limits hold across servers;
when Redis or S3 goes away requests get a quick 503 and service resumes by itself.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import orjson
import pytest

from backends import RedisServer, S3Server
from conftest import Server
from support import Reply, assert_error, assert_names_no_internals, request, until_admitted

BODY = {"template": "blog", "title": "Race", "palette": "forest"}
EXAMPLES = Path(__file__).resolve().parents[2] / "templates" / "examples"


@pytest.fixture(scope="module")
def cluster(
    server_factory: Callable[..., Server],
    redis_server_factory: Callable[[], RedisServer],
    s3_server_factory: Callable[[], S3Server],
) -> tuple[Server, Server, RedisServer, S3Server]:
    redis = redis_server_factory()
    s3 = s3_server_factory()
    env = {
        "OGMINT_REDIS_URL": redis.url,
        **s3.env(),
        "OGMINT_DEPENDENCY_TIMEOUT": "0.5",
        "OGMINT_RENDER_QUEUE": "64",
    }
    return server_factory(**env), server_factory(**env), redis, s3


def render(server: Server, key: str, body: dict[str, object]) -> Reply:
    headers = {"content-type": "application/json", "x-api-key": key}
    return request(server.url + "/api/v2/render", "POST", headers, orjson.dumps(body))


def stored_objects(s3: S3Server) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    listing = client.list_objects_v2(Bucket=s3.bucket)
    return [o["Key"] for o in listing.get("Contents", [])]


def test_identical_concurrent_renders_make_one_image(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, _redis, s3 = cluster
    key = a.create_key("racer", plan="agency")
    before = set(stored_objects(s3))
    # Identical requests racing across the two app servers, in 5-request waves (the burst
    # limit is 5/s). A request the burst limit refused is sent again after its Retry-After, so
    # the outcome does not depend on how fast a loaded machine sends the waves.
    replies: list[Reply] = []
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        for wave in range(5):
            servers = [a, b, a, b, a] if wave % 2 == 0 else [b, a, b, a, b]
            replies += pool.map(lambda s: until_admitted(lambda: render(s, key, BODY)), servers)
    statuses = [r.status for r in replies]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) == {200, 201}, statuses
    slugs = {r.json()["slug"] for r in replies}
    assert len(slugs) == 1
    assert len(set(stored_objects(s3)) - before) == 1


def test_first_wave_races_to_one_slug(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, _redis, s3 = cluster
    keys = [a.create_key(f"wave{i}", plan="agency") for i in range(4)]
    before = set(stored_objects(s3))
    # Four users, five identical requests each, all 20 in flight at once on both servers.
    jobs = [(s, k) for k in keys for s in (a, b, a, b, a)]
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        replies = list(
            pool.map(lambda job: render(job[0], job[1], {**BODY, "title": "Wave"}), jobs)
        )
    assert all(r.status in (200, 201) for r in replies), [r.body for r in replies]
    for k in keys:
        mine = [r for r, job in zip(replies, jobs, strict=True) if job[1] == k]
        assert [r.status for r in mine].count(201) == 1
        assert len({r.json()["slug"] for r in mine}) == 1
    assert len(set(stored_objects(s3)) - before) == len(keys)


def test_burst_limit_holds_across_servers(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, _redis, _s3 = cluster
    key = a.create_key("burster", plan="agency")
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        replies = list(pool.map(lambda i: render((a, b)[i % 2], key, {"bad": i}), range(30)))
    elapsed = time.monotonic() - started
    admitted = [r for r in replies if r.status != 429]
    # Everything admitted is a 400 (bad body): the 5 tokens of a full bucket plus at most what
    # refilled (5/s) while the requests were being answered, however long that took.
    assert {r.status for r in replies} <= {400, 429}
    assert 5 <= len(admitted) <= 5 + int(5 * elapsed) + 1, (len(admitted), elapsed)
    assert len(admitted) < 30  # the bucket did run dry


def test_after_a_template_update_no_server_renders_the_old_version(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, _redis, _s3 = cluster
    key = a.create_key("tpl-scaleout", plan="agency")
    launch = (EXAMPLES / "launch-card.svg").read_text()
    headers = {"content-type": "application/json", "x-api-key": key}
    created = request(a.url + "/api/v2/templates", "POST", headers, orjson.dumps({"svg": launch}))
    assert created.status == 201, created.body
    template_id = created.json()["template"]["id"]
    body = {"template": template_id, "title": "Versions", "palette": "forest"}
    old = render(b, key, body)  # b compiles and caches the first version, and renders it
    assert old.status == 201, old.body
    assert corner(old) == (0x0F, 0x1F, 0x17)  # forest's bg
    # The new version paints the background with the accent colour.
    edited = launch.replace('fill="{{bg}}"', 'fill="{{accent}}"', 1)
    time.sleep(1.1)  # burst tokens for the next calls
    put = request(
        a.url + f"/api/v2/templates/{template_id}", "PUT", headers, orjson.dumps({"svg": edited})
    )
    assert put.status == 200, put.body
    new = render(b, key, body)  # at once, on the other server
    assert new.status == 201, new.body
    assert new.json()["slug"] != old.json()["slug"]
    assert corner(new) == (0x4A, 0xDE, 0x80)  # forest's accent: the new version
    deleted = request(a.url + f"/api/v2/templates/{template_id}", "DELETE", headers)
    assert deleted.status == 200
    assert_error(render(b, key, body), 404)


def corner(reply: Reply) -> tuple[int, int, int]:
    """The colour of the top-right corner of the render's stored image."""
    image = request(reply.json()["url"]).image().convert("RGB")
    r, g, b = image.getpixel((1190, 8))  # type: ignore[misc]
    return r, g, b


def test_redis_outage_gives_quick_503_then_recovers(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, redis, _s3 = cluster
    key = a.create_key("outage", plan="agency")
    redis.stop()
    try:
        started = time.monotonic()
        for server in (a, b):
            r = render(server, key, {**BODY, "title": "During outage"})
            body = assert_error(r, 503)
            assert body["error"] == "State store temporarily unavailable"  # no host:port
            assert int(r.headers["retry-after"]) >= 1
            assert_names_no_internals(r, "127.0.0.1", str(redis.port), "redis")
            v1 = request(a.url + "/api/og?template=blog&title=During+outage")
            assert_error(v1, 503)
            assert_names_no_internals(v1, "127.0.0.1", str(redis.port), "redis")
        assert time.monotonic() - started < 6
        assert_error(request(a.url + "/readyz"), 503)
    finally:
        redis.start()
    # Fresh Redis: state is gone, so create the key again; service resumes without restarts.
    key = a.create_key("outage", plan="agency")
    after = until_admitted(lambda: render(a, key, {**BODY, "title": "After outage"}))
    assert after.status == 201, after.body
    assert request(b.url + "/readyz").status == 200


def test_s3_outage_gives_quick_503_and_no_dangling_slug(cluster) -> None:  # type: ignore[no-untyped-def]
    a, _b, _redis, s3 = cluster
    key = a.create_key("s3down", plan="agency")
    s3.stop()
    try:
        started = time.monotonic()
        r = render(a, key, {**BODY, "title": "S3 is down"})
        body = assert_error(r, 503)
        assert body["error"] == "Image storage temporarily unavailable"
        assert_names_no_internals(
            r, s3.endpoint_url, "127.0.0.1", str(s3.port), s3.bucket, "images/", "S3"
        )
        assert time.monotonic() - started < 8
    finally:
        s3.start()
    # The failed render left nothing behind: the same request now renders (201), not a dedup
    # hit pointing at an image that was never stored.
    again = until_admitted(lambda: render(a, key, {**BODY, "title": "S3 is down"}))
    assert again.status == 201, again.body
    assert request(again.json()["url"]).status == 200

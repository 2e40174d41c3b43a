"""V2 at scale over real HTTP (SPEC §3.1), on both backends — embedded (SQLite + local files)
and scale-out (real redis-server + S3-protocol server, two app servers): renders listed, shown
and deleted, batches, dry runs, the month's usage."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import orjson
import pytest

from backends import RedisServer, S3Server
from conftest import Server
from support import Reply, assert_error, request

QUOTAS = "free=100,starter=4,pro=10000,agency=50000"


@pytest.fixture(scope="module", params=["embedded", "redis-s3"])
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "embedded":
        return {}
    redis: RedisServer = request.getfixturevalue("redis_server")
    s3: S3Server = request.getfixturevalue("s3_server")
    return {
        **redis.namespace(),
        **s3.env(),
        "OGMINT_S3_PREFIX": f"res-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="module")
def servers(
    backend: dict[str, str], server_factory: Callable[..., Server]
) -> Iterator[tuple[Server, Server]]:
    """Two app servers on the same state and storage."""
    first = server_factory(OGMINT_PLAN_QUOTAS=QUOTAS, **backend)
    env = {**backend, "OGMINT_PLAN_QUOTAS": QUOTAS, "OGMINT_DATA_DIR": str(first.data_dir)}
    second = server_factory(**env)
    yield first, second
    second.stop()
    first.stop()


def call(server: Server, method: str, path: str, key: str | None, body: object = None) -> Reply:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    data = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
    return request(server.url + path, method, headers, data)


def refill() -> None:
    """Waits until a user's burst bucket (5 tokens, 5 a second) is full again."""
    time.sleep(1.1)


def render(server: Server, key: str, title: str, **extra: object) -> Reply:
    r = call(server, "POST", "/api/v2/render", key, {"template": "blog", "title": title, **extra})
    assert r.status in (200, 201), r.body
    return r


def test_list_get_and_delete_on_every_server(servers: tuple[Server, Server]) -> None:
    a, b = servers
    key = a.create_key("lister")
    slugs = [render(a, key, f"Listed {n}").json()["slug"] for n in range(3)]
    page = call(b, "GET", "/api/v2/renders?limit=2", key)
    assert page.status == 200, page.body
    listed = page.json()
    assert [r["slug"] for r in listed["renders"]] == slugs[::-1][:2]
    first = listed["renders"][0]
    assert set(first) == {
        "slug",
        "url",
        "template",
        "format",
        "width",
        "height",
        "bytes",
        "createdAt",
    }
    assert (first["template"], first["format"], first["width"], first["height"]) == (
        "blog",
        "png",
        1200,
        630,
    )
    assert first["url"] == f"{b.url}/i/{first['slug']}"  # the answering server's base
    image = request(first["url"])
    assert first["bytes"] == len(image.body)
    refill()
    rest = call(a, "GET", f"/api/v2/renders?limit=2&cursor={listed['nextCursor']}", key).json()
    assert [r["slug"] for r in rest["renders"]] == slugs[:1] and rest["nextCursor"] is None

    one = call(b, "GET", f"/api/v2/renders/{slugs[0]}", key)
    assert one.status == 200, one.body
    detail = one.json()["render"]
    assert detail["params"]["title"] == "Listed 0" and detail["params"]["template"] == "blog"
    assert detail["deliveries"] == []

    # Another user's slug does not exist for this key.
    other = a.create_key("someone-else")
    for method in ("GET", "DELETE"):
        assert (
            assert_error(call(a, method, f"/api/v2/renders/{slugs[0]}", other), 404)["code"]
            == "render_not_found"
        )
    assert call(a, "GET", "/api/v2/renders", other).json()["renders"] == []

    # Both servers have the image in memory; a delete on one stops both at once.
    for s in servers:
        assert request(f"{s.url}/i/{slugs[0]}").status == 200
    refill()
    gone = call(a, "DELETE", f"/api/v2/renders/{slugs[0]}", key)
    assert (gone.status, gone.json()) == (200, {"success": True})
    for s in servers:
        assert_error(request(f"{s.url}/i/{slugs[0]}"), 404)
        assert_error(call(s, "GET", f"/api/v2/renders/{slugs[0]}", key), 404)
    assert (
        assert_error(call(b, "DELETE", f"/api/v2/renders/{slugs[0]}", key), 404)["code"]
        == "render_not_found"
    )
    refill()
    # The dedup entry went with it: the same request renders anew, on either server.
    again = render(b, key, "Listed 0")
    assert again.status == 201 and again.json()["slug"] != slugs[0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=", "limit"),
        ("cursor=", "cursor"),
        ("cursor=bm90LW91cnM", "cursor"),
        ("cursor=%FF%FE", "cursor"),
        ("limit=5&cursor=" + "A" * 300, "cursor"),
    ],
)
def test_bad_list_queries_are_400s_naming_the_field(
    servers: tuple[Server, Server], query: str, field: str
) -> None:
    a, _ = servers
    key = a.create_key(f"bad-lister-{uuid.uuid4().hex[:8]}")
    assert_error(call(a, "GET", f"/api/v2/renders?{query}", key), 400, field)


def test_new_calls_need_a_key(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    for method, path in [
        ("GET", "/api/v2/renders"),
        ("GET", "/api/v2/renders/AbCd1234"),
        ("DELETE", "/api/v2/renders/AbCd1234"),
        ("POST", "/api/v2/render/batch"),
        ("POST", "/api/v2/validate"),
        ("GET", "/api/v2/usage"),
    ]:
        assert_error(call(a, method, path, None, b"{}" if method == "POST" else None), 401)


def test_batch_results_match_single_renders(servers: tuple[Server, Server]) -> None:
    a, b = servers
    key = a.create_key("batcher", "starter")  # 4 renders a month
    single = render(b, key, "Single").json()
    items = [
        {"template": "blog", "title": "Single"},  # a dedup hit of the single render
        {"template": "blog", "title": "Batched"},
        {"template": "blog", "title": "Batched"},  # identical: the same slug
        {"template": "blog", "title": "x", "colour": "red"},  # fails alone
        {"template": "blog", "title": "Third"},
        {"template": "blog", "title": "Fourth"},
        {"template": "blog", "title": "Over"},  # past the quota
    ]
    r = call(b, "POST", "/api/v2/render/batch", key, {"items": items})
    assert r.status == 200, r.body
    results = r.json()["results"]
    assert results[0] == {**single, "cached": True, "status": 200}
    assert results[1]["slug"] == results[2]["slug"]
    assert sorted(x["status"] for x in results[1:3]) == [200, 201]
    new = next(x for x in results[1:3] if x["status"] == 201)
    assert set(new) == {
        *("success", "slug", "url", "webhook_dispatched", "status"),
        *("width", "height", "format"),  # a single render's answer has them too (SPEC §3)
    }
    assert (new["width"], new["height"], new["format"]) == (1200, 630, "png")
    bad = results[3]
    assert (bad["status"], bad["success"], bad["code"]) == (400, False, "invalid_parameters")
    assert [d["field"] for d in bad["details"]] == ["colour"]
    # Items render concurrently but are charged in order: the last one is past the quota.
    assert [x["status"] for x in results[4:]] == [201, 201, 429]
    assert results[6]["code"] == "rate_limited"
    for x in results:
        if x["status"] in (200, 201):
            assert request(f"{a.url}/i/{x['slug']}").status == 200  # durable, on any server
    refill()
    usage = call(a, "GET", "/api/v2/usage", key)
    assert usage.json()["used"] == 4 and usage.json()["remaining"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{", 400, None),
        (b"[]", 400, None),
        ({"items": []}, 400, "items"),
        ({"items": "nope"}, 400, "items"),
        ({"items": [{"template": "blog", "title": "x"}] * 101}, 400, "items"),
        ({"items": [{"template": "blog", "title": "x"}], "extra": True}, 400, "extra"),
        ({}, 400, "items"),
    ],
)
def test_malformed_batches_are_400s(
    servers: tuple[Server, Server], body: object, status: int, field: str | None
) -> None:
    a, _ = servers
    key = a.create_key(f"bad-batcher-{uuid.uuid4().hex[:8]}")
    assert_error(call(a, "POST", "/api/v2/render/batch", key, body), status, field)


def test_validate_answers_the_layout_and_charges_nothing(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    key = a.create_key("validator", "starter")
    body = {"template": "blog", "title": "Does this fit? " * 10, "description": "Yes", "tag": "q"}
    r = call(a, "POST", "/api/v2/validate", key, body)
    assert r.status == 200, r.body
    answer = r.json()
    assert (answer["success"], answer["width"], answer["height"]) == (True, 1200, 630)
    title = answer["fields"]["title"]
    assert (
        len(title["lines"]) >= 2
        and title["fontSize"] > 0
        and title["truncated"]
        in (
            True,
            False,
        )
    )
    assert answer["fields"]["description"] == {
        "lines": ["Yes"],
        "fontSize": answer["fields"]["description"]["fontSize"],
        "truncated": False,
    }
    assert_error(
        call(a, "POST", "/api/v2/validate", key, {"template": "blog", "title": ""}), 400, "title"
    )
    assert_error(
        call(a, "POST", "/api/v2/validate", key, {"template": "custom_nope", "title": "x"}), 404
    )
    refill()
    usage = call(a, "GET", "/api/v2/usage", key).json()
    assert usage["used"] == 0 and call(a, "GET", "/api/v2/renders", key).json()["renders"] == []


def test_usage_agrees_with_the_rate_limit_headers(servers: tuple[Server, Server]) -> None:
    a, b = servers
    key = a.create_key("counter", "starter")
    made = render(a, key, "Counted")
    render(b, key, "Counted")  # a dedup hit: free, counted as dedup
    r = call(b, "GET", "/api/v2/usage", key)
    assert r.status == 200, r.body
    usage = r.json()
    assert (usage["plan"], usage["quota"], usage["used"], usage["remaining"]) == (
        "starter",
        4,
        1,
        3,
    )
    for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert r.headers[h] == made.headers[h]
    assert usage["resetsAt"].endswith("-01T00:00:00.000Z")
    today = usage["days"][-1]
    assert (today["v1"], today["v2"], today["dedup"]) == (0, 1, 1)
    assert usage["days"][0]["date"].endswith("-01")


def test_a_full_batch_on_a_small_pool_gets_no_503(server_factory: Callable[..., Server]) -> None:
    """100 items on one render thread with no queue: the batch admits its renders gradually
    instead of refusing its own fan-out."""
    small = server_factory(
        OGMINT_PLAN_QUOTAS=QUOTAS, OGMINT_RENDER_THREADS="1", OGMINT_RENDER_QUEUE="0"
    )
    try:
        key = small.create_key("big-batch")
        items = [{"template": "minimal", "title": f"Item {i}"} for i in range(100)]
        r = call(small, "POST", "/api/v2/render/batch", key, {"items": items})
        assert r.status == 200, r.body[:300]
        results = r.json()["results"]
        assert [x["status"] for x in results] == [201] * 100
        assert len({x["slug"] for x in results}) == 100
        refill()
        listed = call(small, "GET", "/api/v2/renders?limit=100", key).json()
        assert len(listed["renders"]) == 100 and listed["nextCursor"] is None
    finally:
        small.stop()

"""The Python client kit offline: the shared vectors, webhook verification, the retry policy,
and every V2 call against a local HTTP server (a real socket) answering as SPEC §3.1 says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

import ogmint_client
from kitserver import Answer, Scripted
from ogmint_client import (
    AsyncClient,
    BadRequestError,
    Client,
    FieldLayout,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    SigningKey,
    WebhookVerificationError,
    canonical_query,
    decode_query,
    image_url,
    verify_webhook,
)
from ogmint_client.retries import parse_retry_after
from ogmint_client.signing import unix_expiry

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "clients" / "test-vectors.json").read_text()
)
KEY = SigningKey(VECTORS["kid"], VECTORS["secret"])


def test_public_names() -> None:
    assert set(ogmint_client.__all__) == {
        n for n in dir(ogmint_client) if not n.startswith("_") and n[0].isupper()
    } | {
        "canonical_query",
        "decode_query",
        "image_url",
        "signature",
        "verify_webhook",
        "__version__",
    }


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_signing_vector(vector: dict) -> None:  # type: ignore[type-arg]
    url = image_url("https://og.example.com/", dict(vector["params"]), KEY, vector.get("exp"))
    assert url == "https://og.example.com/api/og?" + vector["signed_query"]
    assert canonical_query(decode_query(vector["query"])) == vector["canonical"]
    client = Client("https://og.example.com", signing_key=KEY)
    assert client.image_url(expires=vector.get("exp"), **dict(vector["params"])) == url
    if "bucket" in vector:  # cache-stable: now + expires_in, rounded up to the bucket
        later = timedelta(seconds=vector["expires_in"])
        params = dict(vector["params"])
        bucketed = image_url(
            "https://og.example.com", params, KEY, later, bucket=vector["bucket"], now=vector["now"]
        )
        assert bucketed == url


def test_no_exp_unless_asked_and_buckets_round_up() -> None:
    client = Client("https://og.example.com", signing_key=KEY)
    assert "exp=" not in client.image_url(template="blog", title="Stable")
    assert client.image_url(template="blog", title="Stable") == client.image_url(
        title="Stable", template="blog"
    )
    day = 86400
    assert unix_expiry(timedelta(days=30), now=10 * day + 1, bucket=day) == 41 * day
    assert unix_expiry(timedelta(days=30), now=11 * day - 1, bucket=day) == 41 * day
    assert unix_expiry(41 * day, bucket=timedelta(days=1)) == 41 * day  # already on a boundary
    with pytest.raises(TypeError):
        unix_expiry(10, bucket=0)
    with pytest.raises(ValueError, match="signing_key"):
        image_url("https://x", {"title": "a"}, bucket=day)


def test_repeated_parameters_are_refused() -> None:
    for case in VECTORS["refused"]:
        if case["name"].startswith("repeated") and case["expect"]["field"] != "sig":
            with pytest.raises(ValueError, match="repeated"):
                canonical_query(decode_query(case["query"]))
    with pytest.raises(ValueError, match="set by the signature"):
        image_url("https://x", {"title": "a", "kid": "sk_x"}, KEY)


def test_unsigned_urls_and_expiry_forms() -> None:
    assert image_url("https://x/api/og", {"title": "a b", "n": 3, "x": None}) == (
        "https://x/api/og?n=3&title=a%20b"
    )
    with pytest.raises(ValueError, match="signing_key"):
        image_url("https://x", {"title": "a"}, expires=10)
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert unix_expiry(when) == unix_expiry(when.replace(tzinfo=None)) == 1893456000
    assert unix_expiry(timedelta(hours=1), now=1000.0) == 4600
    with pytest.raises(TypeError):
        unix_expiry(1.5)  # type: ignore[arg-type]
    assert "secret" not in repr(KEY) and VECTORS["secret"] not in repr(KEY)


@pytest.mark.parametrize("hook", VECTORS["webhooks"], ids=lambda w: w["name"])
def test_webhook_vector(hook: dict) -> None:  # type: ignore[type-arg]
    args = (hook["body"].encode(), hook["headers"], hook["secret"])
    if hook["valid"]:
        assert verify_webhook(*args, now=hook["now"]) == json.loads(hook["body"])
        upper = {k.title(): v for k, v in hook["headers"].items()}
        assert verify_webhook(hook["body"], upper, hook["secret"], now=hook["now"])
    else:
        with pytest.raises(WebhookVerificationError):
            verify_webhook(*args, now=hook["now"])


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert 100 < (parse_retry_after(format_datetime(later, usegmt=True)) or 0) <= 120
    policy = RetryPolicy(max_retries=2, max_wait=30)
    assert policy.delay(503, "2", 0) == 2.0
    assert policy.delay(429, None, 1) == 1.0  # backoff 0.5 * 2
    assert policy.delay(429, "1", 2) is None  # retries used up
    assert policy.delay(429, "86400", 0) is None  # a monthly quota: raised, not slept on
    assert policy.delay(500, "1", 0) is None


@pytest.fixture
def server() -> Iterator[Scripted]:
    with Scripted() as srv:
        yield srv


RENDERED = {
    "success": True,
    "slug": "abcdEFGH",
    "url": "https://og/i/abcdEFGH",
    "webhook_dispatched": False,
}


def test_render_retries_503_and_429_then_succeeds(server: Scripted) -> None:
    server.script(
        Answer(503, {"success": False}, {"retry-after": "0"}),
        Answer(429, {"success": False}, {"retry-after": "0"}),
        Answer(201, RENDERED),
    )
    render = Client(server.url, "ogm_live_k").render(template="blog", title="Hi")
    assert (render.slug, render.cached) == ("abcdEFGH", False)
    assert len(server.seen) == 3
    assert server.seen[0].headers["x-api-key"] == "ogm_live_k"
    assert json.loads(server.seen[0].body) == {"template": "blog", "title": "Hi"}


def test_errors_carry_status_code_and_details(server: Scripted) -> None:
    body = {
        "success": False,
        "error": "Monthly render quota of the free plan is used up",
        "code": "rate_limited",
        "details": [],
    }
    server.script(Answer(429, body, {"retry-after": "900000"}))
    client = Client(server.url, "ogm_live_k")
    with pytest.raises(RateLimitError) as e:
        client.render(template="blog", title="Hi")
    assert (e.value.status, e.value.code, e.value.retry_after) == (429, "rate_limited", 900000)
    assert len(server.seen) == 1
    detail = {"field": "title", "message": "is required (1-200 characters)"}
    bad = {"success": False, "error": "title: …", "code": "invalid_parameters", "details": [detail]}
    server.script(Answer(400, bad))
    with pytest.raises(BadRequestError) as b:
        client.render(template="blog")
    assert b.value.details == [detail] and b.value.code == "invalid_parameters"


def stored(slug: str) -> dict[str, object]:
    return {
        "slug": slug,
        "url": f"https://og/i/{slug}",
        "template": "blog",
        "format": "png",
        "width": 1200,
        "height": 630,
        "bytes": 4242,
        "createdAt": "2026-12-07T10:00:00.000Z",
    }


def test_renders_list_iterates_pages_get_and_delete(server: Scripted) -> None:
    server.script(
        Answer(200, {"success": True, "renders": [stored("aaaaaaaa")], "nextCursor": "c/2+"}),
        Answer(200, {"success": True, "renders": [stored("bbbbbbbb")], "nextCursor": None}),
        Answer(
            200,
            {
                "success": True,
                "render": stored("aaaaaaaa")
                | {"params": {"title": "Hi"}, "deliveries": [{"attempts": []}]},
            },
        ),
        Answer(200, {"success": True}),
        Answer(404, {"success": False, "error": "no", "code": "render_not_found", "details": []}),
    )
    client = Client(server.url, "ogm_live_k")
    assert [r.slug for r in client.renders.iter(limit=1)] == ["aaaaaaaa", "bbbbbbbb"]
    assert [s.path for s in server.seen] == [
        "/api/v2/renders?limit=1",
        "/api/v2/renders?limit=1&cursor=c%2F2%2B",
    ]
    one = client.renders.get("aaaaaaaa")
    assert (one.width, one.bytes, one.params, one.created_at) == (
        1200,
        4242,
        {"title": "Hi"},
        "2026-12-07T10:00:00.000Z",
    )
    client.renders.delete("aaaaaaaa")
    assert (server.seen[-1].method, server.seen[-1].path) == ("DELETE", "/api/v2/renders/aaaaaaaa")
    with pytest.raises(NotFoundError) as gone:
        client.renders.get("../x")
    assert gone.value.code == "render_not_found"
    assert server.seen[-1].path == "/api/v2/renders/..%2Fx"  # a slug never escapes its segment


def test_batch_results_are_typed_per_item(server: Scripted) -> None:
    bad = {
        "success": False,
        "error": "palette: unknown",
        "code": "invalid_parameters",
        "details": [{"field": "palette", "message": "unknown"}],
        "status": 400,
    }
    results = [RENDERED | {"status": 201}, RENDERED | {"cached": True, "status": 200}, bad]
    server.script(Answer(200, {"success": True, "results": results}))
    items = [{"title": "a"}, {"title": "a"}, {"title": "b", "palette": "neon"}]
    got = Client(server.url, "ogm_live_k").batch(items)
    assert json.loads(server.seen[0].body) == {"items": items}
    assert [r.status for r in got] == [201, 200, 400]
    assert got[0].render is not None and got[1].render is not None and got[1].render.cached
    assert got[2].error is not None and not got[2].ok
    assert (
        isinstance(got[2].error, BadRequestError) and got[2].error.details[0]["field"] == "palette"
    )
    with pytest.raises(ValueError, match="1 to 100"):
        Client(server.url, "k").batch([])
    with pytest.raises(ValueError, match="1 to 100"):
        Client(server.url, "k").batch([{"title": "x"}] * 101)


async def test_async_client_validate_usage_and_renders(server: Scripted) -> None:
    layout = {"lines": ["A fitted", "title"], "fontSize": 56, "truncated": False}
    usage = {
        "success": True,
        "plan": "free",
        "quota": 100,
        "used": 3,
        "remaining": 97,
        "resetsAt": "2027-01-01T00:00:00.000Z",
        "days": [{"date": "2026-12-07", "v1": 1, "v2": 2, "dedup": 5}],
    }
    server.script(
        Answer(503, {"success": False}, {"retry-after": "0"}),
        Answer(200, {"success": True, "width": 1200, "height": 630, "fields": {"title": layout}}),
        Answer(200, usage),
        Answer(200, {"success": True, "renders": [stored("cccccccc")], "nextCursor": None}),
        Answer(200, {"success": True}),
    )
    async with AsyncClient(server.url, "ogm_live_k") as client:
        fit = await client.validate(template="blog", title="A fitted title")
        assert fit.fields["title"] == FieldLayout(["A fitted", "title"], 56, False)
        month = await client.usage()
        assert (month.plan, month.remaining, month.days[0].dedup) == ("free", 97, 5)
        assert [r.slug async for r in client.renders.iter()] == ["cccccccc"]
        await client.renders.delete("cccccccc")
    assert [s.path for s in server.seen][:2] == ["/api/v2/validate"] * 2  # the 503 was retried

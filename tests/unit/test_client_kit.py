"""The Python client kit offline: the shared vectors, webhook verification, the retry policy
(against an in-memory transport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

import ogmint_client
from ogmint_client import (
    BadRequestError,
    Client,
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
    } | {"canonical_query", "decode_query", "image_url", "signature", "verify_webhook"}


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_signing_vector(vector: dict) -> None:  # type: ignore[type-arg]
    url = image_url("https://og.example.com/", dict(vector["params"]), KEY, vector.get("exp"))
    assert url == "https://og.example.com/api/og?" + vector["signed_query"]
    assert canonical_query(decode_query(vector["query"])) == vector["canonical"]
    client = Client("https://og.example.com", signing_key=KEY)
    assert client.image_url(expires=vector.get("exp"), **dict(vector["params"])) == url


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


def scripted(*answers: httpx.Response) -> tuple[Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    http = httpx.Client(transport=httpx.MockTransport(handle))
    return Client("https://og.example.com", "ogm_live_k", http=http), seen


RENDERED = {
    "success": True,
    "slug": "abcdEFGH",
    "url": "https://og/i/abcdEFGH",
    "webhook_dispatched": False,
}


def test_render_retries_503_and_429_then_succeeds() -> None:
    client, seen = scripted(
        httpx.Response(503, headers={"retry-after": "0"}, json={"success": False}),
        httpx.Response(429, headers={"retry-after": "0"}, json={"success": False}),
        httpx.Response(201, json=RENDERED),
    )
    render = client.render(template="blog", title="Hi")
    assert (render.slug, render.cached) == ("abcdEFGH", False)
    assert len(seen) == 3
    assert seen[0].headers["x-api-key"] == "ogm_live_k"
    assert json.loads(seen[0].content) == {"template": "blog", "title": "Hi"}


def test_errors_carry_status_code_and_details() -> None:
    body = {
        "success": False,
        "error": "Monthly render quota of the free plan is used up",
        "code": "rate_limited",
        "details": [],
    }
    client, seen = scripted(httpx.Response(429, headers={"retry-after": "900000"}, json=body))
    with pytest.raises(RateLimitError) as e:
        client.render(template="blog", title="Hi")
    assert (e.value.status, e.value.code, e.value.retry_after) == (429, "rate_limited", 900000)
    assert len(seen) == 1
    detail = {"field": "title", "message": "is required (1-200 characters)"}
    bad = {"success": False, "error": "title: …", "code": "invalid_parameters", "details": [detail]}
    client, _ = scripted(httpx.Response(400, json=bad))
    with pytest.raises(BadRequestError) as b:
        client.render(template="blog")
    assert b.value.details == [detail] and b.value.code == "invalid_parameters"

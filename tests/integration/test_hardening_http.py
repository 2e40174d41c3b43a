"""The outside review's findings (issue 8), each through real HTTP on the embedded default."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import orjson
import pytest

from conftest import Server
from support import Reply, assert_error, request

BODY = {"template": "blog", "title": "Hardened", "palette": "forest"}


@pytest.fixture(scope="module")
def srv(server_factory: Callable[..., Server]) -> Server:
    return server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1000000")


@pytest.fixture(scope="module")
def key(srv: Server) -> str:
    return srv.create_key("hardening", plan="agency")


def render(server: Server, key: str | None, body: object) -> Reply:
    """POSTs a V2 render, waiting out the burst limit (these tests are about other answers)."""
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    while True:
        reply = request(server.url + "/api/v2/render", "POST", headers, data)
        if reply.status != 429 or "burst" not in reply.json()["error"].lower():
            return reply
        time.sleep(0.25)


def whsec(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(size))).decode()


@pytest.mark.parametrize(
    "secret",
    ["whsec_\u00e9\u00e9\u00e9\u00e9", "whsec_", whsec(1), whsec(23), whsec(65), "", "x" * 101],
)
def test_bad_webhook_secret_is_400(srv: Server, key: str, secret: str) -> None:
    assert_error(render(srv, key, {**BODY, "webhookSecret": secret}), 400, "webhookSecret")


@pytest.mark.parametrize(
    "secret", [whsec(24), whsec(64), "pl\u00e4in s\u00e9cret \U0001f511", "x" * 100]
)
def test_good_webhook_secret_is_accepted(srv: Server, key: str, secret: str) -> None:
    reply = render(srv, key, {**BODY, "webhookSecret": secret})
    assert reply.status in (200, 201), reply.body

"""Small helpers shared by tests: a plain HTTP client and PNG inspection."""

from __future__ import annotations

import http.client
import io
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from PIL import Image


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:  # type: ignore[type-arg]
        return orjson.loads(self.body)  # type: ignore[no-any-return]

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.body))


def request(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> Reply:
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def request_once(url: str, headers: dict[str, str] | None = None) -> Reply:
    """One GET, redirects not followed (``request`` follows them, as crawlers do)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}", headers=headers or {})
        r = conn.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def assert_error(reply: Reply, status: int, field: str | None = None) -> dict:  # type: ignore[type-arg]
    """Checks the SPEC §7 error shape and, optionally, that ``field`` is named in details."""
    assert reply.status == status, (reply.status, reply.body[:300])
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["details"], list)
    if field is not None:
        assert field in [d["field"] for d in body["details"]], body
    return body


def assert_names_no_internals(reply: Reply, *internals: str) -> None:
    """SPEC §7: an error body names no internal host, port, bucket, path or file."""
    text = reply.body.decode(errors="replace").lower()
    for fragment in internals:
        assert fragment.lower() not in text, (fragment, reply.body[:300])


def until_admitted(send: Callable[[], Reply], timeout: float = 30.0) -> Reply:
    """``send()`` again after each burst-limit 429's ``Retry-After``; the first other reply.

    For tests about something other than the burst limit, whose requests come in bursts.
    """
    deadline = time.monotonic() + timeout
    while True:
        reply = send()
        if reply.status != 429 or "burst" not in reply.json()["error"].lower():
            return reply
        assert time.monotonic() < deadline, "still refused by the burst limit"
        time.sleep(min(float(reply.headers["retry-after"]), 1.0))

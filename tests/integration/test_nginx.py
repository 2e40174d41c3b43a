"""Real nginx with the repo's nginx.conf in front of real app servers (SPEC §8)."""

from __future__ import annotations

import http.client
import http.server
import os
import re
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from backends import RedisServer, S3Server, free_port
from conftest import ROOT, Server
from ogmint_client import SigningKey, image_url
from support import assert_error, request, request_once
from testbed.processes import Nginx, nginx_conf, start_nginx

#: nginx dials the apps from 127.0.0.2, their only trusted proxy; clients come from 127.0.0.1.
PROXY_ADDRESS = "127.0.0.2"
CONF_TEXT = (ROOT / "nginx.conf").read_text()
Edge = Nginx


def start_edge(
    prefix: Path,
    apps: list[Server],
    extra_upstreams: tuple[str, ...] = (),
    s3_endpoint: str = "http://127.0.0.1:9",
) -> Edge:
    """nginx with the repo's nginx.conf, its upstream pointed at ``apps`` (and any
    ``extra_upstreams`` server lines, listed first), X-Accel files taken from the first app's
    data directory or from ``s3_endpoint``, dialling the apps from ``PROXY_ADDRESS``."""
    port = free_port()
    servers = [*extra_upstreams, *(a.url.removeprefix("http://") for a in apps)]
    conf = nginx_conf(
        servers,
        port,
        data_dir=apps[0].data_dir,
        s3_endpoint=s3_endpoint,
        edits=(
            ("proxy_http_version 1.1;", f"proxy_http_version 1.1;\nproxy_bind {PROXY_ADDRESS};"),
        ),
    )
    return start_nginx(prefix, conf, port, ready_path="/healthz", ready_status=200)


@pytest.fixture
def edge_factory(
    server_factory: Callable[..., Server], tmp_path: Path
) -> Iterator[Callable[..., tuple[Edge, Server]]]:
    """Starts an app server with extra settings and nginx in front of it, for one test."""
    started: list[Edge] = []

    def factory(**env: str) -> tuple[Edge, Server]:
        app = server_factory(OGMINT_TRUSTED_PROXIES=PROXY_ADDRESS, **env)
        edge = start_edge(tmp_path / f"nginx-{len(started)}", [app])
        started.append(edge)
        return edge, app

    yield factory
    for e in started:
        e.stop()


@pytest.fixture(scope="module")
def edge(
    server_factory: Callable[..., Server], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Edge, Server]]:
    """nginx in front of an app with a generous anonymous limit, shared by the module."""
    app = server_factory(
        OGMINT_ANONYMOUS_DAILY_LIMIT="1000000", OGMINT_TRUSTED_PROXIES=PROXY_ADDRESS
    )
    e = start_edge(tmp_path_factory.mktemp("nginx"), [app])
    yield e, app
    e.stop()


@pytest.fixture(scope="module")
def slug(edge: tuple[Edge, Server]) -> str:
    """A stored image, rendered through V2."""
    _, app = edge
    headers = {"content-type": "application/json", "x-api-key": app.create_key("edge")}
    body = orjson.dumps({"template": "blog", "title": "Served from the edge"})
    r = request(app.url + "/api/v2/render", "POST", headers, body)
    assert r.status == 201, r.body
    return str(r.json()["slug"])


def test_repeat_fetches_never_reach_the_app(
    edge_factory: Callable[..., tuple[Edge, Server]],
) -> None:
    e, _ = edge_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="2")
    path = "/api/og?template=blog&title=Cached+at+the+edge"
    first = request(e.url + path)
    assert first.status == 200
    assert first.headers["x-cache-status"] == "MISS"
    # The app allows 2 anonymous renders a day; cached repeats never reach it.
    for _ in range(5):
        again = request(e.url + path)
        assert again.status == 200
        assert again.headers["x-cache-status"] == "HIT"
        assert again.body == first.body
    assert request(e.url + "/api/og?template=blog&title=Second").status == 200
    assert_error(request(e.url + "/api/og?template=blog&title=Third"), 429)


def test_client_cannot_spoof_forwarded_for(
    edge_factory: Callable[..., tuple[Edge, Server]],
) -> None:
    e, _ = edge_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1")
    assert request(e.url + "/api/og?template=blog&title=Mine").status == 200
    assert_error(request(e.url + "/api/og?template=blog&title=Again"), 429)
    # A forged X-Forwarded-For does not help: nginx appends the real peer address, and the app
    # takes the right-most hop that is not a trusted proxy.
    for forged in ("8.8.8.8", "8.8.8.8, 127.0.0.2", "2001:db8::1"):
        r = request(
            e.url + "/api/og?template=blog&title=Spoof", headers={"X-Forwarded-For": forged}
        )
        assert_error(r, 429)


def test_images_are_cached_by_nginx(edge: tuple[Edge, Server], slug: str) -> None:
    e, app = edge
    first = request(f"{e.url}/i/{slug}")
    assert first.status == 200
    assert first.headers["x-cache-status"] in {"MISS", "HIT"}  # HIT if the stall test ran first
    direct = request(f"{app.url}/i/{slug}")
    assert first.body == direct.body
    for _ in range(3):
        again = request(f"{e.url}/i/{slug}")
        assert (again.status, again.headers["x-cache-status"]) == (200, "HIT")
        assert again.body == direct.body
        assert again.headers["etag"] == direct.headers["etag"]
        assert again.headers["cache-control"] == direct.headers["cache-control"]
    assert_error(request(f"{e.url}/i/NoSuchSl"), 404)
    assert request(f"{e.url}/i/NoSuchSl").headers.get("x-cache-status") != "HIT"


def test_errors_are_not_cached(edge: tuple[Edge, Server]) -> None:
    e, _ = edge
    path = "/api/og?template=blog&title=Cached+at+the+edge"
    assert request(e.url + path).status == 200
    bad = request(e.url + path, headers={"x-api-key": "ogm_live_not_a_real_key_000000000000"})
    assert_error(bad, 401)
    invalid = "/api/og?template=blog&title="
    assert_error(request(e.url + invalid), 400)
    assert request(e.url + invalid).headers.get("x-cache-status") != "HIT"


def test_revoked_key_gets_no_cached_image(
    edge_factory: Callable[..., tuple[Edge, Server]],
) -> None:
    e, app = edge_factory(OGMINT_KEY_CACHE_TTL="0")
    created = app.cli("keys", "create", "--user", "revokee").splitlines()
    key_id, key = created[0].split()[1], created[-1]
    path = "/api/og?template=blog&title=Keyed"
    for _ in range(2):
        keyed = request(e.url + path, headers={"x-api-key": key})
        assert keyed.status == 200
        assert keyed.headers["x-cache-status"] == "BYPASS"  # every keyed request is checked
    app.cli("keys", "revoke", key_id)
    assert_error(request(e.url + path, headers={"x-api-key": key}), 401)


def _keep_alive_times(port: int, path: str, n: int = 20) -> list[float]:
    """Seconds per request for ``n`` requests on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            conn.request("GET", path)
            reply = conn.getresponse()
            body = reply.read()
            times.append(time.perf_counter() - started)
            assert reply.status == 200 and body
            assert reply.getheader("x-cache-status") == "HIT"
    finally:
        conn.close()
    return times


def test_cache_hits_do_not_stall_on_keep_alive(edge: tuple[Edge, Server], slug: str) -> None:
    # A stall detector, not a speed test: a response held back by Nagle's algorithm waits for
    # the client's delayed ACK, at least 40 ms on Linux; an unstalled hit takes well under 1 ms.
    e, _ = edge
    for path in (f"/i/{slug}", "/api/og?template=blog&title=Kept+alive"):
        request(e.url + path)  # fills the cache
        median = statistics.median(_keep_alive_times(e.port, path))
        assert median < 0.02, f"{path}: {median * 1000:.1f} ms per keep-alive cache hit"


def test_metrics_are_not_served_through_nginx(edge: tuple[Edge, Server]) -> None:
    e, app = edge
    for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?x=1"):
        assert_error(request(e.url + path), 404)
    assert request(app.url + "/metrics").status == 200  # the app serves it to direct scrapers


def conf_seconds(directive: str) -> float:
    """A ``<directive> <n>s;`` value from the repo's nginx.conf."""
    found = re.search(rf"^\s*{directive} (\d+)s;", CONF_TEXT, re.M)
    assert found, f"nginx.conf has no {directive}"
    return float(found.group(1))


def test_trickling_client_is_cut_off_while_others_are_served(edge: tuple[Edge, Server]) -> None:
    e, _ = edge
    deadline = conf_seconds("client_header_timeout")
    assert deadline <= 10
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", e.port), timeout=1) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed_after = None
        while time.monotonic() - started < deadline + 5:
            try:
                slow.sendall(b"X-Trickle: 1\r\n")  # a header line a second: Sanic alone waits
                if slow.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                pass  # nothing from nginx yet: the connection is still open
            except (ConnectionResetError, BrokenPipeError):
                closed_after = time.monotonic() - started
                break
            assert request(e.url + "/healthz").status == 200  # others are served meanwhile
    assert closed_after is not None, "nginx kept a trickling client"
    assert deadline - 1 <= closed_after <= deadline + 3


def _partial_post(port: int, source: str = "127.0.0.1") -> socket.socket:
    """A POST whose header is complete and whose body never arrives: a request in progress."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    s.sendall(
        b"POST /api/v2/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    return s


def test_requests_in_progress_per_address_are_limited(edge: tuple[Edge, Server]) -> None:
    e, _ = edge
    limit = int(re.search(r"limit_conn ogmint_per_ip (\d+);", CONF_TEXT).group(1))  # type: ignore[union-attr]
    held = [_partial_post(e.port) for _ in range(limit)]
    try:
        time.sleep(0.5)  # nginx has read their headers
        r = request(e.url + "/healthz")
        assert_error(r, 429)
        assert r.headers["retry-after"] == "1"
        # Another address is served as usual.
        other = http.client.HTTPConnection("127.0.0.1", e.port, source_address=("127.0.0.3", 0))
        other.request("GET", "/healthz")
        assert other.getresponse().status == 200
        other.close()
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    assert request(e.url + "/healthz").status == 200


class BrokenUpstream:
    """An upstream that reads each request, records it and closes without answering."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = re.search(rb"(?i)content-length: *(\d+)", head)
                    while length and len(body) < int(length.group(1)):
                        body += conn.recv(65536)
                except OSError:
                    continue
                if data:
                    self.requests.append(head + b"\r\n\r\n" + body)

    def close(self) -> None:
        self.listener.close()


def test_only_idempotent_requests_go_to_the_next_server(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    app = server_factory(OGMINT_TRUSTED_PROXIES=PROXY_ADDRESS, OGMINT_ANONYMOUS_DAILY_LIMIT="1000")
    broken = BrokenUpstream()
    # The broken server stays in rotation (max_fails=0), so round robin sends it every other
    # request.
    e = start_edge(tmp_path, [app], extra_upstreams=(f"127.0.0.1:{broken.port} max_fails=0",))
    try:
        key = app.create_key("retry")
        headers = {"content-type": "application/json", "x-api-key": key}
        for i in range(8):
            r = request(f"{e.url}/api/og?template=blog&title=Get+{i}")
            assert r.status == 200  # a GET the broken server dropped was sent on to the app
        outcomes = {}
        for i in range(4):
            body = orjson.dumps({"template": "blog", "title": f"Post {i}"})
            r = request(e.url + "/api/v2/render", "POST", headers, body)
            assert r.status in {201, 503}, r.body
            if r.status == 503:
                assert_error(r, 503)
                assert r.headers["retry-after"] == "1"
            outcomes[body] = r.status
    finally:
        e.stop()
        broken.close()
    dropped = [b for b, status in outcomes.items() if status == 503]
    assert dropped, "no POST reached the broken server"
    seen = [req for req in broken.requests if req.startswith(b"POST")]
    assert len(seen) == len(dropped)
    assert any(req.startswith(b"GET") for req in broken.requests)
    time.sleep(1.1)  # the key's burst allowance (5/s) refills
    for body in dropped:
        assert any(req.endswith(body) for req in seen)
        # Never passed on to the app: rendering it now is new.
        again = request(app.url + "/api/v2/render", "POST", headers, body)
        assert again.status == 201, again.body


def test_each_variant_is_cached_on_its_own(edge: tuple[Edge, Server]) -> None:
    """The V1 cache key is the URI: every size and format is its own entry, with its type."""
    e, _ = edge
    base = "/api/og?template=blog&title=Variants+at+the+edge"
    variants = {
        "": ("image/png", (1200, 630)),
        "&format=webp": ("image/webp", (1200, 630)),
        "&format=jpeg&quality=60": ("image/jpeg", (1200, 630)),
        "&size=square": ("image/png", (1080, 1080)),
        "&size=story&format=webp": ("image/webp", (1080, 1920)),
    }
    bodies = {}
    for suffix, (kind, size) in variants.items():
        first = request(e.url + base + suffix)
        assert (first.status, first.headers["x-cache-status"]) == (200, "MISS"), suffix
        again = request(e.url + base + suffix)
        assert (again.headers["x-cache-status"], again.body) == ("HIT", first.body)
        assert again.headers["content-type"] == kind
        assert again.image().size == size
        bodies[suffix] = first.body
    assert len(set(bodies.values())) == len(bodies)


def _behind_nginx(
    backend: str, server_factory: Callable[..., Server], s3_server: S3Server, tmp_path: Path
) -> tuple[Edge, Server]:
    """An app answering ``X-Accel-Redirect`` behind nginx, its images on local disk
    (``backend`` "local") or in the S3 server ("s3")."""
    env = {"OGMINT_TRUSTED_PROXIES": PROXY_ADDRESS, "OGMINT_BEHIND_NGINX": "true"}
    if backend == "s3":
        env |= {**s3_server.env(), "OGMINT_S3_PREFIX": f"edge-{tmp_path.name}/"}
    app = server_factory(**env)
    return start_edge(tmp_path, [app], s3_endpoint=s3_server.endpoint_url), app


def _stored(e: Edge, app: Server, card: dict[str, str]) -> str:
    """The slug of ``card`` rendered through V2 by way of nginx."""
    headers = {"content-type": "application/json", "x-api-key": app.create_key("accel")}
    r = request(e.url + "/api/v2/render", "POST", headers, orjson.dumps(card))
    assert r.status == 201, r.body
    return str(r.json()["slug"])


@pytest.mark.parametrize("backend", ["local", "s3"])
@pytest.mark.parametrize("fmt", ["webp", "jpeg"])
def test_stored_formats_are_streamed_with_their_type(
    backend: str,
    fmt: str,
    server_factory: Callable[..., Server],
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    e, app = _behind_nginx(backend, server_factory, s3_server, tmp_path)
    try:
        slug = _stored(
            e, app, {"template": "blog", "title": f"{fmt} from {backend}", "format": fmt}
        )
        for expected_cache in ("MISS", "HIT"):
            got = request(f"{e.url}/i/{slug}")
            assert (got.status, got.headers["x-cache-status"]) == (200, expected_cache)
            assert got.headers["content-type"] == f"image/{fmt}"
            assert got.image().format == {"webp": "WEBP", "jpeg": "JPEG"}[fmt]
    finally:
        e.stop()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_image_misses_are_streamed_by_nginx_via_x_accel(
    backend: str,
    server_factory: Callable[..., Server],
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    e, app = _behind_nginx(backend, server_factory, s3_server, tmp_path)
    try:
        slug = _stored(e, app, {"template": "blog", "title": f"Streamed by nginx from {backend}"})
        # The app authorises the slug and names the file; it sends no image bytes itself.
        direct = request(f"{app.url}/i/{slug}")
        assert (direct.status, direct.body) == (200, b"")
        assert direct.headers["x-accel-redirect"].startswith(f"/_ogmint/{backend}/")
        first = request(f"{e.url}/i/{slug}")
        assert (first.status, first.headers["x-cache-status"]) == (200, "MISS")
        assert first.image().size == (1200, 630)
        assert first.headers["content-type"] == "image/png"
        assert first.headers["etag"] == direct.headers["etag"]
        assert first.headers["cache-control"] == direct.headers["cache-control"]
        assert "x-accel-redirect" not in first.headers
        assert not [h for h in first.headers if h.startswith("x-amz")]
        again = request(f"{e.url}/i/{slug}")
        assert (again.headers["x-cache-status"], again.body) == ("HIT", first.body)
        etag = {"If-None-Match": first.headers["etag"]}
        assert request(f"{e.url}/i/{slug}", headers=etag).status == 304
        head = request(f"{e.url}/i/{slug}", "HEAD")
        assert (head.status, head.headers["content-length"]) == (200, str(len(first.body)))
        assert_error(request(f"{e.url}/i/NoSuchSl"), 404)
        # The internal locations are not reachable from outside.
        assert request(e.url + direct.headers["x-accel-redirect"]).status == 404
    finally:
        e.stop()


def test_image_limit_counts_misses_never_hits_across_servers(
    server_factory: Callable[..., Server],
    redis_server_factory: Callable[[], RedisServer],
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    redis = redis_server_factory()  # its own: the bucket of 127.0.0.1 must start full
    env = {
        "OGMINT_TRUSTED_PROXIES": PROXY_ADDRESS,
        "OGMINT_IMAGE_RATE_LIMIT": "3",  # a bucket of 3, refilling one every 20 s
        "OGMINT_REDIS_URL": redis.url,
        **s3_server.env(),
        "OGMINT_S3_PREFIX": f"hotlink-{tmp_path.name}/",
    }
    apps = [server_factory(**env), server_factory(**env)]
    e = start_edge(tmp_path, apps)
    try:
        headers = {"content-type": "application/json", "x-api-key": apps[0].create_key("hot")}
        slugs = []
        for i in range(4):
            body = orjson.dumps({"template": "blog", "title": f"Hotlinked {i}"})
            r = request(apps[0].url + "/api/v2/render", "POST", headers, body)
            assert r.status == 201, r.body
            slugs.append(r.json()["slug"])
        popular, second, third, fourth = (f"/i/{s}" for s in slugs)
        # One miss, then cache hits only: one token.
        statuses = [request(e.url + popular) for _ in range(10)]
        assert [r.status for r in statuses] == [200] * 10
        assert [r.headers["x-cache-status"] for r in statuses] == ["MISS"] + ["HIT"] * 9
        # The same client (127.0.0.1) straight at each server: the bucket is shared.
        assert request(apps[0].url + second).status == 200
        assert request(apps[1].url + third).status == 200
        for url in (e.url + fourth, apps[0].url + fourth, apps[1].url + fourth):
            r = request(url)
            assert_error(r, 429)
            assert 1 <= int(r.headers["retry-after"]) <= 21
        assert request(e.url + fourth).headers.get("x-cache-status") != "HIT"  # 429 not cached
        again = request(e.url + popular)
        assert (again.status, again.headers["x-cache-status"]) == (200, "HIT")  # hits are free
        # Another address has its own allowance.
        other = http.client.HTTPConnection("127.0.0.1", e.port, source_address=("127.0.0.3", 0))
        other.request("GET", fourth)
        assert other.getresponse().status == 200
        other.close()
    finally:
        e.stop()


def test_signed_images_stop_at_revocation_and_exp_even_while_the_app_is_down(
    edge_factory: Callable[..., tuple[Edge, Server]],
) -> None:
    """Issue 19 item 10: nginx kept serving signed images for a day after their kid was
    revoked, and past exp while the app was down. Signed URLs now always reach the app (which
    answers repeats from its own cache, free) and tell caches further out to keep them briefly."""
    e, app = edge_factory(OGMINT_KEY_CACHE_TTL="0", OGMINT_ANONYMOUS_DAILY_LIMIT="0")
    api_key = app.create_key("edge-signer", plan="free")
    reply = request(app.url + "/api/v2/signing-keys", "POST", {"x-api-key": api_key})
    doc = reply.json()["signingKey"]
    key = SigningKey(doc["id"], doc["secret"])
    signed = image_url(e.url, {"template": "blog", "title": "Signed at the edge"}, key)
    first = request(signed)
    assert (first.status, first.headers["x-cache-status"]) == (200, "BYPASS")
    assert first.headers["cache-control"] == "public, max-age=300, s-maxage=300"
    for _ in range(3):  # repeats: the app's cache, no render, nothing counted
        again = request(signed)
        assert (again.status, again.body) == (200, first.body)
    keyed = request(e.url + "/api/og?template=blog&title=Counted", headers={"x-api-key": api_key})
    assert keyed.headers["x-ratelimit-remaining"] == "98"  # free: 100, the signed card counted once
    # Another spelling is redirected (not cached), then served as the one canonical URL.
    variant = request_once(signed.replace("?", "?&", 1))
    assert (variant.status, variant.headers["location"]) == (308, "/api/og?" + signed.split("?")[1])
    tampered = request(signed.replace("edge", "edgy"))
    assert assert_error(tampered, 403)["code"] == "invalid_signature"
    assert assert_error(request(signed.replace("edge", "edgy")), 403)  # 403s are not cached
    soon = image_url(
        e.url, {"template": "blog", "title": "Expires soon"}, key, int(time.time()) + 60
    )
    assert request(soon).status == 200
    app.cli("signing-keys", "revoke", "--user", "edge-signer", key.kid)
    assert assert_error(request(signed), 403)["code"] == "invalid_signature"  # at once
    app.stop()
    down = request(soon)  # valid for a minute more, but nobody can check it: no stale image
    assert assert_error(down, 503)["code"] == "unavailable"


@pytest.mark.parametrize("accel", ["proxied", "x-accel"])
def test_a_deleted_image_stops_at_the_edge_within_60_s(
    accel: str, server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    env = {"OGMINT_TRUSTED_PROXIES": PROXY_ADDRESS}
    if accel == "x-accel":
        env["OGMINT_BEHIND_NGINX"] = "true"
    app = server_factory(**env)
    e = start_edge(tmp_path, [app])
    try:
        key = app.create_key("deleter")
        headers = {"content-type": "application/json", "x-api-key": key}
        made = []
        for title in ("Deleted soon", "Kept"):
            body = orjson.dumps({"template": "blog", "title": title})
            r = request(e.url + "/api/v2/render", "POST", headers, body)
            assert r.status == 201, r.body
            made.append(f"/i/{r.json()['slug']}")
        doomed, kept = made
        for path in made:
            assert request(e.url + path).headers["x-cache-status"] == "MISS"
            assert request(e.url + path).headers["x-cache-status"] == "HIT"
        slug = doomed.removeprefix("/i/")
        gone = request(f"{e.url}/api/v2/renders/{slug}", "DELETE", {"x-api-key": key})
        assert (gone.status, gone.json()) == (200, {"success": True})
        assert_error(request(app.url + doomed), 404)  # the app at once
        deleted_at = time.monotonic()
        while True:
            r = request(e.url + doomed)
            if r.status == 404:
                break
            assert r.status == 200
            assert time.monotonic() - deleted_at < 60, "still served 60 s after the delete"
            time.sleep(1)
        assert_error(r, 404)
        assert request(e.url + doomed).headers.get("x-cache-status") != "HIT"
        # The image that was kept is revalidated (a 304 from the app), not fetched again.
        again = request(e.url + kept)
        assert again.status == 200
        assert again.headers["x-cache-status"] in {"HIT", "REVALIDATED"}
        assert again.image().size == (1200, 630)
    finally:
        e.stop()


# -- what nginx sends upstream, its own errors, what the object store may say -------------------
class _Recorder(http.server.BaseHTTPRequestHandler):
    """An upstream that answers every request with the headers it got and its peer's port,
    keeping connections alive (HTTP/1.1) unless told otherwise."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = orjson.dumps({"headers": dict(self.headers.items()), "port": self.client_address[1]})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class FakeUpstream:
    """A stand-in for an app server in ``start_edge``: its URL and a data directory."""

    url: str
    data_dir: Path


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[FakeUpstream]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield FakeUpstream(f"http://127.0.0.1:{server.server_address[1]}", tmp_path)
    server.shutdown()
    server.server_close()


def test_the_edge_sets_every_forwarded_header_and_keeps_upstreams_alive(
    recorder: FakeUpstream, tmp_path: Path
) -> None:
    e = start_edge(tmp_path / "nginx", [recorder])  # type: ignore[list-item]
    try:
        forged = {"X-Forwarded-Proto": "https", "Host": "og.example.com", "Connection": "close"}
        for path in ("/dashboard/sign-in", "/api/og?title=x", "/i/abcdefgh"):
            ports = set()
            for _ in range(8):
                seen = request(e.url + path, headers=forged).json()
                sent = {k.lower(): v for k, v in seen["headers"].items()}
                assert sent["x-forwarded-proto"] == "http", (path, sent)  # nginx's, not ours
                assert sent["host"] == "og.example.com", (path, sent)
                assert sent.get("connection", "").lower() != "close", (path, sent)
                assert sent["x-forwarded-for"].split(",")[-1].strip() == "127.0.0.1"
                ports.add(seen["port"])
            # One kept-alive upstream connection per nginx worker (worker_processes auto).
            workers = os.cpu_count() or 1
            assert len(ports) <= min(workers, 4), f"{path}: new upstream connections: {ports}"
    finally:
        e.stop()


def test_a_client_cannot_claim_https_through_the_edge(edge: tuple[Edge, Server]) -> None:
    e, _ = edge
    page = request(e.url + "/dashboard/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert page.status == 200
    assert "Secure" not in page.headers["set-cookie"]
    assert "strict-transport-security" not in page.headers


def _raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends ``data`` as is; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def _json_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    assert status == expected, (status, body[:200])
    assert headers["content-type"].startswith("application/json"), (expected, headers)
    doc = orjson.loads(body)
    assert doc["success"] is False and doc["code"] and doc["error"] and doc["details"] == []


def test_errors_nginx_answers_itself_are_json(edge: tuple[Edge, Server], slug: str) -> None:
    e, _ = edge
    close = b"Connection: close\r\n\r\n"
    cases = [
        (b"GET /healthz HTTP/1.1\r\nHost: bad host\r\n" + close, 400),
        (b"GET /\x01\x02 HTTP/1.1\r\nHost: x\r\n" + close, 400),
        (b"GET /healthz HTTP/1.1\r\n" + close, 400),  # HTTP/1.1 without Host
        (b"GET /?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n" + close, 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n" + close, 431),
        (b"POST /api/v2/render HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n" + close, 413),
        (b"TRACE / HTTP/1.1\r\nHost: x\r\n" + close, 405),
    ]
    for raw, expected in cases:
        _json_error(*_raw(e.port, raw), expected)
    image = f"{e.url}/i/{slug}"
    assert request(image).status == 200
    assert request(image).headers["x-cache-status"] == "HIT"  # nginx answers from its cache
    assert request(image, headers={"Range": "bytes=99999999-"}).status == 200  # no ranges
    mismatch = request(image, headers={"If-Match": '"not-it"'})
    _json_error(mismatch.status, mismatch.headers, mismatch.body, 412)


#: What a client may see on an /i/ answer streamed from the object store.
ALLOWED = {
    "content-type",
    "content-length",
    "etag",
    "cache-control",
    "date",
    "connection",
    "keep-alive",
    "server",
    "x-cache-status",
    "transfer-encoding",
}
#: Headers object stores and proxies in front of them send (AWS S3, MinIO, Ceph RGW, GCS, R2,
#: B2, Wasabi), each with a value that must not reach a client.
STORE_HEADERS = {
    "Set-Cookie": "store=1",
    "Content-Disposition": "attachment; filename=x.png",
    "Last-Modified": "Mon, 07 Dec 2026 00:00:00 GMT",
    "Accept-Ranges": "bytes",
    "Vary": "Origin",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Access-Control-Allow-Origin": "*",
    "Strict-Transport-Security": "max-age=1",
    "x-amz-request-id": "R",
    "x-amz-id-2": "I",
    "x-amz-version-id": "V",
    "x-amz-storage-class": "STANDARD_IA",
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:key",
    "x-amz-expiration": 'expiry-date="x"',
    "x-amz-replication-status": "COMPLETED",
    "x-amz-checksum-sha256": "c",
    "x-amz-checksum-type": "FULL_OBJECT",
    "x-amz-meta-xxh3": "0123456789abcdef",
    "x-amz-website-redirect-location": "/elsewhere",
    "x-amz-tagging-count": "2",
    "x-amz-bucket-region": "eu-west-1",
    "x-minio-deployment-id": "d",
    "x-ratelimit-limit": "1",
    "x-rgw-object-type": "Normal",
    "x-goog-generation": "1",
    "x-goog-hash": "crc32c=x",
    "x-guploader-uploadid": "u",
    "cf-ray": "r",
    "x-bz-file-id": "f",
    "x-request-id": "q",
    "x-powered-by": "store",
    "x-amz-cf-id": "c",
    "Via": "1.1 store",
    "Age": "5",
}


class _Store(http.server.BaseHTTPRequestHandler):
    """An object store answering every GET with a PNG and all of ``STORE_HEADERS``."""

    protocol_version = "HTTP/1.1"
    body = b""
    answer_headers: dict[str, str] = STORE_HEADERS

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(self.body)))
        self.send_header("etag", '"store-md5"')
        for name, value in self.answer_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_object_store_headers_never_reach_clients(
    server_factory: Callable[..., Server], s3_server: S3Server, tmp_path: Path
) -> None:
    app = server_factory(
        OGMINT_TRUSTED_PROXIES=PROXY_ADDRESS,
        OGMINT_BEHIND_NGINX="true",
        OGMINT_S3_PREFIX=f"store-{tmp_path.name}/",
        **s3_server.env(),
    )
    headers = {"content-type": "application/json", "x-api-key": app.create_key("store")}
    body = orjson.dumps({"template": "blog", "title": "Headers of the store"})
    made = request(app.url + "/api/v2/render", "POST", headers, body)
    assert made.status == 201, made.body
    slug = made.json()["slug"]
    direct = request(f"{app.url}/i/{slug}")
    assert direct.body == b""  # X-Accel: the bytes come from the store
    _Store.body = b"\x89PNG from the store"
    # The app's ETag travels with the object as metadata (what the real store sends back).
    _Store.answer_headers = {**STORE_HEADERS, "x-amz-meta-xxh3": direct.headers["etag"].strip('"')}
    store = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    e = start_edge(
        tmp_path / "nginx", [app], s3_endpoint=f"http://127.0.0.1:{store.server_address[1]}"
    )
    try:
        first = request(f"{e.url}/i/{slug}")
        assert (first.status, first.headers["x-cache-status"]) == (200, "MISS")
        assert first.body == _Store.body
        assert set(first.headers) <= ALLOWED, set(first.headers) - ALLOWED
        assert first.headers["etag"] == direct.headers["etag"]  # the app's, not the store's
        assert first.headers["cache-control"] == direct.headers["cache-control"]
        again = request(f"{e.url}/i/{slug}")
        assert again.headers["x-cache-status"] == "HIT"
        assert set(again.headers) <= ALLOWED, set(again.headers) - ALLOWED
    finally:
        e.stop()
        store.shutdown()
        store.server_close()


def test_dashboard_junk_through_the_edge_is_no_500(edge: tuple[Edge, Server]) -> None:
    e, _ = edge
    for cookie in (b"ogmint_session=\xff\xfe", b"ogmint_form=\xc3(", b"ogmint_session=a\x00"):
        for path in (b"/dashboard/settings", b"/dashboard/sign-in", b"/dashboard/templates"):
            raw = b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nCookie: " + cookie
            status, headers, body = _raw(e.port, raw + b"\r\nConnection: close\r\n\r\n")
            if status == 400:  # nginx refuses a NUL in a header itself: its JSON error
                _json_error(status, headers, body, 400)
            else:
                assert status in (200, 303), (path, cookie, status, body[:200])
    assert_error(request(e.url + "/dashboard/static/"), 404)
    assert_error(request(e.url + "/dashboard/static/%00"), 400)  # nginx refuses a NUL itself


ETAG = re.compile(r'"[0-9a-f]{32}"')  # one quoted xxh3-128 of the bytes, nothing else


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_image_etag_is_one_quoted_value_on_every_path(
    backend: str,
    server_factory: Callable[..., Server],
    redis_server: RedisServer,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    env = {"OGMINT_TRUSTED_PROXIES": PROXY_ADDRESS}
    if backend == "s3":
        env |= {
            **redis_server.namespace(),
            **s3_server.env(),
            "OGMINT_S3_PREFIX": f"etag-{tmp_path.name}/",
        }
    behind = server_factory(**env, OGMINT_BEHIND_NGINX="true")
    shared = env if backend == "s3" else {**env, "OGMINT_DATA_DIR": str(behind.data_dir)}
    maker = server_factory(**shared)  # renders: its answers come from its memory
    cold = server_factory(**shared)  # never saw the render: reads the stored file
    e = start_edge(tmp_path / "nginx", [behind], s3_endpoint=s3_server.endpoint_url)
    try:
        headers = {"content-type": "application/json", "x-api-key": maker.create_key("etags")}
        body = orjson.dumps({"template": "blog", "title": f"ETag on {backend}"})
        made = request(maker.url + "/api/v2/render", "POST", headers, body)
        assert made.status == 201, made.body
        path = f"/i/{made.json()['slug']}"
        answers = {
            "memory": request(maker.url + path),
            "memory HEAD": request(maker.url + path, "HEAD"),
            "storage": request(cold.url + path),
            "storage HEAD": request(cold.url + path, "HEAD"),
            "x-accel": request(behind.url + path),
            "edge miss": request(e.url + path),
            "edge hit": request(e.url + path),
        }
        assert answers["edge hit"].headers["x-cache-status"] == "HIT"
        etags = {name: reply.headers["etag"] for name, reply in answers.items()}
        assert all(ETAG.fullmatch(tag) for tag in etags.values()), etags
        assert len(set(etags.values())) == 1, etags
        etag = etags["memory"]
        for url in (maker.url, cold.url, behind.url, e.url):
            for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
                again = request(url + path, headers={"If-None-Match": sent})
                assert (again.status, again.headers["etag"]) == (304, etag), (url, sent)
            other = request(url + path, headers={"If-None-Match": '"other"'})
            assert other.status == 200, url
    finally:
        e.stop()

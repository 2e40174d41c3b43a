"""``GET /metrics`` through real HTTP on a two-worker server: whichever worker answers a scrape,
it adds up the counts of both, and the counts match what the clients saw."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import trustme
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server
from receiver import Receiver, wait_until, write_ca
from support import Reply, request

BODY = {"template": "blog", "title": "Metered", "palette": "forest"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ROUTES = {
    "/api/og",
    "/api/v2/render",
    "/api/v2/renders/<slug:str>/deliveries",
    "/api/v2/renders/<slug:str>/deliveries/<delivery_id:str>/redeliver",
    "/i/<slug:str>",
    "/api/templates",
    "/api/fonts",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "unmatched",
}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver(trustme.CA())
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def metrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("metrics")
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")
    return directory


@pytest.fixture(scope="module")
def srv(
    server_factory: Callable[..., Server],
    receiver: Receiver,
    metrics_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    return server_factory(
        OGMINT_WORKERS="2",
        OGMINT_METRICS_DIR=str(metrics_dir),
        OGMINT_ANONYMOUS_DAILY_LIMIT="3",
        # One render at a time per worker, none queued: concurrent renders are refused with 503.
        OGMINT_RENDER_THREADS="1",
        OGMINT_RENDER_QUEUE="0",
        OGMINT_OUTBOUND_CA_FILE=write_ca(receiver.ca, tmp_path_factory.mktemp("ca") / "ca.pem"),
        OGMINT_OUTBOUND_ALLOW="127.0.0.1",
        OGMINT_WEBHOOK_RETRY_SCHEDULE="0.2",
        OGMINT_WEBHOOK_TIMEOUT="1",
        OGMINT_WEBHOOK_LEASE="2.5",
        OGMINT_WEBHOOK_POLL_INTERVAL="0.1",
    )


def scrape(server: Server) -> Samples:
    reply = request(server.url + "/metrics")
    assert reply.status == 200, reply.body[:300]
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(reply.body.decode())
        for s in family.samples
    }


def value(got: Samples, name: str, **labels: str) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def v2(server: Server, key: str, body: object) -> Reply:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {"content-type": "application/json", "x-api-key": key}
    return request(server.url + "/api/v2/render", "POST", headers, data)


def healthz_by_process(metrics_dir: Path) -> list[float]:
    """``/healthz`` requests counted in each process's own file (the test's precondition)."""
    counts = []
    for path in metrics_dir.glob("counter_*.db"):
        total = sum(
            s.value
            for family in MultiProcessCollector.merge([str(path)])
            for s in family.samples
            if s.name == "ogmint_http_requests_total" and s.labels.get("route") == "/healthz"
        )
        counts.append(total)
    return counts


def test_stale_files_are_removed_at_start(srv: Server, metrics_dir: Path) -> None:
    assert not (metrics_dir / "counter_1.db").exists()


def test_every_scrape_adds_up_both_workers(srv: Server, metrics_dir: Path) -> None:
    before = scrape(srv)
    sent = 0
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        # New connections are spread over the workers by the kernel; go on until both served.
        # Bounded by time, not rounds: on a loaded machine the second worker may still be
        # starting (the server counts as up once one worker answers).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = list(pool.map(lambda _: request(srv.url + "/healthz"), range(32)))
            assert all(r.status == 200 for r in replies)
            sent += len(replies)
            if len([c for c in healthz_by_process(metrics_dir) if c > 0]) >= 2:
                break
            time.sleep(0.2)
    assert len([c for c in healthz_by_process(metrics_dir) if c > 0]) >= 2
    for _ in range(8):  # each scrape is answered by either worker
        after = scrape(srv)
        healthz = {"route": "/healthz", "method": "GET", "status": "200"}
        assert grew(before, after, "ogmint_http_requests_total", **healthz) == sent
        count = "ogmint_http_request_duration_seconds_count"
        assert grew(before, after, count, route="/healthz") == sent


def test_renders_dedup_hits_and_limits_add_up(srv: Server) -> None:
    before = scrape(srv)
    # A client address of this test's own (127.0.0.1 is a trusted proxy by default), so its
    # allowance does not depend on what other tests rendered anonymously.
    client = {"X-Forwarded-For": "198.51.100.77"}
    for i in range(3):  # the anonymous daily limit of this server
        url = f"{srv.url}/api/og?template=blog&title=Metered+{i}"
        assert request(url, headers=client).status == 200
    url = f"{srv.url}/api/og?template=blog&title=Metered+3"
    assert request(url, headers=client).status == 429
    repeat = f"{srv.url}/api/og?template=blog&title=Metered+0"
    assert request(repeat, headers=client).status == 200  # a repeat: free, even now
    key = srv.create_key("metered")
    assert v2(srv, key, BODY).status == 201
    assert v2(srv, key, BODY).status == 200  # the dedup hit
    burst_key = srv.create_key("metered-burst", plan="agency")
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = [r.status for r in pool.map(lambda _: v2(srv, burst_key, b"[]"), range(12))]
    assert set(statuses) <= {400, 429} and 429 in statuses
    after = scrape(srv)

    def og(status: str) -> float:
        labels = {"route": "/api/og", "method": "GET", "status": status}
        return grew(before, after, "ogmint_http_requests_total", **labels)

    def render(status: str) -> float:
        labels = {"route": "/api/v2/render", "method": "POST", "status": status}
        return grew(before, after, "ogmint_http_requests_total", **labels)

    assert (og("200"), og("429")) == (4, 1)
    assert (render("201"), render("200")) == (1, 1)
    assert (render("400"), render("429")) == (statuses.count(400), statuses.count(429))
    assert grew(before, after, "ogmint_renders_total", api="v1", template="blog") == 3
    assert grew(before, after, "ogmint_renders_total", api="v2", template="blog") == 1
    assert grew(before, after, "ogmint_render_duration_seconds_count") == 4
    assert grew(before, after, "ogmint_dedup_hits_total") == 1
    assert grew(before, after, "ogmint_repeat_hits_total") == 1
    assert grew(before, after, "ogmint_rate_limited_total", limit="daily") == 1
    assert grew(before, after, "ogmint_rate_limited_total", limit="burst") == statuses.count(429)
    assert value(after, "ogmint_renders_in_progress") == 0
    # The renderer's caches: four renders looked up their backgrounds four times (the three V1
    # ones share theirs: a miss at most once per worker) and their glyphs many times; what
    # they hold is within their byte bounds (per worker, two workers).
    cache = "ogmint_render_cache_{}_total"
    looked_up = [
        grew(before, after, cache.format("hits"), cache=c)
        + grew(before, after, cache.format("misses"), cache=c)
        for c in ("background", "glyph")
    ]
    assert looked_up[0] == 4 and looked_up[1] > 4 * len("Metered")
    assert grew(before, after, cache.format("hits"), cache="background") >= 1
    assert 0 < value(after, "ogmint_render_cache_bytes", cache="glyph") <= 2 * 32 * 2**20
    assert 0 < value(after, "ogmint_render_cache_bytes", cache="background") <= 2 * 128 * 2**20


def test_the_workers_caches_are_counted_and_their_bytes_shown(srv: Server) -> None:
    caches = ("fetched_images", "stored_images", "repeats", "templates", "brands")
    key = srv.create_key("cached", plan="agency")
    before = scrape(srv)
    for i in range(3):
        url = f"{srv.url}/api/og?template=minimal&title=Cached+{i}"
        assert request(url, headers={"x-api-key": key}).status == 200
    # Each worker reads its caches into the metrics once a second: wait for both.
    deadline = time.monotonic() + 30
    while True:
        after = scrape(srv)
        missed = grew(before, after, "ogmint_cache_misses_total", cache="repeats")
        if missed >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert missed >= 3  # each new card was looked up in the recent repeats first
    # Saved renders are kept for repeats: bytes held, within each worker's bound (32 MiB).
    assert 0 < value(after, "ogmint_cache_bytes", cache="repeats") <= 2 * 32 * 2**20
    for name in caches:
        assert ("ogmint_cache_bytes", frozenset({("cache", name)})) in after


def test_saturated_render_pools_are_counted(srv: Server) -> None:
    keys = [srv.create_key(f"saturate-{i}") for i in range(4)]  # 4 requests each: no burst limit
    before = scrape(srv)

    def og(i: int) -> int:
        url = f"{srv.url}/api/og?template=blog&title=Saturated+{i}+{time.time()}"
        return request(url, headers={"x-api-key": keys[i % 4]}).status

    statuses: list[int] = []
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for _ in range(5):  # more rounds only when a loaded machine spread the requests out
            statuses += pool.map(og, range(16))
            if 503 in statuses:
                break
            time.sleep(1.0)  # the keys' burst allowance (4 requests each per round) refills
    assert set(statuses) <= {200, 503} and 503 in statuses
    after = scrape(srv)
    assert grew(before, after, "ogmint_render_pool_rejections_total") == statuses.count(503)
    assert grew(before, after, "ogmint_renders_total", api="v1", template="blog") == (
        statuses.count(200)
    )


def test_webhook_attempts_are_counted_by_outcome(srv: Server, receiver: Receiver) -> None:
    receiver.script["/metered-retry"] = [500]  # then 200
    receiver.script["/metered-gone"] = [410]
    key = srv.create_key("metered-hooks")
    before = scrape(srv)
    for path in ("/metered-retry", "/metered-gone"):
        body = {**BODY, "title": f"Hook {path}", "webhookUrl": receiver.url(path)}
        assert v2(srv, key, body).json()["webhook_dispatched"] is True

    def settled() -> Samples | None:
        got = scrape(srv)
        outcomes = ("delivered", "retry", "failed")
        counted = [
            grew(before, got, "ogmint_webhook_deliveries_total", outcome=o) for o in outcomes
        ]
        return got if counted == [1, 1, 1] else None

    wait_until(settled, timeout=15, step=0.2)


def test_labels_stay_bounded(srv: Server) -> None:
    for path in ("/no/such/page", "/i/zzQQzzQQ", "/api/v2/renders/zzQQzzQQ/deliveries"):
        request(srv.url + path)
    request(srv.url + "/healthz", method="BREW")
    got = scrape(srv)
    labels = [dict(k) for name, k in got if name == "ogmint_http_requests_total"]
    assert {label["route"] for label in labels} <= ROUTES
    assert {label["method"] for label in labels} <= {"GET", "HEAD", "POST", "OTHER"}
    assert value(
        got, "ogmint_http_requests_total", route="/i/<slug:str>", method="GET", status="404"
    )
    assert value(got, "ogmint_http_requests_total", route="unmatched", method="GET", status="404")
    assert value(got, "ogmint_http_requests_total", route="unmatched", method="OTHER", status="405")
    assert "zzQQzzQQ" not in str(got) and "no/such" not in str(got)

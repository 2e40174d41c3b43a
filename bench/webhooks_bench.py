"""Webhook benchmark: delivery throughput to a local HTTPS receiver, and what a webhook adds
to the V2 response time.

Starts one ``python -m ogmint`` process (embedded SQLite, or ``--redis-url``) that trusts a
throw-away CA and may reach loopback, plus an aiohttp HTTPS receiver in this process.

1. Throughput: ``--deliveries`` deliveries are written straight into the outbox before the
   server starts (so rendering is not measured); the figure is deliveries per second between
   the receiver's first and last request.
2. Latency: ``--renders`` V2 renders with and without ``webhookUrl``, interleaved, each a new
   image (unique title), round-robin over several users to stay under the burst limit; medians
   and p95 of the client-side response time. The receiver is running, so deliveries happen
   concurrently with the requests, in the same server process, as in production.

``python bench/webhooks_bench.py [--deliveries 2000] [--renders 200]`` prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import trustme
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
USERS = 60  # V2 requests go round-robin over this many users: each stays under its burst limit
sys.path.insert(0, str(REPO / "server"))

from ogmint.keys import hash_key, new_key  # noqa: E402
from ogmint.state.base import Delivery, RenderRecord  # noqa: E402
from ogmint.state.redis import RedisStateStore  # noqa: E402
from ogmint.state.sqlite import SqliteStateStore  # noqa: E402
from ogmint.webhooks.queue import new_delivery  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """An HTTPS receiver answering 204, recording arrival times, in a background thread."""

    def __init__(self, ca: trustme.CA) -> None:
        self.port = free_port()
        self.times: list[float] = []
        self._ca = ca
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.times.append(time.perf_counter())
        return web.Response(status=204)

    def start(self) -> None:
        ready = threading.Event()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1").configure_cert(tls)

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(
                web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=tls).start()
            )
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogmint"],
        env={**os.environ, **env, "OGMINT_PORT": str(port), "OGMINT_HOST": "127.0.0.1"},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("server did not start")


async def prefill(env: dict[str, str], data: Path, url: str, count: int) -> list[str]:
    """Queues ``count`` deliveries to ``url``; returns API keys of fresh users for the V2 part."""
    store = (
        RedisStateStore(env["OGMINT_REDIS_URL"])
        if "OGMINT_REDIS_URL" in env
        else SqliteStateStore(data / "ogmint.sqlite3")
    )
    await store.open()
    created = "2026-11-25T00:00:00.000Z"
    for i in range(count):
        slug = f"b{i:07d}"
        record = RenderRecord(slug, "bench", f"d{i}", "k", '"e"', 1, "blog", created)
        delivery: Delivery = new_delivery(
            record,
            image_url=f"http://127.0.0.1/i/{slug}",
            owner="bench",
            url=url,
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            metadata={"i": i},
        )
        await store.save_render(record, delivery)
    keys = []
    for i in range(USERS):
        key_id, key = new_key()
        await store.create_key(f"bench-{i}", key_id, hash_key(key), "agency")
        keys.append(key)
    await store.close()
    return keys


def post(url: str, key: str, body: dict[str, object]) -> float:
    req = urllib.request.Request(
        url,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-api-key": key},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
        assert r.status == 201, r.status
    return (time.perf_counter() - start) * 1000


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def run(deliveries: int, renders: int, redis_url: str) -> dict[str, object]:
    ca = trustme.CA()
    receiver = Receiver(ca)
    receiver.start()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        ca_file = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        env = {
            "OGMINT_DATA_DIR": str(data),
            "OGMINT_OUTBOUND_CA_FILE": str(ca_file),
            "OGMINT_OUTBOUND_ALLOW": "127.0.0.1",
        }
        if redis_url:
            env["OGMINT_REDIS_URL"] = redis_url
        keys = asyncio.run(prefill(env, data, receiver.url("/bulk"), deliveries))
        port = free_port()
        proc = start_server(env, port)
        try:
            deadline = time.monotonic() + 600
            while len(receiver.times) < deliveries and time.monotonic() < deadline:
                time.sleep(0.05)
            got = len(receiver.times)
            span = receiver.times[-1] - receiver.times[0]
            rate = (got - 1) / span if span > 0 else float("nan")

            base = f"http://127.0.0.1:{port}/api/v2/render"
            plain: list[float] = []
            hooked: list[float] = []
            rng = random.Random(1)
            sent = 0
            quiet: list[float] = []  # plain requests right after a plain one
            previous = False
            for i in range(renders + 10):
                # Each pair in random order: no systematic position effects.
                for with_hook in rng.sample([False, True], 2):
                    body: dict[str, object] = {
                        "template": "blog",
                        "title": f"Bench {i} {int(with_hook)}",
                    }
                    if with_hook:
                        body |= {
                            "webhookUrl": receiver.url("/lat"),
                            "webhookSecret": "s",
                            "metadata": {"i": i},
                        }
                    sent += 1  # round-robin users: each stays under the burst limit
                    ms = post(base, keys[sent % len(keys)], body)
                    if i >= 10:  # the first 10 pairs warm up
                        (hooked if with_hook else plain).append(ms)
                        if not with_hook and not previous:
                            quiet.append(ms)
                    previous = with_hook
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    return {
        "backend": "redis" if redis_url else "embedded",
        "deliveries": got,
        "deliveries_per_s": round(rate, 1),
        "v2_without_webhook": summary(plain),
        "v2_with_webhook": summary(hooked),
        # A delivery runs in the server's event loop right after its request, so its cost
        # lands on the next request: plain requests after a plain one show the quiet figure.
        "v2_without_webhook_after_plain": summary(quiet),
        "extra_median_ms": round(statistics.median(hooked) - statistics.median(plain), 2),
        "extra_vs_after_plain_median_ms": round(
            statistics.median(hooked) - statistics.median(quiet), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--renders", type=int, default=200, help="per variant")
    parser.add_argument("--redis-url", default="", help="use this Redis (a scratch database)")
    args = parser.parse_args()
    print(json.dumps(run(args.deliveries, args.renders, args.redis_url), indent=2))


if __name__ == "__main__":
    main()

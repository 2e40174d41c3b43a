"""Property: every queued delivery gets a recorded attempt, whatever its secret, body or URL.

The real worker, the real guarded client and a real HTTPS receiver, over each real state store
(SQLite and Redis). Host names are "resolved" to loopback by a stand-in resolver (so nothing
but this machine is ever contacted) that still rejects the labels the real one rejects.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backends import RedisServer
from ogmint.ids import random_base62
from ogmint.metrics import Metrics
from ogmint.net import AddressPolicy, GuardedClient
from ogmint.state.deliveries import Delivery
from ogmint.state.redis import redis_state
from ogmint.state.renders import RenderRecord
from ogmint.state.sqlite import sqlite_state
from ogmint.state.store import State
from ogmint.webhooks.payload import NotRepresentable, render_completed
from ogmint.webhooks.queue import RetryPolicy
from ogmint.webhooks.worker import DeliveryWorker
from receiver import Receiver, write_ca

pytestmark = pytest.mark.asyncio(loop_scope="session")

RECEIVER = "RECEIVER"  # replaced by the receiver's origin in a generated URL

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
secrets = st.one_of(
    st.text(max_size=100),
    st.text(max_size=40).map(lambda t: "whsec_" + t),
    st.binary(max_size=80).map(lambda b: "whsec_" + base64.b64encode(b).decode()),
)
hosts = st.one_of(
    st.text(max_size=70),
    st.sampled_from(["", "a" * 64 + ".example", "a..b", ".", "xn--", "[::1]", "h:99999", "%00"]),
)
urls = st.one_of(
    st.text(max_size=60),
    st.builds(lambda h, p: f"https://{h}/{p}", hosts, st.text(max_size=30)),
    st.text(max_size=30).map(lambda p: f"{RECEIVER}/{p}"),
)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, str]]:
    ca = trustme.CA()
    r = Receiver(ca)
    r.start()
    yield r, write_ca(ca, tmp_path_factory.mktemp("ca") / "ca.pem")
    r.stop()


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[State]:
    if request.param == "sqlite":
        s = sqlite_state(tmp_path / "state.db")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        s = redis_state(server.url, prefix=f"t{uuid.uuid4().hex}:")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def worker(store: State, receiver: tuple[Receiver, str]) -> AsyncIterator[DeliveryWorker]:
    r, ca_file = receiver
    w = DeliveryWorker(
        store.deliveries,
        GuardedClient(AddressPolicy(("127.0.0.1",), ports=(443, r.port)), ca_file, 2.0, 4096),
        RetryPolicy((3600.0,)),  # one attempt each within the test
        timeout=1.0,
        lease=5.0,
        concurrency=8,
        poll_interval=0.05,
        metrics=Metrics(None),
    )
    with loopback_resolver():
        w.start()
        yield w
        await w.stop()


@contextmanager
def loopback_resolver() -> Iterator[None]:
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def resolve(host: object, port: object, **kwargs: object) -> object:
        if isinstance(host, str) and host != "127.0.0.1":
            host.encode("idna")  # raises UnicodeError for empty or over-long labels, as real DNS
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return await real(host, port, **kwargs)  # type: ignore[arg-type]

    loop.getaddrinfo = resolve  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        loop.getaddrinfo = real  # type: ignore[method-assign]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=st.lists(st.tuples(secrets, json_values, urls), min_size=1, max_size=4))
@example(cases=[("whsec_\u00e9\u00e9\u00e9\u00e9", {}, f"{RECEIVER}/hook")])
async def test_every_delivery_gets_an_attempt(
    store: State,
    worker: DeliveryWorker,
    receiver: tuple[Receiver, str],
    cases: list[tuple[str, object, str]],
) -> None:
    origin = f"https://127.0.0.1:{receiver[0].port}"
    ids = []
    for secret, metadata, url in cases:
        slug = random_base62(8)
        record = RenderRecord(
            slug, "key_1", slug, "k", '"e"', 1, "blog", "2026-11-05T10:20:30.456Z"
        )
        try:
            body = render_completed(record, "https://img.test/i/" + slug, {"m": metadata})
        except NotRepresentable:
            body = b"{}"
        delivery = Delivery(
            "msg_" + random_base62(24),
            slug,
            "alice",
            url.replace(RECEIVER, origin),
            secret,
            body,
            record.created_at,
        )
        assert await store.atomic.save_render(record, delivery)
        ids.append(delivery.id)
    worker.wake()
    deadline = time.monotonic() + 10
    for delivery_id in ids:
        while True:
            status = await store.deliveries.get_delivery(delivery_id)
            assert status is not None
            if status.attempts:
                break
            assert time.monotonic() < deadline, f"no attempt for {status}"
            await asyncio.sleep(0.02)
        (attempt,) = status.attempts
        assert attempt.status is not None or attempt.error

"""Redis-only behaviour of the state: outages, timeouts, batching, the script files."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from backends import RedisServer, free_port
from contract.records import check_template_from_before_sizes, record
from ogmint.state.base import StateUnavailable
from ogmint.state.limits import LimitStatus
from ogmint.state.redis import redis_state
from ogmint.state.redis.client import SCRIPT_DIR, read_scripts
from ogmint.state.store import State
from ogmint.state.usage import Retention, TrackedRender

pytestmark = pytest.mark.asyncio(loop_scope="session")

TIMEOUT = 0.5


TRACKED = TrackedRender("2026-11-05T10:20:30.456Z", "v2", "blog", "t", 201, "slugAAAA")


def calls(state: State) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    """One call of every method of every aggregate (but open/close)."""
    keys, limits, renders, atomic = state.keys, state.limits, state.renders, state.atomic
    return [
        ("ping", state.ping),
        ("consume_daily", lambda: limits.consume_daily("1.2.3.4", 10)),
        ("refund_daily", lambda: limits.refund_daily("1.2.3.4")),
        ("create_key", lambda: keys.create_key("alice", "kx", "hx", None)),
        ("find_key", lambda: keys.find_key("h1")),
        ("list_keys", keys.list_keys),
        ("list_keys_user", lambda: keys.list_keys("alice")),
        ("revoke_key", lambda: keys.revoke_key("k1")),
        ("set_plan", lambda: keys.set_plan("alice", "pro")),
        ("take_token", lambda: limits.take_token("alice", 5, 5)),
        ("consume_quota", lambda: limits.consume_quota("alice", 10)),
        ("refund_quota", lambda: limits.refund_quota("alice")),
        ("find_render", lambda: renders.find_render("alice", "d1")),
        ("claim_render", lambda: renders.claim_render("alice", "d1", 5)),
        ("release_claim", lambda: renders.release_claim("alice", "d1")),
        ("admit_render", lambda: atomic.admit_render("alice", "k1", "d2", quota=10, ttl=5)),
        ("save_render", lambda: atomic.save_render(record("slugZZZZ"))),
        ("get_render", lambda: renders.get_render("slugAAAA")),
        ("list_deliveries", lambda: state.deliveries.list_deliveries("slugAAAA")),
        ("claim_deliveries", lambda: state.deliveries.claim_deliveries("w", 1, lease=5)),
        ("template_version", lambda: state.templates.template_version("alice", "custom_x")),
        ("list_templates", lambda: state.templates.list_templates("alice")),
        ("create_account", lambda: state.accounts.create_account("bob", "b@x.y", False)),
        ("get_account", lambda: state.accounts.get_account("alice")),
        ("use_link", lambda: state.accounts.use_link("h", "pw")),
        ("get_session", lambda: state.accounts.get_session("s")),
        ("start_session", lambda: state.accounts.start_session("s", "alice", "c", 5)),
        ("track", lambda: state.usage.track("alice", TRACKED, Retention(5, 5))),
        ("recent", lambda: state.usage.recent("alice", 5)),
    ]


async def _unavailable_within_bound(name: str, call: Callable[[], Awaitable[object]]) -> None:
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        await call()
    elapsed = time.monotonic() - started
    assert elapsed < 3 * TIMEOUT + 0.5, f"{name} took {elapsed:.2f} s"


async def assert_all_unavailable(state: State) -> None:
    """Every method fails with StateUnavailable within its bound: all at once (as a busy
    server's callers do: none waits behind another's timeout), then each again on its own
    (the timeouts left nothing behind that makes a later call hang)."""
    await asyncio.gather(*(_unavailable_within_bound(name, call) for name, call in calls(state)))
    for name, call in calls(state)[:3]:
        await _unavailable_within_bound(name, call)


async def test_scripts_are_files_with_their_includes() -> None:
    scripts = read_scripts()
    assert {"admit", "save", "consume", "bucket", "finish"} <= set(scripts)
    assert not any(name.startswith("_") for name in scripts)  # libraries are not scripts
    assert all("--! include" not in lua for lua in scripts.values())
    # admit pulls in consume (which pulls in window) and the bucket, each once, window first.
    admit = scripts["admit"]
    assert admit.count("local function window") == 1
    assert admit.index("local function window") < admit.index("local function consume")
    assert "local function take_token" in admit
    assert (SCRIPT_DIR / "admit.lua").is_file()


async def test_redis_down_then_back(redis_server_factory: Callable[[], RedisServer]) -> None:
    server = redis_server_factory()
    state = redis_state(server.url, timeout=TIMEOUT)
    await state.open()
    try:
        await state.keys.create_key("alice", "k1", "h1", None)
        assert await state.atomic.save_render(record("slugAAAA"))
        server.stop()
        await assert_all_unavailable(state)
        server.start()
        # The same instance reconnects by itself (the restarted server is empty).
        for name, call in calls(state):
            try:
                await call()
            except StateUnavailable:  # pragma: no cover - the assertion names the method
                pytest.fail(f"{name} still unavailable after the restart")
        # consumed + refunded, then one charged by admit_render
        assert (await state.limits.consume_quota("alice", 10)).remaining == 8
        assert await state.keys.find_key("hx") is not None
    finally:
        server.stop()
        await state.close()


async def test_redis_batched_calls_each_get_their_reply(redis_server: RedisServer) -> None:
    """Concurrent calls share a pipelined round trip; a caller that gives up harms no other."""
    state = redis_state(redis_server.url, prefix=f"t{uuid.uuid4().hex}:")
    await state.open()
    try:
        tasks = [
            asyncio.ensure_future(state.limits.consume_quota(f"u{i % 3}", 100)) for i in range(12)
        ]
        for _ in range(3):  # the calls are queued, then their batch is sent
            await asyncio.sleep(0)
        assert not tasks[5].done()
        tasks[5].cancel()  # while its reply is on the way
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[5], asyncio.CancelledError)
        done = [r for r in results if isinstance(r, LimitStatus)]
        assert len(done) == 11 and all(r.allowed for r in done)
        # Each user's replies are that user's own count, in order.
        for user in range(3):
            mine = [r.remaining for i, r in enumerate(results) if i % 3 == user and i != 5]
            assert mine == sorted(mine, reverse=True) and len(set(mine)) == len(mine)
        # The cancelled call had been sent (u2's fifth render is number 5, not 4), and its
        # reply went to no one else.
        assert (await state.limits.consume_quota("u2", 100)).remaining == 95
    finally:
        await state.close()


@pytest.fixture(params=["closed port", "hung server"])
def unreachable(request: pytest.FixtureRequest) -> Iterator[int]:
    """A port nothing listens on, or one that accepts TCP connections and never answers (a
    hung Redis)."""
    if request.param == "closed port":
        yield free_port()
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield int(s.getsockname()[1])


async def test_unreachable_redis_times_out(unreachable: int) -> None:
    state = redis_state(f"redis://127.0.0.1:{unreachable}", timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        await state.open()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    await assert_all_unavailable(state)
    await state.close()


async def test_redis_not_open_or_closed(redis_server: RedisServer) -> None:
    state = redis_state(redis_server.url, prefix=f"t{uuid.uuid4().hex}:")
    for _ in range(2):
        with pytest.raises(StateUnavailable):
            await state.ping()
        with pytest.raises(StateUnavailable):
            await state.limits.consume_quota("alice", 1)
        await state.open()
        await state.ping()
        await state.close()


async def test_redis_small_pool_queues_callers(redis_server: RedisServer) -> None:
    state = redis_state(redis_server.url, prefix=f"t{uuid.uuid4().hex}:", max_connections=2)
    await state.open()
    try:
        got = await asyncio.gather(*(state.limits.consume_quota("alice", 37) for _ in range(100)))
        assert sum(s.allowed for s in got) == 37
    finally:
        await state.close()


async def test_a_template_stored_before_sizes_reads_them_as_none(redis_server: RedisServer) -> None:
    state = redis_state(redis_server.url, prefix=f"t{uuid.uuid4().hex}:")
    await state.open()
    try:
        client = state.templates._c  # type: ignore[attr-defined]
        stamp = "2026-11-05T10:20:30.456Z"
        old = {"id": "custom_a", "owner": "alice", "name": "Old", "version": "v1"}
        old |= {"fields": "[]", "created_at": stamp, "updated_at": stamp, "source": "<svg/>"}
        await client.redis.hset(client.u("alice", "template:custom_a"), mapping=old)
        await client.redis.zadd(client.u("alice", "templates"), {"custom_a": 1})
        await check_template_from_before_sizes(state)
    finally:
        await state.close()

"""The StateStore contract, run against every implementation (embedded SQLite and Redis)."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backends import RedisServer, free_port
from ogmint.state.base import (
    DELIVERED,
    FAILED,
    PENDING,
    ApiKeyRecord,
    AttemptOutcome,
    Delivery,
    LimitStatus,
    RenderRecord,
    StateStore,
    StateUnavailable,
    utc_day,
    utc_month,
)
from ogmint.state.redis import RedisStateStore
from ogmint.state.sqlite import SqliteStateStore

pytestmark = pytest.mark.asyncio(loop_scope="session")

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateStore]:
    """An open, empty store of each kind (Redis tests get a fresh prefix on the shared server)."""
    s: StateStore
    if request.param == "sqlite":
        s = SqliteStateStore(tmp_path / "state.db")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        s = RedisStateStore(server.url, prefix=f"t{uuid.uuid4().hex}:")
    await s.open()
    yield s
    await s.close()


def record(slug: str, user: str = "alice", dedup_key: str = "d1") -> RenderRecord:
    return RenderRecord(
        slug=slug,
        user=user,
        dedup_key=dedup_key,
        storage_key=f"images/{slug}.png",
        etag='"abc123"',
        size=4321,
        template="basic",
        created_at="2026-11-05T10:20:30.456Z",
    )


async def key(store: StateStore, key_hash: str) -> ApiKeyRecord:
    found = await store.find_key(key_hash)
    assert found is not None, key_hash
    return found


async def test_ping(store: StateStore) -> None:
    await store.ping()


# -- daily and monthly counters -----------------------------------------------------------------
Consume = Callable[[StateStore, str, int], Awaitable[LimitStatus]]
Refund = Callable[[StateStore, str], Awaitable[None]]
COUNTERS: list[tuple[str, Consume, Refund, Callable[[], tuple[str, int]]]] = [
    ("daily", lambda s, k, n: s.consume_daily(k, n), lambda s, k: s.refund_daily(k), utc_day),
    ("monthly", lambda s, k, n: s.consume_quota(k, n), lambda s, k: s.refund_quota(k), utc_month),
]
counters = pytest.mark.parametrize(
    ("consume", "refund", "window"), [c[1:] for c in COUNTERS], ids=[c[0] for c in COUNTERS]
)


@counters
async def test_counter_admits_exactly_limit_then_refuses(
    store: StateStore, consume: Consume, refund: Refund, window: Callable[[], tuple[str, int]]
) -> None:
    before = window()[1]
    got = [await consume(store, "alice", 3) for _ in range(5)]
    after = window()[1]
    assert [s.allowed for s in got] == [True, True, True, False, False]
    assert [s.remaining for s in got] == [2, 1, 0, 0, 0]
    assert all(s.limit == 3 for s in got)
    # The next UTC midnight / the next 1st, 00:00 UTC.
    assert all(s.reset in (before, after) for s in got)
    assert got[0].headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": str(got[0].reset),
    }
    # Counters are per subject.
    assert (await consume(store, "bob", 3)).remaining == 2


@counters
async def test_counter_zero_limit_refuses(
    store: StateStore, consume: Consume, refund: Refund, window: Callable[[], tuple[str, int]]
) -> None:
    status = await consume(store, "alice", 0)
    assert (status.allowed, status.limit, status.remaining) == (False, 0, 0)


@counters
async def test_counter_refund_gives_one_back_never_below_zero(
    store: StateStore, consume: Consume, refund: Refund, window: Callable[[], tuple[str, int]]
) -> None:
    await refund(store, "alice")  # nothing used: stays at 0
    await refund(store, "alice")
    assert [(await consume(store, "alice", 2)).allowed for _ in range(3)] == [True, True, False]
    await refund(store, "alice")
    again = await consume(store, "alice", 2)
    assert (again.allowed, again.remaining) == (True, 0)
    assert not (await consume(store, "alice", 2)).allowed


async def test_concurrent_quota_admits_exactly_the_limit(store: StateStore) -> None:
    got = await asyncio.gather(*(store.consume_quota("alice", 37) for _ in range(100)))
    allowed = [s for s in got if s.allowed]
    assert len(allowed) == 37
    assert sorted(s.remaining for s in allowed) == list(range(37))
    assert all(s.remaining == 0 for s in got if not s.allowed)


async def test_concurrent_daily_admits_exactly_the_limit(store: StateStore) -> None:
    got = await asyncio.gather(*(store.consume_daily("203.0.113.7", 11) for _ in range(40)))
    assert sum(s.allowed for s in got) == 11


# -- token bucket -------------------------------------------------------------------------------
async def test_bucket_burst_then_refuses(store: StateStore) -> None:
    now = time.time()
    got = [await store.take_token("alice", 0.001, 5) for _ in range(7)]
    assert [s.allowed for s in got] == [True] * 5 + [False] * 2
    assert [s.remaining for s in got] == [4, 3, 2, 1, 0, 0, 0]
    assert all(s.limit == 5 for s in got)
    # While a token is left the bucket is ready within a second; empty, it needs ~1000 s.
    assert all(now < s.reset <= now + 3 for s in got[:4])
    assert all(now + 900 < s.reset < now + 1100 for s in got[4:])
    assert (await store.take_token("bob", 0.001, 5)).allowed  # buckets are per user


async def test_bucket_refills_over_time(store: StateStore) -> None:
    assert all([(await store.take_token("alice", 5, 5)).allowed for _ in range(5)])
    refused = await store.take_token("alice", 5, 5)
    assert not refused.allowed
    assert refused.reset <= time.time() + 2
    await asyncio.sleep(0.25)  # 5 tokens/s: one more
    assert (await store.take_token("alice", 5, 5)).allowed
    assert not (await store.take_token("alice", 5, 5)).allowed


async def test_concurrent_bucket_admits_exactly_the_burst(store: StateStore) -> None:
    got = await asyncio.gather(*(store.take_token("alice", 0.001, 5) for _ in range(50)))
    assert sum(s.allowed for s in got) == 5


# -- keys, users, plans -------------------------------------------------------------------------
async def test_create_and_find_key(store: StateStore) -> None:
    await store.create_key("alice", "k1", "h1", None)
    found = await key(store, "h1")
    assert (found.key_id, found.key_hash, found.user, found.plan, found.revoked) == (
        "k1",
        "h1",
        "alice",
        "free",
        False,
    )
    assert ISO_MS.match(found.created_at)
    created = datetime.strptime(found.created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(created.timestamp() - time.time()) < 5
    assert await store.find_key("nope") is None


async def test_create_key_plan(store: StateStore) -> None:
    await store.create_key("bob", "k1", "h1", "pro")
    assert (await key(store, "h1")).plan == "pro"
    await store.create_key("bob", "k2", "h2", None)  # no plan: the user's stays
    assert (await key(store, "h2")).plan == "pro"
    await store.create_key("bob", "k3", "h3", "agency")  # a plan: the user's changes
    assert {k.plan for k in await store.list_keys("bob")} == {"agency"}


async def test_list_keys_oldest_first(store: StateStore) -> None:
    for i, user in enumerate(["alice", "bob", "alice", "carol"]):
        await store.create_key(user, f"k{i}", f"h{i}", None)
        await asyncio.sleep(0.002)
    assert [k.key_id for k in await store.list_keys()] == ["k0", "k1", "k2", "k3"]
    assert [k.key_id for k in await store.list_keys("alice")] == ["k0", "k2"]
    assert [k.key_hash for k in await store.list_keys("carol")] == ["h3"]
    assert await store.list_keys("nobody") == []
    keys = await store.list_keys()
    assert [k.created_at for k in keys] == sorted(k.created_at for k in keys)


async def test_revoke_key(store: StateStore) -> None:
    await store.create_key("alice", "k1", "h1", None)
    await store.create_key("alice", "k2", "h2", None)
    assert await store.revoke_key("k1")
    assert not await store.revoke_key("nope")
    assert (await key(store, "h1")).revoked
    assert not (await key(store, "h2")).revoked
    assert [k.revoked for k in await store.list_keys("alice")] == [True, False]


async def test_set_plan(store: StateStore) -> None:
    await store.create_key("alice", "k1", "h1", None)
    assert await store.set_plan("alice", "starter")
    assert (await key(store, "h1")).plan == "starter"
    assert [k.plan for k in await store.list_keys()] == ["starter"]
    assert not await store.set_plan("nobody", "pro")


# -- claims and renders -------------------------------------------------------------------------
async def test_claim_first_wins_release_reclaims(store: StateStore) -> None:
    assert await store.claim_render("alice", "d1", 30)
    assert not await store.claim_render("alice", "d1", 30)
    assert await store.claim_render("bob", "d1", 30)  # claims are per user
    await store.release_claim("alice", "d1")
    assert await store.claim_render("alice", "d1", 30)
    await store.release_claim("alice", "never-claimed")


async def test_expired_claim_can_be_reclaimed(store: StateStore) -> None:
    assert await store.claim_render("alice", "d1", 0.2)
    assert not await store.claim_render("alice", "d1", 0.2)
    await asyncio.sleep(0.3)
    assert await store.claim_render("alice", "d1", 30)


async def test_no_claim_once_rendered(store: StateStore) -> None:
    assert await store.claim_render("alice", "d1", 30)
    assert await store.save_render(record("slugAAAA"))
    assert not await store.claim_render("alice", "d1", 30)
    await store.release_claim("alice", "d1")
    assert not await store.claim_render("alice", "d1", 30)


async def test_save_render_roundtrip(store: StateStore) -> None:
    rec = record("slugAAAA")
    assert await store.find_render("alice", "d1") is None
    assert await store.save_render(rec)
    assert await store.find_render("alice", "d1") == rec
    assert await store.get_render("slugAAAA") == rec
    assert await store.find_render("bob", "d1") is None
    assert await store.find_render("alice", "d2") is None
    assert await store.get_render("slugBBBB") is None


async def test_save_render_without_claim(store: StateStore) -> None:
    assert await store.save_render(record("slugAAAA"))
    assert await store.find_render("alice", "d1") == record("slugAAAA")


async def test_save_render_refuses_a_taken_slug(store: StateStore) -> None:
    assert await store.save_render(record("slugAAAA", user="alice", dedup_key="d1"))
    assert await store.claim_render("bob", "d9", 30)
    assert not await store.save_render(record("slugAAAA", user="bob", dedup_key="d9"))
    assert await store.find_render("bob", "d9") is None
    assert await store.get_render("slugAAAA") == record("slugAAAA", user="alice", dedup_key="d1")
    # Bob's claim was not dropped: the failed save wrote nothing.
    assert not await store.claim_render("bob", "d9", 30)


async def test_save_render_refuses_a_second_slug_for_a_dedup_key(store: StateStore) -> None:
    assert await store.save_render(record("slugAAAA"))
    assert not await store.save_render(record("slugBBBB"))
    assert await store.get_render("slugBBBB") is None
    assert await store.find_render("alice", "d1") == record("slugAAAA")


async def test_concurrent_claims_exactly_one_wins(store: StateStore) -> None:
    got = await asyncio.gather(*(store.claim_render("alice", "d1", 30) for _ in range(30)))
    assert sum(got) == 1


async def test_concurrent_saves_one_slug(store: StateStore) -> None:
    recs = [record(f"slug{i:04d}") for i in range(10)]
    got = await asyncio.gather(*(store.save_render(r) for r in recs))
    assert sum(got) == 1
    winner = recs[got.index(True)]
    assert await store.find_render("alice", "d1") == winner
    assert [await store.get_render(r.slug) for r in recs if r != winner] == [None] * 9


async def test_admit_claims_and_charges_a_new_render(store: StateStore) -> None:
    got = await store.admit_render("alice", "k1", "d1", quota=3, ttl=30, burst=(0.001, 5))
    assert got.claimed and got.existing is None
    assert got.burst is not None and (got.burst.allowed, got.burst.remaining) == (True, 4)
    assert got.quota is not None and (got.quota.allowed, got.quota.remaining) == (True, 2)
    # The claim is the same one claim_render takes; the token and the quota were really used.
    assert not await store.claim_render("k1", "d1", 30)
    assert (await store.take_token("alice", 0.001, 5)).remaining == 3
    assert (await store.consume_quota("alice", 3)).remaining == 1


async def test_admit_answers_with_the_existing_render_and_charges_nothing(
    store: StateStore,
) -> None:
    rec = record("slugAAAA", user="k1")
    assert await store.save_render(rec)
    got = await store.admit_render("alice", "k1", "d1", quota=3, ttl=30, burst=(0.001, 5))
    assert (got.existing, got.claimed, got.quota) == (rec, False, None)
    assert got.burst is not None and got.burst.allowed  # the request still took its token
    assert (await store.consume_quota("alice", 3)).remaining == 2  # quota untouched


async def test_admit_waits_for_another_callers_claim(store: StateStore) -> None:
    assert await store.claim_render("k1", "d1", 30)
    got = await store.admit_render("alice", "k1", "d1", quota=3, ttl=30)
    assert (got.burst, got.existing, got.quota, got.claimed) == (None, None, None, False)
    assert (await store.consume_quota("alice", 3)).remaining == 2  # not charged while busy
    await store.release_claim("k1", "d1")
    assert (await store.admit_render("alice", "k1", "d1", quota=3, ttl=30)).claimed


async def test_admit_stops_at_the_first_refusal(store: StateStore) -> None:
    # Quota used up: refused, and no claim left behind.
    got = await store.admit_render("alice", "k1", "d1", quota=0, ttl=30)
    assert got.quota is not None and not got.quota.allowed and not got.claimed
    assert await store.claim_render("k1", "d1", 30)
    await store.release_claim("k1", "d1")
    # Burst used up: refused before anything else (no quota charged, no claim).
    for _ in range(2):
        await store.take_token("bob", 0.001, 2)
    got = await store.admit_render("bob", "k2", "d1", quota=5, ttl=30, burst=(0.001, 2))
    assert got.burst is not None and not got.burst.allowed
    assert (got.quota, got.claimed) == (None, False)
    assert (await store.consume_quota("bob", 5)).remaining == 4
    assert await store.claim_render("k2", "d1", 30)


async def test_concurrent_admits_one_claim_one_charge(store: StateStore) -> None:
    got = await asyncio.gather(
        *(store.admit_render("alice", "k1", "d1", quota=100, ttl=30) for _ in range(30))
    )
    assert sum(a.claimed for a in got) == 1
    assert (await store.consume_quota("alice", 100)).remaining == 98


# -- Redis: failures ----------------------------------------------------------------------------
TIMEOUT = 0.5


def calls(store: StateStore) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    """One call of every StateStore method (but open/close)."""
    return [
        ("ping", store.ping),
        ("consume_daily", lambda: store.consume_daily("1.2.3.4", 10)),
        ("refund_daily", lambda: store.refund_daily("1.2.3.4")),
        ("create_key", lambda: store.create_key("alice", "kx", "hx", None)),
        ("find_key", lambda: store.find_key("h1")),
        ("list_keys", store.list_keys),
        ("list_keys_user", lambda: store.list_keys("alice")),
        ("revoke_key", lambda: store.revoke_key("k1")),
        ("set_plan", lambda: store.set_plan("alice", "pro")),
        ("take_token", lambda: store.take_token("alice", 5, 5)),
        ("consume_quota", lambda: store.consume_quota("alice", 10)),
        ("refund_quota", lambda: store.refund_quota("alice")),
        ("find_render", lambda: store.find_render("alice", "d1")),
        ("claim_render", lambda: store.claim_render("alice", "d1", 5)),
        ("release_claim", lambda: store.release_claim("alice", "d1")),
        ("save_render", lambda: store.save_render(record("slugZZZZ"))),
        ("get_render", lambda: store.get_render("slugAAAA")),
    ]


async def assert_all_unavailable(store: StateStore) -> None:
    for name, call in calls(store):
        started = time.monotonic()
        with pytest.raises(StateUnavailable):
            await call()
        elapsed = time.monotonic() - started
        assert elapsed < 3 * TIMEOUT + 0.5, f"{name} took {elapsed:.2f} s"


async def test_redis_down_then_back(redis_server_factory: Callable[[], RedisServer]) -> None:
    server = redis_server_factory()
    store = RedisStateStore(server.url, timeout=TIMEOUT)
    await store.open()
    try:
        await store.create_key("alice", "k1", "h1", None)
        assert await store.save_render(record("slugAAAA"))
        server.stop()
        await assert_all_unavailable(store)
        server.start()
        # The same instance reconnects by itself (the restarted server is empty).
        for name, call in calls(store):
            try:
                await call()
            except StateUnavailable:  # pragma: no cover - the assertion names the method
                pytest.fail(f"{name} still unavailable after the restart")
        assert (await store.consume_quota("alice", 10)).remaining == 9  # consumed + refunded above
        assert await store.find_key("hx") is not None
    finally:
        server.stop()
        await store.close()


async def test_redis_batched_calls_each_get_their_reply(redis_server: RedisServer) -> None:
    """Concurrent calls share a pipelined round trip; a caller that gives up harms no other."""
    store = RedisStateStore(redis_server.url, prefix=f"t{uuid.uuid4().hex}:")
    await store.open()
    try:
        tasks = [asyncio.ensure_future(store.consume_quota(f"u{i % 3}", 100)) for i in range(12)]
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
        assert (await store.consume_quota("u2", 100)).remaining == 95
    finally:
        await store.close()


async def test_redis_closed_port() -> None:
    store = RedisStateStore(f"redis://127.0.0.1:{free_port()}", timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        await store.open()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    await assert_all_unavailable(store)
    await store.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (a hung Redis)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield int(s.getsockname()[1])


async def test_redis_hung_server_times_out(silent_server: int) -> None:
    store = RedisStateStore(f"redis://127.0.0.1:{silent_server}", timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        await store.open()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    await assert_all_unavailable(store)
    await store.close()


async def test_redis_not_open_or_closed(redis_server: RedisServer) -> None:
    store = RedisStateStore(redis_server.url, prefix=f"t{uuid.uuid4().hex}:")
    for _ in range(2):
        with pytest.raises(StateUnavailable):
            await store.ping()
        with pytest.raises(StateUnavailable):
            await store.consume_quota("alice", 1)
        await store.open()
        await store.ping()
        await store.close()


async def test_redis_small_pool_queues_callers(redis_server: RedisServer) -> None:
    store = RedisStateStore(redis_server.url, prefix=f"t{uuid.uuid4().hex}:", max_connections=2)
    await store.open()
    try:
        got = await asyncio.gather(*(store.consume_quota("alice", 37) for _ in range(100)))
        assert sum(s.allowed for s in got) == 37
    finally:
        await store.close()


# -- webhook deliveries (the outbox) ------------------------------------------------------------
def delivery(slug: str, n: int = 1) -> Delivery:
    return Delivery(
        id=f"msg_{slug}{n}",
        slug=slug,
        owner="alice-user",
        url="https://hooks.example.com/x",
        secret="s3cret",
        body='{"event":"render.completed","data":{"t":"é 🚀"}}'.encode(),
        created_at="2026-11-05T10:20:30.456Z",
    )


def outcome(state: str, status: int | None = 200, retry_in: float = 0.0) -> AttemptOutcome:
    return AttemptOutcome(
        "2026-11-05T10:20:31.000Z", status, "" if status == 200 else "HTTP 500", 12, state, retry_in
    )


async def test_delivery_is_queued_with_its_render(store: StateStore) -> None:
    d = delivery("slugAAAA")
    assert await store.save_render(record("slugAAAA"), d)
    (claim,) = await store.claim_deliveries("w1", 10, lease=30)
    assert claim.delivery == d and claim.attempts == 0
    (status,) = await store.list_deliveries("slugAAAA")
    assert status.delivery == d and status.state == PENDING and status.attempts == ()
    assert await store.get_delivery(d.id) == status
    assert await store.get_delivery("msg_nope") is None
    assert await store.list_deliveries("slugBBBB") == []


async def test_refused_render_queues_no_delivery(store: StateStore) -> None:
    assert await store.save_render(record("slugAAAA"))
    assert not await store.save_render(record("slugAAAA", dedup_key="d2"), delivery("slugAAAA"))
    assert not await store.save_render(record("slugBBBB"), delivery("slugBBBB"))  # same dedup key
    assert await store.claim_deliveries("w1", 10, lease=30) == []
    assert await store.list_deliveries("slugBBBB") == []


async def test_a_claimed_delivery_goes_to_one_worker_until_its_lease_ends(
    store: StateStore,
) -> None:
    for i in range(5):
        assert await store.save_render(
            record(f"slug000{i}", dedup_key=f"d{i}"), delivery(f"slug000{i}")
        )
    got = await asyncio.gather(*(store.claim_deliveries(f"w{i}", 2, lease=0.5) for i in range(6)))
    ids = [c.delivery.id for claims in got for c in claims]
    assert sorted(ids) == sorted(f"msg_slug000{i}1" for i in range(5))
    assert await store.claim_deliveries("w9", 10, lease=0.5) == []
    await asyncio.sleep(0.7)  # every lease ran out: their workers "crashed"
    again = await store.claim_deliveries("w9", 10, lease=0.5)  # every worker uses one lease
    assert sorted(c.delivery.id for c in again) == sorted(ids)


async def test_finish_records_attempts_and_schedules_retries(store: StateStore) -> None:
    d = delivery("slugAAAA")
    assert await store.save_render(record("slugAAAA"), d)
    (claim,) = await store.claim_deliveries("w1", 10, lease=30)
    await store.finish_delivery(claim, outcome(PENDING, 500, retry_in=0.3))
    (status,) = await store.list_deliveries("slugAAAA")
    assert status.state == PENDING and status.next_attempt_at is not None
    assert [(a.number, a.status, a.error, a.duration_ms) for a in status.attempts] == [
        (1, 500, "HTTP 500", 12)
    ]
    assert await store.claim_deliveries("w1", 10, lease=30) == []  # not due yet
    await asyncio.sleep(0.4)
    (claim,) = await store.claim_deliveries("w2", 10, lease=30)
    assert claim.attempts == 1 and claim.delivery == d
    await store.finish_delivery(claim, outcome(DELIVERED))
    (status,) = await store.list_deliveries("slugAAAA")
    assert status.state == DELIVERED and status.next_attempt_at is None
    assert [a.number for a in status.attempts] == [1, 2]
    assert [a.at for a in status.attempts] == ["2026-11-05T10:20:31.000Z"] * 2  # as recorded
    await asyncio.sleep(0.1)
    assert await store.claim_deliveries("w1", 10, lease=30) == []


async def test_redeliver_makes_a_finished_delivery_due_again(store: StateStore) -> None:
    d = delivery("slugAAAA")
    assert await store.save_render(record("slugAAAA"), d)
    (claim,) = await store.claim_deliveries("w1", 10, lease=30)
    await store.finish_delivery(claim, outcome(FAILED, 410))
    assert (await store.get_delivery(d.id)).state == FAILED  # type: ignore[union-attr]
    assert await store.redeliver(d.id)
    assert not await store.redeliver("msg_nope")
    (claim,) = await store.claim_deliveries("w1", 10, lease=30)
    assert claim.delivery == d and claim.attempts == 1
    await store.finish_delivery(claim, outcome(DELIVERED))
    status = await store.get_delivery(d.id)
    assert status is not None and status.state == DELIVERED
    assert [a.status for a in status.attempts] == [410, 200]

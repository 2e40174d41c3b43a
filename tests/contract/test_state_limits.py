"""The limits aggregate's contract (daily and monthly counters, token bucket), on SQLite and
Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from contract.records import Window
from ogmint.state.base import utc_day, utc_month
from ogmint.state.limits import LimitStatus, LimitStore
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")

Consume = Callable[[LimitStore, str, int], Awaitable[LimitStatus]]
Refund = Callable[[LimitStore, str], Awaitable[None]]
COUNTERS: list[tuple[str, Consume, Refund, Callable[[], tuple[str, int]]]] = [
    ("daily", lambda s, k, n: s.consume_daily(k, n), lambda s, k: s.refund_daily(k), utc_day),
    ("monthly", lambda s, k, n: s.consume_quota(k, n), lambda s, k: s.refund_quota(k), utc_month),
]
counters = pytest.mark.parametrize(
    ("consume", "refund", "window"), [c[1:] for c in COUNTERS], ids=[c[0] for c in COUNTERS]
)


@counters
async def test_counter_admits_exactly_limit_then_refuses(
    state: State, consume: Consume, refund: Refund, window: Callable[[], tuple[str, int]]
) -> None:
    before = window()[1]
    got = [await consume(state.limits, "alice", 3) for _ in range(5)]
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
    assert (await consume(state.limits, "bob", 3)).remaining == 2


@counters
async def test_counter_zero_limit_refuses(
    state: State, consume: Consume, refund: Refund, window: Callable[[], tuple[str, int]]
) -> None:
    status = await consume(state.limits, "alice", 0)
    assert (status.allowed, status.limit, status.remaining) == (False, 0, 0)


@counters
async def test_counter_refund_gives_one_back_never_below_zero(
    state: State, consume: Consume, refund: Refund, window: Callable[[], tuple[str, int]]
) -> None:
    limits = state.limits
    await refund(limits, "alice")  # nothing used: stays at 0
    await refund(limits, "alice")
    assert [(await consume(limits, "alice", 2)).allowed for _ in range(3)] == [True, True, False]
    await refund(limits, "alice")
    again = await consume(limits, "alice", 2)
    assert (again.allowed, again.remaining) == (True, 0)
    assert not (await consume(limits, "alice", 2)).allowed


async def test_concurrent_quota_admits_exactly_the_limit(state: State) -> None:
    got = await asyncio.gather(*(state.limits.consume_quota("alice", 37) for _ in range(100)))
    allowed = [s for s in got if s.allowed]
    assert len(allowed) == 37
    assert sorted(s.remaining for s in allowed) == list(range(37))
    assert all(s.remaining == 0 for s in got if not s.allowed)


async def test_concurrent_daily_admits_exactly_the_limit(state: State) -> None:
    got = await asyncio.gather(*(state.limits.consume_daily("203.0.113.7", 11) for _ in range(40)))
    assert sum(s.allowed for s in got) == 11


Take = Callable[[LimitStore, str, float, int], Awaitable[LimitStatus]]
#: Users' burst buckets, per-address image buckets and per-signing-key buckets behave alike.
buckets = pytest.mark.parametrize(
    "take_from",
    [
        lambda s, k, r, b: s.take_token(k, r, b),
        lambda s, k, r, b: s.take_image_token(k, r, b),
        lambda s, k, r, b: s.take_signing_token(k, r, b),
    ],
    ids=["user", "image", "signing"],
)


@buckets
async def test_bucket_burst_then_refuses(state: State, take_from: Take) -> None:
    now = time.time()
    got = [await take_from(state.limits, "alice", 0.001, 5) for _ in range(7)]
    assert [s.allowed for s in got] == [True] * 5 + [False] * 2
    assert [s.remaining for s in got] == [4, 3, 2, 1, 0, 0, 0]
    assert all(s.limit == 5 for s in got)
    # While a token is left the bucket is ready within a second; empty, it needs ~1000 s.
    assert all(now < s.reset <= now + 3 for s in got[:4])
    assert all(now + 900 < s.reset < now + 1100 for s in got[4:])
    assert (await take_from(state.limits, "bob", 0.001, 5)).allowed  # buckets are per subject


async def test_image_buckets_are_apart_from_user_buckets(state: State) -> None:
    assert (await state.limits.take_token("1.2.3.4", 0.001, 1)).allowed
    assert not (await state.limits.take_token("1.2.3.4", 0.001, 1)).allowed
    assert (await state.limits.take_image_token("1.2.3.4", 0.001, 1)).allowed
    assert not (await state.limits.take_image_token("1.2.3.4", 0.001, 1)).allowed


async def test_signing_key_buckets_are_apart_from_the_others(state: State) -> None:
    limits = state.limits
    assert (await limits.take_token("sk_AAAAAAAAAAAA", 0.001, 1)).allowed
    assert (await limits.take_image_token("sk_AAAAAAAAAAAA", 0.001, 1)).allowed
    assert (await limits.take_signing_token("sk_AAAAAAAAAAAA", 0.001, 1)).allowed
    assert not (await limits.take_signing_token("sk_AAAAAAAAAAAA", 0.001, 1)).allowed
    assert (await limits.take_signing_token("sk_BBBBBBBBBBBB", 0.001, 1)).allowed


@buckets
async def test_bucket_refills_over_time(state: State, take_from: Take) -> None:
    def take(k: str, r: float, b: int) -> Awaitable[LimitStatus]:
        return take_from(state.limits, k, r, b)

    # One token per second, capacity 1: empty for a second after each token taken.
    for _ in range(2):
        empty = Window(1.0)
        assert (await take("alice", 1.0, 1)).allowed
        empty.started()
        refused = await take("alice", 1.0, 1)
        if empty.inside():
            assert not refused.allowed
            assert refused.reset <= time.time() + 2
        await empty.wait_out()


@buckets
async def test_concurrent_bucket_admits_exactly_the_burst(state: State, take_from: Take) -> None:
    got = await asyncio.gather(*(take_from(state.limits, "alice", 0.001, 5) for _ in range(50)))
    assert sum(s.allowed for s in got) == 5


async def test_peek_quota_reads_the_month_without_consuming(state: State) -> None:
    limits = state.limits
    fresh = await limits.peek_quota("u1", 3)
    assert (fresh.allowed, fresh.limit, fresh.remaining) == (True, 3, 3)
    charged = await limits.consume_quota("u1", 3)
    peeked = await limits.peek_quota("u1", 3)
    # What the X-RateLimit-* headers of the charge said, the peek says too (and again).
    assert (
        (peeked.remaining, peeked.reset) == (charged.remaining, charged.reset) == (2, fresh.reset)
    )
    assert (await limits.peek_quota("u1", 3)).remaining == 2
    await limits.consume_quota("u1", 3)
    await limits.consume_quota("u1", 3)
    spent = await limits.peek_quota("u1", 3)
    assert (spent.allowed, spent.remaining) == (False, 0)
    assert (await limits.peek_quota("u1", 1)).remaining == 0  # a smaller plan: never negative
    assert (await limits.peek_quota("u2", 3)).remaining == 3

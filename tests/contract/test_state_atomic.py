"""The multi-aggregate steps' contract: admitting a render (limits + renders), on SQLite and
Redis. Saving a render (renders + deliveries) is covered with each of those aggregates."""

from __future__ import annotations

import asyncio

import pytest

from contract.records import record
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_admit_claims_and_charges_a_new_render(state: State) -> None:
    got = await state.atomic.admit_render("alice", "k1", "d1", quota=3, ttl=30, burst=(0.001, 5))
    assert got.claimed and got.existing is None
    assert got.burst is not None and (got.burst.allowed, got.burst.remaining) == (True, 4)
    assert got.quota is not None and (got.quota.allowed, got.quota.remaining) == (True, 2)
    # The claim is the same one claim_render takes; the token and the quota were really used.
    assert not await state.renders.claim_render("k1", "d1", 30)
    assert (await state.limits.take_token("alice", 0.001, 5)).remaining == 3
    assert (await state.limits.consume_quota("alice", 3)).remaining == 1


async def test_admit_answers_with_the_existing_render_and_charges_nothing(state: State) -> None:
    rec = record("slugAAAA", user="k1")
    assert await state.atomic.save_render(rec)
    got = await state.atomic.admit_render("alice", "k1", "d1", quota=3, ttl=30, burst=(0.001, 5))
    assert (got.existing, got.claimed, got.quota) == (rec, False, None)
    assert got.burst is not None and got.burst.allowed  # the request still took its token
    assert (await state.limits.consume_quota("alice", 3)).remaining == 2  # quota untouched


async def test_admit_waits_for_another_callers_claim(state: State) -> None:
    assert await state.renders.claim_render("k1", "d1", 30)
    got = await state.atomic.admit_render("alice", "k1", "d1", quota=3, ttl=30)
    assert (got.burst, got.existing, got.quota, got.claimed) == (None, None, None, False)
    assert (await state.limits.consume_quota("alice", 3)).remaining == 2  # not charged while busy
    await state.renders.release_claim("k1", "d1")
    assert (await state.atomic.admit_render("alice", "k1", "d1", quota=3, ttl=30)).claimed


async def test_admit_stops_at_the_first_refusal(state: State) -> None:
    # Quota used up: refused, and no claim left behind.
    got = await state.atomic.admit_render("alice", "k1", "d1", quota=0, ttl=30)
    assert got.quota is not None and not got.quota.allowed and not got.claimed
    assert await state.renders.claim_render("k1", "d1", 30)
    await state.renders.release_claim("k1", "d1")
    # Burst used up: refused before anything else (no quota charged, no claim).
    for _ in range(2):
        await state.limits.take_token("bob", 0.001, 2)
    got = await state.atomic.admit_render("bob", "k2", "d1", quota=5, ttl=30, burst=(0.001, 2))
    assert got.burst is not None and not got.burst.allowed
    assert (got.quota, got.claimed) == (None, False)
    assert (await state.limits.consume_quota("bob", 5)).remaining == 4
    assert await state.renders.claim_render("k2", "d1", 30)


async def test_concurrent_admits_one_claim_one_charge(state: State) -> None:
    got = await asyncio.gather(
        *(state.atomic.admit_render("alice", "k1", "d1", quota=100, ttl=30) for _ in range(30))
    )
    assert sum(a.claimed for a in got) == 1
    assert (await state.limits.consume_quota("alice", 100)).remaining == 98

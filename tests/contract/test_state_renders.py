"""The renders aggregate's contract (claims, finished renders), on SQLite and Redis."""

from __future__ import annotations

import asyncio

import pytest

from contract.records import Window, record
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_claim_first_wins_release_reclaims(state: State) -> None:
    renders = state.renders
    assert await renders.claim_render("alice", "d1", 30)
    assert not await renders.claim_render("alice", "d1", 30)
    assert await renders.claim_render("bob", "d1", 30)  # claims are per user
    await renders.release_claim("alice", "d1")
    assert await renders.claim_render("alice", "d1", 30)
    await renders.release_claim("alice", "never-claimed")


async def test_expired_claim_can_be_reclaimed(state: State) -> None:
    renders = state.renders
    ttl = Window(1.0)
    assert await renders.claim_render("alice", "d1", 1.0)
    ttl.started()
    again = await renders.claim_render("alice", "d1", 1.0)
    if ttl.inside():
        assert not again
    await ttl.wait_out()
    assert await renders.claim_render("alice", "d1", 30)


async def test_no_claim_once_rendered(state: State) -> None:
    assert await state.renders.claim_render("alice", "d1", 30)
    assert await state.atomic.save_render(record("slugAAAA"))
    assert not await state.renders.claim_render("alice", "d1", 30)
    await state.renders.release_claim("alice", "d1")
    assert not await state.renders.claim_render("alice", "d1", 30)


async def test_save_render_roundtrip(state: State) -> None:
    rec = record("slugAAAA")
    renders = state.renders
    assert await renders.find_render("alice", "d1") is None
    assert await state.atomic.save_render(rec)
    assert await renders.find_render("alice", "d1") == rec
    assert await renders.get_render("slugAAAA") == rec
    assert await renders.find_render("bob", "d1") is None
    assert await renders.find_render("alice", "d2") is None
    assert await renders.get_render("slugBBBB") is None


async def test_save_render_without_claim(state: State) -> None:
    assert await state.atomic.save_render(record("slugAAAA"))
    assert await state.renders.find_render("alice", "d1") == record("slugAAAA")


async def test_save_render_refuses_a_taken_slug(state: State) -> None:
    renders = state.renders
    assert await state.atomic.save_render(record("slugAAAA", user="alice", dedup_key="d1"))
    assert await renders.claim_render("bob", "d9", 30)
    assert not await state.atomic.save_render(record("slugAAAA", user="bob", dedup_key="d9"))
    assert await renders.find_render("bob", "d9") is None
    assert await renders.get_render("slugAAAA") == record("slugAAAA", user="alice", dedup_key="d1")
    # Bob's claim was not dropped: the failed save wrote nothing.
    assert not await renders.claim_render("bob", "d9", 30)


async def test_save_render_refuses_a_second_slug_for_a_dedup_key(state: State) -> None:
    assert await state.atomic.save_render(record("slugAAAA"))
    assert not await state.atomic.save_render(record("slugBBBB"))
    assert await state.renders.get_render("slugBBBB") is None
    assert await state.renders.find_render("alice", "d1") == record("slugAAAA")


async def test_concurrent_claims_exactly_one_wins(state: State) -> None:
    got = await asyncio.gather(*(state.renders.claim_render("alice", "d1", 30) for _ in range(30)))
    assert sum(got) == 1


async def test_concurrent_saves_one_slug(state: State) -> None:
    recs = [record(f"slug{i:04d}") for i in range(10)]
    got = await asyncio.gather(*(state.atomic.save_render(r) for r in recs))
    assert sum(got) == 1
    winner = recs[got.index(True)]
    assert await state.renders.find_render("alice", "d1") == winner
    assert [await state.renders.get_render(r.slug) for r in recs if r != winner] == [None] * 9


async def test_refresh_keeps_a_live_claim(state: State) -> None:
    renders = state.renders
    first = Window(1.0)
    assert await renders.claim_render("alice", "d1", 1.0)
    first.started()
    await renders.refresh_claim("alice", "d1", 30)
    refreshed_in_time = first.inside()
    await first.wait_out()
    if refreshed_in_time:  # the refresh reached a live claim: it holds past the first TTL
        assert not await renders.claim_render("alice", "d1", 30)


async def test_refresh_does_not_revive_a_dropped_or_expired_claim(state: State) -> None:
    renders = state.renders
    assert await renders.claim_render("alice", "d1", 30)
    await renders.release_claim("alice", "d1")
    await renders.refresh_claim("alice", "d1", 30)
    assert await renders.claim_render("alice", "d2", 0.2)
    await asyncio.sleep(0.4)
    await renders.refresh_claim("alice", "d2", 30)
    assert await renders.claim_render("alice", "d1", 30)
    assert await renders.claim_render("alice", "d2", 30)

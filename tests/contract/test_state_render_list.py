"""Renders as a resource (SPEC §3.1): a user's renders listed newest first in pages, and
deleted with their dedup entry and webhook deliveries — on SQLite and Redis."""

from __future__ import annotations

import pytest

from contract.records import delivery, outcome, record
from ogmint.state.deliveries import PENDING
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _at(second: int) -> str:
    return f"2026-11-05T10:20:{second:02d}.000Z"


async def test_list_is_the_owners_newest_first_in_pages(state: State) -> None:
    # Two keys of one user, one render of another user, and two renders in the same millisecond
    # (ordered by slug then).
    saved = [
        record("slugAAAA", "k1", "d1", created_at=_at(1)),
        record("slugBBBB", "k2", "d2", created_at=_at(3)),
        record("slugCCCC", "k1", "d3", created_at=_at(2)),
        record("slugDDDD", "k1", "d4", created_at=_at(2)),
        record("slugEEEE", "k9", "d1", owner="bob-user", created_at=_at(4)),
    ]
    for rec in saved:
        assert await state.atomic.save_render(rec)
    renders = state.renders
    listed = await renders.list_renders("alice-user", 10)
    assert [r.slug for r in listed] == ["slugBBBB", "slugDDDD", "slugCCCC", "slugAAAA"]
    assert listed[0] == saved[1]  # every field kept, format and size included
    first = await renders.list_renders("alice-user", 2)
    assert [r.slug for r in first] == ["slugBBBB", "slugDDDD"]
    last = first[-1]
    rest = await renders.list_renders("alice-user", 2, (last.created_at, last.slug))
    assert [r.slug for r in rest] == ["slugCCCC", "slugAAAA"]
    end = await renders.list_renders("alice-user", 2, (rest[-1].created_at, rest[-1].slug))
    assert end == []
    assert [r.slug for r in await renders.list_renders("bob-user", 10)] == ["slugEEEE"]
    assert await renders.list_renders("carol-user", 10) == []


async def test_delete_removes_slug_dedup_entry_and_list_entry(state: State) -> None:
    rec = record("slugAAAA")
    assert await state.atomic.save_render(rec)
    assert await state.atomic.save_render(record("slugBBBB", dedup_key="d2", created_at=_at(1)))
    assert await state.atomic.delete_render("bob-user", "slugAAAA") is None  # not bob's
    assert await state.renders.get_render("slugAAAA") == rec
    assert await state.atomic.delete_render("alice-user", "slugAAAA") == rec
    assert await state.renders.get_render("slugAAAA") is None
    assert await state.renders.find_render("alice", "d1") is None
    assert [r.slug for r in await state.renders.list_renders("alice-user", 10)] == ["slugBBBB"]
    assert await state.atomic.delete_render("alice-user", "slugAAAA") is None  # gone already
    # The same card renders anew: its claim can be taken and a new slug saved.
    assert await state.renders.claim_render("alice", "d1", 30)
    assert await state.atomic.save_render(record("slugCCCC"))
    assert (await state.renders.find_render("alice", "d1")) == record("slugCCCC")


async def test_delete_stops_pending_deliveries(state: State) -> None:
    outbox = state.deliveries
    assert await state.atomic.save_render(record("slugAAAA"), delivery("slugAAAA"))
    # One attempt failed, so a retry is scheduled; the other render's delivery is untouched.
    (claim,) = await outbox.claim_deliveries("w1", 10, lease=30)
    await outbox.finish_delivery(claim, outcome(PENDING, 500, retry_in=0.0))
    other = delivery("slugBBBB")
    assert await state.atomic.save_render(record("slugBBBB", dedup_key="d2"), other)
    assert await state.atomic.delete_render("alice-user", "slugAAAA") is not None
    assert await outbox.list_deliveries("slugAAAA") == []
    assert await outbox.get_delivery(claim.delivery.id) is None
    claimed = await outbox.claim_deliveries("w2", 10, lease=30)
    assert [c.delivery.id for c in claimed] == [other.id]
    # An attempt that was under way when the render went records nothing.
    await outbox.finish_delivery(claim, outcome(PENDING, 500, retry_in=0.0))
    assert await outbox.get_delivery(claim.delivery.id) is None
    assert [c.delivery.id for c in await outbox.claim_deliveries("w3", 10, lease=30)] == []

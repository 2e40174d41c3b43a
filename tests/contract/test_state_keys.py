"""The keys & plans aggregate's contract, on SQLite and Redis."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from contract.records import ISO_MS
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def key(state: State, key_hash: str) -> ApiKeyRecord:
    found = await state.keys.find_key(key_hash)
    assert found is not None, key_hash
    return found


async def test_ping(state: State) -> None:
    await state.ping()


async def test_create_and_find_key(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", None)
    found = await key(state, "h1")
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
    assert await state.keys.find_key("nope") is None


async def test_create_key_plan(state: State) -> None:
    await state.keys.create_key("bob", "k1", "h1", "pro")
    assert (await key(state, "h1")).plan == "pro"
    await state.keys.create_key("bob", "k2", "h2", None)  # no plan: the user's stays
    assert (await key(state, "h2")).plan == "pro"
    await state.keys.create_key("bob", "k3", "h3", "agency")  # a plan: the user's changes
    assert {k.plan for k in await state.keys.list_keys("bob")} == {"agency"}


async def test_list_keys_oldest_first(state: State) -> None:
    for i, user in enumerate(["alice", "bob", "alice", "carol"]):
        await state.keys.create_key(user, f"k{i}", f"h{i}", None)
        await asyncio.sleep(0.002)
    assert [k.key_id for k in await state.keys.list_keys()] == ["k0", "k1", "k2", "k3"]
    assert [k.key_id for k in await state.keys.list_keys("alice")] == ["k0", "k2"]
    assert [k.key_hash for k in await state.keys.list_keys("carol")] == ["h3"]
    assert await state.keys.list_keys("nobody") == []
    keys = await state.keys.list_keys()
    assert [k.created_at for k in keys] == sorted(k.created_at for k in keys)


async def test_revoke_key(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", None)
    await state.keys.create_key("alice", "k2", "h2", None)
    assert await state.keys.revoke_key("k1")
    assert not await state.keys.revoke_key("nope")
    assert (await key(state, "h1")).revoked
    assert not (await key(state, "h2")).revoked
    assert [k.revoked for k in await state.keys.list_keys("alice")] == [True, False]


async def test_set_plan(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", None)
    assert await state.keys.set_plan("alice", "starter")
    assert (await key(state, "h1")).plan == "starter"
    assert [k.plan for k in await state.keys.list_keys()] == ["starter"]
    assert not await state.keys.set_plan("nobody", "pro")


async def test_active_keys_are_bounded_atomically(state: State) -> None:
    made = await asyncio.gather(
        *(state.keys.create_key("alice", f"k{i}", f"h{i}", None, 5) for i in range(20))
    )
    assert made.count(True) == 5
    assert len(await state.keys.list_keys("alice")) == 5
    assert not await state.keys.create_key("alice", "late", "hlate", "pro", 5)
    assert await state.keys.find_key("hlate") is None
    assert {k.plan for k in await state.keys.list_keys("alice")} == {"free"}  # plan unchanged
    # A revoked key frees its place (revoking it twice frees one place, not two).
    first = (await state.keys.list_keys("alice"))[0].key_id
    assert await state.keys.revoke_key(first)
    assert await state.keys.revoke_key(first)
    assert await state.keys.create_key("alice", "k20", "h20", None, 5)
    assert not await state.keys.create_key("alice", "k21", "h21", None, 5)
    # Per user, and unbounded without a bound.
    assert await state.keys.create_key("bob", "b1", "hb1", None, 1)
    assert await state.keys.create_key("alice", "k22", "h22", None)
    assert len([k for k in await state.keys.list_keys("alice") if not k.revoked]) == 6

"""The brands aggregate's contract, on SQLite and Redis."""

from __future__ import annotations

import asyncio
import os

import pytest

from ogmint.state.brands import BrandMeta
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")

LOOK = '{"bgColor":"ffffff","palette":"paper"}'


def meta(n: int, owner: str = "alice", version: str = "v1", at: int = 0) -> BrandMeta:
    stamp = f"2026-11-05T10:20:{30 + at:02d}.456Z"
    return BrandMeta(f"brand_{n:012d}", owner, f"Brand {n} é", LOOK, version, stamp, stamp)


async def test_create_get_list_newest_first(state: State) -> None:
    store = state.brands
    for i in range(3):
        assert await store.create_brand(meta(i, at=i), bytes([i]) * 3, limit=10)
    assert await store.get_brand("alice", meta(1).id) == (meta(1, at=1), b"\x01\x01\x01")
    assert [m.id for m in await store.list_brands("alice")] == [meta(i).id for i in (2, 1, 0)]
    assert await store.list_brands("bob") == []
    assert await store.brand_version("alice", meta(0).id) == "v1"


async def test_no_logo_round_trips_as_empty(state: State) -> None:
    assert await state.brands.create_brand(meta(1), b"", limit=10)
    assert await state.brands.get_brand("alice", meta(1).id) == (meta(1), b"")


async def test_other_users_do_not_see_a_brand(state: State) -> None:
    store = state.brands
    assert await store.create_brand(meta(1), b"png", limit=10)
    assert await store.get_brand("bob", meta(1).id) is None
    assert await store.brand_version("bob", meta(1).id) is None
    assert await store.update_brand(meta(1, owner="bob", version="v2"), b"x") is None
    assert not await store.delete_brand("bob", meta(1).id)
    assert await store.brand_version("alice", meta(1).id) == "v1"  # untouched
    assert await store.list_brands("bob") == []


async def test_update_replaces_the_look_and_keeps_created_at(state: State) -> None:
    store = state.brands
    assert await store.create_brand(meta(1), b"old", limit=10)
    new = BrandMeta(meta(1).id, "alice", "Renamed", "{}", "v2", "x", "2026-11-06T00:00:00.000Z")
    stored = await store.update_brand(new, b"new")
    assert stored is not None
    assert (stored.name, stored.look, stored.version) == ("Renamed", "{}", "v2")
    assert (stored.created_at, stored.updated_at) == (meta(1).created_at, new.updated_at)
    assert await store.get_brand("alice", new.id) == (stored, b"new")
    assert await store.brand_version("alice", new.id) == "v2"
    assert await store.update_brand(meta(9), b"") is None  # no such brand
    assert await store.get_brand("alice", meta(9).id) is None  # and none was made


async def test_delete(state: State) -> None:
    store = state.brands
    assert await store.create_brand(meta(1), b"png", limit=10)
    assert await store.delete_brand("alice", meta(1).id)
    assert not await store.delete_brand("alice", meta(1).id)
    assert await store.get_brand("alice", meta(1).id) is None
    assert await store.brand_version("alice", meta(1).id) is None
    assert await store.list_brands("alice") == []


async def test_limit_per_owner_even_when_concurrent(state: State) -> None:
    store = state.brands
    got = await asyncio.gather(*(store.create_brand(meta(i), b"", limit=5) for i in range(12)))
    assert sum(got) == 5
    assert len(await store.list_brands("alice")) == 5
    assert await store.create_brand(meta(99, owner="bob"), b"", limit=5)  # per owner
    first = (await store.list_brands("alice"))[0]
    assert await store.delete_brand("alice", first.id)
    assert await store.create_brand(meta(50), b"", limit=5)


async def test_a_binary_logo_round_trips(state: State) -> None:
    logo = os.urandom(300_000)  # every byte value, bigger than any re-encoded logo
    assert await state.brands.create_brand(meta(1), logo, limit=10)
    found = await state.brands.get_brand("alice", meta(1).id)
    assert found is not None and found[1] == logo

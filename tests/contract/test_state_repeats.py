"""The repeat-cache index's contract (SPEC §2): fresh entries by ETag, a byte bound that drops
the oldest first, expiry, and a custom template's entries dropped with it; SQLite and Redis."""

from __future__ import annotations

import asyncio

import pytest

from ogmint.state.repeats import RepeatEntry
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")

DAY = 86400.0


def entry(n: int, size: int = 100, template: str = "", key: str = "") -> RepeatEntry:
    return RepeatEntry(f"{n:032x}", key or f"repeats/{n:032x}-a.png", size, "image/png", template)


async def test_saved_entries_are_found_by_etag(state: State) -> None:
    store = state.repeats
    assert await store.find_repeat(entry(1).etag, DAY) is None
    assert await store.save_repeat(entry(1), DAY, 10_000) == []
    assert await store.save_repeat(entry(2, template="custom_x"), DAY, 10_000) == []
    assert await store.find_repeat(entry(1).etag, DAY) == entry(1)
    assert await store.find_repeat(entry(2).etag, DAY) == entry(2, template="custom_x")
    assert await store.find_repeat(entry(3).etag, DAY) is None


async def test_a_new_save_of_an_etag_frees_the_old_key(state: State) -> None:
    store = state.repeats
    await store.save_repeat(entry(1, key="repeats/old.png"), DAY, 10_000)
    freed = await store.save_repeat(entry(1, size=300, key="repeats/new.png"), DAY, 10_000)
    assert freed == ["repeats/old.png"]
    assert await store.find_repeat(entry(1).etag, DAY) == entry(1, 300, key="repeats/new.png")


async def test_the_byte_bound_drops_the_oldest_first(state: State) -> None:
    store = state.repeats
    for n in range(5):  # 500 bytes: exactly the bound
        assert await store.save_repeat(entry(n), DAY, 500) == []
        await asyncio.sleep(0.002)  # distinct save times (Redis keeps milliseconds)
    assert await store.save_repeat(entry(5, size=150), DAY, 500) == [
        entry(0).storage_key,
        entry(1).storage_key,
    ]
    found = [await store.find_repeat(entry(n).etag, DAY) for n in range(6)]
    assert [f is not None for f in found] == [False, False, True, True, True, True]
    # Sizes of dropped and replaced entries leave the total: 450 now, room for 50.
    assert await store.save_repeat(entry(6, size=50), DAY, 500) == []
    # An entry larger than the bound does not stay (nor leave anything else behind).
    freed = await store.save_repeat(entry(7, size=600), DAY, 500)
    assert entry(7).storage_key in freed
    assert await store.find_repeat(entry(7).etag, DAY) is None


async def test_entries_expire_after_the_ttl(state: State) -> None:
    store = state.repeats
    await store.save_repeat(entry(1), 0.2, 10_000)
    assert await store.find_repeat(entry(1).etag, 0.2) == entry(1)
    await asyncio.sleep(0.3)
    assert await store.find_repeat(entry(1).etag, 0.2) is None
    # The next save lets go of what expired, so its blob can be deleted.
    assert await store.save_repeat(entry(2), 0.2, 10_000) == [entry(1).storage_key]


async def test_drop_removes_only_the_entry_that_names_the_key(state: State) -> None:
    store = state.repeats
    await store.save_repeat(entry(1, key="repeats/new.png"), DAY, 10_000)
    await store.drop_repeat(entry(1).etag, "repeats/old.png")  # a stale reader's drop
    assert await store.find_repeat(entry(1).etag, DAY) is not None
    await store.drop_repeat(entry(1).etag, "repeats/new.png")
    assert await store.find_repeat(entry(1).etag, DAY) is None
    await store.drop_repeat(entry(2).etag, "repeats/none.png")  # nothing there: no error


async def test_a_templates_entries_are_dropped_with_it(state: State) -> None:
    store = state.repeats
    await store.save_repeat(entry(1, template="custom_a"), DAY, 10_000)
    await store.save_repeat(entry(2, template="custom_a"), DAY, 10_000)
    await store.save_repeat(entry(3, template="custom_b"), DAY, 10_000)
    await store.save_repeat(entry(4), DAY, 10_000)
    freed = await store.drop_template_repeats("custom_a")
    assert sorted(freed) == [entry(1).storage_key, entry(2).storage_key]
    assert await store.find_repeat(entry(1).etag, DAY) is None
    assert await store.find_repeat(entry(3).etag, DAY) is not None
    assert await store.find_repeat(entry(4).etag, DAY) is not None
    assert await store.drop_template_repeats("custom_a") == []
    assert await store.drop_template_repeats("") == []  # built-ins are never dropped this way
    # The dropped bytes left the total: 300 bytes of room again under a 400-byte bound.
    assert await store.save_repeat(entry(5, size=200), DAY, 400) == []


async def test_concurrent_saves_keep_the_bound(state: State) -> None:
    store = state.repeats
    freed = await asyncio.gather(*(store.save_repeat(entry(n), DAY, 1000) for n in range(30)))
    kept = [await store.find_repeat(entry(n).etag, DAY) for n in range(30)]
    assert sum(k is not None for k in kept) == 10
    assert sum(len(f) for f in freed) == 20

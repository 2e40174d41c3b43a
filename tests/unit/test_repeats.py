"""RepeatCache (SPEC §2's repeat cache) on a real SQLite state and local storage: identical
requests wait for one render, failures are not cached, lost blobs are misses, a template's
images are dropped with it, and the byte bound deletes evicted blobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from ogmint.domain.repeats import RepeatCache
from ogmint.state.sqlite import sqlite_state
from ogmint.state.store import State
from ogmint.storage.local import LocalStorage

pytestmark = pytest.mark.asyncio(loop_scope="session")

ETAG = '"0123456789abcdef0123456789abcdef"'
IMAGE = b"\x89PNG" + bytes(996)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[State, LocalStorage]]:
    state = sqlite_state(tmp_path / "state.db")
    storage = LocalStorage(tmp_path / "data")
    await state.open()
    await storage.open()
    yield state, storage
    await storage.close()
    await state.close()


def blobs(storage_root: Path) -> list[Path]:
    return sorted((storage_root / "repeats").rglob("*.png"))


def counted(data: bytes, delay: float = 0.0) -> tuple[list[int], Callable[[], Awaitable[bytes]]]:
    calls: list[int] = []

    async def make() -> bytes:
        calls.append(1)
        await asyncio.sleep(delay)
        return data

    return calls, make


async def test_a_render_is_found_again_by_any_worker(
    parts: tuple[State, LocalStorage], tmp_path: Path
) -> None:
    state, storage = parts
    cache = RepeatCache(state.repeats, storage, 10_000)
    assert await cache.find(ETAG) is None
    calls, make = counted(IMAGE)
    assert await cache.render(ETAG, "blog", make) == IMAGE
    found = await cache.find(ETAG)  # from memory while (or after) it is saved
    assert found is not None and (found.data, found.content_type) == (IMAGE, "image/png")
    await cache.close()
    other = RepeatCache(state.repeats, storage, 10_000)  # another worker: the shared index
    found = await other.find(ETAG)
    assert found is not None and found.data == IMAGE
    assert len(calls) == 1 and len(blobs(tmp_path / "data")) == 1


async def test_identical_requests_wait_for_the_one_render(
    parts: tuple[State, LocalStorage],
) -> None:
    state, storage = parts
    cache = RepeatCache(state.repeats, storage, 10_000)
    calls, make = counted(IMAGE, delay=0.2)
    rendering = asyncio.ensure_future(cache.render(ETAG, "blog", make))
    await asyncio.sleep(0.05)
    waiting = await asyncio.gather(*(cache.find(ETAG) for _ in range(5)))
    assert await rendering == IMAGE
    assert [w.data if w else None for w in waiting] == [IMAGE] * 5
    assert len(calls) == 1
    await cache.close()


async def test_a_failed_render_is_not_cached_and_its_waiters_render_themselves(
    parts: tuple[State, LocalStorage],
) -> None:
    state, storage = parts
    cache = RepeatCache(state.repeats, storage, 10_000)

    async def fail() -> bytes:
        await asyncio.sleep(0.1)
        raise RuntimeError("render failed")

    rendering = asyncio.ensure_future(cache.render(ETAG, "blog", fail))
    await asyncio.sleep(0.02)
    waiter = asyncio.ensure_future(cache.find(ETAG))
    with pytest.raises(RuntimeError):
        await rendering
    assert await waiter is None
    await cache.close()
    assert await cache.find(ETAG) is None


@pytest.mark.parametrize("loss", ["deleted", "cut short"])
async def test_a_lost_blob_is_a_miss_and_leaves_the_index(
    parts: tuple[State, LocalStorage], tmp_path: Path, loss: str
) -> None:
    state, storage = parts
    cache = RepeatCache(state.repeats, storage, 10_000)
    await cache.render(ETAG, "blog", counted(IMAGE)[1])
    await cache.close()
    for blob in blobs(tmp_path / "data"):  # blobs are not synced: a crash may do either
        if loss == "deleted":
            blob.unlink()
        else:
            blob.write_bytes(IMAGE[:100])
    fresh = RepeatCache(state.repeats, storage, 10_000)  # nothing in its memory
    assert await fresh.find(ETAG) is None
    assert await state.repeats.find_repeat(ETAG.strip('"'), 86400) is None


async def test_a_templates_images_and_evicted_images_are_deleted(
    parts: tuple[State, LocalStorage], tmp_path: Path
) -> None:
    state, storage = parts
    cache = RepeatCache(state.repeats, storage, 2500)  # room for two images
    for n, template in enumerate(["custom_a", "custom_a", "blog"]):
        etag = f'"{n:032x}"'
        await cache.render(etag, template, counted(IMAGE)[1])
        await cache.close()  # each save done before the next: a known order
    assert len(blobs(tmp_path / "data")) == 2  # the oldest was evicted and deleted
    await cache.forget_template("custom_a")
    await cache.close()
    assert len(blobs(tmp_path / "data")) == 1
    assert await state.repeats.find_repeat(f"{1:032x}", 86400) is None
    assert await state.repeats.find_repeat(f"{2:032x}", 86400) is not None


async def test_off_when_the_bound_is_zero(parts: tuple[State, LocalStorage]) -> None:
    state, storage = parts
    cache = RepeatCache(state.repeats, storage, 0)
    calls, make = counted(IMAGE)
    await cache.render(ETAG, "blog", make)
    await cache.render(ETAG, "blog", make)
    assert await cache.find(ETAG) is None and len(calls) == 2

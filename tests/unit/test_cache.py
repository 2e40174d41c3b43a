"""The one bounded cache: least recently used out first, entry and byte bounds, time to live;
and remembered look-ups (unknown answers included)."""

from __future__ import annotations

import pytest

from ogmint import cache
from ogmint.cache import BoundedCache, Remembered


def test_the_least_recently_used_goes_first() -> None:
    c: BoundedCache[str, int] = BoundedCache(2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1  # now a is the most recent
    c.put("c", 3)
    assert (c.get("a"), c.get("b"), c.get("c"), len(c)) == (1, None, 3, 2)
    c.put("a", 4)  # replacing is no growth
    assert (c.get("a"), len(c)) == (4, 2)
    c.pop("a")
    c.pop("missing")
    assert (c.get("a"), len(c)) == (None, 1)


def test_the_byte_bound() -> None:
    c: BoundedCache[str, bytes] = BoundedCache(None, max_weight=10, weigh=len)
    c.put("a", b"12345")
    c.put("b", b"1234")
    c.put("c", b"123")  # 12 bytes: a goes
    assert (c.get("a"), c.get("b"), c.get("c")) == (None, b"1234", b"123")
    c.put("huge", b"x" * 11)  # heavier than the whole bound: not kept, nothing evicted
    assert (c.get("huge"), len(c)) == (None, 2)
    c.put("b", b"1")  # a lighter value frees its old weight
    c.put("d", b"123456")
    assert (c.get("b"), c.get("c"), c.get("d")) == (b"1", b"123", b"123456")


def test_look_ups_and_bytes_are_counted() -> None:
    c: BoundedCache[str, bytes] = BoundedCache(None, max_weight=10, weigh=len)
    assert (c.hits, c.misses, c.bytes) == (0, 0, 0)
    assert c.get("a") is None
    c.put("a", b"12345")
    c.put("b", b"1234")
    assert (c.get("a"), c.get("a"), c.get("c")) == (b"12345", b"12345", None)
    assert (c.hits, c.misses, c.bytes) == (2, 2, 9)
    c.put("c", b"123")  # b goes: the byte bound holds
    c.pop("a")
    assert (len(c), c.bytes) == (1, 3)


def test_entries_expire_after_their_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    c: BoundedCache[str, int] = BoundedCache(10, ttl=5.0)
    c.put("a", 1)
    now[0] = 104.9
    assert c.get("a") == 1
    now[0] = 105.0
    assert (c.get("a"), len(c)) == (None, 0)


async def test_remembered_look_ups_include_unknown_answers() -> None:
    calls: list[str] = []

    async def load(key: str) -> str | None:
        calls.append(key)
        return None if key == "unknown" else key.upper()

    remembered = Remembered(load, ttl=60.0, max_entries=10)
    assert [await remembered(k) for k in ("a", "a", "unknown", "unknown")] == ["A", "A", None, None]
    assert calls == ["a", "unknown"]
    remembered.forget("a")
    assert await remembered("a") == "A" and calls == ["a", "unknown", "a"]
    never = Remembered(load, ttl=0.0, max_entries=10)  # ttl 0: every call looks up
    await never("b")
    await never("b")
    assert calls[-2:] == ["b", "b"]

"""The one bounded cache: a least-recently-used map with an entry bound or a weight (byte)
bound, and an optional time to live. Every per-worker memory of ogmint is one of these."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_FOREVER = float("inf")


class BoundedCache(Generic[K, V]):
    """At most ``max_entries`` values and, with ``weigh``, at most ``max_weight`` (bytes, say)
    in all, the least recently used evicted first; with ``ttl`` > 0 an entry is forgotten after
    that many seconds. Not thread-safe: one event loop uses it."""

    __slots__ = (
        "_items",
        "_max_entries",
        "_max_weight",
        "_ttl",
        "_weigh",
        "_weight",
        "hits",
        "misses",
    )

    def __init__(
        self,
        max_entries: int | None,
        *,
        ttl: float = 0.0,
        max_weight: int = 0,
        weigh: Callable[[V], int] | None = None,
    ) -> None:
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl
        self._weigh = weigh
        self._max_weight = max_weight
        self._weight = 0
        #: Look-ups answered and not answered since the cache was made (the metrics read them).
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        """The weight held (bytes, for a cache bounded by them; 0 for one bounded by entries)."""
        return self._weight

    def get(self, key: K) -> V | None:
        """The value remembered for ``key`` (now the most recently used), or None."""
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        if self._ttl > 0 and item[0] <= time.monotonic():
            self.pop(key)
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[1]

    def put(self, key: K, value: V) -> None:
        """Remembers ``value``; one heavier than ``max_weight`` on its own is not kept."""
        weight = 0
        if self._weigh is not None:
            weight = self._weigh(value)
            if weight > self._max_weight:
                return
        self.pop(key)
        expires = time.monotonic() + self._ttl if self._ttl > 0 else _FOREVER
        self._items[key] = (expires, value)
        self._weight += weight
        while self._weight > self._max_weight or (
            self._max_entries is not None and len(self._items) > self._max_entries
        ):
            self._evict()

    def pop(self, key: K) -> None:
        """Forgets ``key``, if it is remembered."""
        item = self._items.pop(key, None)
        if item is not None and self._weigh is not None:
            self._weight -= self._weigh(item[1])

    def _evict(self) -> None:
        _, (_, value) = self._items.popitem(last=False)
        if self._weigh is not None:
            self._weight -= self._weigh(value)


class Remembered(Generic[K, V]):
    """The answers of an async look-up (``load``), remembered for ``ttl`` seconds, unknown
    answers (None) included; ``ttl`` ≤ 0 remembers nothing."""

    __slots__ = ("_cache", "_load", "_ttl")

    def __init__(self, load: Callable[[K], Awaitable[V]], ttl: float, max_entries: int) -> None:
        self._load = load
        self._ttl = ttl
        # (answer,): a remembered None is still a hit
        self._cache: BoundedCache[K, tuple[V]] = BoundedCache(max_entries, ttl=ttl)

    async def __call__(self, key: K) -> V:
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        answer = await self._load(key)
        if self._ttl > 0:
            self._cache.put(key, (answer,))
        return answer

    def forget(self, key: K) -> None:
        """Drops a remembered answer (this worker then sees a change at once)."""
        self._cache.pop(key)

"""The usage aggregate in Redis: one Lua script per tracked render.

Key layout (``P`` is the prefix, ``ogmint:`` by default)::

    P{a:<user>}:usage:<YYYY-MM-DD>  hash v1, v2, dedup       expires ``retention.days`` later
    P{a:<user>}:recent              list of renders (JSON), newest first, trimmed to the bound
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

import orjson
from redis import exceptions as rx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from ogmint.state.base import StateUnavailable
from ogmint.state.usage import DayCount, Retention, TrackedRender

T = TypeVar("T")

# KEYS: day hash, recent list. ARGV: field ('' = count nothing), expire-at (Unix s), entry
# (JSON), list length.
_TRACK_LUA = """
if ARGV[1] ~= '' then
  redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  redis.call('EXPIREAT', KEYS[1], ARGV[2])
end
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return 1
"""

_UNAVAILABLE = (rx.ConnectionError, rx.TimeoutError, TimeoutError, OSError)


class RedisUsageStore:
    """UsageStore on Redis, shared by every app server; each call bounded by ``timeout``."""

    def __init__(self, url: str, *, timeout: float = 1.0, prefix: str = "ogmint:") -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix must not contain '{' or '}' (hash tags)")
        self._url = url
        self._timeout = timeout
        self._prefix = prefix
        self._client: Redis | None = None
        self._track: AsyncScript | None = None

    async def open(self) -> None:
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=32,
            timeout=self._timeout,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),  # a write whose reply was lost must not run twice
            decode_responses=True,
        )
        self._client = Redis.from_pool(pool)
        self._track = self._client.register_script(_TRACK_LUA)
        await self._call(self._client.ping())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._track = None

    @property
    def _redis(self) -> Redis:
        if self._client is None:
            raise StateUnavailable("state store is not open")
        return self._client

    async def _call(self, op: Awaitable[T]) -> T:
        try:
            return await op
        except _UNAVAILABLE as e:
            raise StateUnavailable(f"redis: {e}") from e

    def _a(self, user: str, suffix: str) -> str:
        return f"{self._prefix}{{a:{user}}}:{suffix}"

    async def track(self, user: str, render: TrackedRender, retention: Retention) -> None:
        if self._track is None:
            raise StateUnavailable("state store is not open")
        day = render.at[:10]
        ends = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
        expire_at = int((ends + timedelta(days=retention.days)).timestamp())
        entry = orjson.dumps(
            [render.at, render.kind, render.template, render.title, render.status, render.slug]
        )
        keys = [self._a(user, f"usage:{day}"), self._a(user, "recent")]
        args: list[Any] = [
            render.kind if render.status < 400 else "",
            expire_at,
            entry,
            retention.recent,
        ]
        await self._call(self._track(keys=keys, args=args))

    async def days(self, user: str, first: str, last: str) -> list[DayCount]:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
        names = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        pipe = self._redis.pipeline(transaction=False)
        for day in names:
            pipe.hgetall(self._a(user, f"usage:{day}"))
        replies = cast(list[dict[str, str]], await self._call(pipe.execute()))
        return [
            DayCount(day, int(h.get("v1", 0)), int(h.get("v2", 0)), int(h.get("dedup", 0)))
            for day, h in zip(names, replies, strict=True)
            if h
        ]

    async def recent(self, user: str, limit: int) -> list[TrackedRender]:
        raw = cast(
            list[str], await self._call(self._redis.lrange(self._a(user, "recent"), 0, limit - 1))
        )
        return [TrackedRender(*orjson.loads(item)) for item in raw]

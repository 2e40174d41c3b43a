"""The usage aggregate in Redis (``track.lua``, ``untrack.lua``; the render scripts include
``_track.lua``, so the atomic steps track without a round trip of their own)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import cast

import orjson

from ogmint.state.redis.client import RedisClient
from ogmint.state.usage import (
    DayCount,
    Retention,
    TrackedRender,
    Tracking,
    from_slug_field,
    slug_field,
)


class RedisUsage:
    """UsageStore on Redis, shared by every app server."""

    def __init__(self, client: RedisClient) -> None:
        self._c = client
        self._expiry: dict[tuple[str, int], int] = {}  # (day, retention days) → expire-at

    def day_key(self, user: str, day: str) -> str:
        return f"{self._c.prefix}{{a:{user}}}:usage:{day}"

    def recent_key(self, user: str) -> str:
        return f"{self._c.prefix}{{a:{user}}}:recent"

    def track_args(self, tracked: Tracking) -> tuple[list[str], list[str | int | float]]:
        """The keys (day hash, recent list) and the 8 values ``_track.lua`` reads."""
        r = tracked.render
        day = r.at[:10]
        expire_at = self._expiry.get((day, tracked.retention.days))
        if expire_at is None:  # once per day: the tracking runs on every render
            if len(self._expiry) > 64:
                self._expiry.clear()
            ends = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
            expire_at = int((ends + timedelta(days=tracked.retention.days)).timestamp())
            self._expiry[(day, tracked.retention.days)] = expire_at
        keys = [self.day_key(tracked.user, day), self.recent_key(tracked.user)]
        values: list[str | int | float] = [
            expire_at,
            tracked.retention.recent,
            r.at,
            r.kind,
            r.template,
            r.title,
            r.status,
            slug_field(r),
        ]
        return keys, values

    async def track(self, user: str, render: TrackedRender, retention: Retention) -> None:
        keys, values = self.track_args(Tracking(user, render, retention))
        await self._c.script("track", keys, values)

    async def fail(self, tracked: Tracking, status: int) -> None:
        keys, values = self.track_args(tracked)
        await self._c.script("untrack", keys, [*values, status])

    async def days(self, user: str, first: str, last: str) -> list[DayCount]:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
        names = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        pipe = self._c.redis.pipeline(transaction=False)
        for day in names:
            pipe.hgetall(self.day_key(user, day))
        replies = cast(list[dict[str, str]], await self._c.call(pipe.execute()))
        return [
            DayCount(day, int(h.get("v1", 0)), int(h.get("v2", 0)), int(h.get("dedup", 0)))
            for day, h in zip(names, replies, strict=True)
            if h
        ]

    async def recent(self, user: str, limit: int) -> list[TrackedRender]:
        raw = cast(
            list[str], await self._c.call(self._c.redis.lrange(self.recent_key(user), 0, limit - 1))
        )
        found = []
        for item in raw:
            at, kind, template, title, status, slug = orjson.loads(item)
            found.append(TrackedRender(at, kind, template, title, status, *from_slug_field(slug)))
        return found

"""Limits in Redis: each call is one script timed by Redis ``TIME``."""

from __future__ import annotations

from ogmint.state.limits import LimitStatus
from ogmint.state.redis.client import RedisClient


def bucket_status(capacity: int, reply: list[int]) -> LimitStatus:
    """A ``take_token`` reply (``_bucket.lua``) as a status."""
    allowed, remaining, reset = reply
    return LimitStatus(bool(allowed), capacity, int(remaining), int(reset))


def counted_status(limit: int, reply: list[int]) -> LimitStatus:
    """A ``consume`` reply (``_consume.lua``) as a status."""
    allowed, used, reset = reply
    return LimitStatus(bool(allowed), limit, limit - int(used) if allowed else 0, int(reset))


class RedisLimits:
    def __init__(self, client: RedisClient) -> None:
        self._c = client

    def _daily(self, subject: str) -> str:
        return f"{self._c.prefix}{{d:{subject}}}:daily"

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        reply = await self._c.script("consume", [self._daily(subject)], [limit, "day"])
        return counted_status(limit, reply)

    async def refund_daily(self, subject: str) -> None:
        await self._c.script("refund", [self._daily(subject)], ["day"])

    async def consume_quota(self, user: str, limit: int) -> LimitStatus:
        reply = await self._c.script("consume", [self._c.u(user, "quota")], [limit, "month"])
        return counted_status(limit, reply)

    async def refund_quota(self, user: str) -> None:
        await self._c.script("refund", [self._c.u(user, "quota")], ["month"])

    async def peek_quota(self, user: str, limit: int) -> LimitStatus:
        used, reset = await self._c.script("peek", [self._c.u(user, "quota")], ["month"])
        return LimitStatus(int(used) < limit, limit, max(limit - int(used), 0), int(reset))

    async def take_token(self, user: str, rate: float, burst: int) -> LimitStatus:
        return await self._take(self._c.u(user, "bucket"), rate, burst)

    async def take_image_token(self, subject: str, rate: float, burst: int) -> LimitStatus:
        return await self._take(f"{self._c.prefix}{{i:{subject}}}:bucket", rate, burst)

    async def take_signing_token(self, kid: str, rate: float, burst: int) -> LimitStatus:
        return await self._take(f"{self._c.prefix}{{k:{kid}}}:bucket", rate, burst)

    async def _take(self, key: str, rate: float, burst: int) -> LimitStatus:
        if rate <= 0:
            raise ValueError("rate must be positive")
        reply = await self._c.script("bucket", [key], [repr(float(rate)), burst])
        return bucket_status(burst, reply)

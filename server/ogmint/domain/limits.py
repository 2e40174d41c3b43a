"""Limits (SPEC §6, §8): each user's burst bucket and monthly quota, anonymous V1 renders per
address and day, and ``/i/`` requests per address — with their 429s."""

from __future__ import annotations

from ogmint.errors import Limit, RateLimitError
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.limits import LimitStatus, LimitStore

#: Burst limit for every key holder: 5 requests per second (token bucket).
BURST_RATE = 5.0
BURST_CAPACITY = 5


def refusal(message: str, limit: Limit, status: LimitStatus) -> RateLimitError:
    """The 429 for ``limit``, with its headers and ``Retry-After``."""
    return RateLimitError(
        message,
        limit=limit,
        headers={**status.headers(), "Retry-After": str(status.retry_after())},
    )


def burst_refusal(status: LimitStatus) -> RateLimitError:
    """The 429 for an empty burst bucket."""
    return refusal("Burst limit of 5 requests per second exceeded", "burst", status)


def quota_refusal(key: ApiKeyRecord, status: LimitStatus) -> RateLimitError:
    """The 429 for a used-up monthly quota."""
    return refusal(f"Monthly render quota of the {key.plan} plan is used up", "monthly", status)


class Limits:
    """The limits every front door applies the same way."""

    def __init__(self, store: LimitStore, *, anonymous_daily: int, image_per_minute: int) -> None:
        self._store = store
        self._anonymous_daily = anonymous_daily
        self._image_per_minute = image_per_minute

    @property
    def burst(self) -> tuple[float, int]:
        """The burst bucket every key holder has: (tokens per second, capacity)."""
        return BURST_RATE, BURST_CAPACITY

    async def take_burst(self, key: ApiKeyRecord) -> LimitStatus:
        """One request of the user's burst allowance, or 429."""
        status = await self._store.take_token(key.user, BURST_RATE, BURST_CAPACITY)
        if not status.allowed:
            raise burst_refusal(status)
        return status

    async def quota(self, key: ApiKeyRecord, quota: int) -> LimitStatus:
        """The key's user's monthly quota (``quota`` renders) as it stands, nothing taken: what
        the ``X-RateLimit-*`` headers of a render charged now would say before the charge."""
        return await self._store.peek_quota(key.user, quota)

    async def take_image(self, subject: str) -> None:
        """One ``/i/`` request of the client address's (``subject``: an IPv4 address or an
        IPv6 /64) hotlink allowance (SPEC §8), or 429; nothing when the limit is off."""
        per_minute = self._image_per_minute
        if not per_minute:
            return
        status = await self._store.take_image_token(subject, per_minute / 60, per_minute)
        if not status.allowed:
            raise refusal(
                f"Image limit of {per_minute} requests per minute exceeded", "image", status
            )

    async def take_daily(self, subject: str) -> LimitStatus:
        """One anonymous V1 render of the address's daily allowance, or 429."""
        status = await self._store.consume_daily(subject, self._anonymous_daily)
        if not status.allowed:
            raise refusal(
                "Daily limit for anonymous renders reached; send an x-api-key for more",
                "daily",
                status,
            )
        return status

    async def refund_daily(self, subject: str) -> None:
        """Gives back an anonymous render that was not made."""
        await self._store.refund_daily(subject)

    async def refund_quota(self, user: str) -> None:
        """Gives back a charged render that was not made (or was a dedup hit)."""
        await self._store.refund_quota(user)

"""Per-user limits shared by V1, V2 and the other keyed calls (SPEC §6): the burst bucket and
the monthly quota, with their 429s; and the per-address image (hotlink) limit (SPEC §8)."""

from __future__ import annotations

from ogmint.errors import Limit, RateLimitError
from ogmint.plans import Burst, Plans
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.limits import LimitStatus, LimitStore


def refusal(message: str, limit: Limit, status: LimitStatus) -> RateLimitError:
    """The 429 for ``limit``, with its headers and ``Retry-After``."""
    return RateLimitError(
        message,
        limit=limit,
        headers={**status.headers(), "Retry-After": str(status.retry_after())},
    )


def burst_refusal(burst: Burst, status: LimitStatus) -> RateLimitError:
    """The 429 for an empty burst bucket."""
    return refusal(f"Burst limit of {burst.rate:g} requests per second exceeded", "burst", status)


def quota_refusal(key: ApiKeyRecord, status: LimitStatus) -> RateLimitError:
    """The 429 for a used-up monthly quota."""
    return refusal(f"Monthly render quota of the {key.plan} plan is used up", "monthly", status)


async def take_image(limits: LimitStore, subject: str, per_minute: int) -> None:
    """One ``/i/`` request of the client address's (``subject``: an IPv4 address or an IPv6
    /64) hotlink allowance (SPEC §8), or 429."""
    status = await limits.take_image_token(subject, per_minute / 60, per_minute)
    if not status.allowed:
        raise refusal(f"Image limit of {per_minute} requests per minute exceeded", "image", status)


async def take_burst(limits: LimitStore, key: ApiKeyRecord, plans: Plans) -> LimitStatus:
    """One request of the user's burst allowance (its plan's bucket), or 429."""
    burst = plans.burst(key.plan)
    status = await limits.take_token(key.user, burst.rate, burst.capacity)
    if not status.allowed:
        raise burst_refusal(burst, status)
    return status

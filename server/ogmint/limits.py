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


#: Where an anonymous caller is sent: crawlers send no key, but can fetch a signed URL.
SIGNED_URL_HINT = (
    "For og:image tags, which crawlers fetch without headers, use a signed URL: create a "
    "signing key (dashboard, API or `ogmint signing-keys create`), then sign with "
    "`ogmint sign-url` or a client kit (README: 'Embed in your pages')"
)


async def charge_anonymous(limits: LimitStore, subject: str, per_day: int | None) -> LimitStatus:
    """One render of the client address's anonymous daily allowance (``per_day``; None is
    unlimited: a status with nothing counted), or 429 pointing to signed URLs."""
    if per_day is None:
        return LimitStatus(True, 0, 0, 0)
    status = await limits.consume_daily(subject, per_day)
    if not status.allowed:
        if per_day == 0:
            message = "This server makes no anonymous renders. "
        else:
            message = f"Daily limit of {per_day} anonymous renders per address reached. "
        raise refusal(message + SIGNED_URL_HINT, "daily", status)
    return status


async def take_signed_render(limits: LimitStore, kid: str, per_minute: int) -> None:
    """One render (a miss of every cache) of a signing key's allowance, or 429 — with no
    rate-limit headers: a signed URL is public, and they would show the signer's usage."""
    if per_minute == 0:
        return
    status = await limits.take_signing_token(kid, per_minute / 60, per_minute)
    if not status.allowed:
        raise RateLimitError(
            f"Renders of this signing key's URLs are limited to {per_minute} a minute; "
            "repeats of a rendered card are not limited",
            limit="signing_key",
            headers={"Retry-After": str(status.retry_after())},
        )


def signed_quota_refusal(status: LimitStatus) -> RateLimitError:
    """The 429 for a signer whose monthly quota is used up, naming neither its plan nor its
    usage (SPEC §2.1: anyone may fetch a signed URL)."""
    return RateLimitError(
        "The signer's monthly render quota is used up; cards rendered in the last 24 hours "
        "are still served",
        limit="monthly",
        headers={"Retry-After": str(status.retry_after())},
    )

"""Limits (SPEC §2, §2.1, §6, §8): each user's burst bucket (per plan) and monthly quota,
anonymous V1 renders per address and day, renders of each signing key's URLs, and ``/i/``
requests per address — with their 429s."""

from __future__ import annotations

from ogmint.domain.plans import Plans
from ogmint.errors import Limit, RateLimitError
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.limits import LimitStatus, LimitStore

#: Where an anonymous caller is sent: crawlers send no key, but can fetch a signed URL.
SIGNED_URL_HINT = (
    "For og:image tags, which crawlers fetch without headers, use a signed URL: create a "
    "signing key (dashboard, API or `ogmint signing-keys create`), then sign with "
    "`ogmint sign-url` or a client kit (README: 'Embed in your pages')"
)


def refusal(message: str, limit: Limit, status: LimitStatus) -> RateLimitError:
    """The 429 for ``limit``, with its headers and ``Retry-After``."""
    return RateLimitError(
        message,
        limit=limit,
        headers={**status.headers(), "Retry-After": str(status.retry_after())},
    )


def burst_refusal(rate: float, status: LimitStatus) -> RateLimitError:
    """The 429 for an empty burst bucket of ``rate`` tokens per second."""
    return refusal(f"Burst limit of {rate:g} requests per second exceeded", "burst", status)


def quota_refusal(key: ApiKeyRecord, status: LimitStatus) -> RateLimitError:
    """The 429 for a used-up monthly quota."""
    return refusal(f"Monthly render quota of the {key.plan} plan is used up", "monthly", status)


def signed_quota_refusal(status: LimitStatus) -> RateLimitError:
    """The 429 for a signer whose monthly quota is used up, naming neither its plan nor its
    usage (SPEC §2.1: anyone may fetch a signed URL)."""
    return RateLimitError(
        "The signer's monthly render quota is used up; cards rendered in the last 24 hours "
        "are still served",
        limit="monthly",
        headers={"Retry-After": str(status.retry_after())},
    )


class Limits:
    """The limits every front door applies the same way."""

    def __init__(
        self,
        store: LimitStore,
        plans: Plans,
        *,
        anonymous_daily: int | None,
        image_per_minute: int,
        signed_per_minute: int,
    ) -> None:
        self._store = store
        self._plans = plans
        self._anonymous_daily = anonymous_daily
        self._image_per_minute = image_per_minute
        self._signed_per_minute = signed_per_minute

    def burst(self, plan: str) -> tuple[float, int]:
        """The burst bucket of a key holder on ``plan``: (tokens per second, capacity)."""
        return self._plans.burst(plan)

    async def take_burst(self, key: ApiKeyRecord) -> LimitStatus:
        """One request of the user's burst allowance (its plan's bucket), or 429."""
        rate, capacity = self._plans.burst(key.plan)
        status = await self._store.take_token(key.user, rate, capacity)
        if not status.allowed:
            raise burst_refusal(rate, status)
        return status

    async def take_signed(self, kid: str) -> None:
        """One render (a miss of every cache) of a signing key's URLs, or 429 — with no
        rate-limit headers: a signed URL is public, and they would show the signer's usage."""
        per_minute = self._signed_per_minute
        if not per_minute:
            return
        status = await self._store.take_signing_token(kid, per_minute / 60, per_minute)
        if not status.allowed:
            raise RateLimitError(
                f"Renders of this signing key's URLs are limited to {per_minute} a minute; "
                "repeats of a rendered card are not limited",
                limit="signing_key",
                headers={"Retry-After": str(status.retry_after())},
            )

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

    async def take_daily(self, subject: str) -> LimitStatus | None:
        """One anonymous V1 render of the address's daily allowance, or 429 pointing to signed
        URLs; None when anonymous renders are unlimited (nothing counted)."""
        per_day = self._anonymous_daily
        if per_day is None:
            return None
        status = await self._store.consume_daily(subject, per_day)
        if not status.allowed:
            if per_day == 0:
                message = "This server makes no anonymous renders. "
            else:
                message = f"Daily limit of {per_day} anonymous renders per address reached. "
            raise refusal(message + SIGNED_URL_HINT, "daily", status)
        return status

    async def refund_daily(self, subject: str) -> None:
        """Gives back an anonymous render that was not made (nothing when unlimited)."""
        if self._anonymous_daily is not None:
            await self._store.refund_daily(subject)

    async def refund_quota(self, user: str) -> None:
        """Gives back a charged render that was not made (or was a dedup hit)."""
        await self._store.refund_quota(user)

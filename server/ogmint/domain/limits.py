"""Limits (SPEC §2, §2.1, §6, §8): each user's burst bucket (per plan) and monthly quota,
anonymous V1 renders per address and day, renders of each signing key's URLs, and ``/i/``
requests per address — with their 429s; and the budgets of work done without a render quota:
previews, webhook redeliveries, sign-in and change-password attempts."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Budget:
    """A bounded allowance of some work per subject: ``capacity`` uses, refilled evenly over
    ``window`` seconds (a token bucket in the shared state, so it holds across app servers)."""

    limit: Limit
    capacity: int
    window: float
    message: str

    async def spend(self, limits: LimitStore, subject: str) -> LimitStatus:
        """One use of ``subject``'s allowance, or the 429 naming this budget."""
        # Subjects are namespaced by the budget ("preview/alice"): user names have no "/",
        # so no budget shares a bucket with a user's burst bucket or another budget.
        status = await limits.take_token(
            f"{self.limit}/{subject}", self.capacity / self.window, self.capacity
        )
        if not status.allowed:
            raise refusal(self.message, self.limit, status)
        return status


HOUR = 3600.0
#: Sign-in and change-password attempts refill over this many seconds.
ATTEMPT_WINDOW = 900.0


def preview_budget(per_hour: int) -> Budget:
    """Previews (unsaved templates, the dashboard's pictures) per user: they are rendered but
    never stored or counted against the monthly quota, so they get an allowance of their own,
    shared by the API and the dashboard."""
    return Budget(
        "preview",
        per_hour,
        HOUR,
        f"Preview limit of {per_hour} previews per hour reached; try again in a few minutes",
    )


def redelivery_budget(per_hour: int) -> Budget:
    """Webhook redeliveries per user (each one is an outbound request), API and dashboard."""
    return Budget(
        "redeliver",
        per_hour,
        HOUR,
        f"Redelivery limit of {per_hour} per hour reached; try again later",
    )


def sign_in_budgets(per_account: int, per_ip: int) -> tuple[Budget, Budget]:
    """Sign-in attempts per (client, e-mail) pair and per client. Never per e-mail alone:
    whoever knows an address could then keep its owner locked out."""
    message = "Too many sign-in attempts; try again later"
    return (
        Budget("sign_in", per_account, ATTEMPT_WINDOW, message),
        Budget("sign_in", per_ip, ATTEMPT_WINDOW, message),
    )


def password_budget(per_user: int) -> Budget:
    """Change-password attempts per user: each checks the current password (an Argon2 run
    and a guess at it)."""
    return Budget(
        "password",
        per_user,
        ATTEMPT_WINDOW,
        "Too many attempts to change the password; try again later",
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
        signed_per_minute: int = 0,
        previews_per_hour: int = 600,
        redeliveries_per_hour: int = 30,
    ) -> None:
        self._store = store
        self._plans = plans
        self._anonymous_daily = anonymous_daily
        self._image_per_minute = image_per_minute
        self._signed_per_minute = signed_per_minute
        self._previews = preview_budget(previews_per_hour)
        self._redeliveries = redelivery_budget(redeliveries_per_hour)

    async def take_preview(self, user: str) -> LimitStatus:
        """One of the user's previews (API and dashboard share them), or 429."""
        return await self._previews.spend(self._store, user)

    async def take_redelivery(self, user: str) -> LimitStatus:
        """One of the user's webhook redeliveries (API and dashboard share them), or 429."""
        return await self._redeliveries.spend(self._store, user)

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

    async def quota(self, key: ApiKeyRecord, quota: int) -> LimitStatus:
        """The key's user's monthly quota (``quota`` renders) as it stands, nothing taken: what
        the ``X-RateLimit-*`` headers of a render charged now would say before the charge."""
        return await self._store.peek_quota(key.user, quota)

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

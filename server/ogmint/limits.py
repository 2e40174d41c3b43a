"""Per-user limits shared by V1, V2 and the other keyed calls (SPEC §6): the burst bucket and
the monthly quota, with their 429s; the per-address image (hotlink) limit (SPEC §8); and the
budgets of work done without a render quota: previews, webhook redeliveries, sign-in and
change-password attempts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


async def take_image(limits: LimitStore, subject: str, per_minute: int) -> None:
    """One ``/i/`` request of the client address's (``subject``: an IPv4 address or an IPv6
    /64) hotlink allowance (SPEC §8), or 429."""
    status = await limits.take_image_token(subject, per_minute / 60, per_minute)
    if not status.allowed:
        raise refusal(f"Image limit of {per_minute} requests per minute exceeded", "image", status)


async def take_burst(limits: LimitStore, key: ApiKeyRecord) -> LimitStatus:
    """One request of the user's burst allowance, or 429."""
    status = await limits.take_token(key.user, BURST_RATE, BURST_CAPACITY)
    if not status.allowed:
        raise burst_refusal(status)
    return status


async def charge_quota(
    limits: LimitStore, key: ApiKeyRecord, quotas: Mapping[str, int]
) -> LimitStatus:
    """One render of the user's monthly quota (``quotas`` by plan), or 429."""
    status = await limits.consume_quota(key.user, quotas.get(key.plan, 0))
    if not status.allowed:
        raise quota_refusal(key, status)
    return status


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

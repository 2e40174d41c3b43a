"""The limits aggregate: the anonymous daily allowance, per-user token buckets, monthly quotas,
per-address image buckets and per-signing-key buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """The outcome of consuming one unit of a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix time when the window resets (or the bucket has a token again)

    def retry_after(self) -> int:
        """Seconds until the window resets (at least 1)."""
        return max(self.reset - int(datetime.now(UTC).timestamp()), 1)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class LimitStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time."""

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        """Atomically counts one use of ``subject``'s daily allowance if any is left."""

    async def refund_daily(self, subject: str) -> None:
        """Gives back one use (the render it was counted for failed)."""

    async def take_token(self, user: str, rate: float, burst: int) -> LimitStatus:
        """Token bucket: takes one token if available (``rate`` tokens/s, ``burst`` capacity)."""

    async def take_image_token(self, subject: str, rate: float, burst: int) -> LimitStatus:
        """The same token bucket for ``/i/`` requests of one client address (the hotlink
        limit), kept apart from the users' buckets."""

    async def take_signing_token(self, kid: str, rate: float, burst: int) -> LimitStatus:
        """The same token bucket for the renders of one signing key's URLs (SPEC §2.1), kept
        apart from its user's burst bucket, which signed URLs do not take from."""

    async def consume_quota(self, user: str, limit: int) -> LimitStatus:
        """Atomically counts one render against the user's monthly quota if any is left."""

    async def refund_quota(self, user: str) -> None:
        """Gives back one render of this month's quota (the render failed)."""

    async def peek_quota(self, user: str, limit: int) -> LimitStatus:
        """The user's monthly quota as it stands, consuming nothing: ``allowed`` while a
        render is left, ``remaining`` = ``limit`` − renders counted this month (≥ 0)."""

"""The StateStore protocol: every piece of shared state goes through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """The outcome of consuming one unit of a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix time when the window resets

    def retry_after(self) -> int:
        """Seconds until the window resets (at least 1)."""
        return max(self.reset - int(datetime.now(UTC).timestamp()), 1)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A stored API key (only its hash is kept)."""

    key_hash: str
    user: str
    plan: str
    revoked: bool


def utc_day(now: datetime | None = None) -> tuple[str, int]:
    """The current UTC day as ``YYYY-MM-DD`` and the Unix time of the next midnight."""
    now = now or datetime.now(UTC)
    day = now.strftime("%Y-%m-%d")
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return day, int(midnight.timestamp())


class StateStore(Protocol):
    """Shared state. Implementations: SQLite (embedded default)."""

    async def open(self) -> None:
        """Prepares the store (creates tables, connects)."""

    async def close(self) -> None:
        """Releases connections."""

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        """Atomically counts one use of ``subject``'s daily allowance if any is left."""

    async def refund_daily(self, subject: str) -> None:
        """Gives back one use (the render it was counted for failed)."""

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The key record for a key hash, if it exists."""

    async def ping(self) -> None:
        """Raises if the store is unreachable."""

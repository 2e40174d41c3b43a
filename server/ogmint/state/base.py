"""What every aggregate of the shared state has in common: the backend's lifecycle, its one
error, and the UTC windows counters are kept in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from ogmint.errors import DependencyError


class StateUnavailable(DependencyError):
    """The state backend is down or timed out (the API answers 503)."""

    default_message = "State store temporarily unavailable"


class Backend(Protocol):
    """The connection (SQLite file, Redis pool) every aggregate of one backend shares."""

    async def open(self) -> None:
        """Prepares the backend (creates tables or connects, loads scripts)."""

    async def close(self) -> None:
        """Releases connections."""

    async def ping(self) -> None:
        """Raises StateUnavailable if the backend is unreachable."""


def utc_day(now: datetime | None = None) -> tuple[str, int]:
    """The current UTC day as ``YYYY-MM-DD`` and the Unix time of the next midnight."""
    now = now or datetime.now(UTC)
    day = now.strftime("%Y-%m-%d")
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return day, int(midnight.timestamp())


def utc_month(now: datetime | None = None) -> tuple[str, int]:
    """The current UTC month as ``YYYY-MM`` and the Unix time of 00:00 UTC on the next 1st."""
    now = now or datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return now.strftime("%Y-%m"), int(datetime(year, month, 1, tzinfo=UTC).timestamp())

"""The one clock format: UTC ISO-8601 with milliseconds, e.g. ``2025-03-08T00:00:00.000Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(at: datetime) -> str:
    """``at`` (UTC) as ISO-8601 with milliseconds and a ``Z``."""
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """Now, as :func:`iso` writes it."""
    return iso(datetime.now(UTC))


def unix_iso(seconds: float) -> str:
    """A Unix time as :func:`iso` writes it."""
    return iso(datetime.fromtimestamp(seconds, UTC))


def ms_iso(ms: int) -> str:
    """A Unix time in whole milliseconds (Redis ``TIME``) as :func:`iso` writes it, exactly."""
    return iso(datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000))

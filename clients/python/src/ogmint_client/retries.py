"""When to retry a 429 or 503, and for how long to wait (``Retry-After``, bounded)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset([429, 503])


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: at most ``max_retries`` more attempts, none waiting longer than
    ``max_wait`` seconds (a monthly-quota 429 says "retry in days": that is raised at once)."""

    max_retries: int = 3
    max_wait: float = 30.0
    backoff: float = 0.5  # first wait when the server sent no Retry-After; doubles each time

    def delay(self, status: int, retry_after: str | None, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``attempt`` (0-based) failed, or None."""
        if status not in RETRY_STATUSES or attempt >= self.max_retries:
            return None
        wait = parse_retry_after(retry_after)
        if wait is None:
            wait = self.backoff * 2**attempt
        return None if wait > self.max_wait else wait

"""Render tracking for the dashboard: what each user rendered, per day and most recently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ogmint.clock import now_iso, unix_iso
from ogmint.domain.limits import Limits
from ogmint.domain.plans import Plans
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.limits import LimitStatus
from ogmint.state.usage import DayCount as DayCount
from ogmint.state.usage import Kind, Retention, Tracking, UsageStore
from ogmint.state.usage import TrackedRender as TrackedRender


def month_days(today: date) -> list[str]:
    """Every day of ``today``'s month, as ``YYYY-MM-DD``."""
    first = today.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return [(first + timedelta(days=i)).isoformat() for i in range((after - first).days)]


class Usage:
    """Counts renders per user and UTC day and keeps a bounded list of recent ones."""

    def __init__(self, store: UsageStore, retention: Retention) -> None:
        self._store = store
        self._retention = retention

    def tracking(
        self,
        user: str,
        kind: Kind,
        template: str,
        title: str,
        status: int,
        slug: str = "",
        params: str = "",
    ) -> Tracking:
        """What the atomic render steps track for this request, stamped now (``params``: a V1
        render's parameters as a query, so its thumbnail can be drawn again)."""
        # Titles are ≤ 200 code points (SPEC §1); ids of custom templates are short too.
        render = TrackedRender(now_iso(), kind, template[:100], title[:200], status, slug, params)
        return Tracking(user, render, self._retention)

    async def track(self, tracked: Tracking) -> None:
        """Tracks a render on its own (where no atomic step is made anyway)."""
        await self._store.track(tracked.user, tracked.render, tracked.retention)

    async def fail(self, tracked: Tracking, status: int) -> None:
        """Lists a tracked render as the failure it turned out to be (``status``)."""
        await self._store.fail(tracked, status)

    async def month(self, user: str, today: date | None = None) -> list[DayCount]:
        """This month's counts, one entry per day (zeros included)."""
        days = month_days(today or datetime.now(UTC).date())
        found = {d.day: d for d in await self._store.days(user, days[0], days[-1])}
        return [found.get(day, DayCount(day, 0, 0, 0)) for day in days]

    async def month_total(self, user: str) -> int:
        """Renders charged this month (new V1 and V2 renders; dedup hits are free)."""
        return sum(d.v1 + d.v2 for d in await self.month(user))

    async def recent(self, user: str, limit: int) -> list[TrackedRender]:
        return await self._store.recent(user, limit)


@dataclass(frozen=True, slots=True)
class MonthReport:
    """A user's month (SPEC §3.1 ``GET /api/v2/usage``): plan, quota as it stands, and the
    counts of each day so far."""

    plan: str
    quota: LimitStatus  # limit, remaining and reset: the X-RateLimit-* headers
    resets_at: str  # the reset as UTC ISO-8601
    days: list[DayCount]

    @property
    def used(self) -> int:
        return self.quota.limit - self.quota.remaining


class Reports:
    """What a key holder is told about its month."""

    def __init__(self, usage: Usage, limits: Limits, plans: Plans) -> None:
        self._usage = usage
        self._limits = limits
        self._plans = plans

    async def month(self, key: ApiKeyRecord, today: date | None = None) -> MonthReport:
        """The month of ``key``'s user: its quota from the counter renders are charged to (so
        it agrees with every response's X-RateLimit-* headers), days from the tracking, up to
        today."""
        today = today or datetime.now(UTC).date()
        status = await self._limits.quota(key, self._plans.quota(key.plan))
        days = [d for d in await self._usage.month(key.user, today) if d.day <= today.isoformat()]
        return MonthReport(key.plan, status, unix_iso(status.reset), days)

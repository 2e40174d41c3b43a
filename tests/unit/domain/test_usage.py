"""Usage: every day of the month counted (zeros too), failures listed as what they were and
not counted."""

from __future__ import annotations

from datetime import date

from domain.conftest import Domain


async def test_month_counts_and_failures(domain: Domain) -> None:
    tracked = domain.usage.tracking("alice", "v1", "blog", "T" * 300, 200)
    assert len(tracked.render.title) == 200 and tracked.render.at.endswith("Z")
    await domain.usage.track(tracked)
    await domain.usage.fail(tracked, 422)
    (recent,) = await domain.usage.recent("alice", 5)
    assert recent.status == 422  # listed as the failure it was, and not counted
    assert await domain.usage.month_total("alice") == 0
    days = await domain.usage.month("alice", date(2026, 2, 10))
    assert [d.day for d in days][0::27] == ["2026-02-01", "2026-02-28"]
    assert all(d.v1 == d.v2 == d.dedup == 0 for d in days)  # a month with nothing in it
    await domain.usage.track(domain.usage.tracking("alice", "v2", "blog", "T", 201, "s"))
    assert await domain.usage.month_total("alice") == 1

"""The UsageStore contract, run against every implementation (embedded SQLite and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ogmint.state.store import State
from ogmint.state.usage import DayCount, Kind, Retention, TrackedRender, UsageStore

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEEP = Retention(days=400, recent=100)


@pytest.fixture
def store(state: State) -> UsageStore:
    """The usage aggregate of an open, empty state of each kind (``state`` fixture)."""
    return state.usage


def render(day: str, kind: Kind = "v2", n: int = 0, slug: str = "") -> TrackedRender:
    return TrackedRender(f"{day}T10:00:{n % 60:02d}.000Z", kind, "blog", f"title {n}", 201, slug)


async def test_counts_per_day_and_kind(store: UsageStore) -> None:
    for kind, count in (("v1", 2), ("v2", 3), ("dedup", 1)):
        for i in range(count):
            await store.track("alice", render("2026-11-03", kind, i), KEEP)  # type: ignore[arg-type]
    await store.track("alice", render("2026-11-05", "v2"), KEEP)
    await store.track("bob", render("2026-11-03", "v1"), KEEP)
    failed = TrackedRender("2026-11-05T11:00:00.000Z", "v1", "blog", "x", 400, "")
    await store.track("alice", failed, KEEP)  # listed, not counted
    assert (await store.recent("alice", 1)) == [failed]
    assert await store.days("alice", "2026-11-01", "2026-11-30") == [
        DayCount("2026-11-03", 2, 3, 1),
        DayCount("2026-11-05", 0, 1, 0),
    ]
    assert await store.days("alice", "2026-11-04", "2026-11-30") == [
        DayCount("2026-11-05", 0, 1, 0)
    ]
    assert await store.days("bob", "2026-11-01", "2026-11-30") == [DayCount("2026-11-03", 1, 0, 0)]
    assert await store.days("carol", "2026-11-01", "2026-11-30") == []


async def test_recent_newest_first_and_bounded(store: UsageStore) -> None:
    keep = Retention(days=400, recent=5)
    for i in range(8):
        await store.track("alice", render("2026-11-03", "v2", i, slug=f"s{i}"), keep)
        await store.track("bob", render("2026-11-03", "v1", i), keep)
    recent = await store.recent("alice", 50)
    assert [r.slug for r in recent] == ["s7", "s6", "s5", "s4", "s3"]
    assert recent[0] == render("2026-11-03", "v2", 7, slug="s7")
    assert [r.title for r in await store.recent("alice", 2)] == ["title 7", "title 6"]
    assert len(await store.recent("bob", 50)) == 5
    assert await store.recent("carol", 50) == []


async def test_recent_bound_is_per_user(store: UsageStore) -> None:
    keep = Retention(days=400, recent=3)
    await store.track("alice", render("2026-11-03", "v2", 0, slug="a0"), keep)
    for i in range(10):
        await store.track("bob", render("2026-11-03", "v2", i), keep)
    await store.track("alice", render("2026-11-03", "v2", 1, slug="a1"), keep)
    assert [r.slug for r in await store.recent("alice", 10)] == ["a1", "a0"]


async def test_old_days_are_dropped(store: UsageStore) -> None:
    keep = Retention(days=2, recent=10)
    today = datetime.now(UTC).date()
    await store.track("alice", render("2020-01-01", "v2"), keep)
    for back in (2, 1, 0):
        await store.track("alice", render((today - timedelta(days=back)).isoformat()), keep)
    assert await store.days("alice", "2020-01-01", "2020-01-02") == []
    assert [d.day for d in await store.days("alice", "2020-01-01", today.isoformat())] == [
        (today - timedelta(days=1)).isoformat(),
        today.isoformat(),
    ]

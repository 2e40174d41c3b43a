"""The UsageStore contract, run against every implementation (embedded SQLite and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contract.records import delivery, record
from ogmint.state.store import State
from ogmint.state.usage import (
    TRIM_SLACK,
    DayCount,
    Kind,
    Retention,
    TrackedRender,
    Tracking,
    UsageStore,
)

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
    recent = await store.recent("alice", 5)
    assert [r.slug for r in recent] == ["s7", "s6", "s5", "s4", "s3"]
    assert recent[0] == render("2026-11-03", "v2", 7, slug="s7")
    assert [r.title for r in await store.recent("alice", 2)] == ["title 7", "title 6"]
    assert await store.recent("carol", 50) == []
    for i in range(3 * TRIM_SLACK):
        await store.track("bob", render("2026-11-03", "v1", i), keep)
    assert 5 <= len(await store.recent("bob", 1000)) <= 5 + TRIM_SLACK


async def test_recent_bound_is_per_user(store: UsageStore) -> None:
    keep = Retention(days=400, recent=3)
    await store.track("alice", render("2026-11-03", "v2", 0, slug="a0"), keep)
    for i in range(3 * TRIM_SLACK):
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


# -- tracking folded into the atomic render steps -----------------------------------------------
def tracking(kind: Kind, slug: str = "", status: int = 200) -> Tracking:
    render = TrackedRender(
        f"{datetime.now(UTC).date()}T10:00:00.000Z", kind, "blog", "T", status, slug
    )
    return Tracking("alice", render, KEEP)


async def counts(state: State) -> tuple[int, int, int]:
    today = datetime.now(UTC).date().isoformat()
    found = await state.usage.days("alice", today, today)
    return (found[0].v1, found[0].v2, found[0].dedup) if found else (0, 0, 0)


async def test_save_tracks_the_new_render_with_it(state: State) -> None:
    assert await state.atomic.save_render(
        record("slugAAAA", user="k1"), None, tracking("v2", "slugAAAA", 201)
    )
    # A refused save (the slug is taken) tracks nothing.
    assert not await state.atomic.save_render(
        record("slugAAAA", user="k2"), None, tracking("v2", "slugAAAA", 201)
    )
    assert await counts(state) == (0, 1, 0)
    [listed] = await state.usage.recent("alice", 10)
    assert (listed.kind, listed.slug, listed.status) == ("v2", "slugAAAA", 201)


async def test_save_tracks_alongside_a_delivery(state: State) -> None:
    rec = record("slugBBBB", user="k1")
    assert await state.atomic.save_render(
        rec, delivery("slugBBBB"), tracking("v2", "slugBBBB", 201)
    )
    assert [d.delivery.slug for d in await state.deliveries.list_deliveries("slugBBBB")] == [
        "slugBBBB"
    ]
    assert await counts(state) == (0, 1, 0)


async def test_admit_tracks_a_dedup_hit_with_its_slug(state: State) -> None:
    hit = tracking("dedup")
    got = await state.atomic.admit_render("alice", "k1", "d1", quota=3, ttl=30, track=hit)
    assert got.claimed
    assert await counts(state) == (0, 0, 0)  # a new render is tracked when it is saved
    assert await state.atomic.save_render(record("slugCCCC", user="k1"))
    got = await state.atomic.admit_render("alice", "k1", "d1", quota=3, ttl=30, track=hit)
    assert got.existing is not None
    assert await counts(state) == (0, 0, 1)
    [listed] = await state.usage.recent("alice", 10)
    assert (listed.kind, listed.slug) == ("dedup", "slugCCCC")


async def test_token_step_tracks_only_when_a_token_was_there(state: State) -> None:
    hit = tracking("dedup", "slugDDDD")
    assert (await state.atomic.take_token("alice", 0.001, 1, hit)).allowed
    assert not (await state.atomic.take_token("alice", 0.001, 1, hit)).allowed
    assert await counts(state) == (0, 0, 1)


async def test_charge_tracks_v1_and_fail_corrects_it(state: State) -> None:
    first, second = tracking("v1"), tracking("v1")
    assert (await state.atomic.charge_quota("alice", 2, first)).allowed
    assert (await state.atomic.charge_quota("alice", 2, second)).allowed
    assert not (await state.atomic.charge_quota("alice", 2, tracking("v1"))).allowed
    assert await counts(state) == (2, 0, 0)
    await state.usage.fail(second, 400)
    assert await counts(state) == (1, 0, 0)
    statuses = [r.status for r in await state.usage.recent("alice", 10)]
    assert statuses == [400, 200]


async def test_v1_renders_keep_their_parameters(state: State) -> None:
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    query = "template=docs&title=Hi%3F+there&bgColor=102030"
    v1 = TrackedRender(at, "v1", "docs", "Hi? there", 200, "", query)
    too_long = TrackedRender(at, "v1", "docs", "Long", 200, "", "x" * 2001)
    tracked = Tracking("alice", v1, KEEP)
    assert (await state.atomic.charge_quota("alice", 5, tracked)).allowed
    await state.usage.track("alice", too_long, KEEP)
    await state.usage.track("alice", render(at[:10], "v2", 1, "AbCdEfGh"), KEEP)
    v2, long, first = await state.usage.recent("alice", 10)
    assert first == v1
    assert (long.params, long.slug) == ("", "")
    assert (v2.slug, v2.params) == ("AbCdEfGh", "")
    await state.usage.fail(tracked, 400)  # a failed one keeps them too
    assert (await state.usage.recent("alice", 1))[0].params == query

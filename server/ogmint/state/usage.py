"""The usage aggregate: per-user, per-UTC-day render counts and the recent-renders list.

Counts are kept for a bounded number of days and the list for a bounded number of renders
(settings), so a busy user's usage never grows without end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

#: What a tracked request was: a V1 render (API key or signed URL), a new V2 render, a V2
#: request answered from an existing render.
Kind = Literal["v1", "v2", "dedup"]


@dataclass(frozen=True, slots=True)
class DayCount:
    """One user's renders on one UTC day."""

    day: str  # YYYY-MM-DD
    v1: int
    v2: int
    dedup: int


@dataclass(frozen=True, slots=True)
class TrackedRender:
    """One entry of the recent-renders list."""

    at: str  # UTC ISO-8601 with milliseconds
    kind: Kind
    template: str
    title: str
    status: int  # the HTTP status answered
    slug: str  # V2 only; "" for V1
    params: str = ""  # V1 only: its render parameters as a query, to draw a thumbnail again


#: V1 renders have no slug, so the stores keep their ``params`` in the slug's place, marked
#: with a leading "?" (a slug never has one): no new column or script argument.
PARAMS_MARK = "?"
#: Longer parameters are not kept (the thumbnail falls back to template and title).
MAX_PARAMS = 2000


def slug_field(render: TrackedRender) -> str:
    """What a store keeps in the slug's place: the slug, or a V1 render's marked params."""
    if render.slug or not render.params or len(render.params) > MAX_PARAMS:
        return render.slug
    return PARAMS_MARK + render.params


def from_slug_field(value: str) -> tuple[str, str]:
    """(slug, params) from what a store kept in the slug's place."""
    if value.startswith(PARAMS_MARK):
        return "", value[len(PARAMS_MARK) :]
    return value, ""


#: How far past its bound a recent list may grow before it is trimmed (trimming on every
#: render would cost more than the tracking itself in SQLite).
TRIM_SLACK = 32


@dataclass(frozen=True, slots=True)
class Retention:
    """How much usage is kept per user."""

    days: int  # daily counts older than this many days are dropped
    recent: int  # length of the recent-renders list (up to TRIM_SLACK more between trims)


@dataclass(frozen=True, slots=True)
class Tracking:
    """A render to track as part of an atomic step (``state/atomic.py``)."""

    user: str
    render: TrackedRender
    retention: Retention


class UsageStore(Protocol):
    """Render tracking. Implementations: SQLite and Redis.

    Every method raises ``StateUnavailable`` when the backend cannot be reached in time.
    """

    async def track(self, user: str, render: TrackedRender, retention: Retention) -> None:
        """Atomically counts the render on its day (the day of ``render.at``; failed requests,
        status ≥ 400, are not counted) and puts it at the head of the user's recent list,
        trimming both to ``retention``."""

    async def fail(self, tracked: Tracking, status: int) -> None:
        """A render tracked when it was charged failed with ``status``: uncounts it and lists
        it as that failure instead."""

    async def days(self, user: str, first: str, last: str) -> list[DayCount]:
        """The user's counts for the days ``first``..``last`` (inclusive) that had any."""

    async def recent(self, user: str, limit: int) -> list[TrackedRender]:
        """The user's most recent renders, newest first."""

"""The steps that change several aggregates at once, atomically, in one round trip.

They are kept here, apart from the aggregates, so that every place where one aggregate's
invariants depend on another's is visible in one protocol (and one module per backend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ogmint.state.deliveries import Delivery
from ogmint.state.limits import LimitStatus
from ogmint.state.renders import RenderRecord
from ogmint.state.usage import Tracking


@dataclass(frozen=True, slots=True)
class Admission:
    """What :meth:`AtomicSteps.admit_render` decided; it stops at the first refusal."""

    burst: LimitStatus | None  # the token taken or refused; None when none was asked for
    existing: RenderRecord | None = None  # the render exists: a dedup hit, nothing charged
    quota: LimitStatus | None = None  # the monthly quota charged (``claimed``) or refused
    claimed: bool = False  # the caller holds the claim: it renders, then saves or releases


class AtomicSteps(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time."""

    async def admit_render(
        self,
        user: str,
        scope: str,
        dedup_key: str,
        *,
        quota: int,
        ttl: float,
        burst: tuple[float, int] | None = None,
        track: Tracking | None = None,
    ) -> Admission:
        """Limits + renders (+ usage): everything a new render needs before it starts, as one
        step.

        In order, stopping at the first that answers: takes a token from ``user``'s bucket
        (``burst`` = rate, capacity; skipped when None); ``scope``'s finished render for
        ``dedup_key``; nothing more while another caller holds its claim; charges one render
        of ``user``'s monthly ``quota``; claims the render for ``ttl`` seconds. A dedup hit is
        tracked as ``track`` (its slug filled in) when given.
        """

    async def save_render(
        self,
        record: RenderRecord,
        delivery: Delivery | None = None,
        track: Tracking | None = None,
    ) -> bool:
        """Renders + deliveries (+ usage): records the render, its dedup entry, its webhook
        delivery (queued, due now) and its tracking, and drops the claim, all or nothing.

        False (and nothing written) when the slug is already taken by any user.
        """

    async def delete_render(self, owner: str, slug: str) -> RenderRecord | None:
        """Renders + deliveries: removes ``owner``'s render ``slug`` (its slug, its dedup entry,
        its place in the owner's list) and its webhook deliveries with their attempts, so
        pending ones are never sent; all or nothing. The removed record, or None (nothing
        changed) when ``slug`` is not one of ``owner``'s renders."""

    async def take_token(self, user: str, rate: float, burst: int, track: Tracking) -> LimitStatus:
        """Limits + usage: ``LimitStore.take_token``, tracking ``track`` when a token was
        there (a dedup hit answered from a worker's memory)."""

    async def charge_quota(self, user: str, limit: int, track: Tracking) -> LimitStatus:
        """Limits + usage: ``LimitStore.consume_quota``, tracking ``track`` when charged (a V1
        render; ``UsageStore.fail`` corrects it if the render then fails)."""

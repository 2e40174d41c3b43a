"""The deliveries aggregate: the durable webhook outbox and every attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery: a fixed body for one URL, attempted until it succeeds or gives up."""

    id: str  # the ``webhook-id`` header, stable across retries and redeliveries
    slug: str
    owner: str  # the user owning the render: deliveries are listed per user, not per key
    url: str
    secret: str  # "" = unsigned
    body: bytes  # the exact bytes sent (and signed) on every attempt
    created_at: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded delivery attempt."""

    number: int  # 1-based, assigned by the store
    at: str  # UTC ISO-8601 with milliseconds
    status: int | None  # the receiver's HTTP status; None when there was no answer
    error: str  # "" on success
    duration_ms: int


#: Delivery states: waiting for an attempt, done, or given up (410, or retries used up).
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one attempt produced, and what happens next."""

    at: str
    status: int | None
    error: str
    duration_ms: int
    state: str  # the delivery's state afterwards: PENDING (retry), DELIVERED or FAILED
    retry_in: float = 0.0  # seconds until the next attempt, when PENDING


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A delivery as users see it: its state and every attempt so far."""

    delivery: Delivery
    state: str
    attempts: tuple[Attempt, ...]
    next_attempt_at: str | None  # when the next attempt is due (PENDING only)


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to one worker for one attempt."""

    delivery: Delivery
    attempts: int  # attempts recorded before this one
    token: str  # identifies the claim to ``finish_delivery`` (the Redis stream entry)


class DeliveryStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time.

    A delivery is queued atomically with its render: see
    :meth:`ogmint.state.atomic.AtomicSteps.save_render`.
    """

    async def claim_deliveries(
        self, worker: str, limit: int, lease: float
    ) -> list[ClaimedDelivery]:
        """Leases up to ``limit`` due deliveries to ``worker`` for ``lease`` seconds.

        A delivery is leased to one worker at a time; one whose worker died (lease expired
        without ``finish_delivery``) is due again. All workers must use the same ``lease``
        (Redis applies the claiming worker's value when it takes over another's entries).
        """

    async def finish_delivery(self, claim: ClaimedDelivery, outcome: AttemptOutcome) -> None:
        """Records the attempt, ends the lease and schedules the next attempt (if PENDING)."""

    async def list_deliveries(self, slug: str) -> list[DeliveryStatus]:
        """The deliveries of a render, oldest first."""

    async def get_delivery(self, delivery_id: str) -> DeliveryStatus | None:
        """One delivery by id."""

    async def redeliver(self, delivery_id: str) -> bool:
        """Makes the delivery due now (same id and body); False if there is no such delivery."""

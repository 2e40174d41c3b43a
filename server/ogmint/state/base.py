"""The StateStore protocol: every piece of shared state goes through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ogmint.errors import DependencyUnavailable

#: Monthly render quotas per plan (SPEC §6).
PLAN_QUOTAS = {"free": 100, "starter": 1_000, "pro": 10_000, "agency": 50_000}


class StateUnavailable(DependencyUnavailable):
    """The state backend is down or timed out (the API answers 503)."""

    default_message = "State store temporarily unavailable"


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """The outcome of consuming one unit of a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix time when the window resets (or the bucket has a token again)

    def retry_after(self) -> int:
        """Seconds until the window resets (at least 1)."""
        return max(self.reset - int(datetime.now(UTC).timestamp()), 1)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A stored API key (only its hash is kept) with its user's current plan."""

    key_id: str
    key_hash: str
    user: str
    plan: str
    revoked: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class RenderRecord:
    """A stored render: what ``/i/{slug}`` serves and what dedup answers with."""

    slug: str
    user: str
    dedup_key: str
    storage_key: str
    etag: str
    size: int
    template: str
    created_at: str  # UTC ISO-8601 with milliseconds


@dataclass(frozen=True, slots=True)
class Admission:
    """What :meth:`StateStore.admit_render` decided; it stops at the first refusal."""

    burst: LimitStatus | None  # the token taken or refused; None when none was asked for
    existing: RenderRecord | None = None  # the render exists: a dedup hit, nothing charged
    quota: LimitStatus | None = None  # the monthly quota charged (``claimed``) or refused
    claimed: bool = False  # the caller holds the claim: it renders, then saves or releases


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


class StateStore(Protocol):
    """Shared state. Implementations: SQLite (embedded default) and Redis (scale-out).

    Every method raises :class:`StateUnavailable` when the backend cannot be reached in time.
    """

    async def open(self) -> None:
        """Prepares the store (creates tables, connects)."""

    async def close(self) -> None:
        """Releases connections."""

    async def ping(self) -> None:
        """Raises StateUnavailable if the store is unreachable."""

    # -- anonymous V1 allowance ---------------------------------------------------------------
    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        """Atomically counts one use of ``subject``'s daily allowance if any is left."""

    async def refund_daily(self, subject: str) -> None:
        """Gives back one use (the render it was counted for failed)."""

    # -- keys, users, plans -------------------------------------------------------------------
    async def create_key(self, user: str, key_id: str, key_hash: str, plan: str | None) -> None:
        """Stores a key for ``user`` (created with plan ``free`` if new; ``plan`` sets it)."""

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The key record for a key hash, if it exists (revoked ones included)."""

    async def list_keys(self, user: str | None = None) -> list[ApiKeyRecord]:
        """All keys, or one user's, oldest first."""

    async def revoke_key(self, key_id: str) -> bool:
        """Revokes a key; False if there is no such key."""

    async def set_plan(self, user: str, plan: str) -> bool:
        """Changes a user's plan; False if there is no such user."""

    # -- per-user limits ----------------------------------------------------------------------
    async def take_token(self, user: str, rate: float, burst: int) -> LimitStatus:
        """Token bucket: takes one token if available (``rate`` tokens/s, ``burst`` capacity)."""

    async def consume_quota(self, user: str, limit: int) -> LimitStatus:
        """Atomically counts one render against the user's monthly quota if any is left."""

    async def refund_quota(self, user: str) -> None:
        """Gives back one render of this month's quota (the render failed)."""

    # -- renders and dedup --------------------------------------------------------------------
    async def admit_render(
        self,
        user: str,
        scope: str,
        dedup_key: str,
        *,
        quota: int,
        ttl: float,
        burst: tuple[float, int] | None = None,
    ) -> Admission:
        """Everything a new render needs before it starts, as one atomic step.

        In order, stopping at the first that answers: takes a token from ``user``'s bucket
        (``burst`` = rate, capacity; skipped when None); ``scope``'s finished render for
        ``dedup_key``; nothing more while another caller holds its claim; charges one render
        of ``user``'s monthly ``quota``; claims the render for ``ttl`` seconds.
        """

    async def find_render(self, user: str, dedup_key: str) -> RenderRecord | None:
        """The user's finished render with this dedup key, if any."""

    async def claim_render(self, user: str, dedup_key: str, ttl: float) -> bool:
        """Claims the right to render ``dedup_key`` for ``ttl`` seconds; False if claimed or done."""

    async def release_claim(self, user: str, dedup_key: str) -> None:
        """Drops a claim (the render failed)."""

    async def save_render(self, record: RenderRecord, delivery: Delivery | None = None) -> bool:
        """Atomically records the render, its dedup entry and its webhook delivery (queued,
        due now), and drops the claim.

        False (and nothing written) when the slug is already taken by any user.
        """

    async def get_render(self, slug: str) -> RenderRecord | None:
        """The render behind a slug."""

    # -- webhook deliveries (the durable outbox) ----------------------------------------------
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

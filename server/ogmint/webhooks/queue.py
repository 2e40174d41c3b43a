"""What goes into the outbox, and when a delivery is attempted again.

The outbox is stored by the state store (SQLite table or Redis stream, see ``ogmint.state``) so
that a delivery is queued in the same transaction or atomic step that records its render. This
module decides what is queued (:func:`new_delivery`), which webhook URLs are accepted at request
time (:func:`check_webhook_url`) and what an attempt's result means (:class:`RetryPolicy`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass

from ogmint.errors import ValidationError
from ogmint.ids import new_id
from ogmint.net import AddressPolicy, OutboundError, parse_target
from ogmint.state.deliveries import DELIVERED, FAILED, PENDING, Delivery
from ogmint.state.renders import RenderRecord
from ogmint.webhooks.payload import render_completed

#: Each wait is lengthened by a random share of up to this fraction, so retries of many
#: deliveries to one receiver spread out, while the schedule's total stays a lower bound.
JITTER = 0.25


def new_delivery(
    record: RenderRecord,
    *,
    base_url: str,
    owner: str,
    url: str,
    secret: str,
    metadata: Mapping[str, object],
) -> Delivery:
    """The ``render.completed`` delivery for a new render, with a fresh ``webhook-id``."""
    return Delivery(
        id=new_id("msg_", 24),
        slug=record.slug,
        owner=owner,
        url=url,
        secret=secret,
        body=render_completed(record, f"{base_url}/i/{record.slug}", metadata),
        created_at=record.created_at,
    )


async def check_webhook_url(url: str, policy: AddressPolicy, resolve_timeout: float) -> None:
    """Refuses (400, naming ``webhookUrl``) a URL that is not https or names a blocked host.

    A name that does not resolve right now is accepted: DNS trouble may be temporary, and
    every delivery attempt checks the addresses again anyway.
    """
    try:
        target = parse_target(url)
        host = target.raw_host or ""
        if policy.host_exempt(host):
            return
        policy.check_host(host)
        port = target.port or 443
        policy.check_port(host, port)
        try:
            async with asyncio.timeout(resolve_timeout):
                await policy.resolve(host, port)
        except (OSError, TimeoutError):
            return
    except OutboundError as e:
        raise ValidationError.field("webhookUrl", e.message) from e


@dataclass(frozen=True, slots=True)
class Verdict:
    """The delivery's state after an attempt, and the wait before the next one."""

    state: str
    error: str
    retry_in: float = 0.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """SPEC §4: 2xx succeeds, 410 stops, anything else is retried on ``schedule``.

    Other 4xx answers (401, 404, …) are retried too: they are usually a receiver being
    deployed or misconfigured, which its owner fixes within the retry window. ``schedule`` is
    the wait after attempt 1, 2, … (setting ``WEBHOOK_RETRY_SCHEDULE``, ≥ 24 h in all).
    """

    schedule: tuple[float, ...]
    jitter: float = JITTER

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def delay(self, attempt: int) -> float | None:
        """Seconds to wait after failed attempt number ``attempt``; None when retries are over."""
        if attempt < 1 or attempt > len(self.schedule):
            return None
        base = self.schedule[attempt - 1]
        return base * (1.0 + random.uniform(0.0, self.jitter))

    def verdict(self, attempt: int, status: int | None, error: str) -> Verdict:
        """Judges attempt number ``attempt``: an HTTP ``status``, or ``error`` when none."""
        if status is not None and 200 <= status < 300:
            return Verdict(DELIVERED, "")
        if status == 410:
            return Verdict(FAILED, "410 Gone: the receiver asked to stop")
        if status is not None:
            error = f"HTTP {status}" + (" (redirects are not followed)" if status < 400 else "")
        delay = self.delay(attempt)
        if delay is None:
            return Verdict(FAILED, error)
        return Verdict(PENDING, error, delay)

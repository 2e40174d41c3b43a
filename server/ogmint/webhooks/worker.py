"""The delivery worker: one per app-server process, sharing the outbox with all the others.

It leases due deliveries from the state store, POSTs each through the guarded client (so the
address check runs again on every attempt), records the attempt and schedules the next one.
A worker that dies mid-attempt leaves its leases to expire; another worker (or this one after a
restart) then attempts those deliveries again with the same ``webhook-id``: at-least-once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

from ogmint.clock import now_iso
from ogmint.ids import random_base62
from ogmint.metrics import Metrics
from ogmint.net import GuardedClient, OutboundError
from ogmint.state.base import StateUnavailable
from ogmint.state.deliveries import AttemptOutcome, ClaimedDelivery, DeliveryStore
from ogmint.tracing import Tracing
from ogmint.webhooks.queue import RetryPolicy
from ogmint.webhooks.signing import delivery_headers

log = logging.getLogger("ogmint.webhooks")


class DeliveryWorker:
    """Runs delivery attempts in the background of one app-server process."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        client: GuardedClient,
        policy: RetryPolicy,
        *,
        timeout: float,
        lease: float,
        concurrency: int,
        poll_interval: float,
        metrics: Metrics,
        tracing: Tracing | None = None,
    ) -> None:
        self._tracing = tracing or Tracing()
        self._deliveries = deliveries
        self._client = client
        self._policy = policy
        self._timeout = timeout
        self._lease = lease
        self._concurrency = concurrency
        self._poll = poll_interval
        self._metrics = metrics
        self.name = f"w-{os.getpid()}-{random_base62(8)}"
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Starts the claim loop on the running event loop."""
        self._task = asyncio.create_task(self._run(), name=f"webhooks-{self.name}")

    def wake(self) -> None:
        """Looks for due deliveries now (a delivery was just queued by this process)."""
        self._wake.set()

    async def stop(self, grace: float = 2.0) -> None:
        """Stops claiming, lets attempts in flight finish for ``grace`` seconds, cancels the rest.

        A cancelled attempt is not recorded; its lease expires and it is attempted again.
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            free = self._concurrency - len(self._inflight)
            if free <= 0:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            self._wake.clear()
            try:
                claims = await self._deliveries.claim_deliveries(self.name, free, self._lease)
            except StateUnavailable as e:
                log.warning("webhook worker: state store unavailable: %s", e)
                claims = []
            except Exception:
                log.exception("webhook worker: claiming deliveries failed")
                claims = []
            for claim in claims:
                task = asyncio.create_task(self._attempt(claim))
                self._inflight.add(task)
                task.add_done_callback(self._finished)
            if not claims:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is None:
            self._wake.set()  # a slot is free: more may be due

    async def _attempt(self, claim: ClaimedDelivery) -> None:
        number = claim.attempts + 1
        with self._tracing.span("webhook.attempt", {"ogmint.attempt": number}) as span:
            state, status = await self._attempt_once(claim, number)
            span.set_attribute("ogmint.outcome", state)
            if status is not None:
                span.set_attribute("http.response.status_code", status)

    async def _attempt_once(self, claim: ClaimedDelivery, number: int) -> tuple[str, int | None]:
        """Sends one attempt and records it: (the delivery's state after it, the status)."""
        d = claim.delivery
        at = now_iso()
        started = time.monotonic()
        status: int | None = None
        error = ""
        try:
            headers = delivery_headers(d.id, d.secret, int(time.time()), d.body)
            response = await self._client.post(d.url, d.body, headers, timeout=self._timeout)
            status = response.status
        except OutboundError as e:
            error = e.message
        except Exception:
            # Whatever else goes wrong (signing a strange secret, a client bug) is a failed
            # attempt, recorded and retried on the schedule: a delivery never sits unattempted.
            log.exception("webhook %s: unexpected error", d.id)
            error = "internal error while preparing or sending the request"
        duration_ms = round((time.monotonic() - started) * 1000)
        verdict = self._policy.verdict(number, status, error)
        outcome = AttemptOutcome(
            at, status, verdict.error, duration_ms, verdict.state, verdict.retry_in
        )
        self._metrics.webhook_attempt(verdict.state)
        log.info(
            "webhook %s attempt %d: %s %s",
            d.id,
            number,
            status if status is not None else "-",
            verdict.error or verdict.state,
        )
        try:
            await self._deliveries.finish_delivery(claim, outcome)
        except Exception:
            # Not recorded: the lease runs out and the delivery is attempted again.
            log.exception("webhook %s: recording attempt %d failed", d.id, number)
        return verdict.state, status

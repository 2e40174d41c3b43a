"""V2 renders: dedup, quota, render, durable store, record — in that order (SPEC §3, §6).

The image is stored before the render is recorded, so a crash in between leaves at most an
orphaned file, never a slug pointing at nothing. Identical concurrent requests, on any number
of app servers, are serialised by a claim in the shared state: one renders, the others wait
for its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from ogmint.errors import UnavailableError
from ogmint.keys import random_base62
from ogmint.limits import burst_refusal, quota_refusal
from ogmint.plans import Plans
from ogmint.rendering.params import RenderSpec
from ogmint.rendering.pipeline import RenderPipeline
from ogmint.rendering.template import Template
from ogmint.state.deliveries import Delivery
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.limits import LimitStatus
from ogmint.state.renders import RenderRecord
from ogmint.state.store import State
from ogmint.state.usage import Kind, Tracking
from ogmint.storage.base import BlobStorage
from ogmint.usage import Usage

SLUG_LENGTH = 8
#: How long a claim protects an in-progress render before another server may take over. Short,
#: and refreshed while rendering: the claim of a server that died frees within this.
CLAIM_TTL = 5.0
SLUG_ATTEMPTS = 5
#: Finished renders remembered per worker (dedup hits, /i/ lookups behind nginx).
KNOWN_RENDERS = 50_000


def storage_key(slug: str, at: datetime) -> str:
    """Where a render made at ``at`` (UTC) is stored: one directory per minute, so concurrent
    renders touch one directory, and the local storage's commit rounds few directory blocks."""
    return f"images/{at:%Y-%m-%d/%H%M}/{slug}.png"


def iso(at: datetime) -> str:
    """UTC ISO-8601 with milliseconds, e.g. 2025-03-08T00:00:00.000Z."""
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(UTC))


class RenderService:
    """Creates renders for API keys and serves stored images."""

    def __init__(
        self,
        pipeline: RenderPipeline,
        state: State,
        storage: BlobStorage,
        usage: Usage,
        *,
        dedup_wait: float,
        plans: Plans,
        image_cache_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._pipeline = pipeline
        self._state = state
        self._storage = storage
        self._usage = usage
        self._dedup_wait = dedup_wait
        self._plans = plans
        self._images = _ImageCache(image_cache_bytes)
        self._records: OrderedDict[str, RenderRecord] = OrderedDict()
        # (scope, dedup key) → record: a finished render never changes, so dedup hits are
        # answered without a state round trip once this worker has seen them.
        self._known: OrderedDict[tuple[str, str], RenderRecord] = OrderedDict()

    async def create(
        self,
        key: ApiKeyRecord,
        spec: RenderSpec,
        template: Template,
        webhook: Callable[[RenderRecord], Delivery] | None = None,
        burst: LimitStatus | None = None,
    ) -> tuple[RenderRecord, bool, LimitStatus]:
        """The render for ``spec``: (record, newly created, the limit status for headers).

        Takes the request's burst token unless the caller already did (``burst``; 429 when
        none is left) and charges the monthly quota for a new render only (429 when used up). ``webhook`` builds the delivery queued with a
        new render, in the same atomic step that records it; dedup hits queue nothing (SPEC §3).
        """
        scope = key.key_id  # SPEC §3: dedup is per API key
        dedup = spec.digest(template.digest)  # a template's new version is a new dedup key
        known = self._known.get((scope, dedup))
        if known is not None:
            # Answered from this worker's memory: tracked with the burst token when one is
            # taken here (one step), on its own when the caller took it already.
            hit = self._tracking(key, spec, "dedup", known.slug)
            if burst is not None:
                await self._usage.track(hit)
                return known, False, burst
            bucket = self._plans.burst(key.plan)
            taken = await self._state.atomic.take_token(key.user, bucket.rate, bucket.capacity, hit)
            if not taken.allowed:
                raise burst_refusal(bucket, taken)
            return known, False, taken
        deadline = time.monotonic() + self._dedup_wait
        quota = self._plans.quota(key.plan)
        # Burst token, dedup lookup, quota and claim in one round trip; while another request
        # renders the same card, poll (without taking more tokens) until it is recorded.
        admit = partial(
            self._state.atomic.admit_render,
            key.user,
            scope,
            dedup,
            quota=quota,
            ttl=CLAIM_TTL,
            track=self._tracking(key, spec, "dedup"),  # if it is a dedup hit
        )
        if burst is None:
            bucket = self._plans.burst(key.plan)
            admission = await admit(burst=(bucket.rate, bucket.capacity))
            burst = admission.burst
            assert burst is not None  # a token was asked for
            if not burst.allowed:
                raise burst_refusal(bucket, burst)
        else:
            admission = await admit()
        while not admission.claimed:
            if admission.existing is not None:
                self._remember(admission.existing)
                return admission.existing, False, burst
            if admission.quota is not None:
                raise quota_refusal(key, admission.quota)
            if time.monotonic() > deadline:
                raise UnavailableError("An identical render is still in progress", retry_after=2)
            await asyncio.sleep(0.02)
            admission = await admit()
        charged = admission.quota or burst
        keeper = asyncio.create_task(self._keep_claim(scope, dedup))
        try:
            try:
                record, created = await self._render_and_store(
                    key, scope, dedup, spec, template, webhook
                )
            except BaseException:
                await self._state.limits.refund_quota(key.user)  # errors are free
                raise
        except BaseException:
            await self._state.renders.release_claim(scope, dedup)
            raise
        finally:
            keeper.cancel()
        if not created:
            await self._state.limits.refund_quota(key.user)
        return record, created, charged

    async def _keep_claim(self, scope: str, dedup: str) -> None:
        """Refreshes this render's claim until cancelled (state trouble: the next try)."""
        while True:
            await asyncio.sleep(CLAIM_TTL / 3)
            with contextlib.suppress(UnavailableError):
                await self._state.renders.refresh_claim(scope, dedup, CLAIM_TTL)

    def _tracking(
        self, key: ApiKeyRecord, spec: RenderSpec, kind: Kind, slug: str = ""
    ) -> Tracking:
        status = 201 if kind == "v2" else 200
        return self._usage.tracking(key.user, kind, spec.template, spec.title, status, slug)

    def _remember(self, record: RenderRecord) -> None:
        self._known[(record.user, record.dedup_key)] = record
        if len(self._known) > KNOWN_RENDERS:
            self._known.popitem(last=False)

    async def _render_and_store(
        self,
        key: ApiKeyRecord,
        scope: str,
        dedup: str,
        spec: RenderSpec,
        template: Template,
        webhook: Callable[[RenderRecord], Delivery] | None,
    ) -> tuple[RenderRecord, bool]:
        png = await self._pipeline.render(spec, template, api="v2")
        for _ in range(SLUG_ATTEMPTS):
            slug = random_base62(SLUG_LENGTH)
            at = datetime.now(UTC)
            path = storage_key(slug, at)
            stored = await self._storage.put(path, png)
            record = RenderRecord(
                slug=slug,
                user=scope,
                dedup_key=dedup,
                storage_key=path,
                etag=stored.etag,
                size=stored.size,
                template=spec.template,
                created_at=iso(at),
            )
            delivery = webhook(record) if webhook is not None else None
            tracked = self._tracking(key, spec, "v2", slug)
            if await self._state.atomic.save_render(record, delivery, tracked):
                self._images.put(slug, png, record)
                self._remember(record)
                return record, True
            # Slug taken (by anyone) or, after a lost claim, this render recorded by another
            # server: drop our copy, then reuse theirs or try a fresh slug.
            await self._storage.delete(path)
            existing = await self._state.renders.find_render(scope, dedup)
            if existing is not None:
                return existing, False
        raise UnavailableError("Could not allocate a unique slug, retry", retry_after=1)

    async def record(self, slug: str) -> RenderRecord | None:
        """The render behind a slug, without reading the image (immutable, so remembered)."""
        if len(slug) != SLUG_LENGTH or not slug.isascii() or not slug.isalnum():
            return None
        record = self._records.get(slug)
        if record is not None:
            self._records.move_to_end(slug)
            return record
        record = await self._state.renders.get_render(slug)
        if record is not None:
            self._records[slug] = record
            if len(self._records) > KNOWN_RENDERS:
                self._records.popitem(last=False)
        return record

    async def image(self, slug: str) -> tuple[RenderRecord, bytes] | None:
        """The stored PNG behind a slug (immutable, so cached in memory by slug)."""
        cached = self._images.get(slug)
        if cached is not None:
            return cached
        record = await self.record(slug)
        if record is None:
            return None
        data = await self._storage.get(record.storage_key)
        if data is None:
            return None
        self._images.put(slug, data, record)
        return record, data


class _ImageCache:
    """A byte-bounded LRU of immutable images by slug."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._size = 0
        self._items: OrderedDict[str, tuple[RenderRecord | None, bytes]] = OrderedDict()

    def get(self, slug: str) -> tuple[RenderRecord, bytes] | None:
        item = self._items.get(slug)
        if item is None or item[0] is None:
            return None
        self._items.move_to_end(slug)
        return item[0], item[1]

    def put(self, slug: str, data: bytes, record: RenderRecord | None = None) -> None:
        if len(data) > self._max:
            return
        old = self._items.pop(slug, None)
        if old is not None:
            self._size -= len(old[1])
        self._items[slug] = (record, data)
        self._size += len(data)
        while self._size > self._max:
            _, (_, evicted) = self._items.popitem(last=False)
            self._size -= len(evicted)

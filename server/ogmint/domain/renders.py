"""Renders (SPEC §2, §3, §6): V1 images made on request, V2 renders stored behind a slug, and
previews — with the limits, tracking and refunds that come with each.

V2: dedup, quota, render, durable store, record — in that order. The image is stored before the
render is recorded, so a crash in between leaves at most an orphaned file, never a slug pointing
at nothing. Identical concurrent requests, on any number of app servers, are serialised by a
claim in the shared state: one renders, the others wait for its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ogmint.cache import BoundedCache
from ogmint.clock import iso
from ogmint.domain.brands import Brands
from ogmint.domain.gallery import KNOWN_RENDERS, SLUG_LENGTH, Gallery, storage_key
from ogmint.domain.json_body import json_object
from ogmint.domain.limits import Limits, burst_refusal, quota_refusal, signed_quota_refusal
from ogmint.domain.plans import Plans
from ogmint.domain.repeats import RepeatCache
from ogmint.domain.templates import SAMPLE, TemplateCatalogue
from ogmint.domain.usage import Usage
from ogmint.domain.webhooks import WEBHOOK_FIELDS, Webhooks, webhook_ask
from ogmint.errors import FetchError, OgmintError, UnavailableError
from ogmint.ids import random_base62
from ogmint.metrics import Api
from ogmint.rendering.params import RenderSpec
from ogmint.rendering.pipeline import RenderPipeline
from ogmint.rendering.template import Template
from ogmint.state.deliveries import Delivery
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.limits import LimitStatus
from ogmint.state.renders import RenderRecord
from ogmint.state.store import State
from ogmint.state.usage import Kind, Tracking
from ogmint.tracing import Tracing

#: How long a claim protects an in-progress render before another server may take over. Short,
#: and refreshed while rendering: the claim of a server that died frees within this.
CLAIM_TTL = 5.0
SLUG_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Card:
    """A V1 request's card, known before rendering: what to draw and its ETag."""

    spec: RenderSpec
    template: Template
    etag: str


@dataclass(frozen=True, slots=True)
class V1Image:
    """A V1 answer: the image, and the limit status for the headers (None: none to show — a
    repeat, which counts against nothing, an unlimited allowance, or a signed URL)."""

    data: bytes
    content_type: str
    status: LimitStatus | None
    repeat: bool


@dataclass(frozen=True, slots=True)
class Created:
    """A V2 render: its record, whether this request made it, the limit status for the
    headers, and whether a webhook delivery was queued with it."""

    record: RenderRecord
    created: bool
    status: LimitStatus
    dispatched: bool


class Renders:
    """Makes cards: V1 images, stored V2 renders, previews."""

    def __init__(
        self,
        pipeline: RenderPipeline,
        templates: TemplateCatalogue,
        state: State,
        gallery: Gallery,
        usage: Usage,
        limits: Limits,
        plans: Plans,
        webhooks: Webhooks,
        repeats: RepeatCache,
        *,
        brands: Brands,
        dedup_wait: float,
        tracing: Tracing | None = None,
    ) -> None:
        self._tracing = tracing or Tracing()
        self._pipeline = pipeline
        self._templates = templates
        self._state = state
        self._gallery = gallery
        self._usage = usage
        self._limits = limits
        self._plans = plans
        self._webhooks = webhooks
        self._repeats = repeats
        self._brands = brands
        self._dedup_wait = dedup_wait
        # (scope, dedup key) → record: a finished render never changes, so dedup hits are
        # answered without a state round trip once this worker has seen them.
        self._known: BoundedCache[tuple[str, str], RenderRecord] = BoundedCache(KNOWN_RENDERS)

    def parse(self, raw: Mapping[str, object], *, strict: bool) -> RenderSpec:
        """Validates raw parameters into a spec (400 naming every bad field)."""
        return self._pipeline.parse(raw, strict=strict, template_exists=self._templates.exists)

    async def spec(
        self, user: str | None, raw: Mapping[str, object], *, strict: bool
    ) -> RenderSpec:
        """Validates raw parameters with ``user``'s brand, if they name one (SPEC §6.1), filling
        in what they do not set; another user's or an anonymous caller's brand is a 404."""
        brand_id = raw.get("brand")
        if brand_id is None or brand_id == "":
            return self.parse(raw, strict=strict)
        brand = await self._brands.resolve(user, brand_id)
        return brand.finish(self.parse(brand.fill(raw), strict=strict))

    # -- V1 -------------------------------------------------------------------------------------
    async def card(self, user: str | None, raw: Mapping[str, object]) -> Card:
        """The card a V1 request asks for (unknown names are ignored). A custom template is its
        owner's: anonymous callers get the same 404 as for unknown ids."""
        spec = await self.spec(user, raw, strict=False)
        template = await self._templates.resolve(user, spec.template)
        return Card(spec, template, self._pipeline.etag(spec, template))

    async def image(
        self, card: Card, key: ApiKeyRecord | None, *, subject: str, signed: bool
    ) -> V1Image:
        """A V1 card: a repeat (rendered within 24 hours, SPEC §2) from the repeat cache, free;
        else rendered, charged to ``key``'s user (its quota) or, without a key, to the
        anonymous daily limit of ``subject``.

        A signed URL's key (``signed``) skips the burst limit (crawler fan-out) but its renders
        are limited per signing key, and its answers show no limit status: the URL is public.
        Only a successful render is charged. A fetch that fails still made the server work:
        anonymous callers pay for it, or failing image bombs would be free (SPEC §7); key
        holders' errors stay free and are listed as the failures they were.
        """
        repeat = await self._repeats.find(card.etag)
        if repeat is not None:
            return V1Image(repeat.data, repeat.content_type, None, True)
        spec = card.spec
        tracked: Tracking | None = None
        refund: Callable[[], Awaitable[None]]
        status: LimitStatus | None
        with self._tracing.span("admit", {"ogmint.api": "v1", "ogmint.anonymous": key is None}):
            if key is None:
                status = await self._limits.take_daily(subject)
                refund = partial(self._limits.refund_daily, subject)
            else:
                if signed:
                    await self._limits.take_signed(key.key_id)  # the key id is the kid
                else:
                    await self._limits.take_burst(key)
                # Counted for the key's user and tracked for the dashboard in one step.
                tracked = self._usage.tracking(key.user, "v1", spec.template, spec.title, 200)
                quota = self._plans.quota(key.plan)
                status = await self._state.atomic.charge_quota(key.user, quota, tracked)
                if not status.allowed:
                    raise signed_quota_refusal(status) if signed else quota_refusal(key, status)
                refund = partial(self._limits.refund_quota, key.user)
                if signed:
                    status = None  # its headers would show the signer's plan and usage
        try:
            image = await self._repeats.render(
                card.etag,
                spec.template,
                lambda: self._pipeline.render(spec, card.template, api="v1"),
            )
        except FetchError as e:
            if tracked is not None:
                await refund()
                await self._usage.fail(tracked, e.status)
            raise
        except BaseException as e:
            await refund()
            if tracked is not None:
                await self._usage.fail(tracked, e.status if isinstance(e, OgmintError) else 500)
            raise
        return V1Image(image, "image/png", status, False)

    # -- V2 -------------------------------------------------------------------------------------
    async def create(self, key: ApiKeyRecord, body: bytes) -> Created:
        """The V2 render a request body (a JSON object) asks for, stored (SPEC §3).

        Every request takes one burst token (429 when none is left), refused ones too; a new
        render is charged to the monthly quota (429 when used up). With ``webhookUrl``, a new
        render also queues its ``render.completed`` delivery, atomically with its record; dedup
        hits queue nothing.
        """
        try:
            fields = json_object(body)
            ask = webhook_ask(fields, body)
            spec = await self.spec(
                key.user, {k: v for k, v in fields.items() if k not in WEBHOOK_FIELDS}, strict=True
            )
            template = await self._templates.resolve(key.user, spec.template)
        except OgmintError:
            await self._limits.take_burst(key)  # refused requests count too; a 429 comes first
            raise
        webhook = None
        burst = None
        if ask is not None:
            # The token first: the address check resolves a name, which a client out of tokens
            # must not be able to make us do.
            burst = await self._limits.take_burst(key)
            webhook = await self._webhooks.admit(key.user, ask)
        # Without a token taken yet, it is taken with the dedup lookup, quota and claim at once.
        record, created, status = await self._stored(key, spec, template, webhook, burst)
        dispatched = created and webhook is not None
        if dispatched:
            self._webhooks.wake()
        return Created(record, created, status, dispatched)

    async def _stored(
        self,
        key: ApiKeyRecord,
        spec: RenderSpec,
        template: Template,
        webhook: Callable[[RenderRecord], Delivery] | None,
        burst: LimitStatus | None,
    ) -> tuple[RenderRecord, bool, LimitStatus]:
        """The render for ``spec``: (record, newly created, the limit status for headers).

        Takes the request's burst token unless the caller already did (``burst``).
        """
        scope = key.key_id  # SPEC §3: dedup is per API key
        dedup = spec.digest(template.digest)  # a template's new version is a new dedup key
        rate, capacity = self._limits.burst(key.plan)
        known = self._known.get((scope, dedup))
        if known is not None:
            # Answered from this worker's memory: tracked with the burst token when one is
            # taken here (one step), on its own when the caller took it already.
            hit = self._tracking(key, spec, "dedup", known.slug)
            if burst is not None:
                await self._usage.track(hit)
                return known, False, burst
            with self._tracing.span("admit", {"ogmint.api": "v2"}):
                taken = await self._state.atomic.take_token(key.user, rate, capacity, hit)
            if not taken.allowed:
                raise burst_refusal(rate, taken)
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
        with self._tracing.span("admit", {"ogmint.api": "v2"}):
            if burst is None:
                admission = await admit(burst=(rate, capacity))
                burst = admission.burst
                assert burst is not None  # a token was asked for
                if not burst.allowed:
                    raise burst_refusal(rate, burst)
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
                await self._limits.refund_quota(key.user)  # errors are free
                raise
        except BaseException:
            await self._state.renders.release_claim(scope, dedup)
            raise
        finally:
            keeper.cancel()
        if not created:
            await self._limits.refund_quota(key.user)
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
        self._known.put((record.user, record.dedup_key), record)

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
            with self._tracing.span("store", {"ogmint.bytes": len(png)}):
                stored = await self._gallery.store(path, png)
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
            with self._tracing.span("save", {"ogmint.webhook": delivery is not None}) as span:
                saved = await self._state.atomic.save_render(record, delivery, tracked)
                span.set_attribute("ogmint.created", saved)
            if saved:
                self._gallery.remember(record, png)
                self._remember(record)
                return record, True
            # Slug taken (by anyone) or, after a lost claim, this render recorded by another
            # server: drop our copy, then reuse theirs or try a fresh slug.
            await self._gallery.discard(path)
            existing = await self._state.renders.find_render(scope, dedup)
            if existing is not None:
                return existing, False
        raise UnavailableError("Could not allocate a unique slug, retry", retry_after=1)

    # -- previews -------------------------------------------------------------------------------
    async def preview(self, user: str, raw: Mapping[str, object]) -> bytes:
        """A card for the user's dashboard pages: not stored, no monthly quota; one of the
        user's previews (429 past them); another user's template is a 404."""
        await self._limits.take_preview(user)
        spec = await self.spec(user, raw, strict=False)
        template = await self._templates.resolve(user, spec.template)
        return await self._pipeline.render(spec, template, api="preview")

    async def preview_upload(
        self, user: str, svg: str, params: dict[str, Any], *, api: Api
    ) -> bytes:
        """An unsaved template (checked as an upload is: a test render) drawn with ``params``
        (the sample card's template and title unless given): nothing stored, no monthly quota;
        one of the user's previews, an allowance the API and the dashboard share (429 past
        it), taken before any work."""
        await self._limits.take_preview(user)
        params.setdefault("template", SAMPLE.template)
        params.setdefault("title", SAMPLE.title)
        spec = await self.spec(user, params, strict=True)
        template = await self._templates.check(svg)
        return await self._pipeline.render(spec, template, api=api)

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
from urllib.parse import urlencode

import orjson

from ogmint.clock import iso
from ogmint.domain.brands import Brands
from ogmint.domain.gallery import SLUG_LENGTH, Gallery, storage_key
from ogmint.domain.json_body import json_object
from ogmint.domain.limits import Limits, burst_refusal, quota_refusal, signed_quota_refusal
from ogmint.domain.plans import Plans
from ogmint.domain.repeats import RepeatCache
from ogmint.domain.templates import (
    SAMPLE,
    TemplateCatalogue,
    TemplateSource,
    bind_fields,
    check_size,
)
from ogmint.domain.usage import Usage
from ogmint.domain.webhooks import WEBHOOK_FIELDS, WebhookAsk, Webhooks, webhook_ask
from ogmint.errors import (
    BadJSONError,
    FetchError,
    FieldError,
    OgmintError,
    SaturatedError,
    UnavailableError,
    ValidationError,
)
from ogmint.ids import random_base62
from ogmint.metrics import Api
from ogmint.rendering.params import DEFAULT_SIZE, RenderSpec
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
class Output:
    """What a render's image is: its format and pixel size."""

    format: str
    width: int
    height: int


def output_of(spec: RenderSpec) -> Output:
    """The image ``spec`` makes: its format and its size in pixels (size × scale)."""
    width, height = spec.pixels
    return Output(spec.format, width, height)


def canonical_params(spec: RenderSpec) -> dict[str, str]:
    """The render parameters as a V2 body would send them, canonical (SPEC §3): names, not
    aliases; the four effective colours; absent fields left out."""
    c = spec.colors
    params = {
        "template": spec.template,
        "title": spec.title,
        "description": spec.description,
        "tag": spec.tag,
        "author": spec.author,
        "avatar": spec.avatar,
        "logo": spec.logo,
        "font": spec.font,
        "bgColor": c.bg,
        "textColor": c.text,
        "accentColor": c.accent,
        "surfaceColor": c.surface,
    }
    canonical = {k: v for k, v in params.items() if v is not None}
    if spec.size != DEFAULT_SIZE:
        canonical["size"] = spec.size
    if spec.scale != 1:
        canonical["scale"] = str(spec.scale)
    if spec.format != "png":
        canonical["format"] = spec.format
        canonical["quality"] = str(spec.quality)
    return canonical


#: Items in one batch (SPEC §3.1).
MAX_BATCH = 100
#: How long a batch item waits for room in a render pool other requests filled.
BATCH_SATURATION_WAIT = 10.0


def batch_items(body: bytes) -> list[object]:
    """A batch body's items: ``{"items": [1–100 values]}``, else 400 naming ``items``."""
    fields = json_object(body)
    unknown = [FieldError(k, "unknown parameter") for k in fields if k != "items"]
    items = fields.get("items")
    if not isinstance(items, list):
        problem = FieldError("items", "is required: an array of 1-100 V2 render bodies")
        raise ValidationError(f"{problem.field}: {problem.message}", [problem, *unknown])
    if not 1 <= len(items) <= MAX_BATCH:
        problem = FieldError("items", f"must hold 1-{MAX_BATCH} render bodies, not {len(items)}")
        raise ValidationError(f"{problem.field}: {problem.message}", [problem, *unknown])
    if unknown:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in unknown), unknown)
    return items


class Turn:
    """A batch item's place in the order the quota is charged in: it is admitted after the
    item before it was (whatever that one's outcome), so the items past the quota are the last
    ones, though the items render concurrently."""

    __slots__ = ("_before", "_mine")

    def __init__(self, before: asyncio.Event | None) -> None:
        self._before = before
        self._mine = asyncio.Event()

    @property
    def event(self) -> asyncio.Event:
        return self._mine

    async def wait(self) -> None:
        if self._before is not None:
            await self._before.wait()

    def done(self) -> None:
        self._mine.set()


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch's results, one per item in order, and the burst status for the headers."""

    results: list[Created | OgmintError]
    burst: LimitStatus


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """How one text field fits its box: the lines drawn, the font size, whether clamped."""

    lines: tuple[str, ...]
    font_size: float
    truncated: bool


@dataclass(frozen=True, slots=True)
class Layout:
    """A dry run's answer: the image size and each text field's fit."""

    width: int
    height: int
    fields: dict[str, FieldLayout]


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
    spec: RenderSpec


def replay_query(spec: RenderSpec) -> str:
    """A V1 render's parameters as a query that draws it again for its thumbnail: text and
    colours as resolved, fetched pictures left out (a thumbnail never fetches)."""
    c = spec.colors
    found = {
        "template": spec.template,
        "title": spec.title,
        "description": spec.description,
        "tag": spec.tag,
        "author": spec.author,
        "font": spec.font,
        "bgColor": c.bg,
        "textColor": c.text,
        "accentColor": c.accent,
        "surfaceColor": c.surface,
    }
    return urlencode({k: v for k, v in found.items() if v})


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
        # No per-worker memory of finished renders: a render can be deleted (SPEC §3.1), and
        # the same request must then render anew on every server. A dedup hit costs the one
        # round trip that takes its burst token anyway.

    def parse(self, raw: Mapping[str, object], *, strict: bool) -> RenderSpec:
        """Validates raw parameters into a spec (400 naming every bad field); its custom
        fields are checked once the template is known (:meth:`resolve`)."""
        return self._pipeline.parse(raw, strict=strict, template_exists=self._templates.exists)

    async def resolve(
        self, user: str | None, raw: Mapping[str, object], *, strict: bool
    ) -> tuple[RenderSpec, Template]:
        """The spec (with ``user``'s brand, :meth:`spec`) and the template a request names,
        the spec holding exactly the template's own fields it gives (SPEC §1.2: others
        ignored, or with ``strict`` a 400)."""
        spec = await self.spec(user, raw, strict=strict)
        template = await self._templates.resolve(user, spec.template)
        spec = bind_fields(spec, template, strict=strict)
        check_size(template, spec)
        return spec, template

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
        spec, template = await self.resolve(user, raw, strict=False)
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
                tracked = self._usage.tracking(
                    key.user, "v1", spec.template, spec.title, 200, params=replay_query(spec)
                )
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
                spec.output().content_type,
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
        return V1Image(image, spec.output().content_type, status, False)

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
            ask, spec, template = await self._checked(key, fields, body)
        except OgmintError:
            await self._limits.take_burst(key)  # refused requests count too; a 429 comes first
            raise
        return await self._create(key, ask, spec, template, None)

    async def _checked(
        self, key: ApiKeyRecord, fields: dict[str, Any], raw: bytes
    ) -> tuple[WebhookAsk | None, RenderSpec, Template]:
        """A V2 body's webhook ask, spec and template (400/404 for what is wrong)."""
        ask = webhook_ask(fields, raw)
        spec, template = await self.resolve(
            key.user, {k: v for k, v in fields.items() if k not in WEBHOOK_FIELDS}, strict=True
        )
        return ask, spec, template

    async def _create(
        self,
        key: ApiKeyRecord,
        ask: WebhookAsk | None,
        spec: RenderSpec,
        template: Template,
        burst: LimitStatus | None,
        turn: Turn | None = None,
    ) -> Created:
        """A checked V2 request, rendered and stored (``burst``: the token already taken;
        ``turn``: a batch item's place in the order of admission)."""
        webhook = None
        if ask is not None:
            # The token first: the address check resolves a name, which a client out of tokens
            # must not be able to make us do.
            if burst is None:
                burst = await self._limits.take_burst(key)
            webhook = await self._webhooks.admit(key.user, ask)
        # Without a token taken yet, it is taken with the dedup lookup, quota and claim at once.
        record, created, status = await self._stored(key, spec, template, webhook, burst, turn)
        dispatched = created and webhook is not None
        if dispatched:
            self._webhooks.wake()
        return Created(record, created, status, dispatched, spec)

    async def batch(self, key: ApiKeyRecord, body: bytes) -> Batch:
        """Up to ``MAX_BATCH`` V2 renders in one request (SPEC §3.1): one burst token for the
        whole batch (429 for all when none is left), then each item exactly as a single
        render — charged, deduplicated, stored — failing alone. A malformed body is a 400.

        Items render concurrently, at most as many at once as the render pool has threads, so a
        batch neither waits on one thread nor fills the pool's queue with its own work; an item
        the pool still refuses (other requests filled it) waits and tries again. They are
        admitted (dedup lookup, quota) in order: the items past the quota are the last ones.
        """
        items = batch_items(body)
        burst = await self._limits.take_burst(key)
        gate = asyncio.Semaphore(self._pipeline.parallelism)
        turns: list[Turn] = []
        for _ in items:
            turns.append(Turn(turns[-1].event if turns else None))

        async def one(item: object, turn: Turn) -> Created | OgmintError:
            try:
                if not isinstance(item, dict):
                    raise BadJSONError("Each item must be a JSON object (a V2 render body)")
                raw = orjson.dumps(item)
                async with gate:
                    ask, spec, template = await self._checked(key, item, raw)
                    return await self._saturation_retried(
                        lambda: self._create(key, ask, spec, template, burst, turn)
                    )
            except OgmintError as e:
                return e
            finally:
                turn.done()  # a refused item, or one admitted already: the next one's turn

        results = await asyncio.gather(*(one(i, t) for i, t in zip(items, turns, strict=True)))
        return Batch(list(results), burst)

    async def _saturation_retried(self, make: Callable[[], Awaitable[Created]]) -> Created:
        """``make()``, tried again while this worker's render pool is full (503), for at most
        ``BATCH_SATURATION_WAIT`` seconds."""
        deadline = time.monotonic() + BATCH_SATURATION_WAIT
        delay = 0.01
        while True:
            try:
                return await make()
            except SaturatedError:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.2)

    async def validate(self, key: ApiKeyRecord, body: bytes) -> Layout:
        """A V2 body's layout without the raster (SPEC §3.1): the same checks, template and text
        fitting as a render, with nothing fetched, drawn, stored or charged; one burst token.
        """
        await self._limits.take_burst(key)
        fields = json_object(body)
        _, spec, template = await self._checked(key, fields, body)
        return self.layout_of(spec, template)

    def layout_of(self, spec: RenderSpec, template: Template) -> Layout:
        """How ``spec`` lays out in ``template``: the image size and each text field's fit."""
        output = output_of(spec)
        fitted = self._pipeline.layout(spec, template)
        return Layout(
            output.width,
            output.height,
            {
                name: FieldLayout(tuple(f.lines), round(f.font_size, 2), f.truncated)
                for name, f in fitted.items()
            },
        )

    async def _stored(
        self,
        key: ApiKeyRecord,
        spec: RenderSpec,
        template: Template,
        webhook: Callable[[RenderRecord], Delivery] | None,
        burst: LimitStatus | None,
        turn: Turn | None = None,
    ) -> tuple[RenderRecord, bool, LimitStatus]:
        """The render for ``spec``: (record, newly created, the limit status for headers).

        Takes the request's burst token unless the caller already did (``burst``). With a
        ``turn``, the first admission waits for it and ends it.
        """
        scope = key.key_id  # SPEC §3: dedup is per API key
        dedup = spec.digest(template.digest)  # a template's new version is a new dedup key
        rate, capacity = self._limits.burst(key.plan)
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
                if turn is not None:
                    await turn.wait()
                try:
                    admission = await admit()
                finally:
                    if turn is not None:
                        turn.done()
        while not admission.claimed:
            if admission.existing is not None:
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
        output = output_of(spec)
        params = orjson.dumps(canonical_params(spec)).decode()
        for _ in range(SLUG_ATTEMPTS):
            slug = random_base62(SLUG_LENGTH)
            at = datetime.now(UTC)
            path = storage_key(slug, at, spec.format)
            with self._tracing.span("store", {"ogmint.bytes": len(png)}):
                stored = await self._gallery.store(path, png, spec.output().content_type)
            record = RenderRecord(
                slug=slug,
                user=scope,
                dedup_key=dedup,
                storage_key=path,
                etag=stored.etag,
                size=stored.size,
                template=spec.template,
                created_at=iso(at),
                owner=key.user,
                format=output.format,
                width=output.width,
                height=output.height,
                params=params,
            )
            delivery = webhook(record) if webhook is not None else None
            tracked = self._tracking(key, spec, "v2", slug)
            with self._tracing.span("save", {"ogmint.webhook": delivery is not None}) as span:
                saved = await self._state.atomic.save_render(record, delivery, tracked)
                span.set_attribute("ogmint.created", saved)
            if saved:
                self._gallery.remember(record, png)
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
        spec, template = await self.resolve(user, raw, strict=False)
        return await self._pipeline.render(spec, template, api="preview")

    async def preview_upload(
        self, user: str, source: TemplateSource, params: dict[str, Any], *, api: Api
    ) -> bytes:
        """An unsaved template (checked as an upload is: a test render) drawn with ``params``
        (the sample card's template and title unless given): nothing stored, no monthly quota;
        one of the user's previews, an allowance the API and the dashboard share (429 past
        it), taken before any work."""
        await self._limits.take_preview(user)
        params.setdefault("template", SAMPLE.template)
        params.setdefault("title", SAMPLE.title)
        spec = await self.spec(user, params, strict=True)
        template = await self._templates.check(source)
        spec = bind_fields(spec, template, strict=True)
        check_size(template, spec)
        return await self._pipeline.render(spec, template, api=api)

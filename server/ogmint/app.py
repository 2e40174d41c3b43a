"""``create_app(settings)``: the one place where implementations are chosen and wired."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

from sanic import Request, Sanic
from sanic.config import Config
from sanic.response import BaseHTTPResponse

from ogmint.api import brands, deliveries, images, meta, renders, signing_keys, templates, v1, v2
from ogmint.api.errors import make_error_handler
from ogmint.dashboard.pages import Pages
from ogmint.dashboard.routes import blueprints as dashboard_blueprints
from ogmint.domain.accounts import Accounts, SignInLimits
from ogmint.domain.addresses import TrustedProxies
from ogmint.domain.brands import Brands
from ogmint.domain.deliveries import Deliveries
from ogmint.domain.gallery import Gallery
from ogmint.domain.health import Health
from ogmint.domain.keys import ApiKeys
from ogmint.domain.library import Library
from ogmint.domain.limits import Limits
from ogmint.domain.plans import Plans
from ogmint.domain.renders import Renders
from ogmint.domain.repeats import RepeatCache
from ogmint.domain.signing_keys import SigningKeys
from ogmint.domain.templates import CustomTemplateSettings, TemplateCatalogue
from ogmint.domain.usage import Reports, Usage
from ogmint.domain.users import Users
from ogmint.domain.webhooks import Webhooks
from ogmint.lifecycle import defer_stop_signals, in_worker_process, stop_when_serving
from ogmint.metrics import CacheCounts, Metrics
from ogmint.net import AddressPolicy, GuardedClient
from ogmint.rendering.allocator import keep_render_buffers
from ogmint.rendering.cost import CostLimits
from ogmint.rendering.images import ImageFetcher
from ogmint.rendering.native import Renderer, bundled_font_dirs
from ogmint.rendering.pipeline import IMAGE_SIDES, RenderPipeline
from ogmint.rendering.template import TemplateLimits, load_directory
from ogmint.services import Operations, Services
from ogmint.settings import Settings
from ogmint.state.sqlite import sqlite_state
from ogmint.state.store import State
from ogmint.state.usage import Retention
from ogmint.storage.base import BlobStorage
from ogmint.storage.local import LocalStorage
from ogmint.tracing import Tracing, start_tracing
from ogmint.webhooks.queue import RetryPolicy
from ogmint.webhooks.worker import DeliveryWorker

log = logging.getLogger("ogmint")

ImageFetcherRef = Callable[[], Awaitable[ImageFetcher]]

#: Seconds between two readings of a worker's own caches for the metrics (a scrape sees values
#: at most this old; the renderer's caches are read after every render).
CACHE_METRICS_PERIOD = 1.0


def make_state(settings: Settings) -> State:
    """The state store the settings ask for: Redis when a URL is set, else embedded SQLite."""
    if settings.redis_url:
        from ogmint.state.redis import redis_state

        return redis_state(
            settings.redis_url,
            timeout=settings.dependency_timeout,
            prefix=settings.redis_prefix,
            replicas=settings.redis_replicas_required,
        )
    return sqlite_state(settings.database_path)


def make_storage(settings: Settings) -> BlobStorage:
    """Image storage: S3 when a bucket is set, else files under DATA_DIR."""
    if settings.s3_bucket:
        from ogmint.storage.s3 import S3Storage

        return S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint or None,
            region=settings.s3_region,
            prefix=settings.s3_prefix,
            timeout=settings.dependency_timeout,
        )
    return LocalStorage(settings.data_dir)


def custom_template_settings(settings: Settings) -> CustomTemplateSettings:
    """The bounds on uploaded templates, from the settings."""
    return CustomTemplateSettings(
        limits=TemplateLimits(
            max_bytes=settings.template_max_bytes,
            max_elements=settings.template_max_elements,
            max_depth=settings.template_max_depth,
            max_instances=settings.template_max_instances,
            max_filters=settings.template_max_filters,
            max_blur=settings.template_max_blur,
            max_stops=settings.template_max_stops,
            max_images=settings.template_max_images,
            max_image_pixels=settings.template_image_max_pixels,
            cost=CostLimits(
                max_filter_work=settings.template_max_filter_work,
                max_merge_nodes=settings.template_max_merge_nodes,
                max_paint=settings.template_max_paint,
                max_dash_segments=settings.template_max_dash_segments,
                max_path_segments=settings.template_max_path_segments,
                max_text_chars=settings.template_max_text_chars,
            ),
        ),
        max_per_user=settings.max_templates_per_user,
        render_budget=settings.template_render_budget,
        cache_bytes=settings.template_cache_bytes,
    )


def usage_of(settings: Settings, state: State) -> Usage:
    """Render tracking, kept as long as the settings say."""
    retention = Retention(settings.usage_retention_days, settings.recent_renders_kept)
    return Usage(state.usage, retention)


def accounts_of(
    settings: Settings, state: State, *, sign_in: SignInLimits | None = None
) -> Accounts:
    """Dashboard accounts (``sign_in``: the sign-in limits, the settings' by default)."""
    return Accounts(
        state.accounts,
        state.limits,
        link_ttl=settings.account_link_ttl,
        session_ttl=settings.session_ttl,
        sign_in=sign_in
        or SignInLimits(
            settings.sign_in_limit_account,
            settings.sign_in_limit_ip,
            settings.password_change_limit,
        ),
    )


def make_renderer(settings: Settings, *, threads: int | None = None) -> Renderer:
    """The native renderer with the bundled and configured fonts (``threads``: the
    setting's unless given); with ``render_keep_buffers`` the process's allocator keeps
    canvas-sized buffers for reuse."""
    if settings.render_keep_buffers:
        keep_render_buffers()
    return Renderer(
        [*bundled_font_dirs(), *settings.font_dirs],
        threads=settings.render_threads if threads is None else threads,
        queue=settings.render_queue,
        max_svg_bytes=settings.max_svg_bytes,
        max_nodes=settings.max_svg_nodes,
        timeout=settings.render_timeout,
    )


def make_fetcher(settings: Settings, renderer: Renderer) -> tuple[GuardedClient, ImageFetcher]:
    """The guarded outbound client and the avatar/logo fetcher on it."""
    outbound = AddressPolicy(settings.outbound_allow, ports=(443, *settings.outbound_ports))
    client = GuardedClient(
        outbound,
        ca_file=settings.outbound_ca_file,
        timeout=settings.fetch_timeout,
        max_bytes=settings.fetch_max_bytes,
    )
    fetcher = ImageFetcher(
        client,
        capacity=renderer.capacity,
        threads=settings.decode_threads,
        max_pixels=settings.image_max_pixels,
        cache_bytes=settings.image_cache_bytes,
    )
    return client, fetcher


def brands_of(
    settings: Settings, state: State, renderer: Callable[[], Renderer], fetcher: ImageFetcherRef
) -> Brands:
    """Brands, validating fonts with ``renderer()`` and fetching logos with ``fetcher()``
    (both called only when a brand is saved)."""

    async def fetch_logo(url: str) -> bytes:
        return await (await fetcher()).fetch_png("logo", url, IMAGE_SIDES["logo"], fresh=True)

    return Brands(
        state.brands,
        resolve_font=lambda name: renderer().resolve_family(name),
        fetch_logo=fetch_logo,
        max_per_user=settings.max_brands_per_user,
    )


class _SaveTools:
    """The renderer (fonts) and image fetcher a brand save needs, made on first use: most
    ``ogmint`` commands need neither."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._renderer: Renderer | None = None
        self._fetcher: tuple[GuardedClient, ImageFetcher] | None = None

    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = make_renderer(self._settings)
        return self._renderer

    async def fetcher(self) -> ImageFetcher:
        if self._fetcher is None:
            self._fetcher = make_fetcher(self._settings, self.renderer())
        return self._fetcher[1]

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher[0].close()
            self._fetcher[1].close()
        if self._renderer is not None:
            self._renderer.close()


@asynccontextmanager
async def operations(settings: Settings) -> AsyncIterator[Operations]:
    """The domain services for one ``ogmint`` command, on the configured state store."""
    state = make_state(settings)
    await state.open()
    tools = _SaveTools(settings)
    try:
        keys = ApiKeys(
            state.keys,
            Plans(settings.plan_quotas, settings.plan_bursts),
            ttl=0,
            max_active=settings.max_api_keys_per_user,
        )
        signing_keys = SigningKeys(state.signing_keys, ttl=0)
        # The CLI never signs anyone in.
        accounts = accounts_of(settings, state, sign_in=SignInLimits(1, 1))
        yield Operations(
            settings=settings,
            keys=keys,
            signing_keys=signing_keys,
            accounts=accounts,
            users=Users(accounts, keys, signing_keys, usage_of(settings, state)),
            brands=brands_of(settings, state, tools.renderer, tools.fetcher),
        )
    finally:
        await tools.close()
        await state.close()


@dataclass(frozen=True, slots=True)
class Resources:
    """What one worker opened at start and closes at stop."""

    webhooks: DeliveryWorker
    repeats: RepeatCache
    client: GuardedClient
    state: State
    storage: BlobStorage
    pipeline: RenderPipeline
    renderer: Renderer
    tracing: Tracing
    cache_metrics: asyncio.Task[None]

    async def close(self) -> None:
        self.cache_metrics.cancel()
        await self.webhooks.stop()
        await self.repeats.close()  # the saves under way, before storage and state close
        await self.client.close()
        await self.state.close()
        await self.storage.close()
        self.pipeline.close()
        self.renderer.close()
        self.tracing.close()  # exports the last spans


async def publish_caches(metrics: Metrics, caches: Sequence[tuple[str, CacheCounts]]) -> None:
    """Reads the worker's own caches into the metrics every ``CACHE_METRICS_PERIOD`` seconds
    (until cancelled): once a second costs nothing per request."""
    while True:
        metrics.observe_worker_caches(caches)
        await asyncio.sleep(CACHE_METRICS_PERIOD)


class TimedRequest(Request[Any, Any]):
    """A request stamped when it arrives (cheaper than a request middleware), for the metrics."""

    __slots__ = ("started",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = perf_counter()


def create_app(settings: Settings) -> Sanic[Any, Any]:
    """Builds the Sanic app; per-worker resources are created when each worker starts."""
    config = Config()
    # V1 has no body; V2 bodies are small JSON but for template uploads (JSON-escaped SVG).
    config.REQUEST_MAX_SIZE = 2 * settings.template_max_bytes + 64 * 1024
    config.REQUEST_TIMEOUT = settings.request_timeout
    config.RESPONSE_TIMEOUT = 30
    config.KEEP_ALIVE_TIMEOUT = 15
    # SIGTERM: stop accepting, let requests in flight finish (each one's render and commit
    # round with it), then run the after_server_stop below (SPEC §9).
    config.GRACEFUL_SHUTDOWN_TIMEOUT = settings.graceful_timeout
    config.ACCESS_LOG = settings.access_log
    config.FALLBACK_ERROR_FORMAT = "json"
    app = Sanic("ogmint", config=config, request_class=TimedRequest)
    if in_worker_process():
        defer_stop_signals()
        app.after_server_start(lambda app: stop_when_serving(partial(app.stop, terminate=False)))
    metrics = Metrics(Path(settings.metrics_dir) if settings.metrics_dir else None)
    app.error_handler = make_error_handler(metrics.observe_error)
    app.blueprint(v1.bp)
    app.blueprint(v2.bp)
    app.blueprint(renders.bp)
    app.blueprint(deliveries.bp)
    app.blueprint(signing_keys.bp)
    app.blueprint(templates.bp)
    app.blueprint(brands.bp)
    app.blueprint(images.bp)
    app.blueprint(meta.bp)
    app.blueprint(dashboard_blueprints())
    app.ctx.pages = Pages()  # the dashboard's HTML templates (not a domain service)

    @app.middleware("response")
    def count_request(request: TimedRequest, response: BaseHTTPResponse) -> None:
        route = request.route
        metrics.observe_request(
            None if route is None else route.path,
            request.method,
            response.status,
            perf_counter() - request.started,
        )

    if settings.otel_exporter_otlp_endpoint:  # off: no middleware at all

        @app.middleware("request")
        def trace_request(request: TimedRequest) -> None:
            route = request.route
            request.ctx.trace = request.app.ctx.resources.tracing.request(
                request.headers, request.method, "" if route is None else route.path
            )

        @app.middleware("response")
        def end_trace(request: TimedRequest, response: BaseHTTPResponse) -> None:
            started = getattr(request.ctx, "trace", None)
            if started is not None:
                request.app.ctx.resources.tracing.end_request(started, response.status)

    @app.before_server_start
    async def start(app: Sanic[Any, Any]) -> None:
        tracing = start_tracing(settings)
        renderer = make_renderer(settings)
        outbound = AddressPolicy(settings.outbound_allow, ports=(443, *settings.outbound_ports))
        client, fetcher = make_fetcher(settings, renderer)
        state = make_state(settings)
        await state.open()
        storage = make_storage(settings)
        await storage.open()
        pipeline = RenderPipeline(renderer, fetcher, metrics, tracing)
        webhooks = DeliveryWorker(
            state.deliveries,
            client,
            RetryPolicy(settings.webhook_retry_schedule),
            timeout=settings.webhook_timeout,
            lease=settings.webhook_lease,
            concurrency=settings.webhook_concurrency,
            poll_interval=settings.webhook_poll_interval,
            metrics=metrics,
            tracing=tracing,
        )
        plans = Plans(settings.plan_quotas, settings.plan_bursts)
        keys = ApiKeys(
            state.keys, plans, settings.key_cache_ttl, max_active=settings.max_api_keys_per_user
        )
        usage = usage_of(settings, state)
        limits = Limits(
            state.limits,
            plans,
            anonymous_daily=settings.anonymous_daily_limit,
            image_per_minute=settings.image_rate_limit,
            signed_per_minute=settings.signing_key_rate_limit,
            previews_per_hour=settings.preview_limit,
            redeliveries_per_hour=settings.redeliver_limit,
        )
        repeats = RepeatCache(state.repeats, storage, settings.repeat_cache_bytes)
        catalogue = TemplateCatalogue(
            state.templates,
            renderer,
            load_directory(settings.templates_dir),
            custom_template_settings(settings),
            forget_images=repeats.forget_template,
        )
        gallery = Gallery(state.renders, storage)
        signing_keys = SigningKeys(state.signing_keys, settings.key_cache_ttl)
        accounts = accounts_of(settings, state)
        deliveries = Deliveries(state.deliveries, state.renders, keys, limits, webhooks.wake)

        async def the_fetcher() -> ImageFetcher:
            return fetcher

        brand_book = brands_of(settings, state, lambda: renderer, the_fetcher)
        app.ctx.services = Services(
            settings=settings,
            metrics=metrics,
            proxies=TrustedProxies(settings.trusted_proxies),
            renders=Renders(
                pipeline,
                catalogue,
                state,
                gallery,
                usage,
                limits,
                plans,
                Webhooks(outbound, settings.base_url, webhooks.wake),
                repeats,
                brands=brand_book,
                dedup_wait=settings.dedup_wait,
                tracing=tracing,
            ),
            library=Library(state, gallery, deliveries),
            gallery=gallery,
            templates=catalogue,
            brands=brand_book,
            keys=keys,
            signing_keys=signing_keys,
            deliveries=deliveries,
            accounts=accounts,
            usage=usage,
            reports=Reports(usage, limits, plans),
            limits=limits,
            plans=plans,
            health=Health(state),
            users=Users(accounts, keys, signing_keys, usage),
        )
        caches: list[tuple[str, CacheCounts]] = [
            ("fetched_images", fetcher.cache),
            ("stored_images", gallery.cache),
            ("repeats", repeats.cache),
            ("templates", catalogue.cache),
            ("brands", brand_book.cache),
        ]
        app.ctx.resources = Resources(
            webhooks,
            repeats,
            client,
            state,
            storage,
            pipeline,
            renderer,
            tracing,
            asyncio.ensure_future(publish_caches(metrics, caches)),
        )
        webhooks.start()

    @app.after_server_stop
    async def stop(app: Sanic[Any, Any]) -> None:
        await app.ctx.resources.close()

    return app

"""Prometheus metrics: the metric objects of one process, and an exposition of all workers.

Sanic serves from several worker processes. In prometheus_client's multi-process mode every
process writes its values to files in one directory per server instance (``OGMINT_METRICS_DIR``;
``python -m ogmint`` points ``PROMETHEUS_MULTIPROC_DIR`` at it before any worker starts), and a
scrape answered by any worker adds up the files of all of them.

Labels stay bounded: route patterns (``unmatched`` when no route matched), known methods,
statuses, built-in template names (``custom`` for all custom templates), limit names and
delivery outcomes; never slugs, keys, titles or raw paths. Labelled children are resolved once
and cached, so counting a request costs a dict lookup and a few increments.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from ogmint.errors import Limit, OgmintError, RateLimitError, SaturatedError
from ogmint.state.deliveries import DELIVERED, FAILED, PENDING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: The text exposition format, version 0.0.4 (what Prometheus scrapes).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Api = Literal["v1", "v2", "preview"]  # preview: dashboard pictures, never stored or charged

#: Methods labelled as themselves; clients may send any token, which is labelled ``OTHER``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
CUSTOM_PREFIX = "custom_"
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RENDER_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: A delivery's state after an attempt → the attempt's outcome label.
OUTCOMES = {DELIVERED: "delivered", PENDING: "retry", FAILED: "failed"}


class CacheCounts(Protocol):
    """A renderer cache's running totals since it was made (the native ``CacheStats``)."""

    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def bytes(self) -> int: ...


class Metrics:
    """The metrics of one process; ``create_app`` builds one and hands it to what it wires."""

    def __init__(self, directory: Path | None) -> None:
        """``directory`` holds the multi-process files (it must be ``PROMETHEUS_MULTIPROC_DIR``);
        None keeps the values in this process only (tests, embedding in another server)."""
        # Imported here, not at the top: prometheus_client picks its value storage when first
        # imported, from PROMETHEUS_MULTIPROC_DIR, which ``__main__`` sets after importing us.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
        from prometheus_client.exposition import generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

        self._directory = directory
        self._registry = CollectorRegistry()
        self._generate: Callable[[CollectorRegistry], bytes] = generate_latest
        self._mark_dead: Callable[[int, str], None] = mark_process_dead
        own: CollectorRegistry | None = self._registry
        if directory is not None:
            if values.ValueClass is values.MutexValue:
                raise RuntimeError(
                    "PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported"
                )
            MultiProcessCollector(self._registry, path=str(directory))  # type: ignore[no-untyped-call]
            own = None  # the values live in the directory's files; the collector reads them

        self._requests = Counter(
            "ogmint_http_requests",
            "HTTP requests answered, by route pattern, method and status.",
            ("route", "method", "status"),
            registry=own,
        )
        self._request_seconds = Histogram(
            "ogmint_http_request_duration_seconds",
            "Time from the request's routing to its response, by route pattern.",
            ("route",),
            buckets=HTTP_BUCKETS,
            registry=own,
        )
        self._renders_total = Counter(
            "ogmint_renders",
            "Images rendered, by API and template (custom templates as 'custom').",
            ("api", "template"),
            registry=own,
        )
        self._render_seconds = Histogram(
            "ogmint_render_duration_seconds",
            "Time a render spends in the render pool, waiting and rasterising.",
            buckets=RENDER_BUCKETS,
            registry=own,
        )
        self._in_progress = Gauge(
            "ogmint_renders_in_progress",
            "Renders running or queued in the render pools of all workers.",
            registry=own,
            multiprocess_mode="livesum",
        )
        self._dedup_hits = Counter(
            "ogmint_dedup_hits",
            "V2 renders answered with an existing image (nothing rendered, no quota used).",
            registry=own,
        )
        self._repeat_hits = Counter(
            "ogmint_repeat_hits",
            "V1 requests answered from the repeat cache (nothing rendered, no limit counted).",
            registry=own,
        )
        rate_limited = Counter(
            "ogmint_rate_limited",
            "Requests refused by a rate limit: burst, monthly quota, anonymous daily limit, "
            "image (hotlink) limit or signing-key render limit.",
            ("limit",),
            registry=own,
        )
        self._rate_limited = {limit: rate_limited.labels(limit) for limit in get_args(Limit)}
        self._pool_rejections = Counter(
            "ogmint_render_pool_rejections",
            "Renders refused with 503 because a worker's render pool and queue were full.",
            registry=own,
        )
        deliveries = Counter(
            "ogmint_webhook_deliveries",
            "Webhook delivery attempts, by outcome: delivered, retry (scheduled) or failed.",
            ("outcome",),
            registry=own,
        )
        self._deliveries = {state: deliveries.labels(o) for state, o in OUTCOMES.items()}
        self._render_caches = _CacheFamily(
            Counter(
                "ogmint_render_cache_hits",
                "Look-ups the renderer's caches answered, by cache: glyph (rasterised glyph "
                "coverage) or background (rasterised template art).",
                ("cache",),
                registry=own,
            ),
            Counter(
                "ogmint_render_cache_misses",
                "Look-ups the renderer's caches could not answer (the work was done), by cache.",
                ("cache",),
                registry=own,
            ),
            Gauge(
                "ogmint_render_cache_bytes",
                "Bytes the renderer's caches hold (each byte-bounded per worker), by cache, "
                "summed over the live workers.",
                ("cache",),
                registry=own,
                multiprocess_mode="livesum",
            ),
        )
        self._worker_caches = _CacheFamily(
            Counter(
                "ogmint_cache_hits",
                "Look-ups the workers' in-memory caches answered, by cache: fetched_images "
                "(caller images, decoded), stored_images (V2 images for /i/), repeats (recent "
                "V1 repeats), templates (compiled templates), brands.",
                ("cache",),
                registry=own,
            ),
            Counter(
                "ogmint_cache_misses",
                "Look-ups the workers' in-memory caches could not answer, by cache.",
                ("cache",),
                registry=own,
            ),
            Gauge(
                "ogmint_cache_bytes",
                "Bytes the workers' in-memory caches hold (each byte-bounded per worker), by "
                "cache, summed over the live workers.",
                ("cache",),
                registry=own,
                multiprocess_mode="livesum",
            ),
        )
        self._http: dict[tuple[str | None, str, int], tuple[Counter, Histogram]] = {}
        self._renders: dict[tuple[str, str], Counter] = {}

    def observe_request(self, route: str | None, method: str, status: int, seconds: float) -> None:
        """One answered request; ``route`` is the matched route's pattern, None when none was."""
        children = self._http.get((route, method, status))
        if children is None:
            children = self._http_children(route, method, status)
        children[0].inc()
        children[1].observe(seconds)

    def _http_children(
        self, route: str | None, method: str, status: int
    ) -> tuple[Counter, Histogram]:
        label = UNMATCHED if route is None else "/" + route
        known = method in METHODS
        children = (
            self._requests.labels(label, method if known else "OTHER", str(status)),
            self._request_seconds.labels(label),
        )
        if known:  # other methods are not cached: a client could fill the cache with them
            self._http[(route, method, status)] = children
        return children

    @contextlib.contextmanager
    def rendering(self, api: Api, template: str) -> Iterator[None]:
        """Times one render in the pool; a render that completes is counted by API and template."""
        self._in_progress.inc()
        started = perf_counter()
        try:
            yield
        finally:
            self._in_progress.dec()
        self._render_seconds.observe(perf_counter() - started)
        if template.startswith(CUSTOM_PREFIX):
            template = "custom"
        child = self._renders.get((api, template))
        if child is None:
            child = self._renders[(api, template)] = self._renders_total.labels(api, template)
        child.inc()

    def observe_caches(self, caches: Iterable[tuple[str, CacheCounts]]) -> None:
        """The renderer's cache totals (``Renderer.cache_stats``), read after a render."""
        self._render_caches.observe(caches)

    def observe_worker_caches(self, caches: Iterable[tuple[str, CacheCounts]]) -> None:
        """The totals of the worker's own caches (``BoundedCache``), read now and then."""
        self._worker_caches.observe(caches)

    def dedup_hit(self) -> None:
        """A V2 request answered with the image an identical earlier request rendered."""
        self._dedup_hits.inc()

    def repeat_hit(self) -> None:
        """A V1 request answered from the repeat cache."""
        self._repeat_hits.inc()

    def webhook_attempt(self, state: str) -> None:
        """One delivery attempt, by the delivery's ``state`` afterwards."""
        self._deliveries[state].inc()

    def observe_error(self, err: OgmintError) -> None:
        """Counts the refusals worth watching among error answers (called by the error handler)."""
        if isinstance(err, RateLimitError):
            self._rate_limited[err.limit].inc()
        elif isinstance(err, SaturatedError):
            self._pool_rejections.inc()

    def exposition(self) -> bytes:
        """All workers' metrics in the text format (reads files: call it off the event loop)."""
        if self._directory is not None:
            self._forget_dead_processes(self._directory)
        return self._generate(self._registry)

    def _forget_dead_processes(self, directory: Path) -> None:
        # Sanic has no hook for a worker's death, so the live gauges of processes that are gone
        # (stopped or crashed) are dropped here, before every read; their counters still count.
        for path in directory.glob("gauge_live*_*.db"):
            pid = int(path.stem.rpartition("_")[2])
            if not _alive(pid):
                with contextlib.suppress(FileNotFoundError):  # another scrape was first
                    self._mark_dead(pid, str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class _CacheFamily:
    """Hits, misses and bytes of a set of named caches, from their running totals."""

    def __init__(self, hits: Counter, misses: Counter, held: Gauge) -> None:
        self._hits = hits
        self._misses = misses
        self._held = held
        self._children: dict[str, tuple[Counter, Counter, Gauge]] = {}
        #: Each cache's totals at the last observation: the counters advance by the difference.
        self._seen: dict[str, tuple[int, int, int]] = {}

    def observe(self, caches: Iterable[tuple[str, CacheCounts]]) -> None:
        for name, counts in caches:
            children = self._children.get(name)
            if children is None:
                children = self._children[name] = (
                    self._hits.labels(name),
                    self._misses.labels(name),
                    self._held.labels(name),
                )
            hits, misses, held = self._seen.get(name, (0, 0, -1))
            # Totals only grow; a smaller one is a new cache, counted from zero.
            if counts.hits < hits or counts.misses < misses:
                hits = misses = 0
            # Each write to a multi-process value costs microseconds: only what changed.
            if counts.hits != hits:
                children[0].inc(counts.hits - hits)
            if counts.misses != misses:
                children[1].inc(counts.misses - misses)
            if counts.bytes != held:
                children[2].set(counts.bytes)
            self._seen[name] = (counts.hits, counts.misses, counts.bytes)

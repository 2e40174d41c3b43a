"""The metrics module: labels, what counts, and the multi-process exposition of all workers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ogmint.cache import BoundedCache
from ogmint.errors import RateLimitError, SaturatedError, ValidationError
from ogmint.metrics import CONTENT_TYPE, METHODS, Metrics
from ogmint.state.deliveries import DELIVERED, FAILED, PENDING

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(metrics: Metrics) -> Samples:
    """Every sample of the exposition, by name and labels."""
    text = metrics.exposition().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(got: Samples, name: str, **labels: str) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_pattern_method_and_status() -> None:
    m = Metrics(None)
    m.observe_request("api/og", "GET", 200, 0.003)
    m.observe_request("api/og", "GET", 200, 0.004)
    m.observe_request("api/og", "GET", 429, 0.0005)
    m.observe_request("i/<slug:str>", "HEAD", 404, 0.0002)
    m.observe_request(None, "GET", 404, 0.0001)
    got = samples(m)
    requests = "ogmint_http_requests_total"
    assert value(got, requests, route="/api/og", method="GET", status="200") == 2
    assert value(got, requests, route="/api/og", method="GET", status="429") == 1
    assert value(got, requests, route="/i/<slug:str>", method="HEAD", status="404") == 1
    assert value(got, requests, route="unmatched", method="GET", status="404") == 1
    duration = "ogmint_http_request_duration_seconds"
    assert value(got, duration + "_count", route="/api/og") == 3
    assert value(got, duration + "_sum", route="/api/og") == pytest.approx(0.0075)
    assert value(got, duration + "_bucket", route="/api/og", le="0.001") == 1
    assert value(got, duration + "_bucket", route="/api/og", le="0.005") == 3


def test_methods_clients_invent_share_one_label() -> None:
    m = Metrics(None)
    for i in range(200):
        m.observe_request(None, f"BREW{i}", 405, 0.0001)
    m.observe_request(None, "DELETE", 404, 0.0001)
    got = samples(m)
    methods = {
        dict(labels)["method"] for name, labels in got if name == "ogmint_http_requests_total"
    }
    assert methods == {"OTHER", "DELETE"}
    assert methods - {"OTHER"} <= METHODS
    assert (
        value(got, "ogmint_http_requests_total", route="unmatched", method="OTHER", status="405")
        == 200
    )


def test_renders_count_completed_ones_and_fold_custom_templates() -> None:
    m = Metrics(None)
    with m.rendering("v1", "blog"):
        assert value(samples(m), "ogmint_renders_in_progress") == 1
    with m.rendering("v2", "custom_k3Jd9aPq"):
        pass
    with pytest.raises(SaturatedError), m.rendering("v1", "blog"):
        raise SaturatedError()
    got = samples(m)
    assert value(got, "ogmint_renders_total", api="v1", template="blog") == 1
    assert value(got, "ogmint_renders_total", api="v2", template="custom") == 1
    assert not [labels for name, labels in got if "custom_k3Jd9aPq" in str(labels)]
    assert value(got, "ogmint_render_duration_seconds_count") == 2
    assert value(got, "ogmint_renders_in_progress") == 0


def test_error_answers_count_rate_limits_by_limit_and_pool_rejections() -> None:
    m = Metrics(None)
    for limit in ("burst", "burst", "monthly", "daily", "signing_key"):
        m.observe_error(RateLimitError("over", limit=limit, headers={}))  # type: ignore[arg-type]
    m.observe_error(SaturatedError())
    m.observe_error(ValidationError("bad"))
    m.dedup_hit()
    m.repeat_hit()
    m.repeat_hit()
    got = samples(m)
    assert value(got, "ogmint_rate_limited_total", limit="signing_key") == 1
    assert value(got, "ogmint_repeat_hits_total") == 2
    assert value(got, "ogmint_rate_limited_total", limit="burst") == 2
    assert value(got, "ogmint_rate_limited_total", limit="monthly") == 1
    assert value(got, "ogmint_rate_limited_total", limit="daily") == 1
    assert value(got, "ogmint_render_pool_rejections_total") == 1
    assert value(got, "ogmint_dedup_hits_total") == 1


def test_webhook_attempts_by_outcome() -> None:
    m = Metrics(None)
    for state in (PENDING, PENDING, DELIVERED, FAILED):
        m.webhook_attempt(state)
    got = samples(m)
    assert value(got, "ogmint_webhook_deliveries_total", outcome="retry") == 2
    assert value(got, "ogmint_webhook_deliveries_total", outcome="delivered") == 1
    assert value(got, "ogmint_webhook_deliveries_total", outcome="failed") == 1


@dataclass(frozen=True)
class Counts:
    hits: int
    misses: int
    bytes: int


def test_cache_totals_become_counters_and_a_bytes_gauge() -> None:
    m = Metrics(None)
    m.observe_caches([("glyph", Counts(5, 3, 4096)), ("background", Counts(0, 1, 3_000_000))])
    m.observe_caches([("glyph", Counts(12, 4, 5000)), ("background", Counts(2, 1, 3_000_000))])
    got = samples(m)
    assert value(got, "ogmint_render_cache_hits_total", cache="glyph") == 12
    assert value(got, "ogmint_render_cache_misses_total", cache="glyph") == 4
    assert value(got, "ogmint_render_cache_bytes", cache="glyph") == 5000
    assert value(got, "ogmint_render_cache_hits_total", cache="background") == 2
    assert value(got, "ogmint_render_cache_misses_total", cache="background") == 1
    assert value(got, "ogmint_render_cache_bytes", cache="background") == 3_000_000
    # Totals that went down belong to a new cache: counted from zero, never backwards.
    m.observe_caches([("glyph", Counts(1, 2, 100))])
    got = samples(m)
    assert value(got, "ogmint_render_cache_hits_total", cache="glyph") == 13
    assert value(got, "ogmint_render_cache_misses_total", cache="glyph") == 6
    assert value(got, "ogmint_render_cache_bytes", cache="glyph") == 100


def test_worker_caches_have_their_own_family() -> None:
    m = Metrics(None)
    images: BoundedCache[str, bytes] = BoundedCache(None, max_weight=100, weigh=len)
    images.put("a", b"x" * 40)
    images.get("a")
    images.get("b")
    m.observe_worker_caches([("stored_images", images)])
    images.get("a")
    m.observe_worker_caches([("stored_images", images)])
    got = samples(m)
    assert value(got, "ogmint_cache_hits_total", cache="stored_images") == 2
    assert value(got, "ogmint_cache_misses_total", cache="stored_images") == 1
    assert value(got, "ogmint_cache_bytes", cache="stored_images") == 40
    assert value(got, "ogmint_render_cache_hits_total", cache="stored_images") == 0


def test_exposition_is_the_text_format_with_every_metric() -> None:
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    text = Metrics(None).exposition().decode()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert {
        "ogmint_http_requests": "counter",
        "ogmint_http_request_duration_seconds": "histogram",
        "ogmint_renders": "counter",
        "ogmint_render_duration_seconds": "histogram",
        "ogmint_renders_in_progress": "gauge",
        "ogmint_dedup_hits": "counter",
        "ogmint_repeat_hits": "counter",
        "ogmint_rate_limited": "counter",
        "ogmint_render_pool_rejections": "counter",
        "ogmint_webhook_deliveries": "counter",
        "ogmint_render_cache_hits": "counter",
        "ogmint_render_cache_misses": "counter",
        "ogmint_render_cache_bytes": "gauge",
        "ogmint_cache_hits": "counter",
        "ogmint_cache_misses": "counter",
        "ogmint_cache_bytes": "gauge",
    }.items() <= families.items()


def test_a_directory_without_multiprocess_mode_is_refused(tmp_path: Path) -> None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        pytest.skip("this process runs prometheus_client in multi-process mode")
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR"):
        Metrics(tmp_path)


def run_worker(directory: Path, code: str) -> str:
    """Runs ``code`` in a fresh process in multi-process mode, as a Sanic worker is run."""
    prelude = "from ogmint.metrics import Metrics\nfrom pathlib import Path\nimport os, sys\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_scrape_adds_up_all_workers_and_forgets_dead_ones_gauges(tmp_path: Path) -> None:
    # A worker that dies in the middle of a render leaves its gauge file at 1.
    run_worker(
        tmp_path,
        """
        m = Metrics(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
        for _ in range(3):
            m.observe_request("healthz", "GET", 200, 0.001)
        with m.rendering("v1", "blog"):
            os._exit(0)
        """,
    )
    run_worker(
        tmp_path,
        """
        m = Metrics(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
        m.observe_request("healthz", "GET", 200, 0.001)
        m.observe_request("healthz", "GET", 200, 0.001)
        with m.rendering("v2", "blog"):
            pass
        """,
    )
    assert len(list(tmp_path.glob("gauge_livesum_*.db"))) == 2
    text = run_worker(
        tmp_path,
        """
        m = Metrics(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
        m.observe_request("healthz", "GET", 200, 0.001)
        with m.rendering("v1", "blog"):
            sys.stdout.write(m.exposition().decode())
        """,
    )
    got = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert (
        value(got, "ogmint_http_requests_total", route="/healthz", method="GET", status="200") == 6
    )
    assert value(got, "ogmint_http_request_duration_seconds_count", route="/healthz") == 6
    assert value(got, "ogmint_renders_total", api="v2", template="blog") == 1
    # Only the scraping process is rendering: the dead workers' gauges are gone.
    assert value(got, "ogmint_renders_in_progress") == 1
    assert len(list(tmp_path.glob("gauge_livesum_*.db"))) == 1

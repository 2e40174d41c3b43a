"""No render outlives its budget: the native renderer's own timeout, the render pool's
accounting of threads still running, and native argument errors as typed errors."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ogmint.domain.templates import SAMPLE
from ogmint.errors import RenderTimedOutError, SaturatedError
from ogmint.metrics import Metrics
from ogmint.net import AddressPolicy, GuardedClient
from ogmint.rendering.cost import CostLimits
from ogmint.rendering.images import ImageFetcher
from ogmint.rendering.native import (
    Capacity,
    Renderer,
    RenderError,
    RenderTimeoutError,
    bundled_font_dirs,
)
from ogmint.rendering.pipeline import RenderPipeline
from ogmint.rendering.template import TemplateLimits, compile_template

#: One filtered full-canvas rectangle: one node resvg draws without a way to stop it.
FILTER = (
    '<filter id="f" x="-10%" y="-10%" width="120%" height="120%">'
    '<feGaussianBlur stdDeviation="8"/><feOffset dx="4" dy="4"/></filter>'
)


OG_NS = 'xmlns:og="https://ogmint.dev/ns/template"'
TITLE = '<og:text field="title" x="72" y="72" width="1000" height="300" max-size="60"/>'
LENIENT = TemplateLimits(cost=CostLimits(max_filter_work=1e6, max_paint=1e6))


def slow(nodes: int) -> str:
    rects = '<rect width="1200" height="630" fill="#3a6fc4" filter="url(#f)"/>' * nodes
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630">'
        f"<defs>{FILTER}</defs>{rects}</svg>"
    )


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def test_a_render_stops_at_its_timeout_within_one_node(renderer: Renderer) -> None:
    one_node = min(timed(lambda: renderer.render_svg(slow(1), timeout=60)) for _ in range(2))
    timeout = 0.2
    started = time.perf_counter()
    with pytest.raises(RenderTimeoutError, match="longer than allowed"):
        renderer.render_svg(slow(40), timeout=timeout)
    took = time.perf_counter() - started
    # Checked before every node: at most the node running when time ran out, never all 40.
    assert took < timeout + 3 * one_node + 0.2, (took, one_node)


def test_layered_renders_stop_too(renderer: Renderer) -> None:
    background, foreground = slow(20), slow(20)
    with pytest.raises(RenderTimeoutError):
        renderer.render_layers(background, foreground, "deadline-test-bg", timeout=0.05)
    # An abandoned background is not cached: the next render draws it again (and stops again).
    with pytest.raises(RenderTimeoutError):
        renderer.render_layers(background, foreground, "deadline-test-bg", timeout=0.05)


def test_timeouts_are_render_errors_with_their_own_class(renderer: Renderer) -> None:
    assert issubclass(RenderTimeoutError, RenderError)
    with pytest.raises(RenderTimeoutError):
        renderer.render_svg(slow(0), timeout=0.0)  # expired before the first step
    assert renderer.render_svg(slow(0), timeout=5.0).startswith(b"\x89PNG")
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout"):
            renderer.render_svg(slow(0), timeout=bad)


def test_the_default_timeout_applies(renderer: Renderer) -> None:
    strict = Renderer([], threads=1, queue=0, max_svg_bytes=1 << 20, max_nodes=20000, timeout=0.05)
    with pytest.raises(RenderTimeoutError):
        strict.render_svg(slow(20))
    strict.close()


@pytest.mark.parametrize(
    ("field", "value"), [("weight", -1), ("weight", 70_000), ("max_lines", -3), ("weight", 1.5)]
)
def test_values_the_native_types_cannot_hold_are_render_errors(
    renderer: Renderer, field: str, value: object
) -> None:
    box: dict[str, object] = {
        "family": "Inter",
        "weight": 400,
        "x": 0.0,
        "y": 0.0,
        "width": 400.0,
        "height": 100.0,
        "max_size": 40.0,
        "min_size": 20.0,
        "max_lines": 2,
    }
    with pytest.raises(RenderError):
        renderer.fit_text("Hello", **(box | {field: value}))


async def test_a_cancelled_caller_keeps_its_slot_until_the_thread_ends() -> None:
    """A request timeout cancels the awaiting task; the thread goes on, and so must count."""
    capacity = Capacity(1)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = asyncio.ensure_future(capacity.run(pool, lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert capacity.inflight == 1
        with pytest.raises(SaturatedError):
            capacity.check()  # the slot is still taken: its render still runs
        release.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if capacity.inflight == 0:
                break
        assert capacity.inflight == 0
        assert await capacity.run(pool, lambda: 42) == 42


async def test_a_unit_cancelled_before_it_started_gives_its_slot_back() -> None:
    capacity = Capacity(2)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = asyncio.ensure_future(capacity.run(pool, lambda: release.wait(10)))
        queued = asyncio.ensure_future(capacity.run(pool, lambda: None))
        await asyncio.sleep(0.05)
        queued.cancel()  # still queued: cancelled for good, the slot comes back
        await asyncio.sleep(0.05)
        assert capacity.inflight == 1
        release.set()
        await running
        await asyncio.sleep(0.05)
        assert capacity.inflight == 0


async def test_a_render_past_its_timeout_is_a_503_and_frees_its_slot() -> None:
    """What a stored template at the edge of its budget gives on a busy server: a typed 503
    (nothing charged), never a 500 or a slot held for good."""
    strict = Renderer(
        bundled_font_dirs(),
        threads=1,
        queue=0,
        max_svg_bytes=1 << 20,
        max_nodes=20000,
        timeout=0.05,
    )
    client = GuardedClient(AddressPolicy(), ca_file="", timeout=1.0, max_bytes=1 << 20)
    fetcher = ImageFetcher(
        client, capacity=strict.capacity, threads=1, max_pixels=1 << 20, cache_bytes=1 << 20
    )
    pipeline = RenderPipeline(strict, fetcher, Metrics(None))
    source = slow(20).replace("</svg>", TITLE + "</svg>").replace("<svg ", f"<svg {OG_NS} ", 1)
    template = compile_template("slow", source.encode(), LENIENT, custom=True)
    try:
        with pytest.raises(RenderTimedOutError) as timed_out:
            await pipeline.render(SAMPLE, template, api="v2")
        assert timed_out.value.status == 503 and timed_out.value.code == "render_timeout"
        assert strict.capacity.inflight == 0
    finally:
        pipeline.close()
        strict.close()

"""Two builds of the native extension on the ``blog`` card, in one process, interleaved.

Renderer changes are too small to see across runs on a shared machine; here both builds load
side by side (each ``_native.abi3.so`` imported from its own path), draw the same foreground
over the same cached background with a new title each render, in alternating chunks (the
order flipped every round), and report each side's median thread CPU time and PNG bytes.

``python -m bench.render.native_ab A.so B.so [--rounds N] [--v1] [--timeout S]`` — e.g. keep a copy
of ``server/ogmint/_native.abi3.so`` before a change, rebuild, and compare the two. With
``--v1`` each render is the whole V1 path of the card (``parse_params``, fitting the text
areas, the template, the layered render), with each build's own text-measurement cache. With
``--timeout`` each layered render of a build that takes a deadline gets one (builds from
before the deadline render without).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from bench.harness import BlogCards

TITLE = "Rendering social cards in under ten milliseconds, take {}"
#: Renders per side per round.
CHUNK = 15


def load_build(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("ogmint._native", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _renderer_module(native: ModuleType) -> ModuleType:
    """A copy of ``ogmint.rendering.native`` bound to the extension module ``native``."""
    import ogmint

    spec = importlib.util.find_spec("ogmint.rendering.native")
    if spec is None or spec.loader is None:
        raise SystemExit("ogmint.rendering.native not found")
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("ogmint._native"), getattr(ogmint, "_native", None)
    sys.modules["ogmint._native"] = native
    ogmint._native = native  # type: ignore[attr-defined]
    try:
        spec.loader.exec_module(module)
    finally:
        if saved[0] is not None:
            sys.modules["ogmint._native"] = saved[0]
        ogmint._native = saved[1]  # type: ignore[attr-defined]
    return module


def alternate(
    paths: list[str], rounds: int, render: Callable[[int, int], bytes], chunk: int = CHUNK
) -> list[dict[str, Any]]:
    """Median thread CPU and PNG bytes of ``render(side, n)`` (card ``n`` on build ``side``),
    in chunks of ``chunk`` alternating between the builds, the order flipped every round."""
    cpu: list[list[float]] = [[], []]
    size = [0, 0]
    n = 0
    for rnd in range(rounds):
        for side in (0, 1) if rnd % 2 == 0 else (1, 0):
            for i in range(chunk):
                started = time.thread_time()
                png = render(side, n + i)
                cpu[side].append(time.thread_time() - started)
                size[side] = len(png)
        n += chunk
    return [
        {"build": p, "cpu_ms": statistics.median(c) * 1000, "bytes": b}
        for p, c, b in zip(paths, cpu, size, strict=True)
    ]


def run_v1(paths: list[str], rounds: int) -> list[dict[str, Any]]:
    from ogmint.rendering.native import bundled_font_dirs
    from ogmint.rendering.pipeline import render_image

    cards = BlogCards()
    renderers = [
        _renderer_module(load_build(p)).Renderer(
            bundled_font_dirs(), threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20000
        )
        for p in paths
    ]
    for r in renderers:
        for i in range(5):
            render_image(r, cards.blog, cards.spec(TITLE.format(-1 - i)), {})
    figures = alternate(
        paths,
        rounds,
        lambda side, n: render_image(renderers[side], cards.blog, cards.spec(TITLE.format(n)), {}),
    )
    for r in renderers:
        r.close()
    cards.close()
    return figures


def _layers(i: int) -> tuple[str, str, str]:
    """The blog card's background, foreground (title ``i``) and cache key."""
    cards = BlogCards()
    layers = cards.layers(TITLE.format(i))
    cards.close()
    return layers.background, layers.foreground, layers.key


def _deadline(renderer: Any, timeout: float | None, svg: str) -> dict[str, float]:
    """``{"timeout": timeout}`` when ``renderer`` takes a deadline, else nothing."""
    if timeout is None:
        return {}
    try:
        renderer.render_svg(svg, timeout=timeout)
    except TypeError:
        return {}
    return {"timeout": timeout}


def run(paths: list[str], rounds: int, timeout: float | None = None) -> list[dict[str, Any]]:
    from ogmint.rendering.native import bundled_font_dirs

    marker = "take 0"
    background, foreground, key = _layers(0)
    assert marker in foreground
    renderers = [load_build(p).Renderer(bundled_font_dirs()) for p in paths]
    deadlines = [_deadline(r, timeout, background) for r in renderers]
    for r, deadline in zip(renderers, deadlines, strict=True):
        for i in range(5):
            r.render_layers(
                background, foreground.replace(marker, f"take {-1 - i}"), key, **deadline
            )
    return alternate(
        paths,
        rounds,
        lambda side, n: renderers[side].render_layers(
            background, foreground.replace(marker, f"take {n}"), key, **deadlines[side]
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--v1", action="store_true", help="time the whole V1 path")
    parser.add_argument("--timeout", type=float, help="seconds of deadline per render")
    args = parser.parse_args()
    if args.v1:
        a, b = run_v1([args.a, args.b], args.rounds)
    else:
        a, b = run([args.a, args.b], args.rounds, args.timeout)
    for side in (a, b):
        print(f"{side['build']}: median CPU {side['cpu_ms']:.3f} ms, PNG {side['bytes']:,} bytes")
    print(f"B / A CPU: {b['cpu_ms'] / a['cpu_ms']:.3f}x, bytes: {b['bytes'] / a['bytes']:.3f}x")


if __name__ == "__main__":
    main()

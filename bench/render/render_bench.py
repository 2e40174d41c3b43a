"""Render benchmark: ogmint's native renderer against resvg-py and cairosvg, in one process.

The renderers are timed in interleaved rounds (shuffled order each round) so they share the
machine's noise. Also timed: the built-in ``blog`` template through the same code path the V1
endpoint uses, and 1- vs 2-thread throughput of ``render_svg`` (the GIL is released).

``python -m bench.render.render_bench [--rounds N]`` prints the figures as JSON and records
them (section ``render``).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

from bench.harness import OUT, BlogCards, met, row, write_section
from bench.render.reference_card import avatar_png, reference_card_svg

WARMUP = 10
ROUNDS = 200
SCALING_RENDERS = 80
#: Noise from other processes only ever lowers scaling, so the best trial is the one to trust.
SCALING_TRIALS = 3
#: Issue 2 asks two threads for "close to twice" the throughput of one: read as ≥ 1.8x in the
#: best trial (other processes only ever lower it).
SCALING_TARGET = 1.8
#: zlib releases the GIL too: if it does not scale either, the cores are busy with other work.
CONTROL_DATA = random.Random(2).randbytes(1 << 20) * 3


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock figures of one renderer over the measured rounds."""

    name: str
    runs: int
    median_ms: float
    p95_ms: float
    min_ms: float
    png_bytes: int


def _import_native() -> ModuleType:
    """Imports ``ogmint._native``, retrying: colleagues may be rebuilding it under us."""
    for attempt in range(20):
        try:
            from ogmint import _native

            return _native
        except ImportError:
            if attempt == 19:
                raise
            time.sleep(3)
    raise AssertionError("unreachable")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timing(name: str, samples: list[float], png: bytes) -> Timing:
    ms = [s * 1000 for s in samples]
    return Timing(
        name=name,
        runs=len(ms),
        median_ms=round(statistics.median(ms), 2),
        p95_ms=round(_percentile(ms, 0.95), 2),
        min_ms=round(min(ms), 2),
        png_bytes=len(png),
    )


def _interleaved(
    contenders: dict[str, Callable[[int], bytes]], warmup: int, rounds: int
) -> dict[str, Timing]:
    """Times every contender once per round, in a fresh random order each round."""
    for i in range(warmup):
        for fn in contenders.values():
            fn(-1 - i)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    last: dict[str, bytes] = {}
    order = list(contenders)
    rng = random.Random(1)
    for i in range(rounds):
        rng.shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            last[name] = contenders[name](i)
            samples[name].append(time.perf_counter() - t0)
    return {name: _timing(name, samples[name], last[name]) for name in contenders}


def _pixel_diff(a: bytes, b: bytes) -> float:
    """Mean absolute RGB difference (0-255) between two PNGs: are they drawing the same card?"""
    pa = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=np.int16)
    pb = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.int16)
    return round(float(np.abs(pa - pb).mean()), 2)


def _scaling(render: Callable[[], bytes], renders: int) -> dict[str, float]:
    """Renders per second (and cores kept busy) with one and with two threads."""
    out: dict[str, float] = {}
    for threads in (1, 2):
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda _: render(), range(threads * 4)))  # warm each thread
            t0, cpu0 = time.perf_counter(), time.process_time()
            list(pool.map(lambda _: render(), range(renders)))
            wall = time.perf_counter() - t0
            out[f"threads_{threads}_rps"] = round(renders / wall, 1)
            # Cores this process kept busy: ~2.0 with 2 threads unless something else holds one.
            out[f"threads_{threads}_cores_busy"] = round((time.process_time() - cpu0) / wall, 2)
    out["speedup"] = round(out["threads_2_rps"] / out["threads_1_rps"], 2)
    return out


def run(
    rounds: int = ROUNDS,
    warmup: int = WARMUP,
    out_dir: Path | None = None,
    scaling_trials: int = SCALING_TRIALS,
    scaling_renders: int = SCALING_RENDERS,
) -> dict:
    """Runs every part of the render benchmark and returns its figures."""
    import cairosvg
    import resvg_py

    native = _import_native()
    from ogmint.rendering.native import bundled_font_dirs

    font_dirs = bundled_font_dirs()
    svg = reference_card_svg()
    svg_bytes = svg.encode()
    ogmint = native.Renderer(font_dirs)

    # resvg-py builds its font database on every call; give it the same directories as ogmint
    # (and no system fonts) so its text is drawn with the same Inter faces.
    contenders: dict[str, Callable[[int], bytes]] = {
        "ogmint render_svg": lambda _: ogmint.render_svg(svg),
        "resvg-py 0.5.0": lambda _: bytes(
            resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, font_dirs=font_dirs)
        ),
        "cairosvg": lambda _: cairosvg.svg2png(bytestring=svg_bytes),
    }

    # The V1 endpoint's path (server/ogmint/rendering/pipeline.py): parse → template → PNG.
    # A unique title per call, as in the load test: nothing may be served from a cache.
    cards = BlogCards()
    avatar = {"avatar": avatar_png()}
    url = "https://example.com/ada.png"  # stands in for the fetched image

    def title(i: int) -> str:
        return f"Rendering social cards in under ten milliseconds, take {i}"

    contenders["blog template"] = lambda i: cards.png(title(i))
    contenders["blog template + avatar"] = lambda i: cards.png(title(i), avatar, avatar=url)
    # The same minus rasterising: what parameter parsing and text fitting cost on their own.
    contenders["blog template, SVG only"] = lambda i: cards.layers(title(i)).foreground.encode()

    timings = _interleaved(contenders, warmup, rounds)
    pngs = {name: fn(0) for name, fn in contenders.items()}
    cards.close()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, png in pngs.items():
            if not png.startswith(b"\x89PNG"):
                continue
            (out_dir / (name.split()[0] + name.count("+") * "-avatar" + ".png")).write_bytes(png)

    og, rv, ca = (timings[n] for n in ("ogmint render_svg", "resvg-py 0.5.0", "cairosvg"))
    return {
        "rounds": rounds,
        "warmup": warmup,
        "svg_bytes": len(svg_bytes),
        "native_version": getattr(native, "__version__", "?"),
        "timings": [asdict(t) for t in timings.values()],
        "ratios": {
            "resvg_over_ogmint": round(rv.median_ms / og.median_ms, 2),
            "cairosvg_over_ogmint": round(ca.median_ms / og.median_ms, 2),
            "ogmint_bytes_over_resvg": round(og.png_bytes / rv.png_bytes, 2),
        },
        "pixel_diff": {
            "ogmint_vs_resvg": _pixel_diff(pngs["ogmint render_svg"], pngs["resvg-py 0.5.0"]),
            "ogmint_vs_cairosvg": _pixel_diff(pngs["ogmint render_svg"], pngs["cairosvg"]),
        },
        "scaling": [
            {
                "render": _scaling(lambda: ogmint.render_svg(svg), scaling_renders),
                "control": _scaling(
                    lambda: zlib.compress(CONTROL_DATA, 6), max(1, scaling_renders // 4)
                ),
            }
            for _ in range(scaling_trials)
        ],
        "scaling_renders": scaling_renders,
    }


def section(render: dict) -> str:
    """The ``render`` section of RESULTS.md: issue 2's targets, the timings, two threads."""
    timings = {t["name"]: t for t in render["timings"]}
    ratios = render["ratios"]
    scaling = render["scaling"]
    card = timings["ogmint render_svg"]["median_ms"]
    blog = timings["blog template"]["median_ms"]
    best = max(scaling, key=lambda t: t["render"]["speedup"])
    speedup = best["render"]["speedup"]
    rounds = f"{render['rounds']} rounds interleaved with resvg-py and cairosvg"
    targets = (
        (
            "reference card via `render_svg`, median, PNG encoding included",
            "< 10 ms",
            f"{card:g} ms",
            card < 10.0,
            f"one thread in one process, {rounds}",
        ),
        (
            "speed-up over resvg-py (medians)",
            "≥ 8x",
            f"{ratios['resvg_over_ogmint']:g}x",
            ratios["resvg_over_ogmint"] >= 8.0,
            "same rounds; resvg-py gets the same font dirs (it rebuilds its font DB per call)",
        ),
        (
            "speed-up over cairosvg (medians)",
            "≥ 3x",
            f"{ratios['cairosvg_over_ogmint']:g}x",
            ratios["cairosvg_over_ogmint"] >= 3.0,
            "same rounds; cairo draws the text in its fallback font",
        ),
        (
            "PNG bytes / resvg-py's",
            "≤ 1.5x",
            f"{ratios['ogmint_bytes_over_resvg']:g}x",
            ratios["ogmint_bytes_over_resvg"] <= 1.5,
            "the reference card",
        ),
        (
            "`blog` template path, median",
            "≤ 5 ms",
            f"{blog:g} ms",
            blog <= 5.0,
            "`parse_params` → template → `render_svg`, unique title, no avatar, same rounds",
        ),
        (
            "`render_svg` throughput, 2 threads / 1 thread",
            f"≈ 2x (≥ {SCALING_TARGET:g}x)",
            f"{speedup:g}x",
            speedup >= SCALING_TARGET,
            f"best of {len(scaling)} trials, one process, ThreadPoolExecutor",
        ),
    )
    lines = [
        "## Rendering (one process, interleaved rounds)",
        "",
        'Issue 2\'s targets (two threads "close to twice" one is read as '
        f"≥ {SCALING_TARGET:g}x: other processes only ever lower it):",
        "",
        row("target", "wanted", "this run", "met?", "configuration"),
        row("---", "---:", "---:", "---", "---"),
        *(row(label, want, got, met(ok), cfg) for label, want, got, ok, cfg in targets),
        "",
        f"The reference card (`bench/render/reference_card.py`, {render['svg_bytes']} bytes of "
        f"SVG, 1200x630) rendered {render['rounds']} times per renderer after "
        f"{render['warmup']} warm-ups; each round runs every contender once in a shuffled order "
        f"so they share the machine's noise. ogmint native {render['native_version']}.",
        "",
        row("path", "median ms", "p95 ms", "min ms", "PNG bytes"),
        row("---", "---:", "---:", "---:", "---:"),
        *(
            row(f"`{t['name']}`", t["median_ms"], t["p95_ms"], t["min_ms"], f"{t['png_bytes']:,}")
            for t in render["timings"]
        ),
        "",
        "- `ogmint render_svg`: `ogmint._native.Renderer(bundled_font_dirs()).render_svg(svg)`.",
        "- `resvg-py 0.5.0`: `resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, "
        "font_dirs=bundled_font_dirs())` — the same fonts; resvg-py rebuilds its font database "
        "on every call, a cost its users pay too.",
        "- `cairosvg`: `cairosvg.svg2png(bytestring=svg)`. Inter is not known to fontconfig, so "
        "cairo draws the text in its fallback sans (DejaVu): same layout, other glyphs.",
        "- `blog template`: the V1 path from `server/ogmint/rendering/pipeline.py` — "
        "`parse_params` → `templates['blog'].render(spec, images, renderer)` → "
        "`Renderer.render_svg` — with tag, a unique title per call, description, author and "
        "the `midnight` palette; `+ avatar` adds the reference avatar as the fetched image; "
        "`SVG only` stops before `render_svg` (parsing + text fitting; its bytes are SVG).",
        "",
        f"Ratios (medians): resvg-py / ogmint = **{ratios['resvg_over_ogmint']}x**, "
        f"cairosvg / ogmint = **{ratios['cairosvg_over_ogmint']}x**; ogmint PNG bytes / "
        f"resvg-py PNG bytes = **{ratios['ogmint_bytes_over_resvg']}**. Same picture? Mean "
        "absolute RGB difference (0-255) from ogmint's PNG: "
        f"resvg-py {render['pixel_diff']['ogmint_vs_resvg']}, "
        f"cairosvg {render['pixel_diff']['ogmint_vs_cairosvg']} (font fallback). "
        "The PNGs of this run are in `bench/out/`.",
        "",
        "### Two threads",
        "",
        f"`render_svg` of the reference card, {render['scaling_renders']} renders per "
        "measurement through a `ThreadPoolExecutor` (the native code releases the GIL), and a "
        "control with the same harness: `zlib.compress` of 3 MiB, which releases the GIL too. "
        f"{len(scaling)} trials, each measuring both back to back; cores busy = process CPU / wall.",
        "",
        row(
            "trial",
            "render 1 thread /s",
            "render 2 threads /s",
            "render scaling",
            "cores busy (2 threads)",
            "control scaling",
        ),
        row("---", "---:", "---:", "---:", "---:", "---:"),
        *(
            row(
                i + 1,
                t["render"]["threads_1_rps"],
                t["render"]["threads_2_rps"],
                f"{t['render']['speedup']}x",
                t["render"]["threads_2_cores_busy"],
                f"{t['control']['speedup']}x",
            )
            for i, t in enumerate(scaling)
        ),
        "",
        f"Best render scaling 1 → 2 threads: **{speedup}x** (ideal on 2 cores: 2x; the control "
        f"reached {best['control']['speedup']}x in that trial). A trial where the control does "
        "not scale either had its second core taken by other processes.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--scaling-trials", type=int, default=SCALING_TRIALS)
    parser.add_argument("--scaling-renders", type=int, default=SCALING_RENDERS)
    args = parser.parse_args()
    result = run(args.rounds, args.warmup, OUT, args.scaling_trials, args.scaling_renders)
    json.dump(result, sys.stdout, indent=2)
    print()
    write_section("render", section(result), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

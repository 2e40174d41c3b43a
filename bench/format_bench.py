"""Render + encode time and bytes per output format (SPEC §1.1), in one process, interleaved.

The ``blog`` card over its cached background (the V1 endpoint's path, ``render_layers``) and
the reference card drawn in one pass (``render_svg``), each as PNG, WebP and JPEG at quality
85: median thread CPU per render and the encoded bytes, with the PNG as the same-run baseline.

``python bench/format_bench.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from harness import BlogCards
from reference_card import reference_card_svg

QUALITY = 85
TITLE = "Rendering social cards in under ten milliseconds, take {}"


def timed(fn: Callable[[int], bytes], rounds: int) -> tuple[float, int]:
    """Median thread CPU seconds of ``fn(n)`` over ``rounds`` calls, and its last output size."""
    times = []
    size = 0
    for n in range(rounds):
        start = time.thread_time()
        size = len(fn(n))
        times.append(time.thread_time() - start)
    return statistics.median(times), size


def main() -> None:
    from ogmint.rendering.formats import FORMATS, Output

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    cards = BlogCards()
    renderer = cards.renderer
    layers = cards.layers(TITLE.format(0))
    marker = "take 0"
    reference = reference_card_svg()
    cases: dict[str, dict[str, Callable[[int], bytes]]] = {"blog (layers)": {}, "reference": {}}
    for fmt in FORMATS:
        output = Output(fmt, QUALITY)
        cases["blog (layers)"][fmt] = lambda n, output=output: renderer.render_layers(
            layers.background,
            layers.foreground.replace(marker, f"take {n}"),
            layers.key,
            output=output,
        )
        cases["reference"][fmt] = lambda _n, output=output: renderer.render_svg(
            reference, output=output
        )
    for fns in cases.values():  # warm the background cache and the fonts
        for fn in fns.values():
            fn(-1)
    results: dict[str, dict[str, list[tuple[float, int]]]] = {
        case: {fmt: [] for fmt in FORMATS} for case in cases
    }
    # Alternating chunks of every format, so host noise falls on all alike.
    for _ in range(4):
        for case, fns in cases.items():
            for fmt, fn in fns.items():
                results[case][fmt].append(timed(fn, max(1, args.rounds // 4)))
    print("| card | format | ms (median CPU) | bytes | time vs PNG | bytes vs PNG |")
    print("|---|---|---|---|---|---|")
    for case, per_format in results.items():
        png_ms = statistics.median(t for t, _ in per_format["png"]) * 1000
        png_bytes = per_format["png"][-1][1]
        for fmt, samples in per_format.items():
            ms = statistics.median(t for t, _ in samples) * 1000
            size = samples[-1][1]
            print(
                f"| {case} | {fmt} | {ms:.2f} | {size:,} | {ms / png_ms:.2f}x | "
                f"{size / png_bytes:.2f}x |"
            )
    cards.close()


if __name__ == "__main__":
    main()

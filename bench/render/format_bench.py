"""Render + encode time and bytes per output format (SPEC §1.1), in one process, interleaved.

The ``blog`` card over its cached background (the V1 endpoint's path, ``render_layers``) and
the reference card drawn in one pass (``render_svg``), each as PNG, WebP and JPEG at quality
85, at the sizes ``og`` (1200×630), ``og@2x`` (2400×1260) and ``story`` (1080×1920, the og
document cover-scaled as the pipeline draws it): median thread CPU per render and the encoded
bytes, with the same size's PNG as the same-run baseline, and each size's cost against the og
PNG next to its pixel-count share.

``python -m bench.render.format_bench [--rounds N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.harness import BlogCards
from bench.render.reference_card import reference_card_svg

QUALITY = 85
#: Sizes measured, in pixels: the default, its retina copy and the tallest preset.
SIZES = {"og": (1200, 630), "og@2x": (2400, 1260), "story": (1080, 1920)}
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
    from ogmint.rendering.sizes import resize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    cards = BlogCards()
    renderer = cards.renderer
    layers = cards.layers(TITLE.format(0))
    marker = "take 0"
    reference = reference_card_svg()
    cases: dict[str, dict[str, Callable[[int], bytes]]] = {}
    for size, (width, height) in SIZES.items():
        cover = width * 630 != height * 1200
        bg, fg, ref = layers.background, layers.foreground, reference
        if size != "og":
            bg, fg = (resize(doc, width, height, cover=cover) for doc in (bg, fg))
            ref = resize(reference, width, height, cover=cover)
        blog, card = (
            cases.setdefault(f"blog (layers) {size}", {}),
            cases.setdefault(f"reference {size}", {}),
        )
        for fmt in FORMATS:
            output = Output(fmt, QUALITY)
            blog[fmt] = lambda n, output=output, bg=bg, fg=fg, key=f"{layers.key}:{size}": (
                renderer.render_layers(bg, fg.replace(marker, f"take {n}"), key, output=output)
            )
            card[fmt] = lambda _n, output=output, ref=ref: renderer.render_svg(ref, output=output)
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
    print(
        "| card | format | ms (median CPU) | bytes | time vs PNG | bytes vs PNG "
        "| time vs og PNG | pixels vs og |"
    )
    print("|---|---|---|---|---|---|---|---|")
    og_ms: dict[str, float] = {}
    for case, per_format in results.items():
        card, size = case.rsplit(" ", 1)
        png_ms = statistics.median(t for t, _ in per_format["png"]) * 1000
        og_ms.setdefault(card, png_ms)  # the og size comes first
        png_bytes = per_format["png"][-1][1]
        width, height = SIZES[size]
        share = width * height / (1200 * 630)
        for fmt, samples in per_format.items():
            ms = statistics.median(t for t, _ in samples) * 1000
            nbytes = samples[-1][1]
            print(
                f"| {case} | {fmt} | {ms:.2f} | {nbytes:,} | {ms / png_ms:.2f}x | "
                f"{nbytes / png_bytes:.2f}x | {ms / og_ms[card]:.2f}x | {share:.2f}x |"
            )
    cards.close()


if __name__ == "__main__":
    main()

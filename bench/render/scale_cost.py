"""What og@2x and story cost against og, in pixels' share (issue 26, item 3).

The ``blog`` card and the reference card at ``og`` (1200×630), ``og`` ``@2x`` (2400×1260, 4×
the pixels) and ``story`` (1080×1920, 2.74×), render and PNG encoding together, in one run.

The ``blog`` card takes the V1 path (a unique title per render, the background cached; and a
full redraw, a new background colour per render); the reference card is drawn whole by
``render_svg`` at each size (its document resized as the pipeline resizes a template's:
scaled, and covered when the aspect differs). Sizes alternate in chunks so they share the
host's noise; figures are median thread CPU. A size is within its share when its cost over
``og``'s is at most its pixels over ``og``'s.

``python -m bench.render.scale_cost [--rounds N] [--chunk M] [--no-write]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from bench.harness import BlogCards, write_section
from bench.render.reference_card import reference_card_svg

TITLE = "Rendering social cards in under ten milliseconds, take {}"
#: (label, extra V1 parameters, pixels, reference card's canvas and whether it is covered).
SIZES = [
    ("og", {}, 1200 * 630, (1200, 630, False)),
    ("og@2x", {"scale": "2"}, 2400 * 1260, (2400, 1260, False)),
    ("story", {"size": "story"}, 1080 * 1920, (1080, 1920, True)),
]


def run(rounds: int, chunk: int) -> dict[str, dict[str, list[float]]]:
    from ogmint.rendering.sizes import resize

    cards = BlogCards()
    renderer = cards.renderer
    renderer.timeout = 60.0  # a busy host must not turn a slow size into a missing figure
    svg = reference_card_svg()
    reference = {label: resize(svg, w, h, cover=c) for label, _, _, (w, h, c) in SIZES}
    n = 0

    def blog(extra: dict[str, str]) -> Callable[[], bytes]:
        def render() -> bytes:
            nonlocal n
            n += 1
            return cards.png(TITLE.format(n), **extra)

        return render

    def redraw(extra: dict[str, str]) -> Callable[[], bytes]:
        def render() -> bytes:
            nonlocal n
            n += 1
            # A background colour never seen: the background is drawn and encoded anew.
            return cards.png(TITLE.format(n), bgColor=f"{n % 0xFFFFFF:06x}", **extra)

        return render

    kinds: dict[str, Callable[[str, dict[str, str]], Callable[[], bytes]]] = {
        "blog": lambda _label, extra: blog(extra),
        "blog redraw": lambda _label, extra: redraw(extra),
        "reference": lambda label, _extra: lambda: renderer.render_svg(reference[label]),
    }
    ms: dict[str, dict[str, list[float]]] = {k: {s[0]: [] for s in SIZES} for k in kinds}
    for make in kinds.values():
        for label, extra, _, _ in SIZES:
            make(label, extra)()  # warm: fonts, glyphs, the cached background
    for rnd in range(rounds):
        order = SIZES if rnd % 2 == 0 else SIZES[::-1]
        for kind, make in kinds.items():
            for label, extra, _, _ in order:
                render = make(label, extra)
                for _ in range(chunk):
                    started = time.thread_time()
                    render()
                    ms[kind][label].append((time.thread_time() - started) * 1000)
    cards.close()
    return ms


def section(ms: dict[str, dict[str, list[float]]], rounds: int, chunk: int) -> str:
    base_pixels = SIZES[0][2]
    lines = [
        "## Sizes and scale share the fast paths (issue 26, item 3)",
        "",
        f"`python -m bench.render.scale_cost --rounds {rounds} --chunk {chunk}`: median thread CPU of a "
        "render with its PNG, sizes alternating in chunks of "
        f"{chunk}, {rounds * chunk} renders per size and kind (load average at the end "
        f"{' / '.join(f'{v:.2f}' for v in os.getloadavg())}). `blog`: the V1 path, a unique "
        "title per render over its cached background; `blog redraw`: a new background colour "
        "every render; reference card: `render_svg` of its document resized as the pipeline "
        "resizes a template's. Within its share: cost / `og`'s ≤ pixels / `og`'s.",
        "",
        "| card | size | median ms | × og | pixels × og | within share? |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for kind, by_size in ms.items():
        og = statistics.median(by_size[SIZES[0][0]])
        for label, _, pixels, _ in SIZES:
            med = statistics.median(by_size[label])
            share = pixels / base_pixels
            ok = "" if label == SIZES[0][0] else ("yes" if med / og <= share else "**no**")
            lines.append(f"| {kind} | {label} | {med:.2f} | {med / og:.2f} | {share:.2f} | {ok} |")
    return "\n".join([*lines, ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--chunk", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = section(run(args.rounds, args.chunk), args.rounds, args.chunk)
    print(text)
    if not args.no_write:
        write_section("scale-cost", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

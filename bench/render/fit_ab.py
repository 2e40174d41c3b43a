"""Text fitting alone, two builds of the extension in one process: the `blog` card's text areas
(title, description, the tag pill measured then placed, author), a new title per card, chunks
of 100 cards per build alternating over 10 rounds (order flipped every round); thread CPU per
card.

    PYTHONPATH=server .venv/bin/python -m bench.render.fit_ab OLD.so NEW.so
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.render.native_ab import load_build
from ogmint.rendering.native import bundled_font_dirs

BOX: dict[str, Any] = {"family": "Inter", "fill": "#fff", "letter_spacing": 0.0, "mirror_rtl": True}
TITLE = "Rendering social cards in under ten milliseconds, take {}"


def fit_card(r: Any, n: int) -> None:
    r.fit_text(TITLE.format(n), weight=700, x=80.0, y=140.0, width=1040.0, height=230.0,
               max_size=68.0, min_size=40.0, line_height=1.12, max_lines=3, align="start",
               valign="bottom", **BOX)  # fmt: skip
    r.fit_text("How a Rust rasteriser, a font cache and a fast PNG encoder fit.", weight=400,
               x=80.0, y=392.0, width=1040.0, height=90.0, max_size=30.0, min_size=24.0,
               line_height=1.35, max_lines=2, align="start", valign="top", **BOX)  # fmt: skip
    for width in (524.0, 60.0):  # the pill: measured, then placed in a box its width
        r.fit_text("ENGINEERING", weight=600, x=0.0, y=76.0, width=width, height=40.0,
                   max_size=18.0, min_size=18.0, line_height=1.2, max_lines=1, align="middle",
                   valign="middle", **BOX)  # fmt: skip
    r.fit_text("Ada Lovelace", weight=600, x=144.0, y=520.0, width=976.0, height=44.0,
               max_size=24.0, min_size=18.0, line_height=1.2, max_lines=1, align="start",
               valign="middle", **BOX)  # fmt: skip


def main() -> None:
    paths = sys.argv[1:]
    renderers = [load_build(p).Renderer(bundled_font_dirs()) for p in paths]
    for r in renderers:
        for n in range(100):
            fit_card(r, -1 - n)  # warm the measurement caches
    spent = [0.0] * len(renderers)
    for k in range(10):
        order = list(enumerate(renderers))
        for side, r in order if k % 2 == 0 else order[::-1]:
            start = time.thread_time()
            for n in range(k * 100, (k + 1) * 100):
                fit_card(r, n)
            spent[side] += time.thread_time() - start
    for path, t in zip(paths, spent, strict=True):
        print(f"{path}: {t / 1000 * 1e3:.3f} ms of fitting per card")
    print(f"B / A: {spent[-1] / spent[0]:.3f}x")


if __name__ == "__main__":
    main()

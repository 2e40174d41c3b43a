"""The template cost model's false positives and what it estimates, next to real render times.

``python -m bench.render.template_cost`` — compiles every built-in template, ``templates/examples/``,
the design-tool exports of ``tests/designs/`` and the hostile corpus ``tests/hostile/`` with
the default bounds, and prints per template whether it passes, its cost-model figures (filter
megapixel-primitives, painted canvases, dash segments, static text characters) and the median
of 5 full renders (``render_svg``, the sample content) of those that pass.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from ogmint.domain.templates import SAMPLE
from ogmint.rendering.cost import Cost
from ogmint.rendering.native import Renderer, bundled_font_dirs
from ogmint.rendering.sizes import ASPECTS, LANDSCAPE
from ogmint.rendering.template import TemplateError, compile_template

ROOT = Path(__file__).resolve().parents[2]
SETS = {
    "built-in": sorted((ROOT / "templates").glob("*.svg")),
    "examples": sorted((ROOT / "templates" / "examples").glob("*.svg")),
    "designs": sorted((ROOT / "tests" / "designs").glob("*.svg")),
    "hostile": sorted((ROOT / "tests" / "hostile").glob("*.svg")),
}


def main() -> None:
    costs: list[Cost] = []
    original = Cost.__init__

    def remember(self: Cost, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        costs.append(self)

    Cost.__init__ = remember  # type: ignore[method-assign]
    renderer = Renderer(
        bundled_font_dirs(), threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20000
    )
    print(
        "| set | template | verdict | filter Mpx·prim | paint (canvases) | dashes | text | render ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, paths in SETS.items():
        refused = 0
        for path in paths:
            try:
                # A built-in's aspect layouts (blog.square.svg …) declare their own canvas.
                stem, _, aspect = path.stem.partition(".")
                aspect = aspect if aspect in ASPECTS else LANDSCAPE
                template = compile_template(
                    stem, path.read_bytes(), custom=True, canvas=ASPECTS[aspect]
                )
            except TemplateError:
                refused += 1
                continue
            c = costs[-1]
            svg = template.render(SAMPLE, {}, renderer)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                renderer.render_svg(svg, timeout=30)
                times.append(time.perf_counter() - started)
            print(
                f"| {name} | {path.stem} | passes | {c.filter_work:.2f} | {c.paint:.1f} | "
                f"{c.dash_segments:.0f} | {c.text_chars} | {statistics.median(times) * 1000:.1f} |"
            )
        print(f"| {name} | **{refused} of {len(paths)} refused** | | | | | | |")
    renderer.close()


if __name__ == "__main__":
    main()

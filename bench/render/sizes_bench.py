"""Render time of every built-in template at ``og``, ``story`` and ``story@2x`` (SPEC §1.1), next
to the deadline each size gets (``rendering/sizes.timeout_for``).

``python -m bench.render.sizes_bench [--rounds N]`` — in one process, one render thread: for each
template and size, N *cold* renders (a new accent colour each, so the template's background is
rasterised and band-encoded anew — the slowest a render of that size gets) and N *warm* ones
(a new title over the cached background: the usual case). Each render is the V1 path after
parsing: ``render_image`` (layout, raster, PNG). Reports wall and thread-CPU medians and the
slowest wall time against the deadline; records section ``sizes`` (``bench/RESULTS.md``).
Wall time on a loaded host inflates; CPU time does not, so both are given with the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.harness import REPO, write_section
from ogmint.rendering.native import Renderer, bundled_font_dirs
from ogmint.rendering.params import parse_params
from ogmint.rendering.pipeline import render_image
from ogmint.rendering.sizes import timeout_for
from ogmint.rendering.template import load_directory
from ogmint.settings import Settings

SIZES = [("og", 1), ("story", 1), ("story", 2)]
TEXT = {
    "description": "How we cut p95 latency by 63% by moving image generation to the edge.",
    "tag": "Engineering",
    "author": "Ada Lovelace",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    base = Settings.from_env({}).render_timeout
    renderer = Renderer(
        bundled_font_dirs(),
        threads=1,
        queue=1,
        max_svg_bytes=2 << 20,
        max_nodes=20_000,
        timeout=base,
    )
    templates = load_directory(REPO / "templates")
    load_before = os.getloadavg()
    rows = []
    serial = 0
    for name in sorted(templates):
        for size, scale in SIZES:
            figures: dict[str, tuple[list[float], list[float]]] = {}
            for kind in ("cold", "warm"):
                walls, cpus = [], []
                for i in range(args.rounds):
                    serial += 1
                    accent = f"{serial:06x}" if kind == "cold" else "2e5aa8"
                    spec = parse_params(
                        {
                            "template": name,
                            "title": f"Shipping faster, take {serial}",
                            "accentColor": accent,
                            "size": size,
                            "scale": scale,
                            **TEXT,
                        },
                        strict=True,
                        template_exists=templates.__contains__,
                        resolve_font=renderer.resolve_family,
                    )
                    if kind == "warm" and i == 0:
                        render_image(renderer, templates[name], spec, {})  # caches it
                    wall, cpu = time.perf_counter(), time.thread_time()
                    render_image(renderer, templates[name], spec, {})
                    cpus.append(time.thread_time() - cpu)
                    walls.append(time.perf_counter() - wall)
                figures[kind] = (walls, cpus)
            width, height = spec.pixels
            label = size if scale == 1 else f"{size}@{scale}x"
            rows.append((name, label, figures, timeout_for(base, width, height)))
            cold, warm = figures["cold"], figures["warm"]
            print(
                f"{name:10} {label:9} cold {1000 * statistics.median(cold[0]):7.0f} ms wall "
                f"{1000 * statistics.median(cold[1]):6.0f} ms cpu (max {1000 * max(cold[0]):.0f}) "
                f"| warm {1000 * statistics.median(warm[0]):6.0f} ms wall "
                f"{1000 * statistics.median(warm[1]):5.0f} ms cpu",
                flush=True,
            )
    load_after = os.getloadavg()
    renderer.close()
    lines = [
        "## Render time per size against its deadline (issue 23)",
        "",
        f"Command: `make bench NAME=sizes` (`python -m bench.render.sizes_bench --rounds "
        f"{args.rounds}`) — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. One process, one render "
        f"thread, no images; *cold*: a new background each render (rasterised and band-encoded: "
        f"the slowest case), *warm*: a new title over the cached background. Medians of "
        f"{args.rounds}; host load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"(2 cores, shared): wall times are inflated by that load, CPU times are not. Deadline: "
        f"`OGMINT_RENDER_TIMEOUT` ({base:g} s) scaled by the pixels over 1200×630's.",
        "",
        "| template | size | cold wall ms | cold CPU ms | slowest cold wall ms | warm wall ms "
        "| warm CPU ms | deadline s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label, figures, deadline in rows:
        (cw, cc), (ww, wc) = figures["cold"], figures["warm"]
        lines.append(
            f"| {name} | {label} | {1000 * statistics.median(cw):.0f} | "
            f"{1000 * statistics.median(cc):.0f} | {1000 * max(cw):.0f} | "
            f"{1000 * statistics.median(ww):.0f} | {1000 * statistics.median(wc):.0f} | "
            f"{deadline:.1f} |"
        )
    larger = [w for _, label, figures, _ in rows if label != "og" for w in figures["cold"][0]]
    over = [w for w in larger if w > base]
    slowest = max(w for _, _, figures, _ in rows for w in figures["cold"][0])
    lines += [
        "",
        f"Cold renders larger than `og` that took longer than the unscaled {base:g} s: "
        f"{len(over)} of {len(larger)} (each would have been a `503 render_timeout` before "
        f"the deadline scaled with the pixels); the slowest render took {slowest:.2f} s.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("sizes", text)


if __name__ == "__main__":
    main()

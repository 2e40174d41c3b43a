"""ogmint's ``blog`` card against takumi 2.19 rendering an equivalent card, in one run.

takumi (the fastest Rust Open Graph renderer; HTML/CSS node trees, no browser) is built from
its own bench-only crate, ``bench/takumi`` (never part of the workspace or of ``make test``),
with fat LTO, ``target-cpu=native`` and rayon left out, as issue 14 measured it. Both sides
render a unique title per call on one thread; they run in alternating chunks so they share
the machine's noise. ``make bench-takumi`` (also the last step of ``make bench``) writes the
figures into their own section of ``bench/RESULTS.md``.

``python bench/takumi_compare.py [--chunks N] [--per-chunk M] [--no-write]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import cpu_snapshot, others_busy, write_section
from reference_card import reference_card_svg

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CRATE = BENCH / "takumi"
BINARY = CRATE / "target" / "release" / "ogmint-bench-takumi"
OUT = BENCH / "out"
HEADING = "## ogmint vs takumi (issue 14)"
#: What issue 14 asks of the blog card against takumi's.
SPEED_TARGET = 5.0
BLOG_TARGET_MS = 3.0

TITLE = "Rendering social cards in under ten milliseconds, take {}"
DESCRIPTION = "How a Rust rasteriser, a font cache and a fast PNG encoder fit."


def build() -> float:
    """Builds the takumi crate (release); returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml")],
        check=True,
    )
    return time.perf_counter() - started


def _inter_font() -> Path:
    from ogmint.rendering.native import bundled_font_dirs

    for d in bundled_font_dirs():
        for f in sorted(Path(d).glob("Inter[[]*.ttf")):
            return f
    raise SystemExit("Inter is not installed (run `make setup`)")


def _takumi(font: Path, rounds: int, first: int, out: Path) -> dict:
    args = [str(BINARY), str(font), str(rounds), str(out), str(first)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    result: dict = json.loads(done.stdout)
    return result


def run(chunks: int = 10, per_chunk: int = 30) -> dict:
    from ogmint.rendering.native import Renderer, bundled_font_dirs
    from ogmint.rendering.params import parse_params
    from ogmint.rendering.pipeline import render_png
    from ogmint.rendering.template import load_directory

    built_s = build()
    renderer = Renderer(
        bundled_font_dirs(), threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20000
    )
    templates = load_directory(REPO / "templates")
    blog = templates["blog"]

    def render(i: int, **colors: str) -> bytes:
        raw = {
            "template": "blog",
            "title": TITLE.format(i),
            "description": DESCRIPTION,
            "tag": "Engineering",
            "author": "Ada Lovelace",
            "palette": "midnight",
            **colors,
        }
        spec = parse_params(
            raw,
            strict=False,
            template_exists=templates.__contains__,
            resolve_font=renderer.resolve_family,
        )
        return render_png(renderer, blog, spec, {})

    # A new background (colours never seen before): rasterised and encoded once, then cached.
    first_ms: list[float] = []
    for n in range(5):
        started = time.perf_counter()
        render(10_000 + n, bgColor=f"0b10{n:02x}")
        first_ms.append((time.perf_counter() - started) * 1000)
    for i in range(10):
        render(-1 - i)
    font = _inter_font()
    OUT.mkdir(exist_ok=True)
    ours: list[float] = []
    theirs: list[float] = []
    theirs_raster: list[float] = []
    takumi_bytes = 0
    cpu0 = cpu_snapshot()
    for chunk in range(chunks):
        base = chunk * per_chunk
        for i in range(per_chunk):
            started = time.perf_counter()
            render(base + i)
            ours.append((time.perf_counter() - started) * 1000)
        result = _takumi(font, per_chunk, base, OUT / "takumi-blog.png")
        theirs += result["total_ms"]
        theirs_raster += result["raster_ms"]
        takumi_bytes = result["png_bytes"]
    others = others_busy(cpu0, cpu_snapshot())
    blog_png = render(0)
    (OUT / "ogmint-blog.png").write_bytes(blog_png)
    reference = renderer.render_svg(reference_card_svg())
    renderer.close()
    return {
        "chunks": chunks,
        "per_chunk": per_chunk,
        "build_s": round(built_s, 1),
        "ours_ms": ours,
        "takumi_ms": theirs,
        "takumi_raster_ms": theirs_raster,
        "ours_bytes": len(blog_png),
        "reference_bytes": len(reference),
        "takumi_bytes": takumi_bytes,
        "first_render_ms": first_ms,
        "others_busy": others,
        "load": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def _stats(ms: list[float]) -> tuple[float, float, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[0]


def section(r: dict) -> str:
    om, op, on = _stats(r["ours_ms"])
    tm, tp, tn = _stats(r["takumi_ms"])
    tr = statistics.median(r["takumi_raster_ms"])
    speed = tm / om
    fast_ok = speed >= SPEED_TARGET
    bytes_ok = r["ours_bytes"] <= r["takumi_bytes"]
    ref_ok = r["reference_bytes"] <= r["takumi_bytes"]
    path_ok = om <= BLOG_TARGET_MS

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    n = r["chunks"] * r["per_chunk"]
    return "\n".join(
        [
            HEADING,
            "",
            f"`make bench-takumi` (= `.venv/bin/python bench/takumi_compare.py`, also run by "
            f"`make bench`): {r['chunks']} alternating chunks of {r['per_chunk']} renders each "
            f"side ({n} per side), one thread each, a unique title per render. ogmint: the V1 "
            "path (`parse_params` → `blog` template → `render_layers`, PNG included) in this "
            "process. takumi 2.19: `bench/takumi` (its own crate, not in the workspace; "
            '`default-features = false, features = ["raster-backend", "png"]`, fat LTO, '
            "`target-cpu=native`), an equivalent card as a node tree with inline CSS, timed "
            "inside its process from node tree to PNG bytes (10 warm-ups per chunk). "
            f"Other processes kept {r['others_busy']} of 2 cores busy meanwhile (load average "
            f"at the end {r['load']}); only the ratios are comparable across runs.",
            "",
            "| renderer | median ms | p95 ms | min ms | PNG bytes |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| ogmint `blog` (V1 path) | {om:.2f} | {op:.2f} | {on:.2f} | {r['ours_bytes']:,} |",
            f"| takumi 2.19, equivalent card | {tm:.2f} | {tp:.2f} | {tn:.2f} | "
            f"{r['takumi_bytes']:,} |",
            f"| takumi without PNG encoding | {tr:.2f} | | | |",
            "",
            "| target (issue 14) | wanted | this run | met? |",
            "| --- | ---: | ---: | --- |",
            f"| takumi ms / ogmint ms (medians) | ≥ {SPEED_TARGET:g}x | {speed:.2f}x | "
            f"{met(fast_ok)} |",
            f"| ogmint `blog` bytes / takumi's | ≤ 1 | {r['ours_bytes'] / r['takumi_bytes']:.3f} | "
            f"{met(bytes_ok)} |",
            f"| reference card bytes (`render_svg`) / takumi's blog card | ≤ 1 | "
            f"{r['reference_bytes'] / r['takumi_bytes']:.3f} | {met(ref_ok)} (takumi does "
            "not render the reference card here; its blog card stands in) |",
            f"| ogmint `blog` path median | ≤ {BLOG_TARGET_MS:g} ms | {om:.2f} ms | "
            f"{met(path_ok)} |",
            "",
            "A render whose background (template art in its colours) is not cached yet also "
            "rasterises it and encodes its bands thoroughly (filters tried per band, zlib "
            "level 9), once: "
            + ", ".join(f"{ms:.1f}" for ms in r["first_render_ms"])
            + " ms for five new backgrounds in this run. The PNGs are in `bench/out/` "
            "(`ogmint-blog.png`, `takumi-blog.png`); building takumi took "
            f"{r['build_s']} s (cached after the first time).",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--per-chunk", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(args.chunks, args.per_chunk)
    text = section(result)
    print(text)
    if not args.no_write:
        write_section("takumi", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Text drawing with and without the glyph coverage cache (issue 14), in one run.

The ``blog`` card's foreground (unique, varied titles; the background cached as in
``render_layers``) is drawn by ``native/examples/glyph_ab.rs`` two ways, interleaved per
render: resvg filling every glyph outline (what ``draw`` did before the cache) and the glyph
cache (``native/src/glyphs.rs``). Wall-time medians per stage come from that interleaved run
(``target-cpu=native``, as the extension is built); instruction counts per render from
callgrind on an ``x86-64-v2`` build (valgrind cannot decode AVX-512), as the difference of a
long and a short run so start-up and font loading drop out.

``python -m bench.render.glyph_bench [--rounds N] [--no-callgrind] [--no-write]``; the figures go into
their own section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import OUT, REPO, BlogCards, write_section

NATIVE = REPO / "native"
HEADING = "## Glyph coverage cache: text drawing A/B (issue 14)"
WORDS = (
    "rendering social cards under ten milliseconds shipping faster with edge caching and "
    "streaming a practical guide to rust fonts variable weights postgres queues webhooks "
    "durable writes image pipelines kerning ligatures quarterly roadmap launch notes why we "
    "rewrote our encoder deflate benchmarks measured honestly"
).split()


def titles(count: int) -> list[str]:
    """Distinct title-like strings (seeded), so no render repeats another's layout."""
    rng = random.Random(14)
    out = []
    for i in range(count):
        words = rng.sample(WORDS, rng.randint(5, 9))
        out.append(" ".join(words).capitalize() + f" ({i})")
    return out


def write_layers(directory: Path, count: int) -> None:
    """``bg.svg`` and ``fg<i>.svg`` of the ``blog`` template, as the V1 path builds them."""
    cards = BlogCards()
    try:
        for i, title in enumerate(titles(count)):
            layers = cards.layers(title)
            (directory / f"fg{i:04d}.svg").write_text(layers.foreground)
            if i == 0:
                (directory / "bg.svg").write_text(layers.background)
    finally:
        cards.close()


def font_dirs() -> str:
    from ogmint.rendering.native import bundled_font_dirs

    return os.pathsep.join(bundled_font_dirs())


def build(target_dir: Path | None, rustflags: str | None) -> Path:
    env = dict(os.environ)
    if rustflags is not None:
        env["RUSTFLAGS"] = rustflags
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    cmd = ["cargo", "build", "--release", "--quiet", "--example", "glyph_ab"]
    subprocess.run(cmd, cwd=NATIVE, env=env, check=True)
    return (target_dir or REPO / "target") / "release" / "examples" / "glyph_ab"


def run(binary: Path, layers: Path, rounds: int, mode: str) -> dict:
    out = subprocess.run(
        [str(binary), font_dirs(), str(layers), str(rounds), mode],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def instructions(binary: Path, layers: Path, mode: str, rounds: int) -> int:
    """Instructions callgrind counts for a whole run of ``rounds`` renders."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        args = [str(binary), font_dirs(), str(layers), str(rounds), mode]
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *args]
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if found is None:
            raise RuntimeError(f"callgrind printed no count: {proc.stderr[-500:]}")
        return int(found.group(1))


def per_render(binary: Path, layers: Path, mode: str, short: int, long: int) -> float:
    """Instructions per render: the difference of a long and a short run."""
    return (
        instructions(binary, layers, mode, long) - instructions(binary, layers, mode, short)
    ) / (long - short)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--titles", type=int, default=300)
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        layers = Path(tmp)
        write_layers(layers, args.titles)
        ab = run(build(None, None), layers, args.rounds, "ab")
        counts: dict[str, float] = {}
        if not args.no_callgrind and shutil.which("valgrind"):
            portable = build(OUT / "target-x86-64-v2", "-C target-cpu=x86-64-v2")
            for mode in ("resvg", "cached"):
                counts[mode] = per_render(portable, layers, mode, 20, 120)
    old, new = ab["resvg"], ab["cached"]
    lines = [
        HEADING,
        "",
        f"Command: `.venv/bin/python -m bench.render.glyph_bench --rounds {args.rounds} "
        f"--titles {args.titles}` — the `blog` card, {ab['titles']} distinct titles in turn "
        "(each render a new layout), background cached, both ways interleaved per render in "
        "one process (`native/examples/glyph_ab.rs`). `resvg`: resvg fills every glyph "
        "outline (the drawing before the cache); `cached`: `native/src/glyphs.rs`. "
        f"After the run the cache held {ab['glyph_masks']} masks, "
        f"{ab['glyph_bytes'] / 1e6:.1f} MB.",
        "",
        "| stage (median µs) | resvg | glyph cache | ratio |",
        "|---|---|---|---|",
    ]
    for stage in ("parse_us", "copy_us", "draw_us", "encode_us", "total_us"):
        ratio = old[stage] / new[stage] if new[stage] else float("nan")
        lines.append(f"| {stage[:-3]} | {old[stage]:.0f} | {new[stage]:.0f} | {ratio:.2f}x |")
    lines.append(f"| PNG bytes | {old['png_bytes']} | {new['png_bytes']} | |")
    if counts:
        lines += [
            "",
            "Instructions per render (callgrind, `x86-64-v2` build, (120 − 20 renders) "
            "difference): "
            f"resvg {counts['resvg'] / 1e6:.2f} M, glyph cache {counts['cached'] / 1e6:.2f} M "
            f"({counts['resvg'] / counts['cached']:.2f}x fewer; both include parsing and PNG "
            "encoding, which the cache does not change).",
        ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("glyphs", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PNG encoding of documents drawn in one pass (``render_svg``): two builds, and zlib strategies.

Part 1, builds: both ``_native.abi3.so`` files load side by side and render the same documents
with ``render_svg`` — the reference card and every template's preview (``templates/*.svg`` and
``templates/examples/*.svg`` with the sample parameters, as the dashboard shows them) — in
alternating chunks, the order flipped every round; each side's median thread CPU time and PNG
bytes per document.

Part 2, strategies: the reference card's pixels (decoded from build B's PNG) compressed by
Python's zlib at several levels, unfiltered and with PNG row filters (one filter for every
row, or png's adaptive MinSum choice per row); bytes, and the median time of the zlib call.

``python -m bench.render.encode_bench A.so B.so [--rounds N]`` — e.g. keep a copy of
``server/ogmint/_native.abi3.so`` before a change, rebuild, and compare the two.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from bench.harness import REPO
from bench.render.native_ab import alternate, load_build
from bench.render.reference_card import reference_card_svg

#: Renders per side, document and round.
CHUNK = 5
STRATEGY_REPEATS = 5


def documents(renderer: Any) -> dict[str, str]:
    """The reference card and every template's preview, as full SVG documents."""
    from ogmint.domain.templates import SAMPLE
    from ogmint.rendering.sizes import ASPECTS, LANDSCAPE
    from ogmint.rendering.template import compile_template

    docs = {"reference card": reference_card_svg()}
    for directory, custom in ((REPO / "templates", False), (REPO / "templates" / "examples", True)):
        for path in sorted(directory.glob("*.svg")):
            # A built-in's aspect layouts (blog.square.svg …) declare their own canvas.
            stem, _, aspect = path.stem.partition(".")
            aspect = aspect if aspect in ASPECTS else LANDSCAPE
            template = compile_template(
                stem, path.read_bytes(), custom=custom, canvas=ASPECTS[aspect]
            )
            docs[f"{path.stem} preview"] = template.render(SAMPLE, {}, renderer)
    return docs


def builds(paths: list[str], rounds: int) -> list[dict[str, Any]]:
    """Per document: each build's median thread CPU (ms) and PNG bytes."""
    from ogmint.rendering.native import Renderer, bundled_font_dirs

    fitter = Renderer(
        bundled_font_dirs(), threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20000
    )
    docs = documents(fitter)
    fitter.close()
    renderers = [load_build(p).Renderer(bundled_font_dirs()) for p in paths]
    for r in renderers:
        for svg in docs.values():
            r.render_svg(svg)
    figures = {
        name: alternate(
            paths, rounds, lambda side, _n, svg=svg: renderers[side].render_svg(svg), CHUNK
        )
        for name, svg in docs.items()
    }
    return [
        {
            "document": name,
            "cpu_ms": [f["cpu_ms"] for f in figures[name]],
            "bytes": [f["bytes"] for f in figures[name]],
        }
        for name in docs
    ]


def _filtered(rgb: np.ndarray, choose: Callable[[list[np.ndarray]], int] | int) -> bytes:
    """PNG scanlines of ``rgb`` (height x width x 3): None, Sub, Up, Average, Paeth per row,
    the filter given, or picked by ``choose`` from the five filtered rows."""
    h, w, _ = rgb.shape
    rows = rgb.reshape(h, w * 3).astype(np.int16)
    out = bytearray()
    up = np.zeros(w * 3, dtype=np.int16)
    for row in rows:
        left = np.concatenate([np.zeros(3, dtype=np.int16), row[:-3]])
        upleft = np.concatenate([np.zeros(3, dtype=np.int16), up[:-3]])
        p = left + up - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        candidates = [row, row - left, row - up, row - (left + up) // 2, row - paeth]
        rows_u8 = [(c % 256).astype(np.uint8) for c in candidates]
        pick = choose if isinstance(choose, int) else choose(rows_u8)
        out.append(pick)
        out += rows_u8[pick].tobytes()
        up = row
    return bytes(out)


def _minsum(rows: list[np.ndarray]) -> int:
    """png's adaptive choice: the filtered row whose bytes, read as signed, sum least."""
    return int(np.argmin([np.abs(r.view(np.int8).astype(np.int32)).sum() for r in rows]))


def strategies(png: bytes) -> list[dict[str, Any]]:
    """The reference card's pixels through zlib at several levels and filterings."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    filterings: dict[str, bytes] = {
        "none": _filtered(rgb, 0),
        "Up every row": _filtered(rgb, 2),
        "Paeth every row": _filtered(rgb, 4),
        "MinSum per row (png's adaptive)": _filtered(rgb, _minsum),
    }
    out = []
    for name, data in filterings.items():
        for level in (1, 4, 6, 7, 9):
            times = []
            for _ in range(STRATEGY_REPEATS):
                started = time.thread_time()
                size = len(zlib.compress(data, level))
                times.append(time.thread_time() - started)
            out.append(
                {
                    "filter": name,
                    "level": level,
                    "bytes": size,
                    "ms": statistics.median(times) * 1000,
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    results = builds([args.a, args.b], args.rounds)
    print("| document | A CPU ms | B CPU ms | B/A | A bytes | B bytes | B/A |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        (ca, cb), (ba, bb) = r["cpu_ms"], r["bytes"]
        print(
            f"| {r['document']} | {ca:.2f} | {cb:.2f} | {cb / ca:.2f}x "
            f"| {ba:,} | {bb:,} | {bb / ba:.2f}x |"
        )
    from ogmint.rendering.native import bundled_font_dirs

    png = load_build(args.b).Renderer(bundled_font_dirs()).render_svg(reference_card_svg())
    print()
    print("| reference card pixels | zlib level | bytes | zlib ms |")
    print("| --- | ---: | ---: | ---: |")
    for s in strategies(png):
        print(f"| {s['filter']} | {s['level']} | {s['bytes']:,} | {s['ms']:.2f} |")


if __name__ == "__main__":
    main()

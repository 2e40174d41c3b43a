"""Probe (not shipped): a JPEG over a cached background by splicing restart intervals.

The PNG path re-encodes only the 16-row bands a render's text reaches and copies the cached
background's compressed bands; this measures whether JPEG could do the same with a well-kept
encoder. libjpeg-turbo (Pillow) encodes the background once with a restart marker every MCU row
(4:2:0: 16 rows, one band) and the standard Huffman tables; each run of bands the foreground
changed is encoded alone with the same settings and its intervals replace the background's.
Checks that the result is byte-identical to encoding the whole composite with those settings,
and times the splice against that whole encode, for the ``blog`` card at og, og@2x and story.
Bands are found by comparing the composite with the background (outside the timing).

``python -m bench.render.jpeg_splice [--rounds N]``
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from bench.harness import BlogCards

SETTINGS: dict[str, Any] = {
    "quality": 85,
    "subsampling": 2,
    "optimize": False,
    "restart_marker_rows": 1,
}
MCU_ROWS = 16
RST = re.compile(rb"\xff[\xd0-\xd7]")
SIZES = {"og": ("og", 1), "og@2x": ("og", 2), "story": ("story", 1)}


def jpeg(image: Image.Image, **extra: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **{**SETTINGS, **extra})
    return out.getvalue()


def intervals(data: bytes) -> tuple[bytes, list[bytes]]:
    """The headers up to the scan, and the scan's restart intervals."""
    sos = data.index(b"\xff\xda")
    end = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    return data[:end], RST.split(data[end:-2])


def as_image(raw: Any) -> Image.Image:
    """A renderer's pixels as a Pillow image (mapped, not copied)."""
    return Image.frombuffer(raw.mode, (raw.width, raw.height), raw.data, "raw", raw.mode, 0, 1)


def bands_changed(base: Any, composite: Any) -> list[tuple[int, int]]:
    """Runs of consecutive 16-row bands (first, end) where ``composite`` differs from ``base``."""
    rows = np.frombuffer(base.data, np.uint8).reshape(base.height, -1)
    changed = (rows != np.frombuffer(composite.data, np.uint8).reshape(base.height, -1)).any(1)
    runs: list[list[int]] = []
    for band in sorted({int(y) // MCU_ROWS for y in np.nonzero(changed)[0]}):
        if runs and runs[-1][1] == band:
            runs[-1][1] = band + 1
        else:
            runs.append([band, band + 1])
    return [(first, end) for first, end in runs]


def splice(
    head: bytes, cached: list[bytes], full: Image.Image, runs: list[tuple[int, int]]
) -> bytes:
    """The background's JPEG with the intervals of ``runs`` re-encoded from ``full``."""
    width, height = full.size
    parts = list(cached)
    for first, end in runs:
        strip = full.crop((0, first * MCU_ROWS, width, min(height, end * MCU_ROWS)))
        parts[first:end] = intervals(jpeg(strip))[1]
    body = bytearray(head)
    for n, part in enumerate(parts):
        if n:
            body += bytes((0xFF, 0xD0 + (n - 1) % 8))
        body += part
    return bytes(body) + b"\xff\xd9"


def median_ms(fn: Callable[[], bytes], rounds: int) -> tuple[float, bytes]:
    times, out = [], b""
    for _ in range(rounds):
        start = time.thread_time()
        out = fn()
        times.append(time.thread_time() - start)
    return statistics.median(times) * 1000, out


def main() -> None:
    from ogmint.rendering.sizes import resize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    cards = BlogCards()
    native = cards.renderer._native
    print(
        "| size | bands touched | identical | spliced ms | whole ms (same tables) "
        "| bytes | bytes, optimised tables |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, (size, scale) in SIZES.items():
        spec = cards.spec(TITLE, size=size, scale=str(scale), format="jpeg")
        doc = cards.blog.document_for(spec.width, spec.height)
        layers = doc.layers(spec, {}, cards.renderer)
        bg, fg, key = layers.background, layers.foreground, layers.key
        (w, h), (lw, lh) = spec.pixels, doc.canvas
        if (w, h) != (lw, lh):
            cover = spec.width * lh != spec.height * lw
            bg, fg = (resize(d, w, h, cover=cover) for d in (bg, fg))
            key = f"{key}:{size}@{scale}"
        matte = spec.output().jpeg_matte
        base = native.render_svg_pixels(bg, matte=matte)
        composite = native.render_layers_pixels(bg, fg, key, matte=matte)
        runs = bands_changed(base, composite)
        head, cached = intervals(jpeg(as_image(base)))
        full = as_image(composite)
        splice_ms, data = median_ms(lambda: splice(head, cached, full, runs), args.rounds)  # noqa: B023
        whole_ms, whole = median_ms(lambda: jpeg(full), args.rounds)  # noqa: B023
        optimised = len(jpeg(full, optimize=True, restart_marker_rows=0))
        touched = sum(end - first for first, end in runs)
        print(
            f"| {name} | {touched}/{len(cached)} | {data == whole} | {splice_ms:.2f} | "
            f"{whole_ms:.2f} | {len(data):,} | {optimised:,} |"
        )
    cards.close()


TITLE = "Rendering social cards in under ten milliseconds, take 0"

if __name__ == "__main__":
    main()

"""Render + encode time and bytes per output format (SPEC §1.1), in one process, interleaved.

The ``blog`` card as V1 renders it (``pipeline.render_image``: its layout for the size's
aspect, text fitted, foreground over the cached background) with a new title on every render,
and the reference card drawn in one pass (``render_svg``, cover-scaled to sizes of another
aspect, as a custom template's one document is), each as PNG, WebP and JPEG at quality 85, at
``og`` (1200×630), ``og@2x`` (2400×1260) and ``story`` (1080×1920). Per render: median thread
CPU of the whole call, and of the lossy encoder's step alone (Pillow, timed around
``formats.encode``); the encoded bytes and, for lossy formats, the PSNR against the PNG's
pixels. The same size's PNG is the same-run baseline. ``--variants`` adds the encoder settings
not chosen (WebP ``method`` 0 and 2, JPEG with the standard Huffman tables), for the record.

``--keep-buffers`` sets the allocator thresholds of ``OGMINT_RENDER_KEEP_BUFFERS``.

``python -m bench.render.format_bench [--rounds N] [--variants] [--json FILE] [--keep-buffers]``
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from PIL import Image

from bench.harness import BlogCards
from bench.render.reference_card import reference_card_svg

QUALITY = 85
#: Sizes measured: (size, scale) as the API takes them, and the pixels they make.
SIZES = {"og": ("og", 1), "og@2x": ("og", 2), "story": ("story", 1)}
PIXELS = {"og": (1200, 630), "og@2x": (2400, 1260), "story": (1080, 1920)}
TITLE = "Rendering social cards in under ten milliseconds, take {}"
#: Encoder settings measured besides the chosen ones (``--variants``): label → (format,
#: settings patched into ``ogmint.rendering.formats`` for the call).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "webp m0": ("webp", {"WEBP_METHOD": 0}),
    "webp m2": ("webp", {"WEBP_METHOD": 2}),
    "jpeg std-huff": ("jpeg", {"JPEG_OPTIMIZE": False}),
}


class EncodeClock:
    """Thread CPU spent in ``formats.encode`` (wrapped where ``native`` calls it)."""

    def __init__(self) -> None:
        import ogmint.rendering.native as native

        self.seconds = 0.0
        inner = native.encode

        def timed(raw: Any, output: Any) -> bytes:
            start = time.thread_time()
            try:
                return inner(raw, output)
            finally:
                self.seconds += time.thread_time() - start

        native.encode = timed


@contextmanager
def patched(settings: dict[str, Any]) -> Iterator[None]:
    import ogmint.rendering.formats as formats

    old = {name: getattr(formats, name) for name in settings}
    for name, value in settings.items():
        setattr(formats, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(formats, name, value)


def psnr(data: bytes, reference: np.ndarray) -> float:
    """PSNR (dB) of an encoded image against the lossless pixels."""
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)
    mse = float(((decoded - reference) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def main() -> None:
    from ogmint.rendering.formats import Output
    from ogmint.rendering.pipeline import render_image
    from ogmint.rendering.sizes import resize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--variants", action="store_true", help="also the settings not chosen")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--keep-buffers",
        action="store_true",
        help="the allocator thresholds of OGMINT_RENDER_KEEP_BUFFERS (rendering/allocator.py)",
    )
    args = parser.parse_args()
    if args.keep_buffers:
        from ogmint.rendering.allocator import keep_render_buffers

        assert keep_render_buffers(), "mallopt refused the thresholds"
    cards = BlogCards()
    renderer = cards.renderer
    clock = EncodeClock()
    reference = reference_card_svg()
    formats: dict[str, tuple[str, dict[str, Any]]] = {
        "png": ("png", {}),
        "webp": ("webp", {}),
        "jpeg": ("jpeg", {}),
    }
    if args.variants:
        formats.update(VARIANTS)
    # case → label → fn(n) rendering the n-th card
    cases: dict[str, dict[str, Callable[[int], bytes]]] = {}
    for name, (size, scale) in SIZES.items():
        width, height = PIXELS[name]
        ref = reference if name == "og" else resize(reference, width, height, cover=name == "story")
        specs = {
            fmt: [
                cards.spec(TITLE.format(n), size=size, scale=str(scale), format=fmt)
                for n in range(-1, 4 * max(1, args.rounds // 4))
            ]
            for fmt in ("png", "webp", "jpeg")
        }
        blog = cases.setdefault(f"blog {name}", {})
        card = cases.setdefault(f"reference {name}", {})
        for label, (fmt, _) in formats.items():
            output = Output(fmt, QUALITY)  # type: ignore[arg-type]
            blog[label] = lambda n, s=specs[fmt]: render_image(renderer, cards.blog, s[n + 1], {})
            card[label] = lambda _n, ref=ref, out=output: renderer.render_svg(ref, output=out)
    for fns in cases.values():  # warm the background cache and the fonts
        for label, fn in fns.items():
            with patched(formats[label][1]):
                fn(-1)
    # case → label → [(cpu s, encode cpu s, bytes)], last output kept for PSNR
    results: dict[str, dict[str, list[tuple[float, float, int]]]] = {
        case: {label: [] for label in fns} for case, fns in cases.items()
    }
    last: dict[tuple[str, str], bytes] = {}
    # Alternating chunks of every format, so host noise falls on all alike.
    chunk = max(1, args.rounds // 4)
    for c in range(4):
        for case, fns in cases.items():
            for label, fn in fns.items():
                with patched(formats[label][1]):
                    for n in range(c * chunk, (c + 1) * chunk):
                        clock.seconds = 0.0
                        start = time.thread_time()
                        out = fn(n)
                        spent = time.thread_time() - start
                        results[case][label].append((spent, clock.seconds, len(out)))
                        last[case, label] = out
    print(
        "| card | format | ms (median CPU) | of which lossy encode | bytes | PSNR dB "
        "| time vs PNG | bytes vs PNG |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for case, per_label in results.items():
        png_ms = statistics.median(t for t, _, _ in per_label["png"]) * 1000
        png_bytes = statistics.median(b for _, _, b in per_label["png"])
        reference_px = np.asarray(
            Image.open(io.BytesIO(last[case, "png"])).convert("RGB"), dtype=np.float64
        )
        for label, samples in per_label.items():
            ms = statistics.median(t for t, _, _ in samples) * 1000
            enc = statistics.median(e for _, e, _ in samples) * 1000
            nbytes = statistics.median(b for _, _, b in samples)
            db = psnr(last[case, label], reference_px) if label != "png" else math.inf
            figures.setdefault(case, {})[label] = {
                "ms": ms,
                "encode_ms": enc,
                "bytes": nbytes,
                "psnr": db,
            }
            print(
                f"| {case} | {label} | {ms:.2f} | {'—' if label == 'png' else f'{enc:.2f}'} "
                f"| {nbytes:,.0f} | "
                f"{'—' if label == 'png' else f'{db:.1f}'} | {ms / png_ms:.2f}x | "
                f"{nbytes / png_bytes:.2f}x |"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    cards.close()


if __name__ == "__main__":
    main()

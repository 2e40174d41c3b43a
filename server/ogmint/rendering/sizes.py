"""Sizes and scale (SPEC §1.1): a template document drawn at the size and pixel ratio asked for.

Templates are drawn in their own logical coordinates (the root's ``viewBox``, 1200×630 for the
og layout); the root's ``width``/``height`` become the image's pixels, so ``scale`` multiplies
everything without touching the renderer. A size whose aspect differs from the document's is
covered (``xMidYMid slice``): scaled to fill and centred, never stretched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final, TypeVar

K = TypeVar("K")

#: Aspect classes (SPEC §1.1: landscape, square, portrait, tall) and the canvas a template
#: document for each is drawn in. A template has a document for ``landscape`` and may have one
#: per other class; a size is drawn from the document of the nearest aspect ratio.
ASPECTS: Final[dict[str, tuple[int, int]]] = {
    "landscape": (1200, 630),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "tall": (1080, 1920),
}
LANDSCAPE: Final = "landscape"
#: The pixels of the default card (``og``): the render timeout is set for an image this large.
OG_PIXELS: Final = 1200 * 630


def nearest(width: int, height: int, canvases: Mapping[K, tuple[int, int]]) -> K:
    """The key of the canvas in ``canvases`` whose ratio is nearest ``width``/``height`` (on a
    log scale, so 2:1 and 1:2 are as far from 1:1); ties go to the earlier one. The one rule
    that picks a template's document for a size, built-in or custom (SPEC §1.1)."""
    ratio = math.log(width / height)
    return min(canvases, key=lambda k: abs(math.log(canvases[k][0] / canvases[k][1]) - ratio))


def nearest_aspect(width: int, height: int, available: tuple[str, ...]) -> str:
    """The aspect class in ``available`` nearest ``width``/``height`` (:func:`nearest`)."""
    return nearest(width, height, {a: ASPECTS[a] for a in available})


def aspect_of(width: int, height: int) -> str:
    """The aspect class a ``width`` × ``height`` image belongs to."""
    return nearest(width, height, ASPECTS)


def timeout_for(timeout: float, width: int, height: int) -> float:
    """The time limit of a render of ``width`` × ``height`` pixels, for a renderer whose limit
    for an ``og`` card is ``timeout``: scaled by the image's pixels over the og card's, never
    less. Rasterising and encoding are linear in pixels, and the template cost model bounds
    work per canvas (scale-free), so story@2x (11× the pixels) gets 11× the time — the same
    bound per pixel, not a tighter one."""
    return timeout * max(1.0, width * height / OG_PIXELS)


_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE_ATTR = re.compile(r'\s(?:width|height|preserveAspectRatio)="[^"]*"')


def resize(svg: str, width: int, height: int, *, cover: bool) -> str:
    """``svg`` with its root's pixel size set to ``width`` × ``height`` (the viewBox stays):
    covered and centred when ``cover``, else the viewBox fills the new size exactly."""
    m = _ROOT.search(svg)
    if m is None:
        return svg
    tag = _SIZE_ATTR.sub("", m[0][:-1]).rstrip("/")
    fit = ' preserveAspectRatio="xMidYMid slice"' if cover else ""
    closing = "/>" if m[0].endswith("/>") else ">"
    return (
        f'{svg[: m.start()]}{tag} width="{width}" height="{height}"{fit}{closing}{svg[m.end() :]}'
    )

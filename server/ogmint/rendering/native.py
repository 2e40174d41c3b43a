"""The one module that imports ``ogmint._native``: fonts, text fitting and rasterisation.

Renders run in a bounded thread pool (the native code releases the GIL), so the event loop
never blocks and a saturated worker answers 503 instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ogmint import _native
from ogmint.errors import SaturatedError

T = TypeVar("T")

#: Debian's packages for what PyPI lacks: CJK and colour emoji.
SYSTEM_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")

RenderError = _native.RenderError
FittedText = _native.FittedText


@dataclass(frozen=True, slots=True)
class FontInfo:
    name: str
    weights: tuple[int, ...]
    variable: bool


def bundled_font_dirs() -> list[str]:
    """Directories of the installed ``fontpkg-*`` families plus the Debian fallback fonts."""
    import fontpkg  # only here: it scans site-packages

    dirs = {str(Path(str(fontpkg.path(name))).parent) for name in fontpkg.families()}
    return sorted(dirs) + [d for d in SYSTEM_FONT_DIRS if Path(d).is_dir()]


class Capacity:
    """How much CPU-heavy work (renders, image decodes) one worker admits at once; beyond it,
    requests are refused with 503 instead of queueing without bound."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._inflight = 0

    def check(self) -> None:
        """Raises :class:`SaturatedError` when nothing more would be admitted right now."""
        if self._inflight >= self._limit:
            raise SaturatedError()

    async def run(self, pool: Executor, fn: Callable[[], T]) -> T:
        """Runs ``fn`` in ``pool`` as one unit of admitted work, or refuses with 503."""
        self.check()
        self._inflight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn)
        finally:
            self._inflight -= 1


class Renderer:
    """Fonts loaded once per process; a bounded pool runs the CPU-heavy work."""

    def __init__(
        self,
        font_dirs: Sequence[str],
        *,
        threads: int,
        queue: int,
        max_svg_bytes: int,
        max_nodes: int,
    ) -> None:
        self._native = _native.Renderer(
            list(font_dirs), max_svg_bytes=max_svg_bytes, max_nodes=max_nodes
        )
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="render")
        self.threads = threads
        #: Shared with the image decoder (``ImageFetcher``): decodes count as renders.
        self.capacity = Capacity(threads + queue)
        self._families = tuple(
            FontInfo(f.name, tuple(f.weights), f.variable) for f in self._native.families()
        )

    @property
    def families(self) -> tuple[FontInfo, ...]:
        return self._families

    def resolve_family(self, name: str) -> str | None:
        """The installed family called ``name`` (case-insensitive), canonically spelled."""
        return self._native.resolve_family(name)

    def fit_text(self, text: str, **box: object) -> FittedText:
        """Fits text into a template box (call from the render pool)."""
        return self._native.fit_text(text, **box)  # type: ignore[arg-type]

    def render_svg(self, svg: str) -> bytes:
        """Rasterises an SVG to PNG (call from the render pool); raises :class:`RenderError`."""
        return self._native.render_svg(svg)

    def render_layers(self, background: str, foreground: str, key: str) -> bytes:
        """Draws ``foreground`` over the cached raster of ``background`` (keyed by ``key``)."""
        return self._native.render_layers(background, foreground, key)

    async def run(self, fn: Callable[[], T]) -> T:
        """Runs ``fn`` in the render pool, or refuses with 503 when the pool and queue are full."""
        return await self.capacity.run(self._pool, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

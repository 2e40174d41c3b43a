"""The one module that imports ``ogmint._native``: fonts, text fitting and rasterisation.

Renders run in a bounded thread pool (the native code releases the GIL), so the event loop
never blocks and a saturated worker answers 503 instead of queueing without bound. Every
rasterisation has a timeout the native renderer enforces itself (it abandons the work with
:class:`RenderTimeoutError`), and a unit of work holds its place in the pool until its thread
has finished, even when the request that wanted it was cancelled meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ogmint import _native
from ogmint.errors import SaturatedError
from ogmint.rendering.formats import Output, encode

T = TypeVar("T")

#: Debian's packages for what PyPI lacks: CJK and colour emoji.
SYSTEM_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")

PNG = Output()

RenderError = _native.RenderError
RenderTimeoutError = _native.RenderTimeoutError
#: A renderer bug (a panic in its parse, layout, raster or encode stage): not a ValueError, so
#: nothing catches it as a refused input and the server answers 500.
RenderInternalError = _native.RenderInternalError
FittedText = _native.FittedText
CacheStats = _native.CacheStats


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
        self._admitted = 0  # only the event loop's thread changes it
        # Only the pool's threads change it, under the lock: a finished unit is given back
        # where it finished, without waking the event loop once more per render (the awaiting
        # task's wake-up is the one the loop needs).
        self._finished = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raises :class:`SaturatedError` when nothing more would be admitted right now."""
        if self.inflight >= self._limit:
            raise SaturatedError()

    @property
    def inflight(self) -> int:
        """Units of work admitted and not finished (running or queued)."""
        return self._admitted - self._finished

    async def run(self, pool: Executor, fn: Callable[[], T]) -> T:
        """Runs ``fn`` in ``pool`` as one unit of admitted work, or refuses with 503.

        The unit is given back when ``fn`` has finished (or was cancelled before it started),
        not when the caller stops waiting: a request timeout cancels the awaiting task, while
        the thread goes on until the render's own timeout stops it.
        """
        self.check()
        self._admitted += 1
        try:
            future = pool.submit(fn)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _: Future[T] | None = None) -> None:
        with self._lock:
            self._finished += 1


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
        timeout: float = 2.0,
    ) -> None:
        self._native = _native.Renderer(
            list(font_dirs), max_svg_bytes=max_svg_bytes, max_nodes=max_nodes
        )
        #: Seconds one rasterisation may take before the renderer abandons it.
        self.timeout = timeout
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
        """Fits text into a template box (call from the render pool); a value the native
        layout cannot take (a weight beyond its integer type) is a :class:`RenderError`."""
        try:
            return self._native.fit_text(text, **box)  # type: ignore[arg-type]
        except (OverflowError, TypeError) as e:
            raise RenderError(f"text box refused: {e}") from e

    def render_svg(self, svg: str, timeout: float | None = None, *, output: Output = PNG) -> bytes:
        """Rasterises an SVG (call from the render pool) within ``timeout`` seconds (default:
        the renderer's), encoded as ``output`` says; raises :class:`RenderError` or
        :class:`RenderTimeoutError`."""
        timeout = self.timeout if timeout is None else timeout
        if not output.lossy:
            return self._native.render_svg(svg, timeout=timeout)
        raw = self._native.render_svg_pixels(svg, matte=output.jpeg_matte, timeout=timeout)
        return encode(raw, output)

    def render_layers(
        self,
        background: str,
        foreground: str,
        key: str,
        timeout: float | None = None,
        *,
        output: Output = PNG,
    ) -> bytes:
        """Draws ``foreground`` over the cached raster of ``background`` (keyed by ``key``),
        within ``timeout`` seconds (default: the renderer's), encoded as ``output`` says."""
        timeout = self.timeout if timeout is None else timeout
        if not output.lossy:
            return self._native.render_layers(background, foreground, key, timeout=timeout)
        raw = self._native.render_layers_pixels(
            background, foreground, key, matte=output.jpeg_matte, timeout=timeout
        )
        return encode(raw, output)

    def cache_stats(self) -> list[tuple[str, CacheStats]]:
        """The glyph and background caches' hits, misses and bytes so far, by cache name."""
        return self._native.cache_stats()

    async def run(self, fn: Callable[[], T]) -> T:
        """Runs ``fn`` in the render pool, or refuses with 503 when the pool and queue are full."""
        return await self.capacity.run(self._pool, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

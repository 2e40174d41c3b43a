"""Stub for the Rust extension (native/src/py.rs), checked by `mypy.stubtest` in `make lint`."""

from typing import final

__all__ = [
    "CacheStats",
    "FittedText",
    "FontFamily",
    "RawImage",
    "RenderError",
    "RenderInternalError",
    "RenderTimeoutError",
    "Renderer",
    "__version__",
]

class RenderError(ValueError):
    """The SVG or layout request was refused or could not be rendered."""

class RenderTimeoutError(RenderError):
    """The render ran past its timeout and was abandoned."""

class RenderInternalError(RuntimeError):
    """The renderer failed (a bug, not the input's fault); the message names the stage."""

@final
class FittedText:
    """Text fitted into a template box."""

    @property
    def svg(self) -> str: ...
    @property
    def font_size(self) -> float: ...
    @property
    def lines(self) -> list[str]: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def height(self) -> float: ...
    @property
    def width(self) -> float: ...

@final
class FontFamily:
    """A font family: name, available weights, whether it is a variable font."""

    @property
    def name(self) -> str: ...
    @property
    def weights(self) -> list[int]: ...
    @property
    def variable(self) -> bool: ...

@final
class RawImage:
    """Straight pixels of a render, for an encoder of another format: 4 bytes a pixel,
    ``mode`` ``RGBX`` (opaque or flattened) or ``RGBA``."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def data(self) -> bytes: ...

@final
class CacheStats:
    """What one of the renderer's caches holds and how it has served since it was made."""

    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def entries(self) -> int: ...
    @property
    def max_bytes(self) -> int: ...

@final
class Renderer:
    """The renderer: fonts loaded once, safe to share between threads."""

    def __new__(
        cls,
        font_dirs: list[str],
        *,
        max_svg_bytes: int | None = None,
        max_nodes: int | None = None,
        max_depth: int | None = None,
        max_side: int | None = None,
    ) -> Renderer: ...
    @property
    def face_count(self) -> int: ...
    def render_svg(self, svg: str | bytes, *, timeout: float | None = None) -> bytes: ...
    def render_layers(
        self,
        background_svg: str | bytes,
        foreground_svg: str | bytes,
        background_key: str,
        *,
        timeout: float | None = None,
    ) -> bytes: ...
    def render_svg_pixels(
        self, svg: str | bytes, *, matte: str | None = None, timeout: float | None = None
    ) -> RawImage: ...
    def render_layers_pixels(
        self,
        background_svg: str | bytes,
        foreground_svg: str | bytes,
        background_key: str,
        *,
        matte: str | None = None,
        timeout: float | None = None,
    ) -> RawImage: ...
    def fit_text(
        self,
        text: str,
        *,
        family: str,
        weight: int,
        x: float,
        y: float,
        width: float,
        height: float,
        max_size: float,
        min_size: float,
        line_height: float = 1.2,
        max_lines: int = 3,
        align: str = "start",
        valign: str = "top",
        fill: str = "#000000",
        letter_spacing: float = 0.0,
        mirror_rtl: bool = True,
    ) -> FittedText: ...
    def cache_stats(self) -> list[tuple[str, CacheStats]]: ...
    def families(self) -> list[FontFamily]: ...
    def resolve_family(self, name: str) -> str | None: ...

__version__: str

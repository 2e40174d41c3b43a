"""One render, top to bottom: parameters → spec → fetched images → SVG → PNG."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import xxhash

from ogmint.errors import RenderFailedError, RenderTimedOutError
from ogmint.metrics import Api, Metrics
from ogmint.rendering.images import ImageFetcher
from ogmint.rendering.native import Renderer, RenderError, RenderTimeoutError
from ogmint.rendering.params import RenderSpec, parse_params
from ogmint.rendering.sizes import resize, timeout_for
from ogmint.rendering.template import FittedLines, Template
from ogmint.tracing import Tracing

#: Custom template ids (SPEC §5.1) start with this; which exist is known only per user.
CUSTOM_PREFIX = "custom_"

#: Largest side fetched images are reduced to before rendering (2x their size on the card).
IMAGE_SIDES = {"avatar": 192, "logo": 480}
#: Part of every ETag, so a renderer upgrade invalidates caches.
RENDER_VERSION = "2"  # 2: balanced wrapping, derived colour tones (issue 22)


def image_sides(template: Template) -> dict[str, int]:
    """Every image field a render with ``template`` may fetch, with the side it is reduced
    to: the built-ins', and the template's own (sized to the boxes it draws them in)."""
    own = {
        f.name: f.side or IMAGE_SIDES["logo"] for f in template.custom_fields if f.kind == "image"
    }
    return {**IMAGE_SIDES, **own}


def render_image(
    renderer: Renderer, template: Template, spec: RenderSpec, images: Mapping[str, bytes]
) -> bytes:
    """Renders a spec with a template, encoded as the spec says (SPEC §1.1): the static
    background comes from the native cache."""
    document = template.document_for(spec.width, spec.height)
    layers = document.layers(spec, images, renderer)
    background, foreground, key = layers.background, layers.foreground, layers.key
    logical_width, logical_height = document.canvas
    if (spec.width, spec.height, spec.scale) != (logical_width, logical_height, 1):
        width, height = spec.pixels
        # A size of another aspect than its document's covers it, centred (SPEC §1.1).
        cover = spec.width * logical_height != spec.height * logical_width
        background = resize(background, width, height, cover=cover)
        foreground = resize(foreground, width, height, cover=cover)
        key = f"{key}:{spec.size}@{spec.scale}"
    timeout = timeout_for(renderer.timeout, *spec.pixels)
    return renderer.render_layers(background, foreground, key, timeout, output=spec.output())


class RenderPipeline:
    """Validates parameters and renders them with a template (built-in or custom)."""

    def __init__(
        self,
        renderer: Renderer,
        fetcher: ImageFetcher,
        metrics: Metrics,
        tracing: Tracing | None = None,
    ) -> None:
        self._tracing = tracing or Tracing()
        self._renderer = renderer
        self._fetcher = fetcher
        self._metrics = metrics

    def close(self) -> None:
        """Stops the image decoding pool."""
        self._fetcher.close()

    def parse(
        self, raw: Mapping[str, object], *, strict: bool, template_exists: Callable[[str], bool]
    ) -> RenderSpec:
        """Validates raw parameters into a spec (400 naming every bad field)."""
        return parse_params(
            raw,
            strict=strict,
            template_exists=template_exists,
            resolve_font=self._renderer.resolve_family,
        )

    @property
    def parallelism(self) -> int:
        """How many renders this worker runs at once (its render pool's threads)."""
        return self._renderer.threads

    def layout(self, spec: RenderSpec, template: Template) -> dict[str, FittedLines]:
        """The text fitting of a render, without fetching, drawing or encoding (a dry run:
        fast enough for the event loop)."""
        return template.document_for(spec.width, spec.height).layout(spec, self._renderer)

    @staticmethod
    def etag(spec: RenderSpec, template: Template) -> str:
        """A strong ETag from everything that determines the image, known before rendering
        (the template's digest is its version: a new version is a new ETag)."""
        digest = template.digest
        return (
            '"' + xxhash.xxh3_128_hexdigest(RENDER_VERSION.encode() + spec.canonical(digest)) + '"'
        )

    async def render(self, spec: RenderSpec, template: Template, *, api: Api) -> bytes:
        """Fetches the spec's images, then renders it with ``template`` in the render pool.

        ``api`` (the caller's API version) labels the render in the metrics.
        """
        sides = image_sides(template)
        wanted = {f: url for f in sides if (url := spec.text(f))}
        kept = {"logo": spec.brand_logo} if spec.brand_logo is not None else {}
        wanted = {f: url for f, url in wanted.items() if f not in kept}  # a brand's is stored
        if wanted:
            self._renderer.capacity.check()  # a saturated worker fetches nothing: 503 first
        fetched = await asyncio.gather(
            *(self._fetch(f, url, sides[f]) for f, url in wanted.items())
        )
        images = {**dict(zip(wanted, fetched, strict=True)), **kept}
        renderer = self._renderer
        # Custom ids are per user: one label for all of them keeps the metrics bounded.
        label = "custom" if spec.template.startswith(CUSTOM_PREFIX) else spec.template
        with (
            self._tracing.span("render", {"ogmint.api": api, "ogmint.template": label}),
            self._metrics.rendering(api, label),
        ):
            try:
                png = await renderer.run(lambda: render_image(renderer, template, spec, images))
            except RenderTimeoutError as e:
                raise RenderTimedOutError() from e
            except (RenderError, ValueError) as e:  # what the checks let through never 500s
                raise RenderFailedError(f"The template could not be rendered: {e}") from e
        self._metrics.observe_caches(renderer.cache_stats())
        return png

    async def _fetch(self, field: str, url: str, side: int) -> bytes:
        # A template's own fields are user-named: one label keeps the span attributes bounded.
        label = field if field in IMAGE_SIDES else "custom"
        with self._tracing.span("fetch", {"ogmint.field": label}):
            return await self._fetcher.fetch_png(field, url, side)

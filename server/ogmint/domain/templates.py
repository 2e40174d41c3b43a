"""The template catalogue: the built-ins and users' custom templates (SPEC §5.1) — which exist,
the one a render names, listing, and upload, version, delete.

An upload is hostile input: it is sanitised, its cost bounded and compiled
(``rendering/template.py``), then rendered with sample content once per distinct combination
of its ``og:if``/``og:unless`` branches — compiling and every render within one time budget,
which the native renderer enforces itself (a render past it is abandoned). The version is the
source's content digest. Renders look up the current version in the shared state on every
request (one read), so after an update answers no app server renders the old one; compiled
templates are cached per worker by version, which never changes meaning, bounded by bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import orjson
from PIL import Image

from ogmint.cache import BoundedCache
from ogmint.clock import now_iso
from ogmint.errors import (
    FieldError,
    TemplateInvalidError,
    TemplateLimitError,
    TemplateNotFoundError,
    TemplateTooLargeError,
    ValidationError,
)
from ogmint.ids import new_id
from ogmint.rendering import params
from ogmint.rendering.images import local_png
from ogmint.rendering.native import FontInfo, Renderer, RenderError, RenderTimeoutError
from ogmint.rendering.palettes import DEFAULT, PALETTES, Colors
from ogmint.rendering.params import IMAGE_FIELDS, PRESETS, RenderSpec, parse_params
from ogmint.rendering.pipeline import CUSTOM_PREFIX, image_sides, render_image
from ogmint.rendering.sizes import ASPECTS, nearest_aspect
from ogmint.rendering.template import (
    Template,
    TemplateError,
    TemplateLimits,
    TemplateTooLarge,
    compile_template,
)
from ogmint.state.templates import TemplateMeta as TemplateMeta
from ogmint.state.templates import TemplateStore

ID_LENGTH = 16
MAX_NAME = 100
DEFAULT_NAME = "Untitled template"
#: The text an upload's test render (and a preview without a title) shows.
SAMPLE = RenderSpec(
    template=CUSTOM_PREFIX + "sample",
    title="A sample title, long enough to wrap onto a second line of the card",
    description="A sample description: every text field is filled for the test render.",
    tag="Sample",
    author="Ada Lovelace",
    avatar=None,
    logo=None,
    font="Inter",
    colors=DEFAULT,
)
#: What the test render shows in a template's own text fields (cut to each one's limit).
SAMPLE_TEXT = "Sample text for a field of the template's own, long enough to wrap once or twice"
#: Where the test render's sample images claim to come from (never fetched).
SAMPLE_IMAGE_URL = "https://ogmint.invalid/sample.png"


@functools.cache
def sample_image() -> bytes:
    """The PNG drawn for every image field in test renders (made once)."""
    out = io.BytesIO()
    Image.new("RGBA", (480, 480), (128, 128, 128, 255)).save(out, "PNG")
    return out.getvalue()


def bind_fields(spec: RenderSpec, template: Template, *, strict: bool) -> RenderSpec:
    """``spec`` holding exactly ``template``'s own fields it gives, each validated (SPEC
    §1.2): a name the template does not declare is ignored, or with ``strict`` a 400."""
    return params.bind_fields(spec, [f.rule() for f in template.custom_fields], strict=strict)


def field_entries(template: Template) -> list[dict[str, object]]:
    """The template's fields as ``GET /api/templates`` and ``T`` list them: ``name``,
    ``type`` (``text`` or ``image``), ``required``, ``maxLength`` (text; null for images) and
    ``custom`` (the template's own field, SPEC §1.2)."""
    return [
        {
            "name": f.name,
            "type": f.kind,
            "required": f.required,
            "maxLength": f.max_length,
            "custom": f.custom,
        }
        for f in template.fields
    ]


def _sample_fields(template: Template, absent: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (f.name, SAMPLE_IMAGE_URL if f.kind == "image" else SAMPLE_TEXT[: f.max_length])
            for f in template.custom_fields
            if f.name not in absent
        )
    )


def sample_renders(template: Template) -> Iterator[tuple[RenderSpec, dict[str, bytes]]]:
    """The sample content once per combination of the fields the template's branches depend
    on (present or absent), everything present first; at most 2⁸ (the compiler bounds the
    fields conditions may depend on)."""
    varied = sorted(template.condition_fields() - {"title"})  # the title is always present
    for absent in itertools.chain.from_iterable(
        itertools.combinations(varied, n) for n in range(len(varied) + 1)
    ):
        spec = dataclasses.replace(
            SAMPLE,
            description=None if "description" in absent else SAMPLE.description,
            tag=None if "tag" in absent else SAMPLE.tag,
            author=None if "author" in absent else SAMPLE.author,
            avatar=None if "avatar" in absent else SAMPLE_IMAGE_URL,
            logo=None if "logo" in absent else SAMPLE_IMAGE_URL,
            fields=_sample_fields(template, absent),
        )
        images = {f: sample_image() for f in IMAGE_FIELDS if f not in absent}
        images |= {
            f.name: sample_image()
            for f in template.custom_fields
            if f.kind == "image" and f.name not in absent
        }
        yield spec, images


#: Presets a custom template's 1200×630 document draws (cover-scaled: the same aspect class);
#: the others need a document of their own (SPEC §5.1).
LANDSCAPE_PRESETS = frozenset(["og", "twitter", "linkedin"])


def check_size(template: Template, spec: RenderSpec) -> None:
    """A custom template renders the presets it has documents for, and any ``WIDTHxHEIGHT``
    from its nearest aspect's document; another preset is a 400 naming ``size``. Built-ins
    are laid out (or fall back) for every size."""
    if not template.name.startswith(CUSTOM_PREFIX) or spec.size not in PRESETS:
        return
    has = {a for a, _ in template.layouts}
    if (
        spec.size in LANDSCAPE_PRESETS
        or nearest_aspect(spec.width, spec.height, tuple(ASPECTS)) in has
    ):
        return
    supported = sorted(
        LANDSCAPE_PRESETS
        | {p for p in PRESETS if nearest_aspect(*PRESETS[p], tuple(ASPECTS)) in has}
    )
    raise ValidationError(
        f"size: template {template.name!r} has no {spec.size} document",
        [
            FieldError(
                "size",
                f"this template has no document for {spec.size!r}; it supports "
                f"{', '.join(supported)} and WIDTHxHEIGHT",
            )
        ],
    )


def fields_json(template: Template) -> str:
    """The template's fields as ``GET /api/templates`` shows them."""
    return orjson.dumps(field_entries(template)).decode()


@dataclass(frozen=True, slots=True)
class CustomTemplateSettings:
    limits: TemplateLimits
    max_per_user: int
    render_budget: float  # seconds an upload's check (compile + test renders) may take
    cache_bytes: int  # bytes of compiled templates kept per worker


def compile_upload(
    renderer: Renderer, settings: CustomTemplateSettings, name: str, source: str
) -> Template:
    """Sanitises and compiles a custom template (no test render): the template, or a typed
    400/413 whose message says what and where."""
    try:
        return compile_template(
            name, source.encode(), settings.limits, custom=True, fonts=renderer.resolve_family
        )
    except TemplateTooLarge as e:
        raise TemplateTooLargeError(str(e)) from e
    except TemplateError as e:
        raise TemplateInvalidError.field("svg", str(e)) from e


def check_upload(
    renderer: Renderer, settings: CustomTemplateSettings, name: str, source: str
) -> Template:
    """Compiles and test-renders every branch combination (call in the render pool), all
    within the budget: the template, or a typed 400/413."""
    if len(source) > settings.limits.max_bytes:  # characters ≤ bytes: cheap first
        raise TemplateTooLargeError(f"template is larger than {settings.limits.max_bytes} bytes")
    budget = settings.render_budget
    deadline = time.perf_counter() + budget
    too_slow = TemplateInvalidError.field(
        "svg", f"the test render took longer than the {budget:g} s allowed"
    )
    template = compile_upload(renderer, settings, name, source)
    drawn: set[str] = set()
    for spec, images in sample_renders(template):
        try:
            layers = template.layers(spec, images, renderer)
            if layers.foreground in drawn:
                continue  # another combination drew the same document
            drawn.add(layers.foreground)
            left = deadline - time.perf_counter()
            if left <= 0:
                raise too_slow
            # As renders draw it: the background cached, the branches in the foreground.
            renderer.render_layers(layers.background, layers.foreground, layers.key, timeout=left)
        except RenderTimeoutError as e:
            raise too_slow from e
        except (RenderError, ValueError) as e:
            raise TemplateInvalidError.field("svg", f"the test render failed: {e}") from e
    if time.perf_counter() > deadline:
        raise too_slow
    return template


class TemplateCatalogue:
    """The built-in templates and, on top of them, users' own."""

    def __init__(
        self,
        store: TemplateStore,
        renderer: Renderer,
        builtins: Mapping[str, Template],
        settings: CustomTemplateSettings,
        forget_images: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """``forget_images(template_id)`` drops a deleted template's cached images."""
        self._store = store
        self._forget_images = forget_images
        self._renderer = renderer
        self._builtins = dict(builtins)
        self._settings = settings
        # version → compiled template: a version never changes meaning; bounded by bytes
        self._compiled: BoundedCache[str, Template] = BoundedCache(
            None, max_weight=settings.cache_bytes, weigh=Template.size
        )

    @property
    def cache(self) -> BoundedCache[str, Template]:
        """The compiled templates kept by version (for the metrics)."""
        return self._compiled

    # -- what exists ----------------------------------------------------------------------------
    @property
    def builtins(self) -> Sequence[Template]:
        """The built-in templates, in their directory's order."""
        return list(self._builtins.values())

    @property
    def fonts(self) -> Sequence[FontInfo]:
        """The font families templates may name."""
        return self._renderer.families

    @property
    def palettes(self) -> Mapping[str, Colors]:
        """The named colour palettes a render may ask for."""
        return PALETTES

    def exists(self, name: str) -> bool:
        """Whether ``name`` may name a template: a built-in, or any custom id (which exist is
        known only per user, at :meth:`resolve`)."""
        return name in self._builtins or name.startswith(CUSTOM_PREFIX)

    # -- renders ------------------------------------------------------------------------------
    async def resolve(self, user: str | None, name: str) -> Template:
        """The template a render names: a built-in, or ``user``'s custom template at its current
        version. Anyone else's, unknown or deleted (or no user: anonymous V1) → 404."""
        builtin = self._builtins.get(name)
        if builtin is not None:
            return builtin
        missing = TemplateNotFoundError(details=[FieldError("template", f"no template {name!r}")])
        if user is None or not name.startswith(CUSTOM_PREFIX):
            raise missing
        version = await self._store.template_version(user, name)
        if version is None:
            raise missing
        cached = self._compiled.get(version)
        if cached is not None:
            return cached
        found = await self._store.get_template(user, name)
        if found is None:
            raise missing
        meta, source = found
        # Stored sources passed every check at upload: compile only (no test render).
        template = await self._renderer.run(lambda: self._compile(meta.id, source))
        self._remember(template)
        return template

    def _remember(self, template: Template) -> None:
        self._compiled.put(template.digest, template)

    # -- uploads ------------------------------------------------------------------------------
    def _compile(self, name: str, source: str) -> Template:
        return compile_upload(self._renderer, self._settings, name, source)

    def _check(self, name: str, source: str) -> Template:
        return check_upload(self._renderer, self._settings, name, source)

    async def check(self, source: str) -> Template:
        """An unsaved template, checked as an upload is (previews)."""
        return await self._renderer.run(lambda: self._check(CUSTOM_PREFIX + "preview", source))

    async def create(self, user: str, source: str, name: str | None) -> TemplateMeta:
        template_id = new_id(CUSTOM_PREFIX, ID_LENGTH)
        template = await self._renderer.run(lambda: self._check(template_id, source))
        stamp = now_iso()
        meta = TemplateMeta(
            template_id,
            user,
            name or DEFAULT_NAME,
            template.digest,
            fields_json(template),
            stamp,
            stamp,
        )
        if not await self._store.create_template(meta, source, self._settings.max_per_user):
            raise TemplateLimitError(
                f"A user may have at most {self._settings.max_per_user} custom templates"
            )
        self._remember(template)
        return meta

    async def update(
        self, user: str, template_id: str, source: str, name: str | None
    ) -> TemplateMeta:
        current = await self._store.get_template(user, template_id)
        if current is None:
            raise TemplateNotFoundError()
        template = await self._renderer.run(lambda: self._check(template_id, source))
        stamp = now_iso()
        meta = TemplateMeta(
            template_id,
            user,
            name or current[0].name,
            template.digest,
            fields_json(template),
            current[0].created_at,
            stamp,
        )
        stored = await self._store.update_template(meta, source)
        if stored is None:  # deleted meanwhile
            raise TemplateNotFoundError()
        self._remember(template)
        return stored

    async def delete(self, user: str, template_id: str) -> None:
        if not await self._store.delete_template(user, template_id):
            raise TemplateNotFoundError()
        if self._forget_images is not None:
            await self._forget_images(template_id)  # SPEC §2: its images leave the cache

    async def get(self, user: str, template_id: str) -> tuple[TemplateMeta, str]:
        found = await self._store.get_template(user, template_id)
        if found is None:
            raise TemplateNotFoundError()
        return found

    async def list(self, user: str) -> list[TemplateMeta]:
        return await self._store.list_templates(user)


#: What stands in for a local image file's URL in a preview's parameters (never fetched).
LOCAL_IMAGE_URL = "https://ogmint.invalid/local/"


def preview_local(
    renderer: Renderer,
    settings: CustomTemplateSettings,
    source: str,
    raw: Mapping[str, str],
    read: Callable[[str], bytes],
    *,
    max_pixels: int,
) -> bytes:
    """A template author's preview (``ogmint preview``): ``source`` checked exactly as an
    upload is (sanitiser, compile, test renders), then drawn with the ``raw`` render
    parameters and the template's own fields — an image field's value is a local file,
    ``read`` gives its bytes (re-encoded as a fetched image is). The PNG, or the typed 400
    an upload or a V2 render would get."""
    template = check_upload(renderer, settings, CUSTOM_PREFIX + "preview", source)
    sides = image_sides(template)
    files = {name: read(path) for name, path in raw.items() if name in sides and path}
    given = {"template": template.name, "title": SAMPLE.title, **raw}
    given |= {name: LOCAL_IMAGE_URL + name for name in files}
    spec = parse_params(
        given, strict=True, template_exists=lambda _: True, resolve_font=renderer.resolve_family
    )
    spec = bind_fields(spec, template, strict=True)
    images = {name: local_png(name, data, sides[name], max_pixels) for name, data in files.items()}
    return render_image(renderer, template, spec, images)

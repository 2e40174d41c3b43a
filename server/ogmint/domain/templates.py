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
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
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
from ogmint.rendering.params import DEFAULT_SIZE, IMAGE_FIELDS, PRESETS, RenderSpec, parse_params
from ogmint.rendering.pipeline import CUSTOM_PREFIX, image_sides, render_image
from ogmint.rendering.sizes import aspect_of
from ogmint.rendering.template import (
    FieldInfo,
    Template,
    TemplateError,
    TemplateLimits,
    TemplateTooLarge,
    compile_template,
)
from ogmint.state.templates import TemplateMeta as TemplateMeta
from ogmint.state.templates import TemplateSource as TemplateSource
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


#: The presets an upload's ``sizes`` may carry a document for (``og``'s is ``svg``).
SIZE_PRESETS = tuple(p for p in PRESETS if p != DEFAULT_SIZE)


def supported_sizes(documents: Iterable[str]) -> list[str]:
    """The presets a custom template renders, given the presets it has documents for besides
    ``og``: each preset of an aspect class (``rendering/sizes``) one of its documents is laid
    out for — so ``og``, ``twitter`` and ``linkedin`` always (from the og document unless it
    has their own, cover-scaled), ``square``, ``portrait``, ``story`` with a document of their
    own (SPEC §5.1). Any ``WIDTHxHEIGHT`` renders too, from the nearest aspect's document."""
    classes = {aspect_of(*PRESETS[p]) for p in (DEFAULT_SIZE, *documents)}
    return [p for p in PRESETS if aspect_of(*PRESETS[p]) in classes]


def template_sizes(meta: TemplateMeta) -> list[str]:
    """The presets a stored custom template renders (``T``'s ``sizes``)."""
    return supported_sizes(orjson.loads(meta.sizes))


def check_size(template: Template, spec: RenderSpec) -> None:
    """A custom template renders the presets :func:`supported_sizes` says, and any
    ``WIDTHxHEIGHT`` from its nearest aspect's document; another preset is a 400 naming
    ``size``. Built-ins are laid out (or fall back) for every size."""
    if not template.name.startswith(CUSTOM_PREFIX) or spec.size not in PRESETS:
        return
    supported = supported_sizes(preset for preset, _ in template.layouts)
    if spec.size in supported:
        return
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


def sizes_json(template: Template) -> str:
    """The presets ``template`` has documents of its own for, besides og (as stored)."""
    return orjson.dumps([preset for preset, _ in template.layouts]).decode()


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
    renderer: Renderer,
    settings: CustomTemplateSettings,
    name: str,
    source: str,
    *,
    canvas: tuple[int, int] = PRESETS[DEFAULT_SIZE],
    field: str = "svg",
) -> Template:
    """Sanitises and compiles one document of a custom template (no test render), laid out
    for ``canvas``: the template, or a typed 400/413 naming ``field`` and saying what and
    where."""
    if len(source) > settings.limits.max_bytes:  # characters ≤ bytes: cheap first
        too_large = f"the document is larger than {settings.limits.max_bytes} bytes"
        raise TemplateTooLargeError(f"{field}: {too_large}", [FieldError(field, too_large)])
    try:
        return compile_template(
            name,
            source.encode(),
            settings.limits,
            custom=True,
            canvas=canvas,
            fonts=renderer.resolve_family,
        )
    except TemplateTooLarge as e:
        raise TemplateTooLargeError(f"{field}: {e}", [FieldError(field, str(e))]) from e
    except TemplateError as e:
        raise TemplateInvalidError.field(field, str(e)) from e


def _documents(source: TemplateSource) -> list[tuple[str, str | None, str]]:
    """The upload's documents as ``(field, preset, text)``: ``svg`` (og's, preset None) then
    one per preset of ``sizes`` in the presets' order; an unknown preset is a 400."""
    for preset in source.sizes:
        if preset not in SIZE_PRESETS:
            why = (
                "the og document is the upload's svg"
                if preset == DEFAULT_SIZE
                else f"unknown size: one of {', '.join(SIZE_PRESETS)}"
            )
            raise TemplateInvalidError.field(f"sizes.{preset}", why)
    sized = [(f"sizes.{p}", p, source.sizes[p]) for p in SIZE_PRESETS if p in source.sizes]
    return [("svg", None, source.svg), *sized]


def _field_line(source: str, name: str) -> str:
    """``line N, `` of the first element showing field ``name`` (for an error), or ``""``."""
    found = re.search(rf"""\bfield\s*=\s*["']{re.escape(name)}["']""", source)
    return f"line {source.count(chr(10), 0, found.start()) + 1}, " if found else ""


def _same_fields(documents: Sequence[tuple[str, str, Template]]) -> None:
    """Every field shown by several documents of one template means the same in each: kind
    and limit (a render binds one value to all of them); else a 400 naming the document."""
    seen: dict[str, tuple[str, FieldInfo]] = {}
    for where, text, doc in documents:
        for f in doc.fields:
            first = seen.setdefault(f.name, (where, f))
            other = first[1]
            if (f.kind, f.max_length) != (other.kind, other.max_length):
                limit = f" limit {other.max_length}" if other.kind == "text" else ""
                raise TemplateInvalidError.field(
                    where,
                    f"{_field_line(text, f.name)}field {f.name!r} must be as in {first[0]}: "
                    f"{other.kind}{limit}",
                )


def compile_source(
    renderer: Renderer, settings: CustomTemplateSettings, name: str, source: TemplateSource
) -> Template:
    """Sanitises and compiles every document of a custom template (no test render): the
    template — its og document with the others as layouts, each laid out for its preset's
    canvas — or a typed 400/413 naming the document (``svg``, ``sizes.square`` …)."""
    documents = [
        (
            field,
            text,
            preset,
            compile_upload(
                renderer, settings, name, text, canvas=PRESETS[preset or DEFAULT_SIZE], field=field
            ),
        )
        for field, preset, text in _documents(source)
    ]
    _same_fields([(field, text, doc) for field, text, _, doc in documents])
    main = documents[0][3]
    layouts = {preset: doc for _, _, preset, doc in documents if preset is not None}
    return main.with_layouts(layouts) if layouts else main


def check_upload(
    renderer: Renderer, settings: CustomTemplateSettings, name: str, source: TemplateSource
) -> Template:
    """Compiles and test-renders every branch combination of every document (call in the
    render pool), all within the one budget: the template, or a typed 400/413 naming the
    document."""
    budget = settings.render_budget
    deadline = time.perf_counter() + budget
    template = compile_source(renderer, settings, name, source)
    fields = ["svg", *(f"sizes.{preset}" for preset, _ in template.layouts)]
    documents = [template, *(doc for _, doc in template.layouts)]
    for field, document in zip(fields, documents, strict=True):
        _test_render(renderer, document, field, deadline, budget)
    if time.perf_counter() > deadline:
        raise _too_slow(fields[-1], budget)
    return template


def _too_slow(field: str, budget: float) -> ValidationError:
    return TemplateInvalidError.field(
        field, f"the test render took longer than the {budget:g} s allowed"
    )


def _test_render(
    renderer: Renderer, template: Template, field: str, deadline: float, budget: float
) -> None:
    """Renders one document with the sample content once per branch combination, until
    ``deadline``; a failure or overrun is a 400 naming ``field``."""
    drawn: set[str] = set()
    for spec, images in sample_renders(template):
        try:
            layers = template.layers(spec, images, renderer)
            if layers.foreground in drawn:
                continue  # another combination drew the same document
            drawn.add(layers.foreground)
            left = deadline - time.perf_counter()
            if left <= 0:
                raise _too_slow(field, budget)
            # As renders draw it: the background cached, the branches in the foreground.
            renderer.render_layers(layers.background, layers.foreground, layers.key, timeout=left)
        except RenderTimeoutError as e:
            raise _too_slow(field, budget) from e
        except (RenderError, ValueError) as e:
            raise TemplateInvalidError.field(field, f"the test render failed: {e}") from e


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
        # Stored sources passed every check at upload: compile only (no test renders).
        template = await self._renderer.run(lambda: self._compile(meta.id, source))
        self._remember(template)
        return template

    def _remember(self, template: Template) -> None:
        self._compiled.put(template.digest, template)

    # -- uploads ------------------------------------------------------------------------------
    def _compile(self, name: str, source: TemplateSource) -> Template:
        return compile_source(self._renderer, self._settings, name, source)

    def _check(self, name: str, source: TemplateSource) -> Template:
        return check_upload(self._renderer, self._settings, name, source)

    async def check(self, source: TemplateSource) -> Template:
        """An unsaved template, checked as an upload is (previews)."""
        return await self._renderer.run(lambda: self._check(CUSTOM_PREFIX + "preview", source))

    async def create(self, user: str, source: TemplateSource, name: str | None) -> TemplateMeta:
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
            sizes_json(template),
        )
        if not await self._store.create_template(meta, source, self._settings.max_per_user):
            raise TemplateLimitError(
                f"A user may have at most {self._settings.max_per_user} custom templates"
            )
        self._remember(template)
        return meta

    async def update(
        self, user: str, template_id: str, source: TemplateSource, name: str | None
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
            sizes_json(template),
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

    async def get(self, user: str, template_id: str) -> tuple[TemplateMeta, TemplateSource]:
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
    source: TemplateSource,
    raw: Mapping[str, str],
    read: Callable[[str], bytes],
    *,
    max_pixels: int,
) -> bytes:
    """A template author's preview (``ogmint preview``): ``source`` (with its size documents)
    checked exactly as an upload is (sanitiser, compile, test renders), then drawn with the
    ``raw`` render parameters (``size`` as for a stored template) and the template's own
    fields — an image field's value is a local file, ``read`` gives its bytes (re-encoded as
    a fetched image is). The PNG, or the typed 400 an upload or a V2 render would get."""
    template = check_upload(renderer, settings, CUSTOM_PREFIX + "preview", source)
    sides = image_sides(template)
    files = {name: read(path) for name, path in raw.items() if name in sides and path}
    given = {"template": template.name, "title": SAMPLE.title, **raw}
    given |= {name: LOCAL_IMAGE_URL + name for name in files}
    spec = parse_params(
        given, strict=True, template_exists=lambda _: True, resolve_font=renderer.resolve_family
    )
    spec = bind_fields(spec, template, strict=True)
    check_size(template, spec)
    images = {name: local_png(name, data, sides[name], max_pixels) for name, data in files.items()}
    return render_image(renderer, template, spec, images)

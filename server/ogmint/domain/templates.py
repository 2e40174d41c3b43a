"""The template catalogue: the built-ins and users' custom templates (SPEC §5.1) — which exist,
the one a render names, listing, and upload, version, delete.

An upload is hostile input: it is sanitised and compiled (``rendering/template.py``), then
rendered once with sample text within a time budget. The version is the source's content
digest. Renders look up the current version in the shared state on every request (one read),
so after an update answers no app server renders the old one; compiled templates are cached
per worker by version, which never changes meaning.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from ogmint.cache import BoundedCache
from ogmint.clock import now_iso
from ogmint.errors import (
    FieldError,
    TemplateInvalidError,
    TemplateLimitError,
    TemplateNotFoundError,
    TemplateTooLargeError,
)
from ogmint.ids import new_id
from ogmint.rendering.native import FontInfo, Renderer, RenderError
from ogmint.rendering.palettes import DEFAULT, PALETTES, Colors
from ogmint.rendering.params import RenderSpec
from ogmint.rendering.pipeline import CUSTOM_PREFIX
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


def fields_json(template: Template) -> str:
    """The template's fields as ``GET /api/templates`` shows them."""
    return orjson.dumps(
        [
            {"name": f.name, "type": f.kind, "required": f.required, "maxLength": f.max_length}
            for f in template.fields
        ]
    ).decode()


@dataclass(frozen=True, slots=True)
class CustomTemplateSettings:
    limits: TemplateLimits
    max_per_user: int
    render_budget: float  # seconds the upload's test render may take
    cache_entries: int  # compiled templates kept per worker


class TemplateCatalogue:
    """The built-in templates and, on top of them, users' own."""

    def __init__(
        self,
        store: TemplateStore,
        renderer: Renderer,
        builtins: Mapping[str, Template],
        settings: CustomTemplateSettings,
    ) -> None:
        self._store = store
        self._renderer = renderer
        self._builtins = dict(builtins)
        self._settings = settings
        # version → compiled template: a version never changes meaning
        self._compiled: BoundedCache[str, Template] = BoundedCache(settings.cache_entries)

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
        try:
            return compile_template(name, source.encode(), self._settings.limits, custom=True)
        except TemplateTooLarge as e:
            raise TemplateTooLargeError(str(e)) from e
        except TemplateError as e:
            raise TemplateInvalidError.field("svg", str(e)) from e

    def _check(self, name: str, source: str) -> Template:
        """Compiles and test-renders (in the render pool): the template, or a typed 400/413."""
        if len(source) > self._settings.limits.max_bytes:  # characters ≤ bytes: cheap first
            raise TemplateTooLargeError(
                f"template is larger than {self._settings.limits.max_bytes} bytes"
            )
        template = self._compile(name, source)
        started = time.perf_counter()
        try:
            self._renderer.render_svg(template.render(SAMPLE, {}, self._renderer))
        except (RenderError, ValueError) as e:
            raise TemplateInvalidError.field("svg", f"the test render failed: {e}") from e
        took = time.perf_counter() - started
        budget = self._settings.render_budget
        if took > budget:
            raise TemplateInvalidError.field(
                "svg", f"the test render took {took:.2f} s, more than the {budget:g} s allowed"
            )
        return template

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

    async def get(self, user: str, template_id: str) -> tuple[TemplateMeta, str]:
        found = await self._store.get_template(user, template_id)
        if found is None:
            raise TemplateNotFoundError()
        return found

    async def list(self, user: str) -> list[TemplateMeta]:
        return await self._store.list_templates(user)

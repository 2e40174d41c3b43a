"""The templates aggregate: users' custom templates, their current version and source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TemplateMeta:
    """A custom template as listed (no source)."""

    id: str
    owner: str  # the user: every key of the user may use, update and delete it
    name: str
    version: str  # the source's content digest
    fields: str  # JSON of the compiled template's fields, computed at upload
    created_at: str
    updated_at: str
    #: JSON list of the presets it has a document of its own for, besides ``og`` (SPEC §5.1)
    sizes: str = "[]"


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """A custom template's documents as uploaded: the og one and one per other preset."""

    svg: str
    sizes: Mapping[str, str] = field(default_factory=dict)  # preset → its document


class TemplateStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time.

    Templates are looked up by owner and id together: another user's id does not exist.
    """

    async def create_template(self, meta: TemplateMeta, source: TemplateSource, limit: int) -> bool:
        """Stores a new template; False (nothing written) if the owner already has ``limit``."""

    async def update_template(
        self, meta: TemplateMeta, source: TemplateSource
    ) -> TemplateMeta | None:
        """Replaces name, version, fields, sizes, source (all its documents) and updated_at of
        an existing template (its ``created_at`` stays); the stored meta, or None if the owner
        has no such template."""

    async def delete_template(self, owner: str, template_id: str) -> bool:
        """Deletes the template; False if the owner has no such template."""

    async def get_template(
        self, owner: str, template_id: str
    ) -> tuple[TemplateMeta, TemplateSource] | None:
        """The template and its source."""

    async def list_templates(self, owner: str) -> list[TemplateMeta]:
        """The owner's templates, newest first."""

    async def template_version(self, owner: str, template_id: str) -> str | None:
        """The current version (the render path's one lookup), or None."""

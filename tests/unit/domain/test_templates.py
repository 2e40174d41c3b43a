"""TemplateCatalogue (the domain of SPEC §5.1) on a real SQLite state and the real renderer:
resolution by owner and current version, and the per-worker compiled cache's bound."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ogmint.domain.templates import CustomTemplateSettings, TemplateCatalogue
from ogmint.errors import TemplateInvalidError, TemplateLimitError, TemplateNotFoundError
from ogmint.rendering.native import Renderer
from ogmint.rendering.template import TemplateLimits, load_directory
from ogmint.state.sqlite import sqlite_state

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).resolve().parents[3]
LAUNCH = (ROOT / "templates" / "examples" / "launch-card.svg").read_text()


def variant(n: int) -> str:
    return LAUNCH.replace('max-size="68"', f'max-size="{60 + n}"')


@pytest.fixture
async def service(tmp_path: Path, renderer: Renderer) -> AsyncIterator[TemplateCatalogue]:
    state = sqlite_state(tmp_path / "state.db")
    await state.open()
    settings = CustomTemplateSettings(
        TemplateLimits(), max_per_user=4, render_budget=5.0, cache_entries=2
    )
    yield TemplateCatalogue(state.templates, renderer, load_directory(ROOT / "templates"), settings)
    await state.close()


async def test_resolve_by_owner_at_the_current_version(service: TemplateCatalogue) -> None:
    assert (await service.resolve(None, "blog")).name == "blog"  # built-ins for anyone
    meta = await service.create("alice", LAUNCH, "Launch")
    assert (await service.resolve("alice", meta.id)).digest == meta.version
    for user in ("bob", None):
        with pytest.raises(TemplateNotFoundError):
            await service.resolve(user, meta.id)
    updated = await service.update("alice", meta.id, variant(1), None)
    assert updated.version != meta.version and updated.name == "Launch"
    assert (await service.resolve("alice", meta.id)).digest == updated.version
    await service.delete("alice", meta.id)
    with pytest.raises(TemplateNotFoundError):
        await service.resolve("alice", meta.id)


async def test_compiled_cache_is_bounded(service: TemplateCatalogue) -> None:
    metas = [await service.create("alice", variant(n), None) for n in range(4)]
    for meta in metas * 2:
        assert (await service.resolve("alice", meta.id)).digest == meta.version
    assert len(service._compiled) == 2  # the bound (cache_entries), not one per version


async def test_refusals_are_typed(service: TemplateCatalogue) -> None:
    with pytest.raises(TemplateInvalidError) as refused:
        await service.create("alice", LAUNCH.replace("<rect", "<script/><rect", 1), None)
    assert refused.value.details[0].field == "svg"
    assert "line" in refused.value.details[0].message
    for n in range(4):
        await service.create("alice", variant(n), None)
    with pytest.raises(TemplateLimitError):
        await service.create("alice", LAUNCH, None)


async def test_the_test_render_has_a_time_budget(tmp_path: Path, renderer: Renderer) -> None:
    state = sqlite_state(tmp_path / "budget.db")
    await state.open()
    try:
        settings = CustomTemplateSettings(
            TemplateLimits(), max_per_user=4, render_budget=1e-6, cache_entries=2
        )
        strict = TemplateCatalogue(state.templates, renderer, {}, settings)
        with pytest.raises(TemplateInvalidError, match="the test render took"):
            await strict.create("alice", LAUNCH, None)
        assert await state.templates.list_templates("alice") == []
    finally:
        await state.close()


async def test_the_catalogue_knows_what_exists(service: TemplateCatalogue) -> None:
    names = [t.name for t in service.builtins]
    assert "blog" in names and "minimal" in names
    assert service.exists("blog") and service.exists("custom_anything")  # owners checked later
    assert not service.exists("nope")
    assert "Inter" in [f.name for f in service.fonts]
    assert "midnight" in service.palettes

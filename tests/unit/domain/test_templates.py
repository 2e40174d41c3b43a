"""TemplateCatalogue (the domain of SPEC §5.1) on a real SQLite state and the real renderer:
resolution by owner and current version, and the per-worker compiled cache's bound."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ogmint.domain import templates as catalogue
from ogmint.domain.templates import (
    CustomTemplateSettings,
    TemplateCatalogue,
    TemplateSource,
    sample_renders,
)
from ogmint.errors import TemplateInvalidError, TemplateLimitError, TemplateNotFoundError
from ogmint.rendering.cost import CostLimits
from ogmint.rendering.native import Renderer
from ogmint.rendering.template import Template, TemplateLimits, compile_template, load_directory
from ogmint.state.sqlite import sqlite_state

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).resolve().parents[3]
LAUNCH = (ROOT / "templates" / "examples" / "launch-card.svg").read_text()


def variant(n: int) -> str:
    return LAUNCH.replace('max-size="68"', f'max-size="{60 + n}"')


#: Room for two compiled variants, not three.
CACHE_BYTES = compile_template("x", variant(0).encode(), custom=True).size() * 5 // 2


@pytest.fixture
async def service(tmp_path: Path, renderer: Renderer) -> AsyncIterator[TemplateCatalogue]:
    state = sqlite_state(tmp_path / "state.db")
    await state.open()
    settings = CustomTemplateSettings(
        TemplateLimits(), max_per_user=4, render_budget=5.0, cache_bytes=CACHE_BYTES
    )
    yield TemplateCatalogue(state.templates, renderer, load_directory(ROOT / "templates"), settings)
    await state.close()


async def test_resolve_by_owner_at_the_current_version(service: TemplateCatalogue) -> None:
    assert (await service.resolve(None, "blog")).name == "blog"  # built-ins for anyone
    meta = await service.create("alice", TemplateSource(LAUNCH), "Launch")
    assert (await service.resolve("alice", meta.id)).digest == meta.version
    for user in ("bob", None):
        with pytest.raises(TemplateNotFoundError):
            await service.resolve(user, meta.id)
    updated = await service.update("alice", meta.id, TemplateSource(variant(1)), None)
    assert updated.version != meta.version and updated.name == "Launch"
    assert (await service.resolve("alice", meta.id)).digest == updated.version
    await service.delete("alice", meta.id)
    with pytest.raises(TemplateNotFoundError):
        await service.resolve("alice", meta.id)


async def test_compiled_cache_is_bounded(service: TemplateCatalogue) -> None:
    metas = [await service.create("alice", TemplateSource(variant(n)), None) for n in range(4)]
    for meta in metas * 2:
        assert (await service.resolve("alice", meta.id)).digest == meta.version
    assert len(service._compiled) == 2  # the bound (cache_bytes), not one per version
    assert service._compiled._weight <= CACHE_BYTES


async def test_refusals_are_typed(service: TemplateCatalogue) -> None:
    with pytest.raises(TemplateInvalidError) as refused:
        await service.create(
            "alice", TemplateSource(LAUNCH.replace("<rect", "<script/><rect", 1)), None
        )
    assert refused.value.details[0].field == "svg"
    assert "line" in refused.value.details[0].message
    for n in range(4):
        await service.create("alice", TemplateSource(variant(n)), None)
    with pytest.raises(TemplateLimitError):
        await service.create("alice", TemplateSource(LAUNCH), None)


async def test_the_test_render_has_a_time_budget(tmp_path: Path, renderer: Renderer) -> None:
    state = sqlite_state(tmp_path / "budget.db")
    await state.open()
    try:
        settings = CustomTemplateSettings(
            TemplateLimits(), max_per_user=4, render_budget=1e-6, cache_bytes=CACHE_BYTES
        )
        strict = TemplateCatalogue(state.templates, renderer, {}, settings)
        with pytest.raises(TemplateInvalidError, match="the test render took"):
            await strict.create("alice", TemplateSource(LAUNCH), None)
        assert await state.templates.list_templates("alice") == []
    finally:
        await state.close()


#: A filtered full-canvas rectangle: the cost model (raised below) would let many through.
SLOW = (
    '<defs><filter id="slow" x="-10%" y="-10%" width="120%" height="120%">'
    '<feGaussianBlur stdDeviation="8"/><feOffset dx="4" dy="4"/></filter></defs>'
    + '<rect width="1200" height="630" fill="#3a6fc4" filter="url(#slow)"/>'
    * 12
)
LENIENT = TemplateLimits(cost=CostLimits(max_filter_work=1e6, max_paint=1e6))


def node_time(renderer: Renderer) -> float:
    """What drawing one of SLOW's rectangles takes on this machine now (best of two)."""
    one = SLOW[: SLOW.index("/>", SLOW.index("<rect")) + 2]
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630">{one}</svg>'
    times = []
    for _ in range(2):
        started = time.perf_counter()
        renderer.render_svg(svg, timeout=60)
        times.append(time.perf_counter() - started)
    return min(times)


def branch(attribute: str) -> str:
    """The launch card with the slow art drawn only when ``attribute`` holds."""
    return LAUNCH.replace("</svg>", f"<g {attribute}>{SLOW}</g></svg>")


@pytest.mark.parametrize(
    "attribute", ['og:unless="description"', 'og:if="avatar"', 'og:unless="tag logo"', ""]
)
async def test_every_branch_is_test_rendered_within_the_budget(
    tmp_path: Path, renderer: Renderer, attribute: str
) -> None:
    """A slow part hidden in a branch the sample content does not take is found (and
    abandoned at the budget, not after it)."""
    state = sqlite_state(tmp_path / "branches.db")
    await state.open()
    try:
        budget = 0.3
        settings = CustomTemplateSettings(
            LENIENT, max_per_user=4, render_budget=budget, cache_bytes=CACHE_BYTES
        )
        service = TemplateCatalogue(state.templates, renderer, {}, settings)
        one_node = node_time(renderer)
        started = time.perf_counter()
        with pytest.raises(TemplateInvalidError, match=r"longer than the 0\.3 s allowed"):
            await service.create("alice", TemplateSource(branch(attribute)), None)
        # Abandoned at the budget, give or take the one filtered node drawing then (and the
        # machine's load): never after all twelve.
        took = time.perf_counter() - started
        assert took < budget + 3 * one_node + 0.2, (took, one_node)
        assert await state.templates.list_templates("alice") == []
    finally:
        await state.close()


async def test_sample_renders_cover_every_combination_of_the_branch_fields() -> None:
    template = compile_template(
        "t", branch('og:if="avatar" og:unless="tag"').encode(), LENIENT, custom=True
    )
    combos = {
        (spec.avatar is not None, spec.tag is not None) for spec, _ in sample_renders(template)
    }
    assert combos == {(True, True), (True, False), (False, True), (False, False)}
    for spec, images in sample_renders(template):
        assert spec.title and (("avatar" in images) == (spec.avatar is not None))
    plain = compile_template("t", LAUNCH.encode(), custom=True)
    assert len(list(sample_renders(plain))) == 1  # no branches: the sample once


async def test_compiling_counts_within_the_budget(
    tmp_path: Path, renderer: Renderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = sqlite_state(tmp_path / "compile.db")
    await state.open()
    try:
        settings = CustomTemplateSettings(
            TemplateLimits(), max_per_user=4, render_budget=0.2, cache_bytes=CACHE_BYTES
        )
        service = TemplateCatalogue(state.templates, renderer, {}, settings)
        compile_ = catalogue.compile_upload

        def slow_compile(*args: Any, **kwargs: Any) -> Template:
            time.sleep(0.25)  # a compile that alone uses the budget up
            return compile_(*args, **kwargs)

        monkeypatch.setattr(catalogue, "compile_upload", slow_compile)
        with pytest.raises(TemplateInvalidError, match=r"longer than the 0\.2 s allowed"):
            await service.create("alice", TemplateSource(LAUNCH), None)
    finally:
        await state.close()


async def test_the_catalogue_knows_what_exists(service: TemplateCatalogue) -> None:
    names = [t.name for t in service.builtins]
    assert "blog" in names and "minimal" in names
    assert service.exists("blog") and service.exists("custom_anything")  # owners checked later
    assert not service.exists("nope")
    assert "Inter" in [f.name for f in service.fonts]
    assert "midnight" in service.palettes

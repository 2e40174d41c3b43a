"""The templates aggregate's contract (custom templates), on SQLite and Redis."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from ogmint.state.store import State
from ogmint.state.templates import TemplateMeta, TemplateSource

pytestmark = pytest.mark.asyncio(loop_scope="session")


def meta(n: int, owner: str = "alice", version: str = "v1", at: int = 0) -> TemplateMeta:
    stamp = f"2026-11-05T10:20:{30 + at:02d}.456Z"
    return TemplateMeta(
        f"custom_{n:012d}", owner, f"Card {n} é", version, '[{"name":"title"}]', stamp, stamp
    )


def svg(text: str) -> TemplateSource:
    return TemplateSource(text)


async def test_create_get_list_newest_first(state: State) -> None:
    store = state.templates
    for i in range(3):
        assert await store.create_template(meta(i, at=i), svg(f"<svg>{i}</svg>"), limit=10)
    assert await store.get_template("alice", meta(1).id) == (meta(1, at=1), svg("<svg>1</svg>"))
    assert [m.id for m in await store.list_templates("alice")] == [meta(i).id for i in (2, 1, 0)]
    assert await store.list_templates("bob") == []
    assert await store.template_version("alice", meta(0).id) == "v1"


async def test_other_users_do_not_see_a_template(state: State) -> None:
    store = state.templates
    assert await store.create_template(meta(1), svg("<svg/>"), limit=10)
    assert await store.get_template("bob", meta(1).id) is None
    assert await store.template_version("bob", meta(1).id) is None
    assert await store.update_template(meta(1, owner="bob", version="v2"), svg("<x/>")) is None
    assert not await store.delete_template("bob", meta(1).id)
    assert await store.template_version("alice", meta(1).id) == "v1"  # untouched


async def test_update_replaces_the_version_and_keeps_created_at(state: State) -> None:
    store = state.templates
    assert await store.create_template(meta(1), svg("<svg>old</svg>"), limit=10)
    new = TemplateMeta(meta(1).id, "alice", "Renamed", "v2", "[]", "x", "2026-11-06T00:00:00.000Z")
    stored = await store.update_template(new, svg("<svg>new</svg>"))
    assert stored is not None
    assert (stored.name, stored.version, stored.fields) == ("Renamed", "v2", "[]")
    assert (stored.created_at, stored.updated_at) == (meta(1).created_at, new.updated_at)
    assert await store.get_template("alice", new.id) == (stored, svg("<svg>new</svg>"))
    assert await store.template_version("alice", new.id) == "v2"
    assert await store.update_template(meta(9), svg("<svg/>")) is None  # no such template


async def test_delete(state: State) -> None:
    store = state.templates
    assert await store.create_template(meta(1), svg("<svg/>"), limit=10)
    assert await store.delete_template("alice", meta(1).id)
    assert not await store.delete_template("alice", meta(1).id)
    assert await store.get_template("alice", meta(1).id) is None
    assert await store.template_version("alice", meta(1).id) is None
    assert await store.list_templates("alice") == []


async def test_limit_per_owner_even_when_concurrent(state: State) -> None:
    store = state.templates
    got = await asyncio.gather(
        *(store.create_template(meta(i), svg("<svg/>"), limit=5) for i in range(12))
    )
    assert sum(got) == 5
    assert len(await store.list_templates("alice")) == 5
    assert await store.create_template(meta(99, owner="bob"), svg("<svg/>"), limit=5)  # per owner
    # Deleting one makes room again.
    first = (await store.list_templates("alice"))[0]
    assert await store.delete_template("alice", first.id)
    assert await store.create_template(meta(50), svg("<svg/>"), limit=5)


async def test_a_large_source_round_trips(state: State) -> None:
    source = "<svg>" + "é" * 200_000 + "</svg>"
    big = TemplateSource(source, {"square": source.replace("é", "ü"), "story": "<svg/>"})
    assert await state.templates.create_template(meta(1), big, limit=10)
    found = await state.templates.get_template("alice", meta(1).id)
    assert found is not None and found[1] == big


async def test_size_documents_are_kept_with_each_version(state: State) -> None:
    store = state.templates
    first = TemplateSource("<svg>og</svg>", {"square": "<svg>sq é</svg>", "story": "<svg>st</svg>"})
    created = dataclasses.replace(meta(1), sizes='["square","story"]')
    assert await store.create_template(created, first, limit=10)
    assert await store.get_template("alice", created.id) == (created, first)
    assert [m.sizes for m in await store.list_templates("alice")] == ['["square","story"]']
    # A new version replaces every document: one left out is gone.
    second = TemplateSource("<svg>og 2</svg>", {"portrait": "<svg>pt</svg>"})
    updated = dataclasses.replace(created, version="v2", sizes='["portrait"]', updated_at="x")
    stored = await store.update_template(updated, second)
    assert stored == updated
    assert await store.get_template("alice", created.id) == (updated, second)
    assert [m.sizes for m in await store.list_templates("alice")] == ['["portrait"]']
    # And back to none.
    plain = dataclasses.replace(updated, version="v3", sizes="[]")
    assert await store.update_template(plain, TemplateSource("<svg>og 3</svg>")) == plain
    assert await store.get_template("alice", created.id) == (
        plain,
        TemplateSource("<svg>og 3</svg>"),
    )

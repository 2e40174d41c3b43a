"""The gallery: records and images by slug, remembered per worker, read from storage otherwise."""

from __future__ import annotations

import orjson

from domain.conftest import Domain
from ogmint.domain.gallery import Gallery


async def test_a_render_is_found_by_slug_in_any_worker(domain: Domain) -> None:
    key = await domain.keys.authenticate((await domain.keys.create("alice")).key)
    assert key is not None
    made = await domain.renders.create(key, orjson.dumps({"template": "minimal", "title": "G"}))
    slug = made.record.slug
    found = await domain.gallery.image(slug)
    assert found is not None and found[0] == made.record
    other_worker = Gallery(domain.state.renders, domain.storage)
    assert await other_worker.record(slug) == made.record
    assert await other_worker.image(slug) == found
    assert (await other_worker.edge_location(made.record)).endswith(f"{slug}.png")


async def test_malformed_and_unknown_slugs_are_nothing(domain: Domain) -> None:
    for slug in ("", "short", "toolong123", "bad/slug", "éééééééé", "AbCd1234"):
        assert await domain.gallery.record(slug) is None
        assert await domain.gallery.image(slug) is None

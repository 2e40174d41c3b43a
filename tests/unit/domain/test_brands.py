"""Brands (``ogmint.domain.brands``) on a real SQLite state and the renderer: validation and
canonical form, the logo kept at save, the per-user bound, ownership, SPEC §1's precedence, and
the version in ETags and dedup keys."""

from __future__ import annotations

import io
import re

import orjson
import pytest
from PIL import Image

from domain.conftest import LOGOS, MARK, MAX_BRANDS, WORDMARK, Domain
from ogmint.domain.brands import look_of
from ogmint.domain.keys import ApiKeyRecord
from ogmint.errors import BrandLimitError, BrandNotFoundError, FetchError, ValidationError
from ogmint.rendering.palettes import DEFAULT, PALETTES

pytestmark = pytest.mark.asyncio(loop_scope="session")

LOOK = {
    "name": "Acme",
    "bgColor": "#FFFFFF",
    "textColor": "111",
    "accentColor": "Ff5A3c",
    "palette": "paper",
    "font": "jetbrains mono",
    "logo": MARK,
}


async def key_for(domain: Domain, user: str) -> ApiKeyRecord:
    made = await domain.keys.create(user, "pro")
    record = await domain.keys.authenticate(made.key)
    assert record is not None
    return record


async def test_a_brand_is_saved_canonical_with_its_logo_kept(domain: Domain) -> None:
    meta = await domain.brands.create("alice", LOOK)
    assert re.fullmatch(r"brand_[0-9A-Za-z]{12}", meta.id)
    assert meta.name == "Acme" and meta.created_at == meta.updated_at
    assert look_of(meta) == {
        "bgColor": "ffffff",
        "textColor": "111111",
        "accentColor": "ff5a3c",
        "surfaceColor": None,
        "palette": "paper",
        "font": "JetBrains Mono",
        "logo": MARK,
    }
    stored = await domain.state.brands.get_brand("alice", meta.id)
    assert stored is not None
    with Image.open(io.BytesIO(stored[1])) as img:  # a re-encoded PNG of the fetched image
        assert (img.format, img.size) == ("PNG", (200, 200))
    assert [b.id for b in await domain.brands.list("alice")] == [meta.id]
    assert await domain.brands.get("alice", meta.id) == meta


async def test_every_bad_field_is_named(domain: Domain) -> None:
    with pytest.raises(ValidationError) as e:
        await domain.brands.create(
            "alice",
            {
                "bgColor": "#ggg",
                "textColor": 12,
                "palette": "neon",
                "font": "Comic Sans",
                "logo": "http://x.test/l.png",
                "size": "og",
            },
        )
    fields = sorted(d.field for d in e.value.details)
    assert fields == ["bgColor", "font", "logo", "name", "palette", "size", "textColor"]
    assert await domain.brands.list("alice") == []


async def test_a_logo_that_cannot_be_fetched_is_a_400_naming_logo(domain: Domain) -> None:
    with pytest.raises(FetchError) as e:
        await domain.brands.create("alice", {"name": "A", "logo": "https://nowhere.test/x.png"})
    assert e.value.status == 400 and [d.field for d in e.value.details] == ["logo"]
    assert await domain.brands.list("alice") == []


async def test_at_most_the_bound_per_user(domain: Domain) -> None:
    made = [await domain.brands.create("alice", {"name": f"B{i}"}) for i in range(MAX_BRANDS)]
    with pytest.raises(BrandLimitError) as e:
        await domain.brands.create("alice", {"name": "one too many"})
    assert e.value.status == 400
    await domain.brands.create("bob", {"name": "bob's own"})  # per user
    await domain.brands.delete("alice", made[0].id)
    await domain.brands.create("alice", {"name": "room again"})


async def test_another_users_brand_does_not_exist(domain: Domain) -> None:
    meta = await domain.brands.create("alice", {"name": "Mine", "bgColor": "fff"})
    for call in (
        domain.brands.get("bob", meta.id),
        domain.brands.update("bob", meta.id, {"name": "Stolen"}),
        domain.brands.delete("bob", meta.id),
        domain.brands.resolve("bob", meta.id),
        domain.brands.resolve(None, meta.id),  # anonymous V1
        domain.renders.spec(
            "bob", {"template": "blog", "title": "t", "brand": meta.id}, strict=True
        ),
    ):
        with pytest.raises(BrandNotFoundError):
            await call
    assert await domain.brands.get("alice", meta.id) == meta


async def test_update_replaces_the_look_and_changes_the_version(domain: Domain) -> None:
    meta = await domain.brands.create("alice", LOOK)
    renamed = await domain.brands.update("alice", meta.id, {**LOOK, "name": "Acme Inc"})
    assert renamed.version == meta.version  # the name draws nothing
    new = await domain.brands.update("alice", meta.id, {"name": "Acme", "bgColor": "000"})
    assert new.version != meta.version and new.created_at == meta.created_at
    assert look_of(new)["bgColor"] == "000000" and look_of(new)["logo"] is None
    stored = await domain.state.brands.get_brand("alice", meta.id)
    assert stored is not None and stored[1] == b""  # the logo went with it


async def test_precedence_request_then_brand_then_palette_then_default(domain: Domain) -> None:
    meta = await domain.brands.create("alice", LOOK)
    base = {"template": "blog", "title": "Hello", "brand": meta.id}
    spec = await domain.renders.spec("alice", base, strict=True)
    # The brand's colours over its palette; what neither sets is derived from bg and text.
    assert (spec.colors.bg, spec.colors.text, spec.colors.accent) == ("ffffff", "111111", "ff5a3c")
    assert spec.colors.surface != DEFAULT.surface
    assert spec.font == "JetBrains Mono"
    assert spec.logo == f"brand:{meta.id}" and spec.brand_logo is not None
    # The request's own values win, under any alias and spelling.
    mine = await domain.renders.spec(
        "alice",
        {**base, "bg": "#000", "font": "Inter", "logo": WORDMARK, "accentColor": "00ff00"},
        strict=True,
    )
    assert (mine.colors.bg, mine.colors.accent, mine.font) == ("000000", "00ff00", "Inter")
    assert mine.logo == WORDMARK and mine.brand_logo is None
    assert mine.colors.text == "111111"  # the brand's text still fills in
    # A palette in the request comes under the brand's colours (it fills what they leave).
    sunset = await domain.renders.spec("alice", {**base, "palette": "sunset"}, strict=True)
    assert sunset.colors.bg == "ffffff"
    only_palette = await domain.brands.create("alice", {"name": "P", "palette": "forest"})
    forest = await domain.renders.spec("alice", {**base, "brand": only_palette.id}, strict=True)
    assert forest.colors == PALETTES["forest"] and forest.font == "Inter"
    again = await domain.renders.spec(
        "alice", {**base, "brand": only_palette.id, "palette": "ocean"}, strict=True
    )
    assert again.colors == PALETTES["ocean"]  # the request's palette over the brand's


async def test_the_brand_version_is_in_the_dedup_key_and_etag(domain: Domain) -> None:
    meta = await domain.brands.create("alice", {"name": "A", "bgColor": "ffffff"})
    params = {"template": "blog", "title": "Hello", "brand": meta.id}
    before = await domain.renders.card("alice", params)
    plain = await domain.renders.card("alice", {**params, "brand": ""})
    assert before.etag != plain.etag
    same = await domain.renders.card("alice", params)
    assert same.etag == before.etag
    await domain.brands.update("alice", meta.id, {"name": "A", "bgColor": "fffffe"})
    after = await domain.renders.card("alice", params)
    assert after.etag != before.etag
    # V2: the same body after the edit is a new render, not a dedup hit.
    key = await key_for(domain, "alice")
    first = await domain.renders.create(key, orjson.dumps(params))
    assert first.created
    assert not (await domain.renders.create(key, orjson.dumps(params))).created
    await domain.brands.update("alice", meta.id, {"name": "A", "bgColor": "eeeeee"})
    edited = await domain.renders.create(key, orjson.dumps(params))
    assert edited.created and edited.record.slug != first.record.slug


async def test_the_brand_logo_is_drawn_from_storage(domain: Domain) -> None:
    meta = await domain.brands.create("alice", {"name": "A", "logo": MARK, "bgColor": "ffffff"})
    saved = LOGOS.pop(MARK)  # a render fetching it now would fail
    try:
        card = await domain.renders.card(
            "alice", {"template": "minimal", "title": "Hi", "brand": meta.id}
        )
        key = await key_for(domain, "alice")
        image = (await domain.renders.image(card, key, subject="", signed=False)).data
        bare = await domain.renders.card(
            "alice", {"template": "minimal", "title": "Hi", "bgColor": "ffffff"}
        )
        plain = (await domain.renders.image(bare, key, subject="", signed=False)).data
    finally:
        LOGOS[MARK] = saved
    assert _red_pixels(image) > 1000 and _red_pixels(plain) == 0  # the logo is a red square


def _red_pixels(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as img:
        colors = img.convert("RGB").getcolors(1 << 24) or []
    return sum(n for n, (r, g, _b) in colors if r > 200 and g < 80)

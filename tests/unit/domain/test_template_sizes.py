"""Custom templates with a document per size (SPEC §1.1, §5.1), in the domain on a real
SQLite state and the real renderer: upload checks naming the document, the sizes a template
renders, the document each size draws, and versions keeping their documents."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from ogmint.domain.templates import (
    CustomTemplateSettings,
    TemplateCatalogue,
    TemplateSource,
    bind_fields,
    check_size,
    check_upload,
    field_entries,
    supported_sizes,
    template_sizes,
)
from ogmint.errors import TemplateInvalidError, TemplateTooLargeError, ValidationError
from ogmint.rendering.cost import CostLimits
from ogmint.rendering.native import Renderer
from ogmint.rendering.params import parse_params
from ogmint.rendering.pipeline import render_image
from ogmint.rendering.template import Template, TemplateLimits
from ogmint.state.sqlite import sqlite_state
from sized import CANVASES, COLOURS, corner, document, size_of

SESSION = pytest.mark.asyncio(loop_scope="session")


def settings(budget: float = 5.0, limits: TemplateLimits | None = None) -> CustomTemplateSettings:
    return CustomTemplateSettings(
        limits or TemplateLimits(), max_per_user=10, render_budget=budget, cache_bytes=1 << 24
    )


@pytest.fixture
async def service(tmp_path: Path, renderer: Renderer) -> AsyncIterator[TemplateCatalogue]:
    state = sqlite_state(tmp_path / "state.db")
    await state.open()
    yield TemplateCatalogue(state.templates, renderer, {}, settings())
    await state.close()


def source(*presets: str) -> TemplateSource:
    return TemplateSource(document("og"), {p: document(p) for p in presets})


def render(renderer: Renderer, template: Template, **raw: str) -> bytes:
    spec = parse_params(
        {"template": template.name, "title": "Hello", **raw},
        strict=True,
        template_exists=lambda _: True,
        resolve_font=renderer.resolve_family,
    )
    spec = bind_fields(spec, template, strict=True)
    check_size(template, spec)
    return render_image(renderer, template, spec, {})


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    (detail,) = error.value.details
    return detail.field, detail.message


@SESSION
async def test_the_sizes_a_custom_template_renders() -> None:
    landscape = ["og", "twitter", "linkedin"]
    assert supported_sizes([]) == landscape
    assert supported_sizes(["square", "story"]) == [*landscape, "square", "story"]
    assert supported_sizes(["twitter"]) == landscape  # its own twitter document: still these
    assert supported_sizes(["portrait"]) == [*landscape, "portrait"]


@SESSION
async def test_each_preset_draws_its_own_document(
    service: TemplateCatalogue, renderer: Renderer
) -> None:
    presets = ("twitter", "square", "portrait", "story")
    meta = await service.create("alice", source(*presets), "Sized")
    assert orjson.loads(meta.sizes) == list(presets)
    assert template_sizes(meta) == ["og", "twitter", "linkedin", "square", "portrait", "story"]
    template = await service.resolve("alice", meta.id)
    assert template.digest == meta.version
    for preset in (*presets, "og"):
        png = render(renderer, template, size=preset)
        assert size_of(png) == CANVASES[preset]
        assert corner(png) == COLOURS[preset], preset
    # linkedin has no document of its own: og's (the nearest ratio: 1.905 against 2.0).
    assert corner(render(renderer, template, size="linkedin")) == COLOURS["og"]
    # At scale 2 the same document, twice the pixels.
    retina = render(renderer, template, size="square", scale="2")
    assert size_of(retina) == (2160, 2160) and corner(retina) == COLOURS["square"]


@SESSION
async def test_width_x_height_takes_the_nearest_aspect_cover_scaled(
    service: TemplateCatalogue, renderer: Renderer
) -> None:
    meta = await service.create("alice", source("square", "story"), None)
    template = await service.resolve("alice", meta.id)
    for size, drawn in (
        ("1000x1000", "square"),
        ("1080x1350", "square"),  # 4:5 is nearer 1:1 than 9:16
        ("600x1200", "story"),
        ("2000x900", "og"),
        ("400x2400", "story"),
    ):
        png = render(renderer, template, size=size)
        assert size_of(png) == tuple(int(n) for n in size.split("x"))
        assert corner(png) == COLOURS[drawn], size


@SESSION
async def test_a_preset_without_its_document_is_a_400_naming_size(
    service: TemplateCatalogue, renderer: Renderer
) -> None:
    meta = await service.create("alice", source("square"), None)
    template = await service.resolve("alice", meta.id)
    for preset in ("portrait", "story"):
        with pytest.raises(ValidationError) as refused:
            render(renderer, template, size=preset)
        field, message = refusal(refused)
        assert field == "size"
        assert preset in message and "og, twitter, linkedin, square" in message
    plain = await service.create("alice", source(), None)
    with pytest.raises(ValidationError) as refused:
        render(renderer, await service.resolve("alice", plain.id), size="square")
    assert refusal(refused)[0] == "size"


@SESSION
async def test_versions_keep_their_documents(service: TemplateCatalogue) -> None:
    plain = await service.create("alice", source(), None)
    assert plain.version == hashlib.sha256(document("og").encode()).hexdigest()  # as before
    assert plain.sizes == "[]"
    sized = await service.update("alice", plain.id, source("square"), None)
    assert sized.version != plain.version and sized.sizes == '["square"]'
    _, stored = await service.get("alice", plain.id)
    assert stored == source("square")
    # Changing only a size document is a new version.
    changed = TemplateSource(document("og"), {"square": document("square", extra="<g/>")})
    again = await service.update("alice", plain.id, changed, None)
    assert again.version not in (plain.version, sized.version)
    assert (await service.resolve("alice", plain.id)).digest == again.version
    # The order of the upload's sizes does not change the version.
    a = await service.create("alice", source("square", "story"), None)
    b = await service.create("alice", source("story", "square"), None)
    assert a.version == b.version
    # A new version without sizes drops them.
    dropped = await service.update("alice", plain.id, source(), None)
    assert (dropped.version, dropped.sizes) == (plain.version, "[]")
    assert (await service.get("alice", plain.id))[1] == source()


@SESSION
async def test_a_size_document_is_checked_against_its_preset_naming_it(
    service: TemplateCatalogue,
) -> None:
    cases = {
        "wrong canvas": (
            {"square": document("square", canvas=(1200, 630))},
            "sizes.square",
            "line 1, <svg>: root <svg> must have width=1080 height=1080",
        ),
        "refused element": (
            {"story": document("story", extra="<script/>")},
            "sizes.story",
            "line 5, <script>",
        ),
        "unknown preset": ({"huge": document("square")}, "sizes.huge", "unknown size"),
        "og is svg": ({"og": document("og")}, "sizes.og", "the og document is the upload's svg"),
        "no title": (
            {"portrait": document("portrait").replace('field="title"', 'field="tag"')},
            "sizes.portrait",
            "must place the title",
        ),
    }
    for name, (sizes, field, message) in cases.items():
        with pytest.raises(TemplateInvalidError) as refused:
            await service.create("alice", TemplateSource(document("og"), sizes), None)
        got_field, got_message = refusal(refused)
        assert (got_field, message in got_message) == (field, True), (name, got_message)
    assert await service.list("alice") == []


@SESSION
async def test_a_field_means_the_same_in_every_document(service: TemplateCatalogue) -> None:
    price = (
        '<og:text field="price" limit="{n}" x="60" y="40" width="300" height="40" max-size="24"/>'
    )
    og = document("og", extra=price.format(n=20))
    conflicting = TemplateSource(og, {"square": document("square", extra=price.format(n=30))})
    with pytest.raises(TemplateInvalidError) as refused:
        await service.create("alice", conflicting, None)
    field, message = refusal(refused)
    assert field == "sizes.square"
    assert message.startswith("line 5, field 'price' must be as in svg: text limit 20")
    as_image = '<og:image field="price" x="60" y="40" width="100" height="100"/>'
    other_kind = TemplateSource(og, {"story": document("story", extra=as_image)})
    with pytest.raises(TemplateInvalidError) as refused:
        await service.create("alice", other_kind, None)
    assert refusal(refused)[0] == "sizes.story"
    # A field only one size shows is the template's all the same: listed, and bound.
    only_square = TemplateSource(
        document("og"), {"square": document("square", extra=price.format(n=20))}
    )
    meta = await service.create("alice", only_square, None)
    names = [f["name"] for f in orjson.loads(meta.fields)]
    assert names == ["title", "price"]
    template = await service.resolve("alice", meta.id)
    assert [f["name"] for f in field_entries(template)] == names
    spec = parse_params(
        {"template": meta.id, "title": "T", "price": "$9"},
        strict=False,
        template_exists=lambda _: True,
        resolve_font=lambda f: f,
    )
    assert bind_fields(spec, template, strict=True).text("price") == "$9"


@SESSION
async def test_each_document_is_bounded_and_test_rendered(
    tmp_path: Path, renderer: Renderer
) -> None:
    state = sqlite_state(tmp_path / "bounds.db")
    await state.open()
    try:
        small = TemplateLimits(max_bytes=len(document("og")) + 10)
        bounded = TemplateCatalogue(state.templates, renderer, {}, settings(limits=small))
        big = TemplateSource(document("og"), {"square": document("square", extra=" " * 200)})
        with pytest.raises(TemplateTooLargeError) as too_large:
            await bounded.create("alice", big, None)
        assert [d.field for d in too_large.value.details] == ["sizes.square"]
        # A size document too slow to draw is found by its own test render, within the budget.
        slow = "".join(
            f'<rect width="1080" height="1080" fill="#123456" filter="url(#f)" opacity="0.{n}"/>'
            for n in range(1, 10)
        )
        slow = '<defs><filter id="f"><feGaussianBlur stdDeviation="30"/></filter></defs>' + slow * 3
        lenient = TemplateLimits(cost=CostLimits(max_filter_work=1e6, max_paint=1e6))
        strict = TemplateCatalogue(
            state.templates, renderer, {}, settings(budget=0.3, limits=lenient)
        )
        heavy = TemplateSource(document("og"), {"square": document("square", extra=slow)})
        with pytest.raises(TemplateInvalidError) as refused:
            await strict.create("alice", heavy, None)
        field, message = refusal(refused)
        assert field == "sizes.square" and "longer than the 0.3 s allowed" in message
        assert await state.templates.list_templates("alice") == []
    finally:
        await state.close()


@SESSION
async def test_previews_take_sizes_too(service: TemplateCatalogue, renderer: Renderer) -> None:
    template = await service.check(source("story"))
    assert corner(render(renderer, template, size="story")) == COLOURS["story"]
    with pytest.raises(ValidationError):
        render(renderer, template, size="square")


_DOCUMENTS = st.sampled_from(
    [document(p) for p in CANVASES]
    + [document("square", extra="<script/>"), "<svg", "", "not xml", "<svg/>"]
)


@settings_(max_examples=60, deadline=None)
@given(
    sizes=st.dictionaries(
        st.one_of(st.sampled_from([*CANVASES, "tall", "landscape"]), st.text(max_size=8)),
        st.one_of(_DOCUMENTS, st.text(max_size=40)),
        max_size=4,
    )
)
def test_any_sizes_give_a_template_or_a_400_naming_one_of_them(
    renderer: Renderer, sizes: dict[str, str]
) -> None:
    upload = TemplateSource(document("og"), sizes)
    try:
        template = check_upload(renderer, settings(), "custom_prop", upload)
    except (TemplateInvalidError, TemplateTooLargeError) as e:
        assert [d.field for d in e.details] in ([f"sizes.{p}"] for p in sizes), e.details
        return
    assert sorted(p for p, _ in template.layouts) == sorted(sizes)
    for preset, doc in template.layouts:
        assert doc.canvas == CANVASES[preset]

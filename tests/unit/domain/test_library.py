"""V2 at scale (SPEC §3.1) on a real SQLite state, local storage and the renderer: a user's
renders listed, shown and deleted; batches; dry runs; the month's usage."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from domain.conftest import ROOT, WEBHOOK_HOST, Domain
from domain.test_renders import body, key_for
from ogmint.domain.gallery import Gallery
from ogmint.domain.library import encode_cursor
from ogmint.domain.templates import TemplateSource
from ogmint.errors import (
    BadJSONError,
    RateLimitError,
    RenderNotFoundError,
    TemplateNotFoundError,
    ValidationError,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


# -- list, detail, delete ---------------------------------------------------------------------
async def test_a_users_renders_are_listed_newest_first_across_its_keys(domain: Domain) -> None:
    k1 = await key_for(domain, "alice", "pro")
    k2 = await key_for(domain, "alice", "pro")
    bob = await key_for(domain, "bob", "pro")
    made = []
    for n in range(5):
        made.append((await domain.renders.create(k1 if n % 2 else k2, body(title=f"#{n}"))).record)
        await asyncio.sleep(0.002)  # distinct milliseconds: the order is the making order
    await domain.renders.create(bob, body(title="bob's"))
    newest_first = [r.slug for r in reversed(made)]
    page = await domain.library.page("alice", "2", None)
    assert [r.slug for r in page.renders] == newest_first[:2] and page.next_cursor
    page2 = await domain.library.page("alice", "2", page.next_cursor)
    page3 = await domain.library.page("alice", "2", page2.next_cursor)
    assert [r.slug for r in page2.renders + page3.renders] == newest_first[2:]
    assert page3.next_cursor is None
    everything = await domain.library.page("alice", None, None)
    assert [r.slug for r in everything.renders] == newest_first and everything.next_cursor is None
    first = everything.renders[-1]
    assert (first.owner, first.format, first.width, first.height) == ("alice", "png", 1200, 630)
    stored = await domain.storage.get(first.storage_key)
    assert stored is not None and first.size == len(stored)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "", "1.5", "9" * 40, "２"])
async def test_a_limit_out_of_range_is_a_400_naming_it(domain: Domain, limit: str) -> None:
    with pytest.raises(ValidationError) as refused:
        await domain.library.page("alice", limit, None)
    assert refused.value.details[0].field == "limit"


async def test_a_cursor_not_ours_is_a_400_naming_it(domain: Domain) -> None:
    key = await key_for(domain, "alice", "pro")
    for n in range(3):
        await domain.renders.create(key, body(title=f"#{n}"))
    cursor = (await domain.library.page("alice", "1", None)).next_cursor
    assert cursor is not None
    bobs = encode_cursor("bob", ("2026-11-05T10:20:30.456Z", "slugAAAA"))
    forged = [
        "",
        "x",
        "!!!!",
        "é",
        cursor[:-2],
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        bobs,
        "W10",  # "[]"
        "a" * 5000,
    ]
    for bad in forged:
        with pytest.raises(ValidationError) as refused:
            await domain.library.page("alice", "1", bad)
        assert refused.value.details[0].field == "cursor", bad
    assert len((await domain.library.page("alice", "1", cursor)).renders) == 1


async def test_a_render_is_shown_with_its_params_and_deliveries(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    hook = {"webhookUrl": f"https://{WEBHOOK_HOST}/hook"}
    made = await domain.renders.create(key, body(title="Shown", bg="AABBCC", **hook))
    found = await domain.library.detail("alice", made.record.slug)
    assert found.record == made.record
    assert found.params["title"] == "Shown" and found.params["template"] == "minimal"
    assert found.params["bgColor"] == "aabbcc" and "bg" not in found.params  # canonical
    assert "webhookUrl" not in found.params
    (delivery,) = found.deliveries
    assert delivery.delivery.url == hook["webhookUrl"] and delivery.state == "pending"
    for user, slug in (("bob", made.record.slug), ("alice", "nOsUcH00"), ("alice", "../x")):
        with pytest.raises(RenderNotFoundError):
            await domain.library.detail(user, slug)


async def test_a_deleted_render_is_gone_everywhere_and_renders_anew(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    hook = {"webhookUrl": f"https://{WEBHOOK_HOST}/hook"}
    made = await domain.renders.create(key, body(title="Doomed", **hook))
    record = made.record
    other_worker = Gallery(domain.state.renders, domain.storage)
    assert await other_worker.image(record.slug) is not None  # in that worker's memory now
    with pytest.raises(RenderNotFoundError):
        await domain.library.delete("bob", record.slug)  # not bob's
    await domain.library.delete("alice", record.slug)
    assert await domain.storage.get(record.storage_key) is None
    assert await domain.gallery.image(record.slug) is None
    assert await other_worker.image(record.slug) is None
    assert await other_worker.record(record.slug) is None
    assert await domain.state.deliveries.list_deliveries(record.slug) == []
    assert await domain.state.deliveries.claim_deliveries("w", 10, lease=30) == []
    assert (await domain.library.page("alice", None, None)).renders == []
    with pytest.raises(RenderNotFoundError):
        await domain.library.delete("alice", record.slug)
    again = await domain.renders.create(key, body(title="Doomed"))
    assert again.created and again.record.slug != record.slug


# -- batch ------------------------------------------------------------------------------------
def batch(*items: object, **extra: object) -> bytes:
    return orjson.dumps({"items": list(items), **extra})


def item(**fields: object) -> dict[str, object]:
    return {"template": "minimal", **fields}


async def test_a_batch_answers_each_item_as_a_single_render_would(domain: Domain) -> None:
    key = await key_for(domain, "alice")  # free: 3 renders a month
    await domain.renders.create(key, body(title="Known"))
    done = await domain.renders.batch(
        key,
        batch(
            item(title="One"),
            item(title="One"),  # identical: one render, one slug
            item(title="Known"),  # made before: a free dedup hit
            item(title=""),  # a bad item fails alone
            "not an object",
            item(template="custom_nope", title="x"),
            item(title="Two"),
            item(title="Three"),  # past the quota: 429
        ),
    )
    results = done.results
    one, one_again, known, empty, scalar, missing, two, three = results
    assert not isinstance(one, Exception) and not isinstance(one_again, Exception)
    assert one.record.slug == one_again.record.slug
    assert sorted([one.created, one_again.created]) == [False, True]
    assert not isinstance(known, Exception) and not known.created
    assert isinstance(empty, ValidationError) and empty.details[0].field == "title"
    assert isinstance(scalar, BadJSONError)
    assert isinstance(missing, TemplateNotFoundError)
    assert not isinstance(two, Exception) and two.created
    assert isinstance(three, RateLimitError) and "quota" in three.message
    stored = await domain.storage.get(two.record.storage_key)
    assert stored is not None  # durable before the answer
    assert (await domain.limits.quota(key, 3)).remaining == 0


async def test_the_items_past_the_quota_are_the_last_ones(domain: Domain) -> None:
    svg = (ROOT / "templates" / "examples" / "launch-card.svg").read_text()
    custom = (await domain.templates.create("alice", TemplateSource(svg), "Launch")).id
    key = await key_for(domain, "alice")  # free: 3 renders a month
    for title in ("one", "two"):
        await domain.renders.create(key, body(title=title))
    # One render left. The first item takes longer to check (its template's version is looked
    # up in the state) than the second: the quota is still charged in item order.
    items = batch(item(template=custom, title="first"), item(title="second"))
    done = await domain.renders.batch(key, items)
    assert [type(r).__name__ for r in done.results] == ["Created", "RateLimitError"]


async def test_a_batch_takes_one_burst_token(domain: Domain) -> None:
    key = await key_for(domain, "alice", "pro")
    # More items than the bucket holds tokens: they take none of their own.
    done = await domain.renders.batch(key, batch(*(item(title=f"#{i}") for i in range(7))))
    assert all(not isinstance(r, Exception) and r.created for r in done.results)
    assert (done.burst.limit, done.burst.remaining) == (5, 4)
    while True:  # empty the bucket
        try:
            await domain.limits.take_burst(key)
        except RateLimitError:
            break
    with pytest.raises(RateLimitError):
        await domain.renders.batch(key, batch(item(title="refused")))


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{", None),
        (b"[]", None),
        (b'{"items": {}}', "items"),
        (b'{"items": []}', "items"),
        (b"{}", "items"),
        (batch(*[item(title="x")] * 101), "items"),
        (batch(item(title="x"), extra=1), "extra"),
    ],
)
async def test_a_malformed_batch_is_a_400_for_all(
    domain: Domain, raw: bytes, field: str | None
) -> None:
    key = await key_for(domain, "alice", "pro")
    with pytest.raises((BadJSONError, ValidationError)) as refused:
        await domain.renders.batch(key, raw)
    if field is not None:
        assert refused.value.details[0].field == field
    assert (await domain.library.page("alice", None, None)).renders == []


# -- validate ---------------------------------------------------------------------------------
async def test_validate_lays_out_without_rendering_or_charging(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    long_title = "A very long title that has to wrap over several lines " * 3
    layout = await domain.renders.validate(
        key, body(template="blog", title=long_title.strip(), description="Short", tag="news")
    )
    assert (layout.width, layout.height) == (1200, 630)
    title = layout.fields["title"]
    assert len(title.lines) > 1 and title.font_size > 0
    assert set(layout.fields) == {"title", "description", "tag"}
    assert layout.fields["description"].lines == ("Short",)
    assert layout.fields["tag"].lines == ("NEWS",)  # as drawn: the blog's tag is upper-case
    assert not layout.fields["description"].truncated
    huge = await domain.renders.validate(key, body(title="W" * 200))
    assert huge.fields["title"].truncated
    assert (await domain.limits.quota(key, 3)).remaining == 3  # nothing charged
    assert await domain.usage.recent("alice", 10) == []
    assert (await domain.library.page("alice", None, None)).renders == []
    with pytest.raises(ValidationError) as refused:
        await domain.renders.validate(key, body(title="x", colour="red"))
    assert refused.value.details[0].field == "colour"
    refusals = []
    for _ in range(6):  # burst-limited: the bucket holds 5
        try:
            await domain.renders.validate(key, body(title="x"))
        except RateLimitError as e:
            refusals.append(e)
    assert refusals


async def test_validate_takes_about_a_millisecond(domain: Domain) -> None:
    key = await key_for(domain, "alice", "pro")
    raw = body(
        template="blog",
        title="How we cut our render time in half",
        description="A story",
        tag="eng",
    )
    await domain.renders.validate(key, raw)
    # The layout itself, without the burst token's state round trip.
    parsed = domain.renders.parse(orjson.loads(raw), strict=True)
    template = await domain.templates.resolve("alice", parsed.template)
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        domain.renders.layout_of(parsed, template)
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[len(timings) // 2] < 0.005  # ≤ 1 ms measured; slack for a loaded host


# -- usage ------------------------------------------------------------------------------------
async def test_usage_agrees_with_the_rate_limit_headers(domain: Domain) -> None:
    key = await key_for(domain, "alice")  # free: 3
    made = await domain.renders.create(key, body(title="Counted"))
    await domain.renders.create(key, body(title="Counted"))  # a dedup hit: free
    month = await domain.reports.month(key)
    headers = made.status.headers()
    assert month.quota.headers() == headers
    assert (month.plan, month.quota.limit, month.used, month.quota.remaining) == ("free", 3, 1, 2)
    today = month.days[-1]
    assert (today.v1, today.v2, today.dedup) == (0, 1, 1)
    assert month.days[0].day.endswith("-01") and len(month.days) == int(today.day[-2:])
    assert month.resets_at.endswith("-01T00:00:00.000Z")

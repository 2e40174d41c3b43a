"""Renders (``ogmint.domain.renders``) on a real SQLite state, local storage and the renderer:
V2's validation, burst token, dedup, quota, store and record; V1's limit choice, tracking and
refunds; previews."""

from __future__ import annotations

import orjson
import pytest

from domain.conftest import ANONYMOUS_DAILY, ROOT, WEBHOOK_HOST, Domain
from ogmint.domain.keys import ApiKeyRecord
from ogmint.domain.renders import Card
from ogmint.domain.templates import TemplateSource
from ogmint.errors import (
    BadJSONError,
    FetchError,
    RateLimitError,
    TemplateInvalidError,
    TemplateNotFoundError,
    ValidationError,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

PNG = b"\x89PNG\r\n\x1a\n"
#: An image URL the outbound guard refuses without any network: loopback.
BLOCKED_IMAGE = "https://127.0.0.1/avatar.png"


def body(**fields: object) -> bytes:
    return orjson.dumps({"template": "minimal", **fields})


async def key_for(domain: Domain, user: str, plan: str | None = None) -> ApiKeyRecord:
    made = await domain.keys.create(user, plan)
    record = await domain.keys.authenticate(made.key)
    assert record is not None
    return record


# -- V2 ---------------------------------------------------------------------------------------
async def test_a_new_render_is_stored_recorded_charged_and_tracked(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    made = await domain.renders.create(key, body(title="Hello"))
    assert made.created and not made.dispatched
    assert made.status.headers()["X-RateLimit-Limit"] == "3"  # alice's plan: free
    assert made.status.headers()["X-RateLimit-Remaining"] == "2"
    record = await domain.state.renders.get_render(made.record.slug)
    assert record == made.record and record.user == key.key_id
    stored = await domain.storage.get(record.storage_key)
    assert stored is not None and stored.startswith(PNG)
    assert (await domain.gallery.image(record.slug)) == (record, stored)
    (tracked,) = await domain.usage.recent("alice", 10)
    assert (tracked.kind, tracked.slug, tracked.status) == ("v2", record.slug, 201)


async def test_the_same_card_again_is_a_free_dedup_hit_per_key(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    first = await domain.renders.create(key, body(title="Same"))
    again = await domain.renders.create(key, body(title="Same"))
    assert not again.created and again.record == first.record
    fresh = await domain.renders.create(key, body(title="Different"))
    assert fresh.status.headers()["X-RateLimit-Remaining"] == "1"  # the hit cost no quota
    other_key = await key_for(domain, "alice")
    other = await domain.renders.create(other_key, body(title="Same"))
    assert other.created and other.record.slug != first.record.slug  # dedup is per key
    kinds = [r.kind for r in await domain.usage.recent("alice", 10)]
    assert sorted(kinds) == ["dedup", "v2", "v2", "v2"]


async def test_refused_requests_take_a_burst_token_too(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    refused = [b"{", b"[]", body(title=""), body(title="x", colour="red"), body(title="x")[:-1]]
    for raw in refused:
        with pytest.raises((BadJSONError, ValidationError)):
            await domain.renders.create(key, raw)
    with pytest.raises(RateLimitError) as limited:  # the sixth request of the second
        await domain.renders.create(key, body(title="Fine"))
    assert limited.value.code == "rate_limited" and "Burst" in limited.value.message


async def test_another_users_template_is_not_found(domain: Domain) -> None:
    svg = (ROOT / "templates" / "examples" / "launch-card.svg").read_text()
    meta = await domain.templates.create("alice", TemplateSource(svg), "Launch")
    bob = await key_for(domain, "bob")
    with pytest.raises(TemplateNotFoundError):
        await domain.renders.create(bob, body(template=meta.id, title="Mine?"))
    alice = await key_for(domain, "alice")
    assert (await domain.renders.create(alice, body(template=meta.id, title="Mine"))).created


async def test_the_monthly_quota_refuses_new_renders_not_dedup_hits(domain: Domain) -> None:
    key = await key_for(domain, "alice")  # free: 3 a month
    for n in range(3):
        await domain.renders.create(key, body(title=f"Card {n}"))
    with pytest.raises(RateLimitError) as refused:
        await domain.renders.create(key, body(title="One too many"))
    assert "quota of the free plan" in refused.value.message
    assert not (await domain.renders.create(key, body(title="Card 0"))).created


async def test_a_webhook_is_queued_with_a_new_render_only(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    hook = {"webhookUrl": f"https://{WEBHOOK_HOST}/hook", "metadata": {"post": 7}}
    made = await domain.renders.create(key, body(title="Hooked", **hook))
    assert made.created and made.dispatched and domain.woken == ["render"]
    (queued,) = await domain.state.deliveries.list_deliveries(made.record.slug)
    assert queued.delivery.owner == "alice" and queued.delivery.url == hook["webhookUrl"]
    sent = orjson.loads(queued.delivery.body)["data"]
    assert sent["slug"] == made.record.slug and sent["metadata"] == {"post": 7}
    again = await domain.renders.create(key, body(title="Hooked", **hook))
    assert not again.dispatched and domain.woken == ["render"]
    assert len(await domain.state.deliveries.list_deliveries(made.record.slug)) == 1


async def test_a_blocked_webhook_host_is_refused_before_rendering(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    with pytest.raises(ValidationError) as refused:
        await domain.renders.create(key, body(title="x", webhookUrl="https://127.0.0.1/hook"))
    assert refused.value.details[0].field == "webhookUrl"
    assert await domain.usage.recent("alice", 10) == []


# -- V1 ---------------------------------------------------------------------------------------
async def test_a_card_has_a_stable_etag_known_before_rendering(domain: Domain) -> None:
    card = await domain.renders.card(
        None, {"template": "minimal", "title": "Hello", "utm_source": "x"}
    )
    assert (
        card.etag
        == (await domain.renders.card(None, {"template": "minimal", "title": "Hello"})).etag
    )
    assert (
        card.etag
        != (await domain.renders.card(None, {"template": "minimal", "title": "Other"})).etag
    )
    assert card.etag.startswith('"') and card.etag.endswith('"')


async def test_anonymous_images_count_against_the_daily_limit(domain: Domain) -> None:
    for n in range(ANONYMOUS_DAILY):
        card = await domain.renders.card(None, {"template": "minimal", "title": f"Anon {n}"})
        image = await domain.renders.image(card, None, subject="ip:192.0.2.1", signed=False)
        assert image.data.startswith(PNG) and not image.repeat
    card = await domain.renders.card(None, {"template": "minimal", "title": "One more"})
    with pytest.raises(RateLimitError) as refused:
        await domain.renders.image(card, None, subject="ip:192.0.2.1", signed=False)
    assert "Daily limit" in refused.value.message
    await domain.renders.image(card, None, subject="ip:192.0.2.2", signed=False)  # per address


async def test_repeats_are_free_for_everyone(domain: Domain) -> None:
    key = await key_for(domain, "alice")  # 3 renders a month
    card = await domain.renders.card(None, {"template": "minimal", "title": "Again"})
    first = await domain.renders.image(card, key, subject="", signed=False)
    assert not first.repeat and first.status is not None
    for caller in (key, None, None, key):  # past the burst bucket and the daily allowance
        again = await domain.renders.image(card, caller, subject="ip:192.0.2.5", signed=False)
        assert (again.repeat, again.status, again.data) == (True, None, first.data)
    other = await domain.renders.card(None, {"template": "minimal", "title": "New"})
    charged = await domain.renders.image(other, key, subject="", signed=False)
    assert charged.status is not None
    assert charged.status.headers()["X-RateLimit-Remaining"] == "1"  # one render counted


async def test_key_holders_images_are_charged_and_tracked(domain: Domain) -> None:
    key = await key_for(domain, "alice")
    card = await domain.renders.card("alice", {"template": "minimal", "title": "Keyed"})
    status = (await domain.renders.image(card, key, subject="", signed=False)).status
    assert status is not None and status.headers()["X-RateLimit-Remaining"] == "2"
    (tracked,) = await domain.usage.recent("alice", 10)
    assert (tracked.kind, tracked.status, tracked.title) == ("v1", 200, "Keyed")


async def test_signed_images_take_no_burst_token(domain: Domain) -> None:
    key = await key_for(domain, "alice", "pro")

    async def card(n: int) -> Card:
        return await domain.renders.card("alice", {"template": "minimal", "title": f"C {n}"})

    for n in range(8):  # more than the burst bucket holds
        signed = await domain.renders.image(await card(n), key, subject="", signed=True)
        assert signed.status is None  # a public URL shows no plan or usage
    for n in range(8, 13):
        await domain.renders.image(await card(n), key, subject="", signed=False)
    with pytest.raises(RateLimitError):
        await domain.renders.image(await card(13), key, subject="", signed=False)


async def test_a_failed_fetch_is_free_for_key_holders_and_listed_as_failed(
    domain: Domain,
) -> None:
    key = await key_for(domain, "alice")
    card = await domain.renders.card(
        "alice", {"template": "minimal", "title": "Avatar", "avatar": BLOCKED_IMAGE}
    )
    with pytest.raises(FetchError):
        await domain.renders.image(card, key, subject="", signed=False)
    (tracked,) = await domain.usage.recent("alice", 10)
    assert tracked.status == 400
    status = (
        await domain.renders.image(
            await domain.renders.card("alice", {"template": "minimal", "title": "Fine"}),
            key,
            subject="",
            signed=False,
        )
    ).status
    assert status is not None
    assert status.headers()["X-RateLimit-Remaining"] == "2"  # the failure was refunded


async def test_a_failed_fetch_is_charged_to_anonymous_callers(domain: Domain) -> None:
    card = await domain.renders.card(
        None, {"template": "minimal", "title": "Bomb?", "avatar": BLOCKED_IMAGE}
    )
    for _ in range(ANONYMOUS_DAILY):
        with pytest.raises(FetchError):
            await domain.renders.image(card, None, subject="ip:192.0.2.9", signed=False)
    with pytest.raises(RateLimitError):  # failing image fetches are not free
        await domain.renders.image(card, None, subject="ip:192.0.2.9", signed=False)


# -- previews ---------------------------------------------------------------------------------
async def test_previews_are_neither_stored_nor_charged(domain: Domain) -> None:
    image = await domain.renders.preview("alice", {"template": "minimal", "title": "Preview"})
    assert image.startswith(PNG)
    assert await domain.usage.recent("alice", 10) == []
    with pytest.raises(TemplateInvalidError):
        await domain.renders.preview_upload("alice", TemplateSource("<svg"), {}, api="preview")


async def test_previews_share_one_allowance_per_user(domain: Domain) -> None:
    # PREVIEWS = 3: two dashboard pictures and a refused upload (the check is work too).
    for _ in range(2):
        await domain.renders.preview("alice", {"template": "minimal", "title": "Preview"})
    with pytest.raises(TemplateInvalidError):
        await domain.renders.preview_upload("alice", TemplateSource("<svg"), {}, api="v2")
    with pytest.raises(RateLimitError) as refused:
        await domain.renders.preview_upload("alice", TemplateSource("<svg"), {}, api="v2")
    assert refused.value.limit == "preview"  # refused before the upload was even looked at
    with pytest.raises(RateLimitError):
        await domain.renders.preview("alice", {"template": "minimal", "title": "Preview"})
    await domain.renders.preview("bob", {"template": "minimal", "title": "Preview"})

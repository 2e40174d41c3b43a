"""Deliveries: the one ownership rule — a render is its key's user's, a delivery its asker's;
for anyone else both are 404."""

from __future__ import annotations

import orjson
import pytest

from domain.conftest import REDELIVERIES, WEBHOOK_HOST, Domain
from ogmint.errors import NotFoundError, RateLimitError


async def hooked_render(domain: Domain, user: str) -> tuple[str, str]:
    made = await domain.keys.create(user)
    key = await domain.keys.authenticate(made.key)
    assert key is not None
    body = {"template": "minimal", "title": user, "webhookUrl": f"https://{WEBHOOK_HOST}/h"}
    created = await domain.renders.create(key, orjson.dumps(body))
    (status,) = await domain.state.deliveries.list_deliveries(created.record.slug)
    return created.record.slug, status.delivery.id


async def test_only_the_owner_sees_and_redelivers(domain: Domain) -> None:
    slug, delivery_id = await hooked_render(domain, "alice")
    await domain.keys.create("alice")  # another key of the same user sees them too
    assert await domain.deliveries.owns_render("alice", slug)
    assert [s.delivery.id for s in await domain.deliveries.of_render("alice", slug)] == [
        delivery_id
    ]
    assert not await domain.deliveries.owns_render("bob", slug)
    with pytest.raises(NotFoundError):
        await domain.deliveries.of_render("bob", slug)
    assert await domain.deliveries.listed("bob", slug) == []
    domain.woken.clear()
    with pytest.raises(NotFoundError):
        await domain.deliveries.redeliver("bob", slug, delivery_id)
    assert domain.woken == []
    await domain.deliveries.redeliver("alice", slug, delivery_id)
    assert domain.woken == ["redeliver"]


async def test_a_delivery_of_another_render_is_not_found(domain: Domain) -> None:
    slug, _ = await hooked_render(domain, "alice")
    other_slug, other_id = await hooked_render(domain, "bob")
    with pytest.raises(NotFoundError):
        await domain.deliveries.redeliver("alice", slug, other_id)
    with pytest.raises(NotFoundError):
        await domain.deliveries.redeliver("alice", slug, "msg_unknown")
    with pytest.raises(NotFoundError):
        await domain.deliveries.of_render("alice", "nOsUcHsl")
    assert other_slug != slug


async def test_redeliveries_are_bounded_per_user(domain: Domain) -> None:
    slug, delivery_id = await hooked_render(domain, "alice")
    for _ in range(REDELIVERIES):
        await domain.deliveries.redeliver("alice", slug, delivery_id)
    domain.woken.clear()
    with pytest.raises(RateLimitError) as refused:
        await domain.deliveries.redeliver("alice", slug, delivery_id)
    assert refused.value.limit == "redeliver"
    assert domain.woken == []  # nothing queued
    with pytest.raises(NotFoundError):  # a probe of someone else's is still a 404, not a 429
        await domain.deliveries.redeliver("bob", slug, delivery_id)

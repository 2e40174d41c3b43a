"""Limits: the burst bucket, anonymous renders per day and ``/i/`` requests per address."""

from __future__ import annotations

import dataclasses

import pytest

from domain.conftest import ANONYMOUS_DAILY, Domain
from ogmint.domain.limits import Limits
from ogmint.domain.plans import Plans
from ogmint.errors import RateLimitError


async def test_the_burst_bucket_holds_its_capacity(domain: Domain) -> None:
    key = await domain.keys.authenticate((await domain.keys.create("alice")).key)
    assert key is not None
    for _ in range(5):  # SPEC §6: 5 a second unless OGMINT_PLAN_BURSTS says otherwise
        await domain.limits.take_burst(key)
    with pytest.raises(RateLimitError) as refused:
        await domain.limits.take_burst(key)
    assert "Retry-After" in refused.value.headers


async def test_anonymous_renders_per_day_and_refunds(domain: Domain) -> None:
    for _ in range(ANONYMOUS_DAILY):
        await domain.limits.take_daily("ip:192.0.2.1")
    with pytest.raises(RateLimitError):
        await domain.limits.take_daily("ip:192.0.2.1")
    await domain.limits.refund_daily("ip:192.0.2.1")
    await domain.limits.take_daily("ip:192.0.2.1")


async def test_the_image_limit_counts_per_address_and_can_be_off(domain: Domain) -> None:
    limits = Limits(
        domain.state.limits,
        domain.plans,
        anonymous_daily=1,
        image_per_minute=2,
        signed_per_minute=0,
    )
    await limits.take_image("ip:192.0.2.1")
    await limits.take_image("ip:192.0.2.1")
    with pytest.raises(RateLimitError, match="2 requests per minute"):
        await limits.take_image("ip:192.0.2.1")
    await limits.take_image("ip:192.0.2.2")
    for _ in range(10):  # the fixture's limit is 0: off
        await domain.limits.take_image("ip:192.0.2.1")


async def test_bursts_are_per_plan(domain: Domain) -> None:
    plans = Plans((("free", 100), ("team", 100)), (("team", 2.5),))
    limits = Limits(
        domain.state.limits, plans, anonymous_daily=1, image_per_minute=0, signed_per_minute=0
    )
    assert (limits.burst("team"), limits.burst("free")) == ((2.5, 3), (5.0, 5))
    team = await domain.keys.authenticate((await domain.keys.create("t")).key)
    assert team is not None
    team = dataclasses.replace(team, plan="team")
    for _ in range(3):
        await limits.take_burst(team)
    with pytest.raises(RateLimitError, match=r"Burst limit of 2\.5 requests per second"):
        await limits.take_burst(team)


async def test_anonymous_renders_can_be_none_or_unlimited(domain: Domain) -> None:
    def limits(per_day: int | None) -> Limits:
        return Limits(
            domain.state.limits,
            domain.plans,
            anonymous_daily=per_day,
            image_per_minute=0,
            signed_per_minute=0,
        )

    with pytest.raises(RateLimitError, match="no anonymous renders") as refused:
        await limits(0).take_daily("ip:192.0.2.7")
    assert "signed URL" in refused.value.message and "ogmint sign-url" in refused.value.message
    for _ in range(50):
        assert await limits(None).take_daily("ip:192.0.2.7") is None


async def test_a_signing_keys_renders_are_limited_without_headers(domain: Domain) -> None:
    limits = Limits(
        domain.state.limits, domain.plans, anonymous_daily=1, image_per_minute=0,
        signed_per_minute=2,
    )  # fmt: skip
    await limits.take_signed("sk_AAAAAAAAAAAA")
    await limits.take_signed("sk_AAAAAAAAAAAA")
    with pytest.raises(RateLimitError, match="signing key") as refused:
        await limits.take_signed("sk_AAAAAAAAAAAA")
    assert set(refused.value.headers) == {"Retry-After"}
    await limits.take_signed("sk_BBBBBBBBBBBB")  # per key

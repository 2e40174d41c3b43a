"""Limits: the burst bucket, anonymous renders per day and ``/i/`` requests per address."""

from __future__ import annotations

import pytest

from domain.conftest import ANONYMOUS_DAILY, Domain
from ogmint.domain.limits import BURST_CAPACITY, Limits
from ogmint.errors import RateLimitError


async def test_the_burst_bucket_holds_its_capacity(domain: Domain) -> None:
    key = await domain.keys.authenticate((await domain.keys.create("alice")).key)
    assert key is not None
    for _ in range(BURST_CAPACITY):
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
    limits = Limits(domain.state.limits, anonymous_daily=1, image_per_minute=2)
    await limits.take_image("ip:192.0.2.1")
    await limits.take_image("ip:192.0.2.1")
    with pytest.raises(RateLimitError, match="2 requests per minute"):
        await limits.take_image("ip:192.0.2.1")
    await limits.take_image("ip:192.0.2.2")
    for _ in range(10):  # the fixture's limit is 0: off
        await domain.limits.take_image("ip:192.0.2.1")

"""The budgets of work without a render quota (``limits.Budget``), on SQLite and Redis: each
subject's allowance holds exactly under concurrency, and budgets never share a bucket."""

from __future__ import annotations

import asyncio

import pytest

from ogmint.domain.limits import (
    Limits,
    password_budget,
    preview_budget,
    redelivery_budget,
    sign_in_budgets,
)
from ogmint.domain.plans import Plans
from ogmint.errors import RateLimitError
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_preview_budget_admits_exactly_its_capacity(state: State) -> None:
    budget = preview_budget(7)
    got = await asyncio.gather(
        *(budget.spend(state.limits, "alice") for _ in range(20)), return_exceptions=True
    )
    refused = [g for g in got if isinstance(g, RateLimitError)]
    assert len(refused) == 13
    assert len(got) - len(refused) == 7
    error = refused[0]
    assert error.limit == "preview"
    assert error.status == 429
    assert "7 previews per hour" in error.message
    # An hour's worth refills evenly: the next token comes in about 3600 / 7 s.
    assert 1 <= int(error.headers["Retry-After"]) <= 3600 // 7 + 2
    assert error.headers["X-RateLimit-Limit"] == "7"
    await budget.spend(state.limits, "bob")  # per user


async def test_budgets_and_the_burst_bucket_are_apart(state: State) -> None:
    for _ in range(2):
        await preview_budget(2).spend(state.limits, "alice")
    with pytest.raises(RateLimitError):
        await preview_budget(2).spend(state.limits, "alice")
    # The same user's other allowances are untouched by the previews.
    await redelivery_budget(1).spend(state.limits, "alice")
    await password_budget(1).spend(state.limits, "alice")
    key = ApiKeyRecord("k1", "h1", "alice", "free", False, "")
    plans = Plans([("free", 100)])
    await Limits(state.limits, plans, anonymous_daily=1, image_per_minute=0).take_burst(key)
    with pytest.raises(RateLimitError) as refused:
        await redelivery_budget(1).spend(state.limits, "alice")
    assert refused.value.limit == "redeliver"


async def test_sign_in_is_limited_per_pair_and_per_address(state: State) -> None:
    pair, address = sign_in_budgets(2, 3)
    for _ in range(2):
        await pair.spend(state.limits, "10.0.0.1/victim")
    with pytest.raises(RateLimitError):
        await pair.spend(state.limits, "10.0.0.1/victim")
    await pair.spend(state.limits, "10.0.0.2/victim")  # the owner, elsewhere
    for _ in range(3):
        await address.spend(state.limits, "10.0.0.1")
    with pytest.raises(RateLimitError) as refused:
        await address.spend(state.limits, "10.0.0.1")
    assert refused.value.limit == "sign_in"

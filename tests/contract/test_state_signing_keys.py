"""The signing keys aggregate's contract, on SQLite and Redis."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from contract.records import ISO_MS
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_create_and_find(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", "pro")
    created_at = await state.signing_keys.create_signing_key("alice", "sk_a", "ogm_sign_s1")
    assert created_at is not None and ISO_MS.match(created_at)
    created = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(created.timestamp() - time.time()) < 5
    found = await state.signing_keys.find_signing_key("sk_a")
    assert found is not None
    assert (found.kid, found.user, found.plan, found.secret, found.revoked) == (
        "sk_a",
        "alice",
        "pro",
        "ogm_sign_s1",
        False,
    )
    assert found.created_at == created_at
    assert "ogm_sign_s1" not in repr(found)
    assert await state.signing_keys.find_signing_key("sk_missing") is None


async def test_only_existing_users_get_keys(state: State) -> None:
    assert await state.signing_keys.create_signing_key("nobody", "sk_n", "s") is None
    assert await state.signing_keys.find_signing_key("sk_n") is None
    assert await state.signing_keys.list_signing_keys("nobody") == []


async def test_plan_changes_show_on_the_key(state: State) -> None:
    await state.keys.create_key("bob", "k1", "h1", None)
    await state.signing_keys.create_signing_key("bob", "sk_b", "s")
    found = await state.signing_keys.find_signing_key("sk_b")
    assert found is not None and found.plan == "free"
    await state.keys.set_plan("bob", "agency")
    found = await state.signing_keys.find_signing_key("sk_b")
    assert found is not None and found.plan == "agency"


async def test_list_is_per_user_active_and_oldest_first(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", None)
    await state.keys.create_key("bob", "k2", "h2", None)
    for kid in ["sk_1", "sk_2", "sk_3"]:
        await state.signing_keys.create_signing_key("alice", kid, "s-" + kid)
        await asyncio.sleep(0.002)  # distinct creation times
    await state.signing_keys.create_signing_key("bob", "sk_bob", "s")
    listed = await state.signing_keys.list_signing_keys("alice")
    assert [k.kid for k in listed] == ["sk_1", "sk_2", "sk_3"]
    assert [k.secret for k in listed] == ["s-sk_1", "s-sk_2", "s-sk_3"]
    assert await state.signing_keys.revoke_signing_key("alice", "sk_2")
    assert [k.kid for k in await state.signing_keys.list_signing_keys("alice")] == ["sk_1", "sk_3"]
    assert [k.kid for k in await state.signing_keys.list_signing_keys("bob")] == ["sk_bob"]


async def test_revoke_only_own_active_keys(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", None)
    await state.keys.create_key("mallory", "k2", "h2", None)
    await state.signing_keys.create_signing_key("alice", "sk_a", "s")
    assert not await state.signing_keys.revoke_signing_key("mallory", "sk_a")
    assert not await state.signing_keys.revoke_signing_key("alice", "sk_missing")
    found = await state.signing_keys.find_signing_key("sk_a")
    assert found is not None and not found.revoked
    assert await state.signing_keys.revoke_signing_key("alice", "sk_a")
    assert not await state.signing_keys.revoke_signing_key("alice", "sk_a")  # already revoked
    found = await state.signing_keys.find_signing_key("sk_a")
    assert found is not None and found.revoked  # kept, so its URLs are refused, not unknown


async def test_concurrent_creates_are_all_kept(state: State) -> None:
    await state.keys.create_key("alice", "k1", "h1", None)
    kids = [f"sk_c{i}" for i in range(20)]
    made = await asyncio.gather(
        *(state.signing_keys.create_signing_key("alice", k, "s") for k in kids)
    )
    assert all(made)
    assert sorted(k.kid for k in await state.signing_keys.list_signing_keys("alice")) == sorted(
        kids
    )

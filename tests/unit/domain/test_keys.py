"""API keys: their material looks as SPEC §6 says; the service authenticates, remembers,
revokes (the owner only) and moves users between the plans the settings name."""

from __future__ import annotations

import re

import pytest

from domain.conftest import MAX_KEYS, Domain
from ogmint.domain.keys import KEY_PREFIX, hash_key, new_key
from ogmint.errors import NotFoundError, TooManyError, UnauthorizedError, ValidationError


def test_new_key_shape_and_hash() -> None:
    key_id, key = new_key()
    assert re.fullmatch(r"key_[0-9A-Za-z]{12}", key_id)
    assert re.fullmatch(KEY_PREFIX + r"[0-9A-Za-z]{40}", key)
    assert hash_key(key) == hash_key(key) != hash_key(new_key()[1])
    assert key not in hash_key(key)


# -- the ApiKeys service ----------------------------------------------------------------------
async def test_authenticate_refuses_what_is_not_a_live_key(domain: Domain) -> None:
    assert await domain.keys.authenticate(None) is None  # no key sent: anonymous
    made = await domain.keys.create("alice")
    record = await domain.keys.authenticate(f"  {made.key} ")
    assert record is not None and (record.user, record.plan) == ("alice", "free")
    for wrong in ("", "ogm_live_short", KEY_PREFIX + "x" * 40, made.key + "x"):
        with pytest.raises(UnauthorizedError):
            await domain.keys.authenticate(wrong)


async def test_every_key_header_sent_is_one_key(domain: Domain) -> None:
    # Review 2026-12: of several x-api-key headers the first counted, the rest were ignored.
    assert await domain.keys.authenticate_sent([]) is None
    alice = (await domain.keys.create("alice")).key
    bob = (await domain.keys.create("bob")).key
    for sent in ([alice, alice], [alice, f" {alice}"]):
        record = await domain.keys.authenticate_sent(sent)
        assert record is not None and record.user == "alice"
    for sent in ([alice, bob], [bob, alice], ["", alice], [alice, "x"]):
        with pytest.raises(UnauthorizedError):
            await domain.keys.authenticate_sent(sent)


async def test_a_revoked_key_is_refused_at_once_where_it_was_revoked(domain: Domain) -> None:
    made = await domain.keys.create("alice")
    await domain.keys.authenticate(made.key)  # remembered by this worker
    await domain.keys.revoke_own("alice", made.key_id)
    with pytest.raises(UnauthorizedError):
        await domain.keys.authenticate(made.key)
    assert await domain.keys.active("alice") == []
    assert [k.revoked for k in await domain.keys.listed("alice")] == [True]


async def test_only_the_owner_revokes_a_key(domain: Domain) -> None:
    made = await domain.keys.create("alice")
    with pytest.raises(NotFoundError):
        await domain.keys.revoke_own("bob", made.key_id)
    assert await domain.keys.authenticate(made.key) is not None


async def test_plans_come_from_the_settings_only(domain: Domain) -> None:
    await domain.keys.create("alice")
    assert await domain.keys.quota_of("alice") == ("free", 3)
    assert await domain.keys.set_plan("alice", "platinum")  # named by the settings alone
    assert await domain.keys.quota_of("alice") == ("platinum", 7)
    with pytest.raises(ValidationError) as refused:
        await domain.keys.set_plan("alice", "agency")  # a SPEC default, not in these settings
    assert refused.value.details[0].field == "plan"
    assert not await domain.keys.set_plan("nobody", "pro")
    assert await domain.keys.plan_of("nobody") == "free"
    made = await domain.keys.create("carol", "pro")
    assert made.plan == "pro"
    with pytest.raises(ValidationError):
        await domain.keys.create("dave", "agency")


async def test_active_keys_per_user_are_bounded(domain: Domain) -> None:
    made = [await domain.keys.create("alice") for _ in range(MAX_KEYS)]
    with pytest.raises(TooManyError, match=f"At most {MAX_KEYS} active API keys"):
        await domain.keys.create("alice", "pro")
    assert (await domain.keys.plan_of("alice")) == "free"  # a refused creation changes nothing
    await domain.keys.revoke_own("alice", made[0].key_id)
    await domain.keys.create("alice")
    await domain.keys.create("bob")  # per user

"""Signing keys: the active-keys cap for every caller, revocation, and signatures the service
both makes (``sign``) and checks (``check``)."""

from __future__ import annotations

import pytest

from domain.conftest import Domain
from ogmint.domain.signing_keys import MAX_ACTIVE_KEYS
from ogmint.errors import (
    NotFoundError,
    SignatureExpiredError,
    SignatureInvalidError,
    TooManyError,
    ValidationError,
)


async def test_at_most_the_cap_of_active_keys(domain: Domain) -> None:
    await domain.keys.create("alice")
    made = [await domain.signing_keys.create("alice") for _ in range(MAX_ACTIVE_KEYS)]
    assert all(m is not None for m in made)
    with pytest.raises(TooManyError):
        await domain.signing_keys.create("alice")
    first = made[0]
    assert first is not None and await domain.signing_keys.revoke("alice", first.kid)
    assert await domain.signing_keys.create("alice") is not None  # room again
    assert len(await domain.signing_keys.listed("alice")) == MAX_ACTIVE_KEYS


async def test_no_key_for_a_user_without_an_api_key(domain: Domain) -> None:
    assert await domain.signing_keys.create("nobody") is None


async def test_a_signed_query_is_checked_until_revoked(domain: Domain) -> None:
    await domain.keys.create("alice", "pro")
    made = await domain.signing_keys.create("alice")
    assert made is not None
    query = await domain.signing_keys.sign(made.kid, "template=blog&title=Hi", 3600)
    assert query.endswith("&sig=" + query.rsplit("&sig=", 1)[1]) and "&kid=" in query
    signed = await domain.signing_keys.check(query, 86400)
    assert signed is not None
    assert signed.params == {"template": "blog", "title": "Hi"}
    assert (signed.key.user, signed.key.plan) == ("alice", "pro")
    assert 3590 <= signed.max_age <= 3600  # never cached past exp
    assert await domain.signing_keys.check("template=blog&title=Hi", 86400) is None  # unsigned
    with pytest.raises(SignatureInvalidError):
        await domain.signing_keys.check(query.replace("title=Hi", "title=Ho"), 86400)
    assert not await domain.signing_keys.revoke("bob", made.kid)  # only the owner revokes
    assert await domain.signing_keys.revoke("alice", made.kid)
    with pytest.raises(SignatureInvalidError):  # at once in the worker that revoked it
        await domain.signing_keys.check(query, 86400)
    with pytest.raises(NotFoundError):
        await domain.signing_keys.sign(made.kid, "title=Hi")


async def test_sign_refuses_what_it_adds_itself_and_expired_links_fail(domain: Domain) -> None:
    await domain.keys.create("alice")
    made = await domain.signing_keys.create("alice")
    assert made is not None
    with pytest.raises(ValidationError):
        await domain.signing_keys.sign(made.kid, "title=Hi&sig=x")
    expired = await domain.signing_keys.sign(made.kid, "title=Hi", -10)
    with pytest.raises(SignatureExpiredError):
        await domain.signing_keys.check(expired, 86400)

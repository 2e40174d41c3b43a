"""Accounts: the password check costs the same whether or not the e-mail has an account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from ogmint.domain.accounts import Accounts, SignInFailed, SignInLimits
from ogmint.state.sqlite import sqlite_state

pytestmark = pytest.mark.asyncio(loop_scope="session")


class CountingHasher(PasswordHasher):
    """The real Argon2 hasher, counting how often a password is verified."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        CountingHasher.verified += 1
        return super().verify(hash, password)


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[Accounts]:
    state = sqlite_state(tmp_path / "s.db")
    await state.open()
    yield Accounts(
        state.accounts,
        state.limits,
        link_ttl=60,
        session_ttl=60,
        sign_in=SignInLimits(100, 100),
        hasher=CountingHasher(time_cost=1, memory_cost=8192, parallelism=1),
    )
    await state.close()


async def test_every_failure_runs_the_kdf(accounts: Accounts) -> None:
    link = await accounts.create("alice", "a@example.com", admin=False)
    invited = "b@example.com"
    await accounts.create("bob", invited, admin=False)  # invited, no password yet
    assert await accounts.use_link(link, "correct horse battery") == "alice"
    for email in ("a@example.com", "nobody@example.com", invited):
        before = CountingHasher.verified
        with pytest.raises(SignInFailed) as refused:
            await accounts.sign_in(email, "wrong password", "127.0.0.1")
        assert CountingHasher.verified == before + 1, email
        assert refused.value.message == "Email or password is incorrect"
    token, session = await accounts.sign_in(" A@Example.COM ", "correct horse battery", "::1")
    assert session.user == "alice"
    assert await accounts.session(token) == session


async def test_names_and_addresses_are_checked(accounts: Accounts) -> None:
    for user, email in (("bad name", "a@example.com"), ("ok", "not-an-address"), ("", "a@b.c")):
        with pytest.raises(ValueError):
            await accounts.create(user, email, admin=False)

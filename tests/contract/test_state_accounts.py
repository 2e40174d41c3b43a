"""The AccountStore contract, run against every implementation (embedded SQLite and Redis)."""

from __future__ import annotations

import asyncio
import re

import pytest

from ogmint.state.accounts import AccountExists, AccountStore, Session
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def store(state: State) -> AccountStore:
    """The accounts aggregate of an open, empty state of each kind (``state`` fixture)."""
    return state.accounts


async def test_create_and_find(store: AccountStore) -> None:
    made = await store.create_account("alice", "a@example.com", admin=False)
    assert made.user == "alice"
    assert made.password_hash == ""
    assert not made.admin
    assert ISO_MS.match(made.created_at)
    assert await store.get_account("alice") == made
    assert await store.find_account("a@example.com") == made
    assert await store.get_account("bob") is None
    assert await store.find_account("b@example.com") is None


async def test_user_and_email_are_unique(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=True)
    with pytest.raises(AccountExists):
        await store.create_account("alice", "other@example.com", admin=False)
    with pytest.raises(AccountExists):
        await store.create_account("bob", "a@example.com", admin=False)
    assert await store.get_account("bob") is None
    accounts = await store.list_accounts()
    assert [(a.user, a.admin) for a in accounts] == [("alice", True)]


async def test_list_oldest_first(store: AccountStore) -> None:
    for name in ["carol", "alice", "bob"]:
        await store.create_account(name, f"{name}@example.com", admin=False)
        await asyncio.sleep(0.005)
    assert [a.user for a in await store.list_accounts()] == ["carol", "alice", "bob"]


async def test_link_sets_password_once(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=False)
    assert not await store.set_link("nobody", "h0", 60)
    assert await store.set_link("alice", "h1", 60)
    assert await store.link_user("h1") == "alice"
    assert await store.link_user("nope") is None
    assert await store.use_link("nope", "pw") is None
    assert await store.use_link("h1", "pw1") == "alice"
    account = await store.get_account("alice")
    assert account is not None
    assert account.password_hash == "pw1"
    assert await store.link_user("h1") is None
    assert await store.use_link("h1", "pw2") is None  # one-time
    account = await store.get_account("alice")
    assert account is not None
    assert account.password_hash == "pw1"


async def test_new_link_replaces_old(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=False)
    await store.set_link("alice", "old", 60)
    await store.set_link("alice", "new", 60)
    assert await store.link_user("old") is None
    assert await store.use_link("old", "pw") is None
    assert await store.use_link("new", "pw") == "alice"


async def test_link_expires(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=False)
    await store.set_link("alice", "h1", 0.05)
    await asyncio.sleep(0.15)
    assert await store.link_user("h1") is None
    assert await store.use_link("h1", "pw") is None


async def test_sessions(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=False)
    await store.start_session("s1", "alice", "c1", 60)
    assert await store.get_session("s1") == Session("alice", "c1")
    assert await store.get_session("s2") is None
    await store.end_session("s1")
    assert await store.get_session("s1") is None
    await store.end_session("never")  # ignored


async def test_session_expires(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=False)
    await store.start_session("s1", "alice", "c1", 0.05)
    await asyncio.sleep(0.15)
    assert await store.get_session("s1") is None


async def test_password_change_ends_other_sessions(store: AccountStore) -> None:
    for name in ["alice", "bob"]:
        await store.create_account(name, f"{name}@example.com", admin=False)
    for s in ["a1", "a2", "a3"]:
        await store.start_session(s, "alice", "c", 60)
    await store.start_session("b1", "bob", "c", 60)
    await store.set_password("alice", "new", keep="a2")
    assert await store.get_session("a1") is None
    assert await store.get_session("a3") is None
    assert await store.get_session("a2") == Session("alice", "c")
    assert await store.get_session("b1") == Session("bob", "c")
    account = await store.get_account("alice")
    assert account is not None
    assert account.password_hash == "new"


async def test_using_a_link_ends_every_session(store: AccountStore) -> None:
    await store.create_account("alice", "a@example.com", admin=False)
    await store.start_session("a1", "alice", "c", 60)
    await store.set_link("alice", "h", 60)
    assert await store.use_link("h", "pw") == "alice"
    assert await store.get_session("a1") is None


async def test_flash_is_read_once(store: AccountStore) -> None:
    await store.put_flash("s1", "first", 60)
    await store.put_flash("s1", "second", 60)  # replaces
    await store.put_flash("s2", "other", 60)
    assert await store.take_flash("s1") == "second"
    assert await store.take_flash("s1") is None
    assert await store.take_flash("s2") == "other"
    assert await store.take_flash("never") is None


async def test_flash_expires(store: AccountStore) -> None:
    await store.put_flash("s1", "soon gone", 0.05)
    await asyncio.sleep(0.15)
    assert await store.take_flash("s1") is None


async def test_disabling_ends_sessions_and_is_listed(store: AccountStore) -> None:
    for name in ["alice", "bob"]:
        await store.create_account(name, f"{name}@example.com", admin=False)
        await store.start_session(f"{name}-s", name, "c", 60)
    assert await store.set_disabled("alice", True)
    assert await store.get_session("alice-s") is None
    assert await store.get_session("bob-s") == Session("bob", "c")
    alice = await store.get_account("alice")
    assert alice is not None and alice.disabled
    found = await store.find_account("alice@example.com")
    assert found is not None and found.disabled
    assert [a.disabled for a in await store.list_accounts()] == [True, False]
    assert await store.set_disabled("alice", False)
    alice = await store.get_account("alice")
    assert alice is not None and not alice.disabled
    assert not await store.set_disabled("nobody", True)

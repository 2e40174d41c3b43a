"""Users as an operator sees them (the admin page and ``ogmint users``): each account with its
plan, keys and usage; invitations; and disabling a user.

A disabled user cannot sign in (their sessions end at once) and every API and signing key of
theirs is revoked, so keyed requests answer 401 and signed URLs 403 (within the per-worker key
cache's ttl on other workers). Enabling the user again lets them sign in; keys are made anew.
"""

from __future__ import annotations

from dataclasses import dataclass

from ogmint.domain.accounts import Account, Accounts
from ogmint.domain.keys import ApiKeys
from ogmint.domain.signing_keys import SigningKeys
from ogmint.domain.usage import Usage
from ogmint.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class UserRow:
    """One user in the operator's list."""

    account: Account
    plan: str
    active_keys: int
    used: int  # renders charged this month
    quota: int


class Users:
    """The operator's view of users, shared by the dashboard's admin page and the CLI."""

    def __init__(
        self, accounts: Accounts, keys: ApiKeys, signing_keys: SigningKeys, usage: Usage
    ) -> None:
        self._accounts = accounts
        self._keys = keys
        self._signing_keys = signing_keys
        self._usage = usage

    async def overview(self) -> list[UserRow]:
        """Every account, oldest first, with its plan, active keys and this month's usage."""
        rows = []
        for account in await self._accounts.accounts():
            plan, quota = await self._keys.quota_of(account.user)
            rows.append(
                UserRow(
                    account,
                    plan,
                    len(await self._keys.active(account.user)),
                    await self._usage.month_total(account.user),
                    quota,
                )
            )
        return rows

    async def invite(self, user: str, email: str, *, admin: bool = False) -> str:
        """Creates the account and returns its one-time link token (ValueError, AccountExists)."""
        return await self._accounts.create(user, email, admin=admin)

    async def disable(self, user: str) -> int:
        """Disables the user: sessions ended, sign-in refused, every key revoked (404 for no
        such account). Returns how many keys were revoked."""
        if not await self._accounts.set_disabled(user, True):
            raise NotFoundError("No such user")
        revoked = await self._keys.revoke_all(user)
        for signing in await self._signing_keys.listed(user):
            revoked += await self._signing_keys.revoke(user, signing.kid)
        return revoked

    async def enable(self, user: str) -> None:
        """Lets a disabled user sign in again (404 for no such account)."""
        if not await self._accounts.set_disabled(user, False):
            raise NotFoundError("No such user")

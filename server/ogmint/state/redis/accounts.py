"""The accounts aggregate in Redis; every change of more than one key is one script
(``account_*.lua``, ``session_*.lua``).

Links and sessions expire by Redis' own clock. Scripts that end sessions name the session keys
they delete from the user's set, so, like the render scripts, they need a single Redis.
"""

from __future__ import annotations

from typing import cast

from ogmint.clock import ms_iso
from ogmint.state.accounts import Account, AccountExists, Session
from ogmint.state.redis.client import RedisClient


class RedisAccounts:
    """AccountStore on Redis, shared by every app server."""

    def __init__(self, client: RedisClient) -> None:
        self._c = client

    def _a(self, user: str, suffix: str) -> str:
        return f"{self._c.prefix}{{a:{user}}}:{suffix}"

    async def create_account(self, user: str, email: str, admin: bool) -> Account:
        keys = [
            self._a(user, "account"),
            self._c.g(f"account-email:{email}"),
            self._c.g("accounts"),
        ]
        reply = await self._c.script("account_create", keys, [user, email, int(admin)])
        if not reply:
            raise AccountExists(f"user {user!r} or e-mail {email!r} already has an account")
        ms = int(reply[0]) * 1000 + int(reply[1]) // 1000
        return Account(user, email, "", admin, ms_iso(ms))

    async def get_account(self, user: str) -> Account | None:
        h = cast(
            dict[str, str], await self._c.call(self._c.redis.hgetall(self._a(user, "account")))
        )
        if not h:
            return None
        return Account(
            user,
            h["email"],
            h["password"],
            h["admin"] == "1",
            ms_iso(int(h["ms"])),
            h.get("disabled") == "1",
        )

    async def find_account(self, email: str) -> Account | None:
        user = await self._c.call(self._c.redis.get(self._c.g(f"account-email:{email}")))
        return None if user is None else await self.get_account(cast(str, user))

    async def list_accounts(self) -> list[Account]:
        users = cast(
            list[str], await self._c.call(self._c.redis.zrange(self._c.g("accounts"), 0, -1))
        )
        found = [await self.get_account(u) for u in users]
        return [a for a in found if a is not None]

    async def set_link(self, user: str, link_hash: str, ttl: float) -> bool:
        keys = [self._a(user, "account"), self._a(user, "link")]
        args: list[str | int | float] = [self._c.prefix, user, link_hash, max(int(ttl * 1000), 1)]
        return bool(await self._c.script("account_link", keys, args))

    async def link_user(self, link_hash: str) -> str | None:
        return cast(
            str | None, await self._c.call(self._c.redis.get(self._c.g(f"link:{link_hash}")))
        )

    async def use_link(self, link_hash: str, password_hash: str) -> str | None:
        keys = [self._c.g(f"link:{link_hash}")]
        user = await self._c.script("account_use_link", keys, [self._c.prefix, password_hash])
        return cast(str, user) if user else None

    async def set_password(self, user: str, password_hash: str, keep: str) -> None:
        keys = [self._a(user, "account"), self._a(user, "sessions")]
        await self._c.script("account_password", keys, [self._c.prefix, password_hash, keep])

    async def start_session(self, session_hash: str, user: str, csrf: str, ttl: float) -> None:
        keys = [self._c.g(f"session:{session_hash}"), self._a(user, "sessions")]
        args: list[str | int | float] = [
            self._c.prefix,
            user,
            csrf,
            max(int(ttl * 1000), 1),
            session_hash,
        ]
        await self._c.script("session_start", keys, args)

    async def get_session(self, session_hash: str) -> Session | None:
        user, csrf = cast(
            list[str | None],
            await self._c.call(
                self._c.redis.hmget(self._c.g(f"session:{session_hash}"), "user", "csrf")
            ),
        )
        return None if user is None or csrf is None else Session(user, csrf)

    async def end_session(self, session_hash: str) -> None:
        keys = [self._c.g(f"session:{session_hash}")]
        await self._c.script("session_end", keys, [self._c.prefix, session_hash])

    async def set_disabled(self, user: str, disabled: bool) -> bool:
        keys = [self._a(user, "account"), self._a(user, "sessions")]
        args: list[str | int | float] = [self._c.prefix, int(disabled)]
        return bool(await self._c.script("account_disable", keys, args))

    async def put_flash(self, session_hash: str, text: str, ttl: float) -> None:
        key = self._c.g(f"flash:{session_hash}")
        await self._c.call(self._c.redis.set(key, text, px=max(int(ttl * 1000), 1)))

    async def take_flash(self, session_hash: str) -> str | None:
        key = self._c.g(f"flash:{session_hash}")
        return cast(str | None, await self._c.call(self._c.redis.getdel(key)))

"""The accounts aggregate in Redis; every change of more than one key is one Lua script.

Key layout (``P`` is the prefix, ``ogmint:`` by default)::

    P{a:<user>}:account     hash email, password, admin, created_at
    P{a:<user>}:link        string: digest of the user's current one-time link     PX ttl
    P{a:<user>}:sessions    set of the user's session digests (expired ones pruned on sign-in)
    Paccount-email:<email>  string user
    Paccounts               zset user scored by created_at (ms)
    Plink:<digest>          string user                                             PX ttl
    Psession:<digest>       hash user, csrf                                         PX ttl

Links and sessions expire by Redis' own clock. Scripts that end sessions name the session keys
they delete from the user's set, so, like the render scripts, they need a single Redis.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from redis import exceptions as rx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from ogmint.state.accounts import Account, AccountExists, Session
from ogmint.state.base import StateUnavailable

T = TypeVar("T")

# KEYS: account, e-mail index, accounts zset. ARGV: user, email, admin. {sec, usec} or 0 if taken.
_CREATE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'email', ARGV[2], 'password', '', 'admin', ARGV[3], 'ms', ms)
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ms, ARGV[1])
return t
"""

# KEYS: account, user's link. ARGV: prefix, user, digest, ttl (ms). 0 when there is no account.
_SET_LINK_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('GET', KEYS[2])
if old then redis.call('DEL', ARGV[1] .. 'link:' .. old) end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('SET', ARGV[1] .. 'link:' .. ARGV[3], ARGV[2], 'PX', ARGV[4])
return 1
"""

# Ends the sessions in a user's set except ``keep``; used by the two scripts below.
_END_SESSIONS_FN_LUA = """
local function end_sessions(set, prefix, keep)
  for _, s in ipairs(redis.call('SMEMBERS', set)) do
    if s ~= keep then
      redis.call('DEL', prefix .. 'session:' .. s)
      redis.call('SREM', set, s)
    end
  end
end
"""

# KEYS: link. ARGV: prefix, password hash. The user, or false for an invalid link.
_USE_LINK_LUA = (
    _END_SESSIONS_FN_LUA
    + """
local user = redis.call('GET', KEYS[1])
if not user then return false end
local tagged = ARGV[1] .. '{a:' .. user .. '}:'
redis.call('HSET', tagged .. 'account', 'password', ARGV[2])
redis.call('DEL', KEYS[1], tagged .. 'link')
end_sessions(tagged .. 'sessions', ARGV[1], '')
return user
"""
)

# KEYS: account, user's sessions. ARGV: prefix, password hash, session digest to keep.
_SET_PASSWORD_LUA = (
    _END_SESSIONS_FN_LUA
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'password', ARGV[2])
end_sessions(KEYS[2], ARGV[1], ARGV[3])
return 1
"""
)

# KEYS: session, user's sessions. ARGV: prefix, user, csrf, ttl (ms), digest.
_START_SESSION_LUA = """
for _, s in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. 'session:' .. s) == 0 then redis.call('SREM', KEYS[2], s) end
end
redis.call('HSET', KEYS[1], 'user', ARGV[2], 'csrf', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return 1
"""

# KEYS: session. ARGV: prefix, digest.
_END_SESSION_LUA = """
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[1] .. '{a:' .. user .. '}:sessions', ARGV[2]) end
return 1
"""

_UNAVAILABLE = (rx.ConnectionError, rx.TimeoutError, TimeoutError, OSError)


def _iso_ms(ms: int) -> str:
    at = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{at}.{ms % 1000:03d}Z"


class RedisAccountStore:
    """AccountStore on Redis, shared by every app server; each call bounded by ``timeout``."""

    def __init__(self, url: str, *, timeout: float = 1.0, prefix: str = "ogmint:") -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix must not contain '{' or '}' (hash tags)")
        self._url = url
        self._timeout = timeout
        self._prefix = prefix
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    async def open(self) -> None:
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=16,
            timeout=self._timeout,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),  # a write whose reply was lost must not run twice
            decode_responses=True,
        )
        self._client = Redis.from_pool(pool)
        sources = {
            "create": _CREATE_LUA,
            "set_link": _SET_LINK_LUA,
            "use_link": _USE_LINK_LUA,
            "set_password": _SET_PASSWORD_LUA,
            "start_session": _START_SESSION_LUA,
            "end_session": _END_SESSION_LUA,
        }
        self._scripts = {n: self._client.register_script(s) for n, s in sources.items()}
        await self._call(self._client.ping())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._scripts = {}

    @property
    def _redis(self) -> Redis:
        if self._client is None:
            raise StateUnavailable("state store is not open")
        return self._client

    async def _call(self, op: Awaitable[T]) -> T:
        try:
            return await op
        except _UNAVAILABLE as e:
            raise StateUnavailable(f"redis: {e}") from e

    async def _script(self, name: str, keys: list[str], args: list[str | int | float]) -> Any:
        script = self._scripts.get(name)
        if script is None:
            raise StateUnavailable("state store is not open")
        return await self._call(script(keys=keys, args=args))

    def _a(self, user: str, suffix: str) -> str:
        return f"{self._prefix}{{a:{user}}}:{suffix}"

    def _g(self, name: str) -> str:
        return f"{self._prefix}{name}"

    async def create_account(self, user: str, email: str, admin: bool) -> Account:
        keys = [self._a(user, "account"), self._g(f"account-email:{email}"), self._g("accounts")]
        reply = await self._script("create", keys, [user, email, int(admin)])
        if not reply:
            raise AccountExists(f"user {user!r} or e-mail {email!r} already has an account")
        ms = int(reply[0]) * 1000 + int(reply[1]) // 1000
        return Account(user, email, "", admin, _iso_ms(ms))

    async def get_account(self, user: str) -> Account | None:
        h = cast(dict[str, str], await self._call(self._redis.hgetall(self._a(user, "account"))))
        if not h:
            return None
        return Account(user, h["email"], h["password"], h["admin"] == "1", _iso_ms(int(h["ms"])))

    async def find_account(self, email: str) -> Account | None:
        user = await self._call(self._redis.get(self._g(f"account-email:{email}")))
        return None if user is None else await self.get_account(cast(str, user))

    async def list_accounts(self) -> list[Account]:
        users = cast(list[str], await self._call(self._redis.zrange(self._g("accounts"), 0, -1)))
        found = [await self.get_account(u) for u in users]
        return [a for a in found if a is not None]

    async def set_link(self, user: str, link_hash: str, ttl: float) -> bool:
        keys = [self._a(user, "account"), self._a(user, "link")]
        args: list[str | int | float] = [self._prefix, user, link_hash, max(int(ttl * 1000), 1)]
        return bool(await self._script("set_link", keys, args))

    async def link_user(self, link_hash: str) -> str | None:
        return cast(str | None, await self._call(self._redis.get(self._g(f"link:{link_hash}"))))

    async def use_link(self, link_hash: str, password_hash: str) -> str | None:
        keys = [self._g(f"link:{link_hash}")]
        user = await self._script("use_link", keys, [self._prefix, password_hash])
        return cast(str, user) if user else None

    async def set_password(self, user: str, password_hash: str, keep: str) -> None:
        keys = [self._a(user, "account"), self._a(user, "sessions")]
        await self._script("set_password", keys, [self._prefix, password_hash, keep])

    async def start_session(self, session_hash: str, user: str, csrf: str, ttl: float) -> None:
        keys = [self._g(f"session:{session_hash}"), self._a(user, "sessions")]
        args: list[str | int | float] = [
            self._prefix,
            user,
            csrf,
            max(int(ttl * 1000), 1),
            session_hash,
        ]
        await self._script("start_session", keys, args)

    async def get_session(self, session_hash: str) -> Session | None:
        user, csrf = cast(
            list[str | None],
            await self._call(self._redis.hmget(self._g(f"session:{session_hash}"), "user", "csrf")),
        )
        return None if user is None or csrf is None else Session(user, csrf)

    async def end_session(self, session_hash: str) -> None:
        keys = [self._g(f"session:{session_hash}")]
        await self._script("end_session", keys, [self._prefix, session_hash])

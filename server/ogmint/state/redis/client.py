"""The Redis connection every aggregate shares: a bounded pool, the Lua scripts, and script
calls pipelined per event-loop turn.

Scripts are the ``*.lua`` files beside this module, read and loaded when the client opens. A
file whose name starts with ``_`` is a library of functions, pulled into others by a
``--! include <file>`` line; every other file is a script called by its name (``admit.lua`` →
``script("admit", …)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from redis import exceptions as rx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from ogmint.state.base import StateUnavailable
from ogmint.state.redis.address import SentinelAddress, parse_redis_url

T = TypeVar("T")
#: A script call waiting for its batch: script, keys, args, where its reply goes.
_Call = tuple[AsyncScript, list[str], list[str | int | float], "asyncio.Future[Any]"]

SCRIPT_DIR = Path(__file__).parent
_INCLUDE = "--! include "

# Errors that mean "Redis is not answering right now", not "the request is wrong".
_UNAVAILABLE = (
    rx.ConnectionError,  # includes LOADING (BusyLoadingError) and a full pool
    rx.TimeoutError,
    rx.ReadOnlyError,  # a replica after failover
    rx.ClusterDownError,  # includes MASTERDOWN
    rx.TryAgainError,
    rx.OutOfMemoryError,
    OSError,
    TimeoutError,
)


def read_scripts(directory: Path = SCRIPT_DIR) -> dict[str, str]:
    """Every script's Lua source by name, with its includes expanded (each once, in order)."""

    def expand(name: str, seen: set[str]) -> list[str]:
        if name in seen:
            return []
        seen.add(name)
        out: list[str] = []
        for line in (directory / name).read_text().splitlines():
            if line.startswith(_INCLUDE):
                out += expand(line.removeprefix(_INCLUDE).strip(), seen)
            else:
                out.append(line)
        return out

    return {
        path.stem: "\n".join(expand(path.name, set())) + "\n"
        for path in sorted(directory.glob("*.lua"))
        if not path.name.startswith("_")
    }


class _PrimaryConnection(SentinelManagedConnection):
    """A connection to the server the sentinels name as primary, refused unless that server
    says it is: a sentinel that has not yet heard of a failover still names the old primary,
    which (demoted or restarted empty) would answer reads from a stale copy — a key missing
    there would be a 401 instead of a 503."""

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        await super().on_connect_check_health(check_health=check_health)
        await self.send_command("ROLE", check_health=False)
        try:
            role = await self.read_response()
        except rx.NoPermissionError:
            return  # an ACL user without ROLE: trust the sentinels (README, Scale-out)
        if not isinstance(role, list) or not role or role[0] not in ("master", b"master"):
            raise rx.ConnectionError("the server named as primary is not the primary (yet)")


class _SentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """The primary's connections, found through Sentinel and bounded like the plain pool: a
    caller waits at most ``timeout`` for a free one. Every new connection asks the sentinels
    where the primary is, so after a failover the pool follows the new primary by itself."""


class RedisClient:
    """Redis for several app servers; every call is bounded by ``timeout``.

    ``url`` is a single server or a Sentinel-managed primary (see ``address.py``). With
    ``replicas`` > 0 every write is acknowledged only once that many replicas have it (``WAIT``
    after each batch of scripts), so a failover cannot lose it; else StateUnavailable.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 1.0,
        prefix: str = "ogmint:",
        max_connections: int = 64,
        replicas: int = 0,
    ) -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix must not contain '{' or '}' (hash tags)")
        self._address = parse_redis_url(url)
        self._timeout = timeout
        self._replicas = replicas
        self._sentinel: Sentinel | None = None
        self.prefix = prefix
        self._max_connections = max_connections
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._pending: list[_Call] = []
        self._batches: set[asyncio.Future[None]] = set()
        self._on_open: list[Callable[[], Awaitable[None]]] = []

    def on_open(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Runs ``await hook()`` after every open (an aggregate's own set-up, e.g. a group)."""
        self._on_open.append(hook)

    async def open(self) -> None:
        """Connects and loads the scripts; StateUnavailable if Redis does not answer."""
        options: dict[str, Any] = {
            # A bounded pool: callers wait at most ``timeout`` for a free connection.
            "max_connections": self._max_connections,
            "timeout": self._timeout,
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
            # No retries: a write whose reply was lost must not run twice (limits would
            # double-count); stale pooled connections are replaced when checked out.
            "retry": Retry(NoBackoff(), 0),
            "decode_responses": True,
        }
        address = self._address
        if isinstance(address, SentinelAddress):
            self._sentinel = Sentinel(
                address.sentinels,
                sentinel_kwargs={
                    "socket_timeout": self._timeout,
                    "socket_connect_timeout": self._timeout,
                    "decode_responses": True,
                },
            )
            client = self._sentinel.master_for(
                address.service,
                connection_pool_class=_SentinelPool,
                connection_class=_PrimaryConnection,
                db=address.db,
                username=address.username,
                password=address.password,
                **options,
            )
        else:
            client = Redis.from_pool(BlockingConnectionPool.from_url(address, **options))
        self._client = client
        sources = read_scripts()
        self._scripts = {name: client.register_script(lua) for name, lua in sources.items()}
        # Scripts reload themselves after a Redis restart (NOSCRIPT); this only fails fast.
        for lua in sources.values():
            await self.call(client.script_load(lua))
        for hook in self._on_open:
            await hook()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._scripts = {}
        if self._sentinel is not None:
            await self._sentinel.aclose()
            self._sentinel = None

    async def ping(self) -> None:
        await self.call(self.redis.ping())

    @property
    def redis(self) -> Redis:
        if self._client is None:
            raise StateUnavailable("state store is not open")
        return self._client

    async def call(self, op: Awaitable[T]) -> T:
        """Awaits one command; StateUnavailable when Redis does not answer."""
        try:
            return await op
        except _UNAVAILABLE as e:
            raise StateUnavailable(f"redis: {e}") from e
        except rx.ResponseError as e:
            if busy(e):
                raise StateUnavailable(f"redis: {e}") from e
            raise

    async def script(self, name: str, keys: list[str], args: list[str | int | float]) -> Any:
        """Runs a script. Calls made in the same event-loop turn (concurrent requests) share
        one pipelined round trip: one write and one read instead of one each per call."""
        script = self._scripts.get(name)
        if script is None or self._client is None:
            raise StateUnavailable("state store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((script, keys, args, future))
        if len(self._pending) == 1:
            loop.call_soon(self._send_pending)
        return await future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._run_batch(batch))
        self._batches.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._batches.discard)

    async def _run_batch(self, batch: list[_Call]) -> None:
        try:
            if self._client is None:
                raise StateUnavailable("state store is not open")
            pipe = self._client.pipeline(transaction=False)
            for script, keys, args, _ in batch:
                # EVALSHA straight away: the Script wrapper's bookkeeping costs more CPU than
                # the round trip on hot paths (token bucket, claims).
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            replies = await self.execute(pipe)
        except BaseException as e:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(
                        StateUnavailable(f"redis: {e}") if isinstance(e, Exception) else e
                    )
            if not isinstance(e, Exception):
                raise
            return
        for (script, keys, args, future), reply in zip(batch, replies, strict=True):
            if future.done():  # the caller gave up (cancelled)
                continue
            if isinstance(reply, rx.NoScriptError):
                # Redis restarted (or another primary took over) and does not know the
                # scripts: this call loads its script and runs it again.
                try:
                    reply = await self._reload_and_run(script, keys, args)
                except Exception as e:
                    reply = e
            if isinstance(reply, rx.ResponseError) and busy(reply):
                reply = StateUnavailable(f"redis: {reply}")
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def execute(self, pipe: Pipeline) -> list[Any]:
        """Runs a pipeline (errors as replies); with ``replicas``, then waits for them to have
        its writes. WAIT counts the writes made on the pipeline's connection — and, the
        replication stream being ordered, every write made before them."""
        if not self._replicas:
            return cast(list[Any], await self.call(pipe.execute(raise_on_error=False)))
        # Half the timeout: the WAIT reply must come before the socket timeout ends the read.
        pipe.execute_command("WAIT", self._replicas, max(int(self._timeout * 500), 1))
        *replies, acked = await self.call(pipe.execute(raise_on_error=False))
        if isinstance(acked, Exception) or int(acked) < self._replicas:
            raise StateUnavailable(f"redis: {acked} of {self._replicas} replicas confirmed")
        return replies

    async def _reload_and_run(
        self, script: AsyncScript, keys: list[str], args: list[str | int | float]
    ) -> Any:
        redis = self.redis
        await self.call(redis.script_load(script.script))
        pipe = redis.pipeline(transaction=False)
        pipe.evalsha(script.sha, len(keys), *keys, *args)
        (reply,) = await self.execute(pipe)
        return reply

    async def hash(self, key: str) -> dict[str, str]:
        # decode_responses=True: every reply is str (redis-py types them as bytes | str).
        return cast(dict[str, str], await self.call(self.redis.hgetall(key)))

    async def string(self, key: str) -> str | None:
        return cast(str | None, await self.call(self.redis.get(key)))

    def u(self, user: str, suffix: str) -> str:
        """A key in ``user``'s hash slot."""
        return f"{self.prefix}{{u:{user}}}:{suffix}"

    def g(self, name: str) -> str:
        """A global key."""
        return f"{self.prefix}{name}"


def busy(error: rx.ResponseError) -> bool:
    """Redis is running a long script: unavailable for now, not a wrong request."""
    return str(error).split(" ", 1)[0] == "BUSY"

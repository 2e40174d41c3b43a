"""Shared state in Redis: every limit, claim and save is one Lua script timed by Redis ``TIME``.

Key layout (``P`` is the prefix, ``ogmint:`` by default)::

    P{d:<subject>}:daily            hash w (UTC day number), n (uses)      expires at next midnight
    P{u:<user>}:quota               hash w (year*12 + month-1), n (renders) expires on the next 1st
    P{u:<user>}:bucket              hash tokens, updated (Redis time, s)    expires once full again
    P{u:<user>}:user                hash plan
    P{u:<user>}:keys                zset key_id scored by created_at (ms)
    P{u:<user>}:claim:<dedup_key>   string, PX ttl                          the in-flight render
    P{u:<user>}:render:<dedup_key>  hash RenderRecord                       the dedup index
    Pslug:<slug>                    hash RenderRecord                       what /i/{slug} serves
    Pkey:<key_hash>                 hash key_id, user, revoked, created_at
    Pkeyid:<key_id>                 string key_hash
    Pkeys                           zset key_id scored by created_at (ms)
    Pwh:d:<id>                      hash Delivery + state, attempts, next_at (ms)
    Pwh:a:<id>                      list of attempts (JSON)
    Pwh:slug:<slug>                 list of delivery ids, oldest first
    Pwh:stream                      stream of due deliveries (field id), consumer group ``workers``
    Pwh:retry                       zset delivery id scored by due time (ms)

Webhook deliveries: a due delivery is an entry in the stream; workers read it through the
consumer group (so each entry goes to one worker) and acknowledge and delete it once the
attempt is recorded. An entry left pending by a crashed worker is taken over with XAUTOCLAIM
after the lease. A retry waits in the ``retry`` zset until a worker moves it to the stream.

A user's (or subject's) keys share a ``{…}`` hash tag. The two steps of a V2 render are one
script each, so each is atomic and costs one round trip: admitting it (burst token, dedup
lookup, quota, claim) touches the user's and the API key's slots; saving it touches the global
slug, the API key's dedup entry and, with a webhook, the delivery keys. That needs a single Redis
(or a proxy that keeps them together), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from redis import exceptions as rx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from ogmint.state.base import (
    PENDING,
    Admission,
    ApiKeyRecord,
    Attempt,
    AttemptOutcome,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    LimitStatus,
    RenderRecord,
    StateUnavailable,
)

T = TypeVar("T")
#: A script call waiting for its batch: script, keys, args, where its reply goes.
_Call = tuple[AsyncScript, list[str], list[str | int | float], "asyncio.Future[Any]"]

# The current UTC window from Redis' clock: its id and the Unix time it ends. Months use
# H. Hinnant's civil-from-days / days-from-civil so the reset is 00:00 UTC on the next 1st.
_WINDOW_LUA = """
local function window(kind)
  local days = math.floor(tonumber(redis.call('TIME')[1]) / 86400)
  if kind == 'day' then return tostring(days), (days + 1) * 86400 end
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local y = yoe + era * 400
  local m = mp + 3
  if mp >= 10 then m = mp - 9 end
  if m <= 2 then y = y + 1 end
  local id = tostring(y * 12 + m - 1)
  if m == 12 then y, m = y + 1, 1 else m = m + 1 end
  if m <= 2 then y = y - 1 end
  era = math.floor(y / 400)
  yoe = y - era * 400
  local mm = m - 3
  if m <= 2 then mm = m + 9 end
  doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + math.floor((153 * mm + 2) / 5)
  return id, (era * 146097 + doe - 719468) * 86400
end
"""

# Counts one use of a counter hash in the current window if below ``limit``.
# Returns {allowed, used after this call, reset}.
_CONSUME_FN_LUA = (
    _WINDOW_LUA
    + """
local function consume(key, limit, kind)
  local id, reset = window(kind)
  local cur = redis.call('HMGET', key, 'w', 'n')
  local used = 0
  if cur[1] == id then used = tonumber(cur[2]) end
  if used >= limit then return {0, used, reset} end
  redis.call('HSET', key, 'w', id, 'n', tostring(used + 1))
  redis.call('EXPIREAT', key, reset)
  return {1, used + 1, reset}
end
"""
)

# KEYS: counter. ARGV: limit, 'day'|'month'.
_CONSUME_LUA = _CONSUME_FN_LUA + "return consume(KEYS[1], tonumber(ARGV[1]), ARGV[2])\n"

# KEYS: counter. ARGV: 'day'|'month'. Gives back one use of the current window, never below 0.
_REFUND_LUA = (
    _WINDOW_LUA
    + """
local id = window(ARGV[1])
local cur = redis.call('HMGET', KEYS[1], 'w', 'n')
if cur[1] == id and tonumber(cur[2]) > 0 then
  redis.call('HSET', KEYS[1], 'n', tostring(tonumber(cur[2]) - 1))
end
return 0
"""
)

# Takes a token from a bucket hash (``rate`` tokens/s, ``burst`` capacity) if one is there.
# Returns {allowed, whole tokens left, reset}.
_BUCKET_FN_LUA = """
local function take_token(key, rate, burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local cur = redis.call('HMGET', key, 'tokens', 'updated')
  local tokens = burst
  if cur[1] then
    tokens = math.min(burst, tonumber(cur[1]) + math.max(now - tonumber(cur[2]), 0) * rate)
  end
  local allowed = 0
  if tokens >= 1 then
    allowed = 1
    tokens = tokens - 1
  end
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens),
    'updated', string.format('%.17g', now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
  local wait = 0
  if tokens < 1 then wait = (1 - tokens) / rate end
  return {allowed, math.floor(tokens), math.floor(now + wait) + 1}
end
"""

# KEYS: bucket. ARGV: rate (tokens/s), burst.
_BUCKET_LUA = _BUCKET_FN_LUA + "return take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))\n"

# KEYS: bucket, finished render, claim, quota. ARGV: rate ('' = take no token), burst, monthly
# limit, claim ttl (ms). Returns {outcome, bucket reply or {}, render hash or quota reply}:
# burst | exists | busy | quota | claimed (see ``StateStore.admit_render``).
_ADMIT_LUA = (
    _CONSUME_FN_LUA
    + _BUCKET_FN_LUA
    + """
local b = {}
if ARGV[1] ~= '' then
  b = take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
  if b[1] == 0 then return {'burst', b} end
end
local done = redis.call('HGETALL', KEYS[2])
if #done > 0 then return {'exists', b, done} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'busy', b} end
local q = consume(KEYS[4], tonumber(ARGV[3]), 'month')
if q[1] == 0 then return {'quota', b, q} end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
return {'claimed', b, q}
"""
)

# KEYS: claim, finished render. ARGV: ttl (ms). 1 when claimed; 0 if claimed or already done.
_CLAIM_LUA = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"""

# KEYS: hash to create, then keys to drop with it. ARGV: field, value, … 0 if the hash exists.
_CREATE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
"""

# KEYS: hash. ARGV: field, value. Sets the field only on an existing hash; 1 if it did.
_UPDATE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: user. ARGV: plan or ''. Creates the user (plan ``free``) or sets the plan; returns TIME.
_ENSURE_USER_LUA = """
if ARGV[1] == '' then
  redis.call('HSETNX', KEYS[1], 'plan', 'free')
else
  redis.call('HSET', KEYS[1], 'plan', ARGV[1])
end
return redis.call('TIME')
"""

# KEYS: slug, dedup entry, claim, then optionally delivery, slug's delivery list, stream.
# ARGV: n, the render's n field/value args, then optionally the delivery id and its fields.
# Records the render (slug and dedup entry), drops the claim and queues the delivery, all or
# nothing: 0 if the slug or the dedup entry exists.
_SAVE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, n + 1))
redis.call('HSET', KEYS[2], unpack(ARGV, 2, n + 1))
redis.call('DEL', KEYS[3])
if #KEYS > 3 then
  local id = ARGV[n + 2]
  redis.call('HSET', KEYS[4], unpack(ARGV, n + 3))
  redis.call('RPUSH', KEYS[5], id)
  redis.call('XADD', KEYS[6], '*', 'id', id)
end
return 1
"""

# KEYS: retry zset, stream. ARGV: limit. Moves due retries (by Redis TIME) to the stream.
_PROMOTE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due
"""

# KEYS: delivery, attempts, retry zset, stream. ARGV: stream entry, group, attempt JSON, state,
# retry delay (ms), delivery id. Records the attempt, schedules a retry, acks the entry.
_FINISH_LUA = """
redis.call('XACK', KEYS[4], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[4], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local attempt = cjson.decode(ARGV[3])
attempt['number'] = n
redis.call('RPUSH', KEYS[2], cjson.encode(attempt))
local next_at = ''
if ARGV[4] == 'pending' then
  next_at = now + tonumber(ARGV[5])
  redis.call('ZADD', KEYS[3], next_at, ARGV[6])
end
redis.call('HSET', KEYS[1], 'state', ARGV[4], 'next_at', next_at)
return n
"""

# KEYS: delivery, retry zset, stream. ARGV: delivery id. Queues the delivery for an attempt now.
_REDELIVER_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'pending', 'next_at', now)
return 1
"""

GROUP = "workers"

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


class RedisStateStore:
    """StateStore on Redis, for several app servers; every call is bounded by ``timeout``."""

    def __init__(
        self, url: str, *, timeout: float = 1.0, prefix: str = "ogmint:", max_connections: int = 64
    ) -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix must not contain '{' or '}' (hash tags)")
        self._url = url
        self._timeout = timeout
        self._prefix = prefix
        self._max_connections = max_connections
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._pending: list[_Call] = []
        self._batches: set[asyncio.Future[None]] = set()

    async def open(self) -> None:
        """Connects and loads the scripts; StateUnavailable if Redis does not answer."""
        pool = BlockingConnectionPool.from_url(
            self._url,
            # A bounded pool: callers wait at most ``timeout`` for a free connection.
            max_connections=self._max_connections,
            timeout=self._timeout,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            # No retries: a write whose reply was lost must not run twice (limits would
            # double-count); stale pooled connections are replaced when checked out.
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        client = Redis.from_pool(pool)
        self._client = client
        sources = {
            "consume": _CONSUME_LUA,
            "refund": _REFUND_LUA,
            "bucket": _BUCKET_LUA,
            "admit": _ADMIT_LUA,
            "claim": _CLAIM_LUA,
            "create": _CREATE_LUA,
            "update": _UPDATE_LUA,
            "ensure_user": _ENSURE_USER_LUA,
            "save": _SAVE_LUA,
            "promote": _PROMOTE_LUA,
            "finish": _FINISH_LUA,
            "redeliver": _REDELIVER_LUA,
        }
        self._scripts = {name: client.register_script(lua) for name, lua in sources.items()}
        # Scripts reload themselves after a Redis restart (NOSCRIPT); this only fails fast.
        for lua in sources.values():
            await self._call(client.script_load(lua))
        await self._ensure_group()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._scripts = {}

    async def ping(self) -> None:
        await self._call(self._redis.ping())

    # -- plumbing -----------------------------------------------------------------------------
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
        except rx.ResponseError as e:
            if _busy(e):
                raise StateUnavailable(f"redis: {e}") from e
            raise

    async def _script(self, name: str, keys: list[str], args: list[str | int | float]) -> Any:
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
            replies = await self._call(pipe.execute(raise_on_error=False))
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
                # Redis restarted and forgot the scripts: this call reloads and retries.
                try:
                    reply = await self._call(script(keys=keys, args=args))
                except Exception as e:
                    reply = e
            if isinstance(reply, rx.ResponseError) and _busy(reply):
                reply = StateUnavailable(f"redis: {reply}")
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _hash(self, key: str) -> dict[str, str]:
        # decode_responses=True: every reply is str (redis-py types them as bytes | str).
        return cast(dict[str, str], await self._call(self._redis.hgetall(key)))

    async def _string(self, key: str) -> str | None:
        return cast(str | None, await self._call(self._redis.get(key)))

    def _u(self, user: str, suffix: str) -> str:
        return f"{self._prefix}{{u:{user}}}:{suffix}"

    def _g(self, name: str) -> str:
        return f"{self._prefix}{name}"

    # -- counters -----------------------------------------------------------------------------
    async def _consume(self, key: str, kind: str, limit: int) -> LimitStatus:
        return _counted(limit, await self._script("consume", [key], [limit, kind]))

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        return await self._consume(f"{self._prefix}{{d:{subject}}}:daily", "day", limit)

    async def refund_daily(self, subject: str) -> None:
        await self._script("refund", [f"{self._prefix}{{d:{subject}}}:daily"], ["day"])

    async def consume_quota(self, user: str, limit: int) -> LimitStatus:
        return await self._consume(self._u(user, "quota"), "month", limit)

    async def refund_quota(self, user: str) -> None:
        await self._script("refund", [self._u(user, "quota")], ["month"])

    async def take_token(self, user: str, rate: float, burst: int) -> LimitStatus:
        if rate <= 0:
            raise ValueError("rate must be positive")
        reply = await self._script("bucket", [self._u(user, "bucket")], [repr(float(rate)), burst])
        return _bucket(burst, reply)

    # -- keys ---------------------------------------------------------------------------------
    async def create_key(self, user: str, key_id: str, key_hash: str, plan: str | None) -> None:
        # Ordered so that a failure part-way leaves no reference to something missing: the user
        # before the key, the key record before the listings.
        sec, usec = await self._script("ensure_user", [self._u(user, "user")], [plan or ""])
        created = datetime.fromtimestamp(int(sec), UTC).strftime("%Y-%m-%dT%H:%M:%S")
        created_at = f"{created}.{int(usec) // 1000:03d}Z"
        ms = int(sec) * 1000 + int(usec) // 1000
        r = self._redis
        if not await self._call(r.set(self._g(f"keyid:{key_id}"), key_hash, nx=True)):
            raise ValueError(f"key id {key_id!r} already exists")
        fields = ["key_id", key_id, "user", user, "revoked", "0", "created_at", created_at]
        if not await self._script("create", [self._g(f"key:{key_hash}")], list(fields)):
            await self._call(r.delete(self._g(f"keyid:{key_id}")))
            raise ValueError("key hash already exists")
        await self._call(r.zadd(self._u(user, "keys"), {key_id: ms}))
        await self._call(r.zadd(self._g("keys"), {key_id: ms}))

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        h = await self._hash(self._g(f"key:{key_hash}"))
        if not h:
            return None
        plan = await self._call(self._redis.hget(self._u(h["user"], "user"), "plan"))
        return _key(key_hash, h, cast(str | None, plan))

    async def list_keys(self, user: str | None = None) -> list[ApiKeyRecord]:
        r = self._redis
        index = self._g("keys") if user is None else self._u(user, "keys")
        # Sorted by score (created_at in ms), ties by key_id: the same order as SQLite's.
        key_ids = cast(list[str], await self._call(r.zrange(index, 0, -1)))
        if not key_ids:
            return []
        pipe = r.pipeline(transaction=False)
        for key_id in key_ids:
            pipe.get(self._g(f"keyid:{key_id}"))
        hashes: list[str | None] = await self._call(pipe.execute())
        pipe = r.pipeline(transaction=False)
        for key_hash in hashes:
            pipe.hgetall(self._g(f"key:{key_hash}"))
        found = [
            (key_hash, h)
            for key_hash, h in zip(hashes, await self._call(pipe.execute()), strict=True)
            if key_hash is not None and h
        ]
        users = sorted({h["user"] for _, h in found})
        pipe = r.pipeline(transaction=False)
        for u in users:
            pipe.hget(self._u(u, "user"), "plan")
        plans = dict(zip(users, await self._call(pipe.execute()), strict=True))
        return [_key(key_hash, h, plans[h["user"]]) for key_hash, h in found]

    async def revoke_key(self, key_id: str) -> bool:
        key_hash = await self._string(self._g(f"keyid:{key_id}"))
        if key_hash is None:
            return False
        return bool(await self._script("update", [self._g(f"key:{key_hash}")], ["revoked", "1"]))

    async def set_plan(self, user: str, plan: str) -> bool:
        return bool(await self._script("update", [self._u(user, "user")], ["plan", plan]))

    # -- renders ------------------------------------------------------------------------------
    async def admit_render(
        self,
        user: str,
        scope: str,
        dedup_key: str,
        *,
        quota: int,
        ttl: float,
        burst: tuple[float, int] | None = None,
    ) -> Admission:
        # The user's and the scope's keys in one script: like a render with a webhook, this
        # needs a single Redis (or a proxy keeping them together), not Redis Cluster.
        if burst is not None and burst[0] <= 0:
            raise ValueError("rate must be positive")
        rate = "" if burst is None else repr(float(burst[0]))
        capacity = 0 if burst is None else burst[1]
        keys = [
            self._u(user, "bucket"),
            self._u(scope, f"render:{dedup_key}"),
            self._u(scope, f"claim:{dedup_key}"),
            self._u(user, "quota"),
        ]
        args: list[str | int | float] = [
            rate,
            capacity,
            quota,
            max(int(ttl * 1000), 1),
        ]
        outcome, bucket, *rest = await self._script("admit", keys, args)
        taken = _bucket(capacity, bucket) if bucket else None
        if outcome == "exists":
            flat = rest[0]
            return Admission(taken, existing=_render(dict(zip(flat[::2], flat[1::2], strict=True))))
        if outcome in ("quota", "claimed"):
            return Admission(taken, quota=_counted(quota, rest[0]), claimed=outcome == "claimed")
        return Admission(taken)  # burst refused, or another caller is rendering

    async def find_render(self, user: str, dedup_key: str) -> RenderRecord | None:
        h = await self._hash(self._u(user, f"render:{dedup_key}"))
        return _render(h) if h else None

    async def claim_render(self, user: str, dedup_key: str, ttl: float) -> bool:
        keys = [self._u(user, f"claim:{dedup_key}"), self._u(user, f"render:{dedup_key}")]
        return bool(await self._script("claim", keys, [max(int(ttl * 1000), 1)]))

    async def release_claim(self, user: str, dedup_key: str) -> None:
        await self._call(self._redis.delete(self._u(user, f"claim:{dedup_key}")))

    async def save_render(self, record: RenderRecord, delivery: Delivery | None = None) -> bool:
        # One script: the slug (unique across users), the dedup entry, the claim and the
        # delivery change together or not at all.
        fields = _fields(record)
        keys = [
            self._g(f"slug:{record.slug}"),
            self._u(record.user, f"render:{record.dedup_key}"),
            self._u(record.user, f"claim:{record.dedup_key}"),
        ]
        args: list[str | int | float] = [len(fields), *fields]
        if delivery is not None:
            keys += [
                self._g(f"wh:d:{delivery.id}"),
                self._g(f"wh:slug:{delivery.slug}"),
                self._g("wh:stream"),
            ]
            args += [delivery.id, *_delivery_fields(delivery)]
        return bool(await self._script("save", keys, args))

    async def get_render(self, slug: str) -> RenderRecord | None:
        h = await self._hash(self._g(f"slug:{slug}"))
        return _render(h) if h else None

    # -- webhook deliveries -------------------------------------------------------------------
    async def _ensure_group(self) -> None:
        try:
            await self._call(
                self._redis.xgroup_create(self._g("wh:stream"), GROUP, id="0", mkstream=True)
            )
        except rx.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def claim_deliveries(
        self, worker: str, limit: int, lease: float
    ) -> list[ClaimedDelivery]:
        r = self._redis
        stream = self._g("wh:stream")
        await self._script("promote", [self._g("wh:retry"), stream], [limit])
        try:
            # Entries another worker read but never acknowledged within the lease: it died.
            _, reclaimed, *_ = await self._call(
                r.xautoclaim(stream, GROUP, worker, max(int(lease * 1000), 1), "0-0", count=limit)
            )
            entries: list[tuple[str, dict[str, str]]] = list(reclaimed)
            if len(entries) < limit:
                read = cast(
                    list[tuple[str, list[tuple[str, dict[str, str]]]]],
                    await self._call(
                        r.xreadgroup(GROUP, worker, {stream: ">"}, count=limit - len(entries))
                    ),
                )
                for _, items in read or []:
                    entries.extend(items)
        except rx.ResponseError as e:
            if "NOGROUP" not in str(e):  # Redis lost its data (restart without persistence)
                raise
            await self._ensure_group()
            return []
        if not entries:
            return []
        pipe = r.pipeline(transaction=False)
        for _, fields in entries:
            pipe.hgetall(self._g(f"wh:d:{(fields or {}).get('id', '')}"))
        hashes: list[dict[str, str]] = await self._call(pipe.execute())
        claims = []
        for (entry_id, _), h in zip(entries, hashes, strict=True):
            if not h:  # deleted entry or delivery: drop it
                await self._call(r.xack(stream, GROUP, entry_id))
                await self._call(r.xdel(stream, entry_id))
                continue
            claims.append(ClaimedDelivery(_delivery(h), int(h["attempts"]), entry_id))
        return claims

    async def finish_delivery(self, claim: ClaimedDelivery, outcome: AttemptOutcome) -> None:
        d = claim.delivery
        attempt = orjson.dumps(
            {
                "at": outcome.at,
                "status": outcome.status,
                "error": outcome.error,
                "duration_ms": outcome.duration_ms,
            }
        ).decode()
        keys = [
            self._g(f"wh:d:{d.id}"),
            self._g(f"wh:a:{d.id}"),
            self._g("wh:retry"),
            self._g("wh:stream"),
        ]
        args: list[str | int | float] = [
            claim.token,
            GROUP,
            attempt,
            outcome.state,
            int(outcome.retry_in * 1000),
            d.id,
        ]
        await self._script("finish", keys, args)

    async def _statuses(self, ids: list[str]) -> list[DeliveryStatus]:
        pipe = self._redis.pipeline(transaction=False)
        for delivery_id in ids:
            pipe.hgetall(self._g(f"wh:d:{delivery_id}"))
            pipe.lrange(self._g(f"wh:a:{delivery_id}"), 0, -1)
        replies = await self._call(pipe.execute())
        out = []
        for h, attempts in zip(replies[::2], replies[1::2], strict=True):
            if not h:
                continue
            parsed = [orjson.loads(a) for a in attempts]
            next_at = h.get("next_at", "")
            out.append(
                DeliveryStatus(
                    _delivery(h),
                    h["state"],
                    tuple(
                        Attempt(a["number"], a["at"], a["status"], a["error"], a["duration_ms"])
                        for a in sorted(parsed, key=lambda a: int(a["number"]))
                    ),
                    _iso_ms(int(next_at)) if h["state"] == PENDING and next_at else None,
                )
            )
        return out

    async def list_deliveries(self, slug: str) -> list[DeliveryStatus]:
        ids = cast(
            list[str], await self._call(self._redis.lrange(self._g(f"wh:slug:{slug}"), 0, -1))
        )
        return await self._statuses(ids)

    async def get_delivery(self, delivery_id: str) -> DeliveryStatus | None:
        found = await self._statuses([delivery_id])
        return found[0] if found else None

    async def redeliver(self, delivery_id: str) -> bool:
        keys = [self._g(f"wh:d:{delivery_id}"), self._g("wh:retry"), self._g("wh:stream")]
        return bool(await self._script("redeliver", keys, [delivery_id]))


def _delivery_fields(d: Delivery) -> list[str | int | float]:
    return [
        "id", d.id,
        "slug", d.slug,
        "owner", d.owner,
        "url", d.url,
        "secret", d.secret,
        "body", d.body.decode(),
        "created_at", d.created_at,
        "state", PENDING,
        "attempts", "0",
        "next_at", "",
    ]  # fmt: skip


def _delivery(h: dict[str, str]) -> Delivery:
    return Delivery(
        id=h["id"],
        slug=h["slug"],
        owner=h["owner"],
        url=h["url"],
        secret=h["secret"],
        body=h["body"].encode(),
        created_at=h["created_at"],
    )


def _iso_ms(ms: int) -> str:
    stamp = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _fields(record: RenderRecord) -> list[str | int | float]:
    return [
        "slug", record.slug,
        "user", record.user,
        "dedup_key", record.dedup_key,
        "storage_key", record.storage_key,
        "etag", record.etag,
        "size", str(record.size),
        "template", record.template,
        "created_at", record.created_at,
    ]  # fmt: skip


def _render(h: dict[str, str]) -> RenderRecord:
    return RenderRecord(
        slug=h["slug"],
        user=h["user"],
        dedup_key=h["dedup_key"],
        storage_key=h["storage_key"],
        etag=h["etag"],
        size=int(h["size"]),
        template=h["template"],
        created_at=h["created_at"],
    )


def _key(key_hash: str, h: dict[str, str], plan: str | None) -> ApiKeyRecord:
    return ApiKeyRecord(
        h["key_id"], key_hash, h["user"], plan or "free", h["revoked"] == "1", h["created_at"]
    )


def _busy(error: rx.ResponseError) -> bool:
    """Redis is running a long script: unavailable for now, not a wrong request."""
    return str(error).split(" ", 1)[0] == "BUSY"


def _bucket(capacity: int, reply: list[int]) -> LimitStatus:
    allowed, remaining, reset = reply
    return LimitStatus(bool(allowed), capacity, int(remaining), int(reset))


def _counted(limit: int, reply: list[int]) -> LimitStatus:
    allowed, used, reset = reply
    return LimitStatus(bool(allowed), limit, limit - int(used) if allowed else 0, int(reset))

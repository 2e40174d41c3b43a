"""Keys & plans in Redis."""

from __future__ import annotations

from typing import cast

from ogmint.clock import ms_iso
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.redis.client import RedisClient


class RedisKeys:
    def __init__(self, client: RedisClient) -> None:
        self._c = client

    async def create_key(
        self,
        user: str,
        key_id: str,
        key_hash: str,
        plan: str | None,
        max_active: int | None = None,
    ) -> bool:
        # The user's listing takes the key id first, atomically with the bound (active = listed
        # - revoked, both in the user's slot); listings skip ids whose record is not there yet,
        # so a failure part-way leaves no reference to something missing.
        c = self._c
        listed = c.u(user, "keys")
        bound = "" if max_active is None else max_active
        reply = await c.script(
            "reserve_key",
            [c.u(user, "user"), listed, c.u(user, "revoked")],
            [key_id, plan or "", bound],
        )
        if not reply:
            return False
        sec, usec = reply
        ms = int(sec) * 1000 + int(usec) // 1000
        created_at = ms_iso(ms)
        r = c.redis
        if not await c.call(r.set(c.g(f"keyid:{key_id}"), key_hash, nx=True)):
            await c.call(r.zrem(listed, key_id))
            raise ValueError(f"key id {key_id!r} already exists")
        fields = ["key_id", key_id, "user", user, "revoked", "0", "created_at", created_at]
        if not await c.script("create", [c.g(f"key:{key_hash}")], list(fields)):
            await c.call(r.delete(c.g(f"keyid:{key_id}")))
            await c.call(r.zrem(listed, key_id))
            raise ValueError("key hash already exists")
        pipe = r.pipeline(transaction=False)
        pipe.zadd(c.g("keys"), {key_id: ms})
        for reply in await c.execute(pipe):  # the last write: replicated before returning
            if isinstance(reply, Exception):
                raise reply
        return True

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        c = self._c
        h = await c.hash(c.g(f"key:{key_hash}"))
        if not h:
            return None
        plan = await c.call(c.redis.hget(c.u(h["user"], "user"), "plan"))
        return _key(key_hash, h, cast(str | None, plan))

    async def list_keys(self, user: str | None = None) -> list[ApiKeyRecord]:
        c = self._c
        r = c.redis
        index = c.g("keys") if user is None else c.u(user, "keys")
        # Sorted by score (created_at in ms), ties by key_id: the same order as SQLite's.
        key_ids = cast(list[str], await c.call(r.zrange(index, 0, -1)))
        if not key_ids:
            return []
        pipe = r.pipeline(transaction=False)
        for key_id in key_ids:
            pipe.get(c.g(f"keyid:{key_id}"))
        hashes: list[str | None] = await c.call(pipe.execute())
        pipe = r.pipeline(transaction=False)
        for key_hash in hashes:
            pipe.hgetall(c.g(f"key:{key_hash}"))
        found = [
            (key_hash, h)
            for key_hash, h in zip(hashes, await c.call(pipe.execute()), strict=True)
            if key_hash is not None and h
        ]
        users = sorted({h["user"] for _, h in found})
        pipe = r.pipeline(transaction=False)
        for u in users:
            pipe.hget(c.u(u, "user"), "plan")
        plans = dict(zip(users, await c.call(pipe.execute()), strict=True))
        return [_key(key_hash, h, plans[h["user"]]) for key_hash, h in found]

    async def revoke_key(self, key_id: str) -> bool:
        c = self._c
        key_hash = await c.string(c.g(f"keyid:{key_id}"))
        if key_hash is None:
            return False
        user = await c.call(c.redis.hget(c.g(f"key:{key_hash}"), "user"))
        if user is None:
            return False
        # Counted as revoked (for the bound on active keys) before it is: never the other way.
        await c.call(c.redis.sadd(c.u(cast(str, user), "revoked"), key_id))
        return bool(await c.script("update", [c.g(f"key:{key_hash}")], ["revoked", "1"]))

    async def set_plan(self, user: str, plan: str) -> bool:
        return bool(await self._c.script("update", [self._c.u(user, "user")], ["plan", plan]))


def _key(key_hash: str, h: dict[str, str], plan: str | None) -> ApiKeyRecord:
    return ApiKeyRecord(
        h["key_id"], key_hash, h["user"], plan or "free", h["revoked"] == "1", h["created_at"]
    )

"""Signing keys in Redis: ``Psk:<kid>`` (hash kid, user, secret, revoked, ms) and the user's
active ones in ``P{u:<user>}:signing`` (zset kid scored by creation time, ms)."""

from __future__ import annotations

from typing import cast

from ogmint.clock import ms_iso
from ogmint.state.redis.client import RedisClient
from ogmint.state.signing_keys import SigningKeyRecord


class RedisSigningKeys:
    def __init__(self, client: RedisClient) -> None:
        self._c = client

    async def create_signing_key(self, user: str, kid: str, secret: str) -> str | None:
        c = self._c
        keys = [c.u(user, "user"), c.g(f"sk:{kid}"), c.u(user, "signing")]
        now = await c.script("signing_create", keys, [kid, user, secret])
        if not now:
            return None
        return ms_iso(int(now[0]) * 1000 + int(now[1]) // 1000)

    async def find_signing_key(self, kid: str) -> SigningKeyRecord | None:
        c = self._c
        h = await c.hash(c.g(f"sk:{kid}"))
        if not h:
            return None
        plan = cast(str | None, await c.call(c.redis.hget(c.u(h["user"], "user"), "plan")))
        return _record(h, plan)

    async def list_signing_keys(self, user: str) -> list[SigningKeyRecord]:
        c = self._c
        r = c.redis
        # Sorted by score (creation time, ms), ties by kid: the same order as SQLite's.
        kids = cast(list[str], await c.call(r.zrange(c.u(user, "signing"), 0, -1)))
        if not kids:
            return []
        pipe = r.pipeline(transaction=False)
        for kid in kids:
            pipe.hgetall(c.g(f"sk:{kid}"))
        pipe.hget(c.u(user, "user"), "plan")
        *found, plan = await c.call(pipe.execute())
        return [_record(h, plan) for h in found if h and h["revoked"] == "0"]

    async def revoke_signing_key(self, user: str, kid: str) -> bool:
        c = self._c
        keys = [c.g(f"sk:{kid}"), c.u(user, "signing")]
        return bool(await c.script("signing_revoke", keys, [kid, user]))


def _record(h: dict[str, str], plan: str | None) -> SigningKeyRecord:
    return SigningKeyRecord(
        kid=h["kid"],
        user=h["user"],
        plan=plan or "free",
        secret=h["secret"],
        revoked=h["revoked"] == "1",
        created_at=ms_iso(int(h["ms"])),
    )

"""Brands in Redis: one hash per brand in its owner's slot (the logo PNG base64-encoded: the
client decodes every reply as text), and the owner's zset of ids by creation time."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import cast

from ogmint.state.brands import BrandMeta
from ogmint.state.redis.client import RedisClient

_META = ("id", "owner", "name", "look", "version", "created_at", "updated_at")


class RedisBrands:
    def __init__(self, client: RedisClient) -> None:
        self._c = client

    def _key(self, owner: str, brand_id: str) -> str:
        return self._c.u(owner, f"brand:{brand_id}")

    def _index(self, owner: str) -> str:
        return self._c.u(owner, "brands")

    async def create_brand(self, meta: BrandMeta, logo: bytes, limit: int) -> bool:
        created = datetime.fromisoformat(meta.created_at.replace("Z", "+00:00"))
        keys = [self._key(meta.owner, meta.id), self._index(meta.owner)]
        args: list[str | int | float] = [limit, int(created.timestamp() * 1000), meta.id]
        args += [*_fields(meta), "logo", base64.b64encode(logo).decode()]
        return bool(await self._c.script("create_brand", keys, args))

    async def update_brand(self, meta: BrandMeta, logo: bytes) -> BrandMeta | None:
        args: list[str | int | float] = [
            "name", meta.name,
            "look", meta.look,
            "version", meta.version,
            "updated_at", meta.updated_at,
            "logo", base64.b64encode(logo).decode(),
        ]  # fmt: skip
        stored = await self._c.script("update_brand", [self._key(meta.owner, meta.id)], args)
        return BrandMeta(*stored) if stored else None

    async def delete_brand(self, owner: str, brand_id: str) -> bool:
        keys = [self._key(owner, brand_id), self._index(owner)]
        return bool(await self._c.script("delete_brand", keys, [brand_id]))

    async def get_brand(self, owner: str, brand_id: str) -> tuple[BrandMeta, bytes] | None:
        h = await self._c.hash(self._key(owner, brand_id))
        if not h:
            return None
        return BrandMeta(*(h[f] for f in _META)), base64.b64decode(h["logo"])

    async def list_brands(self, owner: str) -> list[BrandMeta]:
        c = self._c
        ids = cast(list[str], await c.call(c.redis.zrevrange(self._index(owner), 0, -1)))
        if not ids:
            return []
        pipe = c.redis.pipeline(transaction=False)
        for brand_id in ids:
            pipe.hmget(self._key(owner, brand_id), list(_META))
        rows: list[list[str | None]] = await c.call(pipe.execute())
        return [BrandMeta(*cast(list[str], row)) for row in rows if row[0] is not None]

    async def brand_version(self, owner: str, brand_id: str) -> str | None:
        c = self._c
        return cast(str | None, await c.call(c.redis.hget(self._key(owner, brand_id), "version")))


def _fields(meta: BrandMeta) -> list[str | int | float]:
    return [
        "id", meta.id,
        "owner", meta.owner,
        "name", meta.name,
        "look", meta.look,
        "version", meta.version,
        "created_at", meta.created_at,
        "updated_at", meta.updated_at,
    ]  # fmt: skip

"""The repeat cache's index in Redis: one hash of entries, a zset by save time and a byte
total, all in one hash slot (``{repeats}``) so that each save, with its evictions, is one
script timed by Redis ``TIME``."""

from __future__ import annotations

from typing import cast

import orjson

from ogmint.state.redis.client import RedisClient
from ogmint.state.repeats import RepeatEntry


def _entry(etag: str, packed: str) -> RepeatEntry:
    doc = orjson.loads(packed)
    return RepeatEntry(etag, doc["key"], doc["size"], doc["type"], doc["template"])


class RedisRepeats:
    def __init__(self, client: RedisClient) -> None:
        self._c = client
        slot = f"{client.prefix}{{repeats}}:"
        self._keys = [slot + "entries", slot + "order", slot + "bytes"]
        self._template_prefix = slot + "template:"

    async def find_repeat(self, etag: str, ttl: float) -> RepeatEntry | None:
        packed = await self._c.script("repeat_find", self._keys, [etag, int(ttl * 1000)])
        return None if packed is None else _entry(etag, cast(str, packed))

    async def save_repeat(self, entry: RepeatEntry, ttl: float, max_bytes: int) -> list[str]:
        packed = orjson.dumps(
            {
                "key": entry.storage_key,
                "size": entry.size,
                "type": entry.content_type,
                "template": entry.template,
            }
        ).decode()
        args: list[str | int | float] = [
            entry.etag,
            packed,
            entry.size,
            entry.template,
            int(ttl * 1000),
            max_bytes,
            self._template_prefix,
        ]
        return cast(list[str], await self._c.script("repeat_save", self._keys, args))

    async def drop_repeat(self, etag: str, storage_key: str) -> None:
        args: list[str | int | float] = [etag, storage_key, self._template_prefix]
        await self._c.script("repeat_drop", self._keys, args)

    async def drop_template_repeats(self, template: str) -> list[str]:
        keys = [*self._keys, self._template_prefix + template]
        freed = await self._c.script("repeat_drop_template", keys, [self._template_prefix])
        return cast(list[str], freed)

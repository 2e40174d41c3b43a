"""Custom templates in Redis: one hash per template in its owner's slot, and the owner's
zset of ids by creation time."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import orjson

from ogmint.state.redis.client import RedisClient
from ogmint.state.templates import TemplateMeta, TemplateSource

_META = ("id", "owner", "name", "version", "fields", "created_at", "updated_at", "sizes")
#: What a hash stored before templates had size documents holds for them.
_NO_SIZES = {"sizes": "[]", "size_sources": "{}"}


class RedisTemplates:
    def __init__(self, client: RedisClient) -> None:
        self._c = client

    def _key(self, owner: str, template_id: str) -> str:
        return self._c.u(owner, f"template:{template_id}")

    def _index(self, owner: str) -> str:
        return self._c.u(owner, "templates")

    async def create_template(self, meta: TemplateMeta, source: TemplateSource, limit: int) -> bool:
        created = datetime.fromisoformat(meta.created_at.replace("Z", "+00:00"))
        keys = [self._key(meta.owner, meta.id), self._index(meta.owner)]
        args: list[str | int | float] = [limit, int(created.timestamp() * 1000), meta.id]
        args += [*_fields(meta), *_source(source)]
        return bool(await self._c.script("create_template", keys, args))

    async def update_template(
        self, meta: TemplateMeta, source: TemplateSource
    ) -> TemplateMeta | None:
        args: list[str | int | float] = [
            "name", meta.name,
            "version", meta.version,
            "fields", meta.fields,
            "sizes", meta.sizes,
            "updated_at", meta.updated_at,
            *_source(source),
        ]  # fmt: skip
        stored = await self._c.script("update_template", [self._key(meta.owner, meta.id)], args)
        return TemplateMeta(*stored) if stored else None

    async def delete_template(self, owner: str, template_id: str) -> bool:
        keys = [self._key(owner, template_id), self._index(owner)]
        return bool(await self._c.script("delete_template", keys, [template_id]))

    async def get_template(
        self, owner: str, template_id: str
    ) -> tuple[TemplateMeta, TemplateSource] | None:
        h = await self._c.hash(self._key(owner, template_id))
        if not h:
            return None
        h = _NO_SIZES | h
        meta = TemplateMeta(*(h[f] for f in _META))
        return meta, TemplateSource(h["source"], orjson.loads(h["size_sources"]))

    async def list_templates(self, owner: str) -> list[TemplateMeta]:
        c = self._c
        ids = cast(list[str], await c.call(c.redis.zrevrange(self._index(owner), 0, -1)))
        if not ids:
            return []
        pipe = c.redis.pipeline(transaction=False)
        for template_id in ids:
            pipe.hmget(self._key(owner, template_id), list(_META))
        rows: list[list[str | None]] = await c.call(pipe.execute())
        return [
            TemplateMeta(*cast(list[str], [*row[:-1], row[-1] or _NO_SIZES["sizes"]]))
            for row in rows
            if row[0] is not None
        ]

    async def template_version(self, owner: str, template_id: str) -> str | None:
        c = self._c
        return cast(
            str | None, await c.call(c.redis.hget(self._key(owner, template_id), "version"))
        )


def _fields(meta: TemplateMeta) -> list[str | int | float]:
    return [
        "id", meta.id,
        "owner", meta.owner,
        "name", meta.name,
        "version", meta.version,
        "fields", meta.fields,
        "created_at", meta.created_at,
        "updated_at", meta.updated_at,
        "sizes", meta.sizes,
    ]  # fmt: skip


def _source(source: TemplateSource) -> list[str | int | float]:
    return ["source", source.svg, "size_sources", orjson.dumps(dict(source.sizes)).decode()]

"""Renders and claims in Redis."""

from __future__ import annotations

from typing import cast

from ogmint.state.redis.client import RedisClient
from ogmint.state.renders import Position, RenderRecord


def render_fields(record: RenderRecord) -> list[str | int | float]:
    """A record as hash field/value arguments."""
    return [
        "slug", record.slug,
        "user", record.user,
        "dedup_key", record.dedup_key,
        "storage_key", record.storage_key,
        "etag", record.etag,
        "size", str(record.size),
        "template", record.template,
        "created_at", record.created_at,
        "owner", record.owner,
        "format", record.format,
        "width", str(record.width),
        "height", str(record.height),
        "params", record.params,
    ]  # fmt: skip


def list_member(record: RenderRecord) -> str:
    """The render's member of its owner's list: all scores are 0, so members sort by bytes,
    newest last (the ISO timestamps sort as they should)."""
    return f"{record.created_at} {record.slug}"


def parse_render(h: dict[str, str]) -> RenderRecord:
    return RenderRecord(
        slug=h["slug"],
        user=h["user"],
        dedup_key=h["dedup_key"],
        storage_key=h["storage_key"],
        etag=h["etag"],
        size=int(h["size"]),
        template=h["template"],
        created_at=h["created_at"],
        # Recorded before renders were listed: the defaults of the time.
        owner=h.get("owner", ""),
        format=h.get("format", "png"),
        width=int(h.get("width", 1200)),
        height=int(h.get("height", 630)),
        params=h.get("params", "{}"),
    )


class RedisRenders:
    def __init__(self, client: RedisClient) -> None:
        self._c = client

    def slug_key(self, slug: str) -> str:
        return self._c.g(f"slug:{slug}")

    def dedup_key(self, user: str, dedup_key: str) -> str:
        return self._c.u(user, f"render:{dedup_key}")

    def claim_key(self, user: str, dedup_key: str) -> str:
        return self._c.u(user, f"claim:{dedup_key}")

    def list_key(self, owner: str) -> str:
        return self._c.u(owner, "renders")

    async def find_render(self, user: str, dedup_key: str) -> RenderRecord | None:
        h = await self._c.hash(self.dedup_key(user, dedup_key))
        return parse_render(h) if h else None

    async def claim_render(self, user: str, dedup_key: str, ttl: float) -> bool:
        keys = [self.claim_key(user, dedup_key), self.dedup_key(user, dedup_key)]
        return bool(await self._c.script("claim", keys, [max(int(ttl * 1000), 1)]))

    async def release_claim(self, user: str, dedup_key: str) -> None:
        await self._c.call(self._c.redis.delete(self.claim_key(user, dedup_key)))

    async def refresh_claim(self, user: str, dedup_key: str, ttl: float) -> None:
        # PEXPIRE leaves a missing (expired or released) key missing.
        key = self.claim_key(user, dedup_key)
        await self._c.call(self._c.redis.pexpire(key, max(int(ttl * 1000), 1)))

    async def get_render(self, slug: str) -> RenderRecord | None:
        h = await self._c.hash(self.slug_key(slug))
        return parse_render(h) if h else None

    async def list_renders(
        self, owner: str, limit: int, after: Position | None = None
    ) -> list[RenderRecord]:
        start = "+" if after is None else f"({after[0]} {after[1]}"
        c = self._c
        members = cast(
            list[str],
            await c.call(c.redis.zrevrangebylex(self.list_key(owner), start, "-", 0, limit)),
        )
        pipe = c.redis.pipeline(transaction=False)
        for member in members:
            pipe.hgetall(self.slug_key(member.rsplit(" ", 1)[1]))
        hashes: list[dict[str, str]] = await c.call(pipe.execute()) if members else []
        return [parse_render(h) for h in hashes if h]

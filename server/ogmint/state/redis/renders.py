"""Renders and claims in Redis."""

from __future__ import annotations

from ogmint.state.redis.client import RedisClient
from ogmint.state.renders import RenderRecord


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
    ]  # fmt: skip


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

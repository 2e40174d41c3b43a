"""The webhook outbox in Redis.

A due delivery is an entry in the stream; workers read it through the consumer group (so each
entry goes to one worker) and acknowledge and delete it once the attempt is recorded. An entry
left pending by a crashed worker is taken over with XAUTOCLAIM after the lease. A retry waits in
the ``retry`` zset until a worker moves it to the stream.
"""

from __future__ import annotations

from typing import cast

import orjson
from redis import exceptions as rx

from ogmint.clock import ms_iso
from ogmint.state.deliveries import (
    PENDING,
    Attempt,
    AttemptOutcome,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
)
from ogmint.state.redis.client import RedisClient

GROUP = "workers"


def delivery_fields(d: Delivery) -> list[str | int | float]:
    """A new delivery as hash field/value arguments."""
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


class RedisDeliveries:
    def __init__(self, client: RedisClient) -> None:
        self._c = client
        client.on_open(self._ensure_group)

    def delivery_key(self, delivery_id: str) -> str:
        return self._c.g(f"wh:d:{delivery_id}")

    def slug_list_key(self, slug: str) -> str:
        return self._c.g(f"wh:slug:{slug}")

    @property
    def stream_key(self) -> str:
        return self._c.g("wh:stream")

    async def _ensure_group(self) -> None:
        try:
            await self._c.call(
                self._c.redis.xgroup_create(self.stream_key, GROUP, id="0", mkstream=True)
            )
        except rx.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def claim_deliveries(
        self, worker: str, limit: int, lease: float
    ) -> list[ClaimedDelivery]:
        c = self._c
        r = c.redis
        stream = self.stream_key
        await c.script("promote", [c.g("wh:retry"), stream], [limit])
        try:
            # Entries another worker read but never acknowledged within the lease: it died.
            _, reclaimed, *_ = await c.call(
                r.xautoclaim(stream, GROUP, worker, max(int(lease * 1000), 1), "0-0", count=limit)
            )
            entries: list[tuple[str, dict[str, str]]] = list(reclaimed)
            if len(entries) < limit:
                read = cast(
                    list[tuple[str, list[tuple[str, dict[str, str]]]]],
                    await c.call(
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
            pipe.hgetall(self.delivery_key((fields or {}).get("id", "")))
        hashes: list[dict[str, str]] = await c.call(pipe.execute())
        claims = []
        for (entry_id, _), h in zip(entries, hashes, strict=True):
            if not h:  # deleted entry or delivery: drop it
                await c.call(r.xack(stream, GROUP, entry_id))
                await c.call(r.xdel(stream, entry_id))
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
            self.delivery_key(d.id),
            self._c.g(f"wh:a:{d.id}"),
            self._c.g("wh:retry"),
            self.stream_key,
        ]
        args: list[str | int | float] = [
            claim.token,
            GROUP,
            attempt,
            outcome.state,
            int(outcome.retry_in * 1000),
            d.id,
        ]
        await self._c.script("finish", keys, args)

    async def _statuses(self, ids: list[str]) -> list[DeliveryStatus]:
        pipe = self._c.redis.pipeline(transaction=False)
        for delivery_id in ids:
            pipe.hgetall(self.delivery_key(delivery_id))
            pipe.lrange(self._c.g(f"wh:a:{delivery_id}"), 0, -1)
        replies = await self._c.call(pipe.execute())
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
                    ms_iso(int(next_at)) if h["state"] == PENDING and next_at else None,
                )
            )
        return out

    async def list_deliveries(self, slug: str) -> list[DeliveryStatus]:
        ids = cast(
            list[str], await self._c.call(self._c.redis.lrange(self.slug_list_key(slug), 0, -1))
        )
        return await self._statuses(ids)

    async def get_delivery(self, delivery_id: str) -> DeliveryStatus | None:
        found = await self._statuses([delivery_id])
        return found[0] if found else None

    async def redeliver(self, delivery_id: str) -> bool:
        keys = [self.delivery_key(delivery_id), self._c.g("wh:retry"), self.stream_key]
        return bool(await self._c.script("redeliver", keys, [delivery_id]))


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

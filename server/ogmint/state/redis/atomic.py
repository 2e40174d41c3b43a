"""The multi-aggregate steps in Redis: one script each (``admit.lua``, ``save.lua``), so each
is atomic and costs one round trip.

Admitting touches the user's slot (bucket, quota) and the API key's (dedup entry, claim);
saving touches the global slug, the API key's dedup entry and, with a webhook, the delivery
keys. That needs a single Redis (or a proxy that keeps them together), not Redis Cluster.
"""

from __future__ import annotations

from typing import cast

from ogmint.state.atomic import Admission
from ogmint.state.deliveries import Delivery
from ogmint.state.limits import LimitStatus
from ogmint.state.redis.client import RedisClient
from ogmint.state.redis.deliveries import RedisDeliveries, delivery_fields
from ogmint.state.redis.limits import bucket_status, counted_status
from ogmint.state.redis.renders import RedisRenders, list_member, parse_render, render_fields
from ogmint.state.redis.usage import RedisUsage
from ogmint.state.renders import RenderRecord
from ogmint.state.usage import Tracking


class RedisAtomicSteps:
    def __init__(
        self,
        client: RedisClient,
        renders: RedisRenders,
        deliveries: RedisDeliveries,
        usage: RedisUsage,
    ) -> None:
        self._c = client
        self._renders = renders  # their key names
        self._deliveries = deliveries
        self._usage = usage

    async def admit_render(
        self,
        user: str,
        scope: str,
        dedup_key: str,
        *,
        quota: int,
        ttl: float,
        burst: tuple[float, int] | None = None,
        track: Tracking | None = None,
    ) -> Admission:
        if burst is not None and burst[0] <= 0:
            raise ValueError("rate must be positive")
        rate = "" if burst is None else repr(float(burst[0]))
        capacity = 0 if burst is None else burst[1]
        keys = [
            self._c.u(user, "bucket"),
            self._renders.dedup_key(scope, dedup_key),
            self._renders.claim_key(scope, dedup_key),
            self._c.u(user, "quota"),
        ]
        args: list[str | int | float] = [rate, capacity, quota, max(int(ttl * 1000), 1)]
        if track is not None:
            usage_keys, values = self._usage.track_args(track)
            keys += usage_keys
            args += values
        outcome, bucket, *rest = await self._c.script("admit", keys, args)
        taken = bucket_status(capacity, bucket) if bucket else None
        if outcome == "exists":
            flat = rest[0]
            existing = parse_render(dict(zip(flat[::2], flat[1::2], strict=True)))
            return Admission(taken, existing=existing)
        if outcome in ("quota", "claimed"):
            charged = counted_status(quota, rest[0])
            return Admission(taken, quota=charged, claimed=outcome == "claimed")
        return Admission(taken)  # burst refused, or another caller is rendering

    async def save_render(
        self,
        record: RenderRecord,
        delivery: Delivery | None = None,
        track: Tracking | None = None,
    ) -> bool:
        fields = render_fields(record)
        keys = [
            self._renders.slug_key(record.slug),
            self._renders.dedup_key(record.user, record.dedup_key),
            self._renders.claim_key(record.user, record.dedup_key),
            self._renders.list_key(record.owner),
        ]
        member = list_member(record) if record.owner else ""
        args: list[str | int | float] = [len(fields), *fields, member]
        if track is None:
            args.append("0")
        else:
            usage_keys, values = self._usage.track_args(track)
            keys += usage_keys
            args += ["1", *values]
        if delivery is not None:
            keys += [
                self._deliveries.delivery_key(delivery.id),
                self._deliveries.slug_list_key(delivery.slug),
                self._deliveries.stream_key,
            ]
            args += [delivery.id, *delivery_fields(delivery)]
        return bool(await self._c.script("save", keys, args))

    async def delete_render(self, owner: str, slug: str) -> RenderRecord | None:
        c = self._c
        record = await self._renders.get_render(slug)
        if record is None or record.owner != owner or not owner:
            return None
        # Deliveries are only ever added with the render: its list is complete by now.
        ids = cast(
            list[str],
            await c.call(c.redis.lrange(self._deliveries.slug_list_key(slug), 0, -1)),
        )
        keys = [
            self._renders.slug_key(slug),
            self._renders.dedup_key(record.user, record.dedup_key),
            self._renders.list_key(owner),
            self._deliveries.slug_list_key(slug),
            c.g("wh:retry"),
        ]
        for delivery_id in ids:
            keys += [self._deliveries.delivery_key(delivery_id), c.g(f"wh:a:{delivery_id}")]
        done = await c.script("delete", keys, [owner, list_member(record), *ids])
        return record if done else None

    async def take_token(self, user: str, rate: float, burst: int, track: Tracking) -> LimitStatus:
        if rate <= 0:
            raise ValueError("rate must be positive")
        usage_keys, values = self._usage.track_args(track)
        keys = [self._c.u(user, "bucket"), *usage_keys]
        reply = await self._c.script("token_tracked", keys, [repr(float(rate)), burst, *values])
        return bucket_status(burst, reply)

    async def charge_quota(self, user: str, limit: int, track: Tracking) -> LimitStatus:
        usage_keys, values = self._usage.track_args(track)
        keys = [self._c.u(user, "quota"), *usage_keys]
        reply = await self._c.script("charge_tracked", keys, [limit, *values])
        return counted_status(limit, reply)

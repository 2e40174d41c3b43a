"""The multi-aggregate steps in SQLite: each is one immediate transaction over the aggregates'
row helpers."""

from __future__ import annotations

import dataclasses
import sqlite3
import time

from ogmint.state.atomic import Admission
from ogmint.state.deliveries import Delivery
from ogmint.state.limits import LimitStatus
from ogmint.state.renders import RenderRecord
from ogmint.state.sqlite import deliveries, limits, renders, usage
from ogmint.state.sqlite.db import Database
from ogmint.state.usage import Tracking


class SqliteAtomicSteps:
    def __init__(self, db: Database) -> None:
        self._db = db

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
        def run(db: sqlite3.Connection) -> Admission:
            taken = None if burst is None else limits.take(db, user, *burst)
            if taken is not None and not taken.allowed:
                return Admission(taken)
            existing = renders.find(db, scope, dedup_key)
            if existing is not None:
                if track is not None:
                    hit = dataclasses.replace(track.render, slug=existing.slug)
                    usage.track(db, track.user, hit, track.retention)
                return Admission(taken, existing=existing)
            now = time.time()
            if renders.claimed(db, scope, dedup_key, now):
                return Admission(taken)
            used = limits.consume(db, limits.MONTHLY, user, quota)
            charged = limits.quota_status(used, quota)
            if used is None:
                return Admission(taken, quota=charged)
            renders.claim(db, scope, dedup_key, now + ttl, now)
            return Admission(taken, quota=charged, claimed=True)

        # Counters and a claim: nothing acknowledged depends on them surviving a power loss.
        return await self._db.run(run, True, durable=False)

    async def save_render(
        self,
        record: RenderRecord,
        delivery: Delivery | None = None,
        track: Tracking | None = None,
    ) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            if not renders.insert(db, record):
                return False
            if delivery is not None:
                deliveries.insert(db, delivery)  # commits with the render, or neither does
            if track is not None:
                usage.track(db, track.user, track.render, track.retention)
            return True

        return await self._db.run(run, True)

    async def delete_render(self, owner: str, slug: str) -> RenderRecord | None:
        def run(db: sqlite3.Connection) -> RenderRecord | None:
            removed = renders.delete(db, owner, slug)
            if removed is not None:
                deliveries.delete_of(db, slug)
            return removed

        return await self._db.run(run, True)

    async def take_token(self, user: str, rate: float, burst: int, track: Tracking) -> LimitStatus:
        def run(db: sqlite3.Connection) -> LimitStatus:
            taken = limits.take(db, user, rate, burst)
            if taken.allowed:
                usage.track(db, track.user, track.render, track.retention)
            return taken

        return await self._db.run(run, True, durable=False)

    async def charge_quota(self, user: str, limit: int, track: Tracking) -> LimitStatus:
        def run(db: sqlite3.Connection) -> LimitStatus:
            used = limits.consume(db, limits.MONTHLY, user, limit)
            if used is not None:
                usage.track(db, track.user, track.render, track.retention)
            return limits.quota_status(used, limit)

        return await self._db.run(run, True, durable=False)

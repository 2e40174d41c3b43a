"""The multi-aggregate steps in SQLite: each is one immediate transaction over the aggregates'
row helpers."""

from __future__ import annotations

import sqlite3
import time

from ogmint.state.atomic import Admission
from ogmint.state.deliveries import Delivery
from ogmint.state.renders import RenderRecord
from ogmint.state.sqlite import deliveries, limits, renders
from ogmint.state.sqlite.db import Database


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
    ) -> Admission:
        def run(db: sqlite3.Connection) -> Admission:
            taken = None if burst is None else limits.take(db, user, *burst)
            if taken is not None and not taken.allowed:
                return Admission(taken)
            existing = renders.find(db, scope, dedup_key)
            if existing is not None:
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

        return await self._db.run(run, True)

    async def save_render(self, record: RenderRecord, delivery: Delivery | None = None) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            if not renders.insert(db, record):
                return False
            if delivery is not None:
                deliveries.insert(db, delivery)  # commits with the render, or neither does
            return True

        return await self._db.run(run, True)

"""The webhook outbox in SQLite. ``insert`` runs inside a caller's transaction, so the render
that queues a delivery commits with it (``atomic.py``)."""

from __future__ import annotations

import sqlite3
import time

from ogmint.clock import unix_iso
from ogmint.state.deliveries import (
    PENDING,
    Attempt,
    AttemptOutcome,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
)
from ogmint.state.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL,
    leased_until REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_slug ON deliveries (slug);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    number INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;
"""

_COLUMNS = "id, slug, owner, url, secret, body, created_at"
_STATUS_QUERY = f"SELECT {_COLUMNS}, state, due FROM deliveries"  # noqa: S608


def insert(db: sqlite3.Connection, delivery: Delivery) -> None:
    """Queues the delivery, due now."""
    db.execute(
        f"INSERT INTO deliveries ({_COLUMNS}, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (
            delivery.id,
            delivery.slug,
            delivery.owner,
            delivery.url,
            delivery.secret,
            delivery.body,
            delivery.created_at,
            time.time(),
        ),
    )


def delete_of(db: sqlite3.Connection, slug: str) -> None:
    """Removes every delivery of a render and its attempts (the render is being deleted)."""
    db.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN "
        "(SELECT id FROM deliveries WHERE slug = ?)",
        (slug,),
    )
    db.execute("DELETE FROM deliveries WHERE slug = ?", (slug,))


class SqliteDeliveries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_deliveries(
        self, worker: str, limit: int, lease: float
    ) -> list[ClaimedDelivery]:
        def run(db: sqlite3.Connection) -> list[ClaimedDelivery]:
            # Inside BEGIN IMMEDIATE: no other process can select the same rows meanwhile.
            now = time.time()
            rows = db.execute(
                f"SELECT {_COLUMNS}, attempts FROM deliveries "  # noqa: S608
                "WHERE state = 'pending' AND due <= ? AND leased_until <= ? "
                "ORDER BY due LIMIT ?",
                (now, now, limit),
            ).fetchall()
            until = now + lease
            db.executemany(
                "UPDATE deliveries SET leased_until = ? WHERE id = ?",
                [(until, row[0]) for row in rows],
            )
            # The lease is the claim's token: finish_delivery sees whether it still holds.
            return [ClaimedDelivery(_delivery(row), int(row[7]), repr(until)) for row in rows]

        return await self._db.run(run, True)

    async def finish_delivery(self, claim: ClaimedDelivery, outcome: AttemptOutcome) -> None:
        def run(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT attempts, leased_until FROM deliveries WHERE id = ?", (claim.delivery.id,)
            ).fetchone()
            if row is None:
                return
            number = int(row[0]) + 1
            # A redeliver during the attempt dropped the lease: the attempt is recorded, but
            # the delivery stays due as the redeliver made it.
            current = float(row[1]) == float(claim.token)
            db.execute(
                "INSERT INTO delivery_attempts "
                "(delivery_id, number, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    claim.delivery.id,
                    number,
                    outcome.at,
                    outcome.status,
                    outcome.error,
                    outcome.duration_ms,
                ),
            )
            if not current:
                db.execute(
                    "UPDATE deliveries SET attempts = ? WHERE id = ?", (number, claim.delivery.id)
                )
                return
            db.execute(
                "UPDATE deliveries SET attempts = ?, state = ?, due = ?, leased_until = 0 "
                "WHERE id = ?",
                (number, outcome.state, time.time() + outcome.retry_in, claim.delivery.id),
            )

        await self._db.run(run, True)

    @staticmethod
    def _statuses(db: sqlite3.Connection, rows: list[tuple[object, ...]]) -> list[DeliveryStatus]:
        out = []
        for row in rows:
            attempts = db.execute(
                "SELECT number, at, status, error, duration_ms FROM delivery_attempts "
                "WHERE delivery_id = ? ORDER BY number",
                (row[0],),
            ).fetchall()
            state = str(row[7])
            due = float(row[8])  # type: ignore[arg-type]
            out.append(
                DeliveryStatus(
                    _delivery(row),
                    state,
                    tuple(Attempt(*a) for a in attempts),
                    unix_iso(due) if state == PENDING else None,
                )
            )
        return out

    async def list_deliveries(self, slug: str) -> list[DeliveryStatus]:
        def run(db: sqlite3.Connection) -> list[DeliveryStatus]:
            rows = db.execute(
                _STATUS_QUERY + " WHERE slug = ? ORDER BY created_at, id", (slug,)
            ).fetchall()
            return self._statuses(db, rows)

        return await self._db.run(run)

    async def get_delivery(self, delivery_id: str) -> DeliveryStatus | None:
        def run(db: sqlite3.Connection) -> list[DeliveryStatus]:
            rows = db.execute(_STATUS_QUERY + " WHERE id = ?", (delivery_id,)).fetchall()
            return self._statuses(db, rows)

        found = await self._db.run(run)
        return found[0] if found else None

    async def redeliver(self, delivery_id: str) -> bool:
        cur = await self._db.run(
            lambda db: db.execute(
                "UPDATE deliveries SET state = 'pending', due = ?, leased_until = 0 WHERE id = ?",
                (time.time(), delivery_id),
            ),
            True,
        )
        return cur.rowcount > 0


def _delivery(row: tuple[object, ...]) -> Delivery:
    return Delivery(
        id=str(row[0]),
        slug=str(row[1]),
        owner=str(row[2]),
        url=str(row[3]),
        secret=str(row[4]),
        body=bytes(row[5]),  # type: ignore[call-overload]
        created_at=str(row[6]),
    )

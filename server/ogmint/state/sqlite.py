"""Embedded state in SQLite: safe with several worker processes (WAL, immediate transactions)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from ogmint.state.base import ApiKeyRecord, LimitStatus, utc_day

SCHEMA = """
CREATE TABLE IF NOT EXISTS daily_usage (
    subject TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (subject, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    plan TEXT NOT NULL DEFAULT 'free',
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""


class SqliteStateStore:
    """StateStore on one SQLite file; each call runs in a thread so the event loop never waits."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path, timeout=5.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("state store is not open")
        return self._conn

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        day, reset = utc_day()

        def run() -> LimitStatus:
            with self._lock:
                db = self._db()
                # BEGIN IMMEDIATE takes the write lock first: no two processes read the same count.
                db.execute("BEGIN IMMEDIATE")
                try:
                    row = db.execute(
                        "SELECT count FROM daily_usage WHERE subject = ? AND day = ?",
                        (subject, day),
                    ).fetchone()
                    used = row[0] if row else 0
                    allowed = used < limit
                    if allowed:
                        db.execute(
                            "INSERT INTO daily_usage (subject, day, count) VALUES (?, ?, 1) "
                            "ON CONFLICT (subject, day) DO UPDATE SET count = count + 1",
                            (subject, day),
                        )
                        used += 1
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            return LimitStatus(allowed, limit, max(limit - used, 0), reset)

        return await asyncio.to_thread(run)

    async def refund_daily(self, subject: str) -> None:
        day, _ = utc_day()

        def run() -> None:
            with self._lock:
                self._db().execute(
                    "UPDATE daily_usage SET count = max(count - 1, 0) "
                    "WHERE subject = ? AND day = ?",
                    (subject, day),
                )

        await asyncio.to_thread(run)

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        def run() -> ApiKeyRecord | None:
            with self._lock:
                row = (
                    self._db()
                    .execute(
                        "SELECT key_hash, user_id, plan, revoked FROM api_keys WHERE key_hash = ?",
                        (key_hash,),
                    )
                    .fetchone()
                )
            return ApiKeyRecord(row[0], row[1], row[2], bool(row[3])) if row else None

        return await asyncio.to_thread(run)

    async def ping(self) -> None:
        def run() -> None:
            with self._lock:
                self._db().execute("SELECT 1").fetchone()

        await asyncio.to_thread(run)

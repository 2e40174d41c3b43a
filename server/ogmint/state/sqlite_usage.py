"""The usage aggregate in the embedded SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar, cast

from ogmint.state.base import StateUnavailable
from ogmint.state.usage import DayCount, Kind, Retention, TrackedRender

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_days (
    user_id TEXT NOT NULL, day TEXT NOT NULL,
    v1 INTEGER NOT NULL DEFAULT 0, v2 INTEGER NOT NULL DEFAULT 0, dedup INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_renders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    template TEXT NOT NULL,
    title TEXT NOT NULL,
    status INTEGER NOT NULL,
    slug TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recent_renders_user ON recent_renders (user_id, id);
"""


class SqliteUsageStore:
    """UsageStore on the SQLite file; each call runs in a thread so the event loop never waits."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path, timeout=5.0, isolation_level=None, check_same_thread=False
        )
        deadline = time.monotonic() + 10
        while True:  # several workers may create the schema at once
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(SCHEMA)
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    conn.close()
                    raise StateUnavailable(f"cannot open {self._path}: {e}") from e
                await asyncio.sleep(0.05)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        def call() -> T:
            with self._lock:
                if self._conn is None:
                    raise StateUnavailable("state store is not open")
                db = self._conn
                if not write:
                    return fn(db)
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(db)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
                return result

        try:
            return await asyncio.to_thread(call)
        except sqlite3.OperationalError as e:
            raise StateUnavailable(str(e)) from e

    async def track(self, user: str, render: TrackedRender, retention: Retention) -> None:
        day = render.at[:10]
        oldest = (date.fromisoformat(day) - timedelta(days=retention.days - 1)).isoformat()
        column = {"v1": "v1", "v2": "v2", "dedup": "dedup"}[render.kind]

        def track(db: sqlite3.Connection) -> None:
            if render.status < 400:
                db.execute(
                    f"INSERT INTO usage_days (user_id, day, {column}) VALUES (?, ?, 1) "  # noqa: S608
                    f"ON CONFLICT (user_id, day) DO UPDATE SET {column} = {column} + 1",
                    (user, day),
                )
            db.execute("DELETE FROM usage_days WHERE user_id = ? AND day < ?", (user, oldest))
            db.execute(
                "INSERT INTO recent_renders (user_id, at, kind, template, title, status, slug) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    user,
                    render.at,
                    render.kind,
                    render.template,
                    render.title,
                    render.status,
                    render.slug,
                ),
            )
            db.execute(
                "DELETE FROM recent_renders WHERE user_id = ? AND id <= (SELECT id FROM "
                "recent_renders WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (user, user, retention.recent),
            )

        await self._run(track, True)

    async def days(self, user: str, first: str, last: str) -> list[DayCount]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT day, v1, v2, dedup FROM usage_days "
                "WHERE user_id = ? AND day >= ? AND day <= ? ORDER BY day",
                (user, first, last),
            ).fetchall()
        )
        return [DayCount(*row) for row in rows]

    async def recent(self, user: str, limit: int) -> list[TrackedRender]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT at, kind, template, title, status, slug FROM recent_renders "
                "WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                (user, limit),
            ).fetchall()
        )
        return [TrackedRender(r[0], cast(Kind, r[1]), r[2], r[3], r[4], r[5]) for r in rows]

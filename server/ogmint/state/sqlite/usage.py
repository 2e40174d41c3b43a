"""The usage aggregate in the embedded SQLite database."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date, timedelta
from typing import cast

from ogmint.state.sqlite.db import Database
from ogmint.state.usage import (
    TRIM_SLACK,
    DayCount,
    Kind,
    Retention,
    TrackedRender,
    Tracking,
    from_slug_field,
    slug_field,
)

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

#: The counter column of each kind (never a caller's string in SQL).
COLUMNS = {"v1": "v1", "v2": "v2", "dedup": "dedup"}


def track(db: sqlite3.Connection, user: str, render: TrackedRender, retention: Retention) -> None:
    """Counts and lists one render inside the caller's transaction (the atomic steps use it)."""
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
            slug_field(render),
        ),
    )
    if render.status >= 400:
        return
    column = COLUMNS[render.kind]
    (day_total,) = db.execute(
        f"INSERT INTO usage_days (user_id, day, {column}) VALUES (?, ?, 1) "  # noqa: S608
        f"ON CONFLICT (user_id, day) DO UPDATE SET {column} = {column} + 1 "
        "RETURNING v1 + v2 + dedup",
        (user, render.at[:10]),
    ).fetchone()
    if day_total % TRIM_SLACK == 1:  # the day's first render, then every TRIM_SLACK-th
        trim(db, user, render.at[:10], retention)


def trim(db: sqlite3.Connection, user: str, day: str, retention: Retention) -> None:
    """Drops the user's counts older than the retention and renders past the list's length."""
    oldest = (date.fromisoformat(day) - timedelta(days=retention.days - 1)).isoformat()
    db.execute("DELETE FROM usage_days WHERE user_id = ? AND day < ?", (user, oldest))
    db.execute(
        "DELETE FROM recent_renders WHERE user_id = ? AND id <= (SELECT id FROM "
        "recent_renders WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (user, user, retention.recent),
    )


class SqliteUsage:
    """UsageStore on the SQLite file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def track(self, user: str, render: TrackedRender, retention: Retention) -> None:
        # Counters: the last increments may be lost on power loss without breaking a promise.
        await self._db.run(lambda db: track(db, user, render, retention), True, durable=False)

    async def fail(self, tracked: Tracking, status: int) -> None:
        r = tracked.render

        def run(db: sqlite3.Connection) -> None:
            gone = db.execute(
                "DELETE FROM recent_renders WHERE id = (SELECT id FROM recent_renders WHERE "
                "user_id = ? AND at = ? AND kind = ? AND title = ? AND status = ? "
                "ORDER BY id DESC LIMIT 1)",
                (tracked.user, r.at, r.kind, r.title, r.status),
            ).rowcount
            if gone and r.status < 400:
                db.execute(
                    f"UPDATE usage_days SET {COLUMNS[r.kind]} = max({COLUMNS[r.kind]} - 1, 0) "  # noqa: S608
                    "WHERE user_id = ? AND day = ?",
                    (tracked.user, r.at[:10]),
                )
            failed = dataclasses.replace(r, status=status)
            track(db, tracked.user, failed, tracked.retention)

        await self._db.run(run, True, durable=False)

    async def days(self, user: str, first: str, last: str) -> list[DayCount]:
        rows = await self._db.run(
            lambda db: db.execute(
                "SELECT day, v1, v2, dedup FROM usage_days "
                "WHERE user_id = ? AND day >= ? AND day <= ? ORDER BY day",
                (user, first, last),
            ).fetchall()
        )
        return [DayCount(*row) for row in rows]

    async def recent(self, user: str, limit: int) -> list[TrackedRender]:
        rows = await self._db.run(
            lambda db: db.execute(
                "SELECT at, kind, template, title, status, slug FROM recent_renders "
                "WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                (user, limit),
            ).fetchall()
        )
        return [
            TrackedRender(r[0], cast(Kind, r[1]), r[2], r[3], r[4], *from_slug_field(r[5]))
            for r in rows
        ]

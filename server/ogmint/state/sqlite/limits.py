"""Limits in SQLite. ``consume`` and ``take`` run inside a caller's transaction, so the atomic
steps (``atomic.py``) use them too."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from ogmint.state.base import utc_day, utc_month
from ogmint.state.limits import LimitStatus
from ogmint.state.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS daily_usage (
    subject TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (subject, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS monthly_usage (
    user_id TEXT NOT NULL, month TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (user_id, month)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (
    user_id TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS image_buckets (
    subject TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_buckets (
    kid TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL
);
"""

#: The bucket tables: table, subject column.
USER_BUCKETS = ("buckets", "user_id")
IMAGE_BUCKETS = ("image_buckets", "subject")
SIGNING_BUCKETS = ("signing_buckets", "kid")

#: The two counters: table, subject column, window column.
DAILY = ("daily_usage", "subject", "day")
MONTHLY = ("monthly_usage", "user_id", "month")


def consume(
    db: sqlite3.Connection,
    counter: tuple[str, str, str],
    subject: str,
    limit: int,
    now: datetime | None = None,
) -> int | None:
    """Increments the counter of the window holding ``now`` (default: the current time) if
    below ``limit``; the new count, or None when refused."""
    table, column, window = counter
    current = utc_day(now)[0] if window == "day" else utc_month(now)[0]
    row = db.execute(
        f"SELECT count FROM {table} WHERE {column} = ? AND {window} = ?",  # noqa: S608
        (subject, current),
    ).fetchone()
    used = row[0] if row else 0
    if used >= limit:
        return None
    db.execute(
        f"INSERT INTO {table} ({column}, {window}, count) VALUES (?, ?, 1) "  # noqa: S608
        f"ON CONFLICT ({column}, {window}) DO UPDATE SET count = count + 1",
        (subject, current),
    )
    return int(used) + 1


def quota_status(used: int | None, limit: int, now: datetime | None = None) -> LimitStatus:
    """The monthly quota's status after ``consume`` (at ``now``, default the current time)."""
    return LimitStatus(used is not None, limit, limit - (used or limit), utc_month(now)[1])


def take(
    db: sqlite3.Connection,
    user: str,
    rate: float,
    burst: int,
    table: tuple[str, str] = USER_BUCKETS,
) -> LimitStatus:
    """Takes a token from the user's (or ``table``'s subject's) bucket if one is there."""
    name, column = table
    now = time.time()
    row = db.execute(
        f"SELECT tokens, updated FROM {name} WHERE {column} = ?",  # noqa: S608
        (user,),
    ).fetchone()
    tokens = float(burst) if row is None else min(burst, row[0] + (now - row[1]) * rate)
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    db.execute(
        f"INSERT INTO {name} ({column}, tokens, updated) VALUES (?, ?, ?) "  # noqa: S608
        f"ON CONFLICT ({column}) DO UPDATE SET tokens = excluded.tokens, "
        "updated = excluded.updated",
        (user, tokens, now),
    )
    wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
    return LimitStatus(allowed, burst, int(tokens), int(now + wait) + 1)


class SqliteLimits:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        _, reset = utc_day()
        used = await self._db.run(
            lambda db: consume(db, DAILY, subject, limit), True, durable=False
        )
        return LimitStatus(used is not None, limit, limit - (used or limit), reset)

    async def refund_daily(self, subject: str) -> None:
        day, _ = utc_day()
        await self._db.run(
            lambda db: db.execute(
                "UPDATE daily_usage SET count = max(count - 1, 0) WHERE subject = ? AND day = ?",
                (subject, day),
            ),
            durable=False,
        )

    async def consume_quota(self, user: str, limit: int) -> LimitStatus:
        used = await self._db.run(lambda db: consume(db, MONTHLY, user, limit), True, durable=False)
        return quota_status(used, limit)

    async def refund_quota(self, user: str) -> None:
        month, _ = utc_month()
        await self._db.run(
            lambda db: db.execute(
                "UPDATE monthly_usage SET count = max(count - 1, 0) "
                "WHERE user_id = ? AND month = ?",
                (user, month),
            ),
            durable=False,
        )

    async def peek_quota(self, user: str, limit: int) -> LimitStatus:
        month, reset = utc_month()
        row = await self._db.run(
            lambda db: db.execute(
                "SELECT count FROM monthly_usage WHERE user_id = ? AND month = ?", (user, month)
            ).fetchone()
        )
        used = int(row[0]) if row else 0
        return LimitStatus(used < limit, limit, max(limit - used, 0), reset)

    async def take_token(self, user: str, rate: float, burst: int) -> LimitStatus:
        return await self._db.run(lambda db: take(db, user, rate, burst), True, durable=False)

    async def take_image_token(self, subject: str, rate: float, burst: int) -> LimitStatus:
        # Like the burst bucket, nothing is acknowledged by it: no durable commit needed.
        return await self._db.run(
            lambda db: take(db, subject, rate, burst, IMAGE_BUCKETS), True, durable=False
        )

    async def take_signing_token(self, kid: str, rate: float, burst: int) -> LimitStatus:
        return await self._db.run(
            lambda db: take(db, kid, rate, burst, SIGNING_BUCKETS), True, durable=False
        )

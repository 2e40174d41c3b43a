"""Embedded state in SQLite: safe with several worker processes (WAL, immediate transactions)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from ogmint.state.base import (
    PENDING,
    Admission,
    ApiKeyRecord,
    Attempt,
    AttemptOutcome,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    LimitStatus,
    RenderRecord,
    StateUnavailable,
    utc_day,
    utc_month,
)

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS daily_usage (
    subject TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (subject, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS monthly_usage (
    user_id TEXT NOT NULL, month TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (user_id, month)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, plan TEXT NOT NULL DEFAULT 'free'
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (user_id),
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS buckets (
    user_id TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    user_id TEXT NOT NULL, dedup_key TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (user_id, dedup_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS renders (
    slug TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    template TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, dedup_key)
);
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

_RENDER_COLUMNS = "slug, user_id, dedup_key, storage_key, etag, size, template, created_at"
_FIND_RENDER = f"SELECT {_RENDER_COLUMNS} FROM renders WHERE user_id = ? AND dedup_key = ?"  # noqa: S608
_DELIVERY_COLUMNS = "id, slug, owner, url, secret, body, created_at"
_STATUS_QUERY = f"SELECT {_DELIVERY_COLUMNS}, state, due FROM deliveries"  # noqa: S608
_KEY_QUERY = (
    "SELECT k.key_id, k.key_hash, k.user_id, u.plan, k.revoked, k.created_at "
    "FROM api_keys k JOIN users u ON u.user_id = k.user_id"
)


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
        # Several workers open a new database at once: switching it to WAL and creating the
        # schema can meet "database is locked" without SQLite's busy handler, so retry.
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
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
                # BEGIN IMMEDIATE takes the write lock first: no two processes read the same
                # counter value and both act on it.
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
        except sqlite3.OperationalError as e:  # locked for longer than the busy timeout, disk…
            raise StateUnavailable(str(e)) from e

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())

    # -- counters -----------------------------------------------------------------------------
    @staticmethod
    def _consume(
        db: sqlite3.Connection, table: str, column: str, window: str, subject: str, limit: int
    ) -> int | None:
        """Increments the counter if below ``limit``; the new count, or None when refused."""
        row = db.execute(
            f"SELECT count FROM {table} WHERE {column} = ? AND {window} = ?",  # noqa: S608
            (subject, _window_value(window)),
        ).fetchone()
        used = row[0] if row else 0
        if used >= limit:
            return None
        db.execute(
            f"INSERT INTO {table} ({column}, {window}, count) VALUES (?, ?, 1) "  # noqa: S608
            f"ON CONFLICT ({column}, {window}) DO UPDATE SET count = count + 1",
            (subject, _window_value(window)),
        )
        return int(used) + 1

    async def consume_daily(self, subject: str, limit: int) -> LimitStatus:
        _, reset = utc_day()
        used = await self._run(
            lambda db: self._consume(db, "daily_usage", "subject", "day", subject, limit), True
        )
        return LimitStatus(used is not None, limit, limit - (used or limit), reset)

    async def refund_daily(self, subject: str) -> None:
        day, _ = utc_day()
        await self._run(
            lambda db: db.execute(
                "UPDATE daily_usage SET count = max(count - 1, 0) WHERE subject = ? AND day = ?",
                (subject, day),
            )
        )

    async def consume_quota(self, user: str, limit: int) -> LimitStatus:
        _, reset = utc_month()
        used = await self._run(
            lambda db: self._consume(db, "monthly_usage", "user_id", "month", user, limit), True
        )
        return LimitStatus(used is not None, limit, limit - (used or limit), reset)

    async def refund_quota(self, user: str) -> None:
        month, _ = utc_month()
        await self._run(
            lambda db: db.execute(
                "UPDATE monthly_usage SET count = max(count - 1, 0) "
                "WHERE user_id = ? AND month = ?",
                (user, month),
            )
        )

    @staticmethod
    def _take(db: sqlite3.Connection, user: str, rate: float, burst: int) -> LimitStatus:
        now = time.time()
        row = db.execute(
            "SELECT tokens, updated FROM buckets WHERE user_id = ?", (user,)
        ).fetchone()
        tokens = float(burst) if row is None else min(burst, row[0] + (now - row[1]) * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        db.execute(
            "INSERT INTO buckets (user_id, tokens, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET tokens = excluded.tokens, "
            "updated = excluded.updated",
            (user, tokens, now),
        )
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
        return LimitStatus(allowed, burst, int(tokens), int(now + wait) + 1)

    async def take_token(self, user: str, rate: float, burst: int) -> LimitStatus:
        return await self._run(lambda db: self._take(db, user, rate, burst), True)

    # -- keys ---------------------------------------------------------------------------------
    async def create_key(self, user: str, key_id: str, key_hash: str, plan: str | None) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO users (user_id, plan) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
                (user, plan or "free"),
            )
            if plan is not None:
                db.execute("UPDATE users SET plan = ? WHERE user_id = ?", (plan, user))
            db.execute(
                "INSERT INTO api_keys (key_id, key_hash, user_id) VALUES (?, ?, ?)",
                (key_id, key_hash, user),
            )

        await self._run(run, True)

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        row = await self._run(
            lambda db: db.execute(_KEY_QUERY + " WHERE k.key_hash = ?", (key_hash,)).fetchone()
        )
        return _key(row) if row else None

    async def list_keys(self, user: str | None = None) -> list[ApiKeyRecord]:
        def run(db: sqlite3.Connection) -> list[ApiKeyRecord]:
            if user is None:
                rows = db.execute(_KEY_QUERY + " ORDER BY k.created_at, k.key_id").fetchall()
            else:
                rows = db.execute(
                    _KEY_QUERY + " WHERE k.user_id = ? ORDER BY k.created_at, k.key_id", (user,)
                ).fetchall()
            return [_key(r) for r in rows]

        return await self._run(run)

    async def revoke_key(self, key_id: str) -> bool:
        cur = await self._run(
            lambda db: db.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,)),
            True,
        )
        return cur.rowcount > 0

    async def set_plan(self, user: str, plan: str) -> bool:
        cur = await self._run(
            lambda db: db.execute("UPDATE users SET plan = ? WHERE user_id = ?", (plan, user)),
            True,
        )
        return cur.rowcount > 0

    # -- renders ------------------------------------------------------------------------------
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
        _, reset = utc_month()

        def run(db: sqlite3.Connection) -> Admission:
            taken = None if burst is None else self._take(db, user, *burst)
            if taken is not None and not taken.allowed:
                return Admission(taken)
            row = db.execute(_FIND_RENDER, (scope, dedup_key)).fetchone()
            if row:
                return Admission(taken, existing=RenderRecord(*row))
            now = time.time()
            busy = db.execute(
                "SELECT 1 FROM claims WHERE user_id = ? AND dedup_key = ? AND expires >= ?",
                (scope, dedup_key, now),
            ).fetchone()
            if busy:
                return Admission(taken)
            used = self._consume(db, "monthly_usage", "user_id", "month", user, quota)
            charged = LimitStatus(used is not None, quota, quota - (used or quota), reset)
            if used is None:
                return Admission(taken, quota=charged)
            self._claim(db, scope, dedup_key, now + ttl, now)
            return Admission(taken, quota=charged, claimed=True)

        return await self._run(run, True)

    async def find_render(self, user: str, dedup_key: str) -> RenderRecord | None:
        row = await self._run(lambda db: db.execute(_FIND_RENDER, (user, dedup_key)).fetchone())
        return RenderRecord(*row) if row else None

    @staticmethod
    def _claim(
        db: sqlite3.Connection, user: str, dedup_key: str, expires: float, now: float
    ) -> bool:
        """Claims unless an unexpired claim exists; True if this call holds it now."""
        cur = db.execute(
            "INSERT INTO claims (user_id, dedup_key, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id, dedup_key) DO UPDATE SET expires = excluded.expires "
            "WHERE claims.expires < ?",
            (user, dedup_key, expires, now),
        )
        return cur.rowcount > 0

    async def claim_render(self, user: str, dedup_key: str, ttl: float) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            now = time.time()
            done = db.execute(
                "SELECT 1 FROM renders WHERE user_id = ? AND dedup_key = ?", (user, dedup_key)
            ).fetchone()
            return not done and self._claim(db, user, dedup_key, now + ttl, now)

        return await self._run(run, True)

    async def release_claim(self, user: str, dedup_key: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM claims WHERE user_id = ? AND dedup_key = ?", (user, dedup_key)
            ),
            True,
        )

    async def save_render(self, record: RenderRecord, delivery: Delivery | None = None) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            try:
                db.execute(
                    f"INSERT INTO renders ({_RENDER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                    (
                        record.slug,
                        record.user,
                        record.dedup_key,
                        record.storage_key,
                        record.etag,
                        record.size,
                        record.template,
                        record.created_at,
                    ),
                )
            except sqlite3.IntegrityError:
                return False
            db.execute(
                "DELETE FROM claims WHERE user_id = ? AND dedup_key = ?",
                (record.user, record.dedup_key),
            )
            if delivery is not None:
                # The outbox row commits with the render, or neither does.
                db.execute(
                    f"INSERT INTO deliveries ({_DELIVERY_COLUMNS}, due) "  # noqa: S608
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            return True

        return await self._run(run, True)

    async def get_render(self, slug: str) -> RenderRecord | None:
        row = await self._run(
            lambda db: db.execute(
                f"SELECT {_RENDER_COLUMNS} FROM renders WHERE slug = ?",  # noqa: S608
                (slug,),
            ).fetchone()
        )
        return RenderRecord(*row) if row else None

    # -- webhook deliveries -------------------------------------------------------------------
    async def claim_deliveries(
        self, worker: str, limit: int, lease: float
    ) -> list[ClaimedDelivery]:
        def run(db: sqlite3.Connection) -> list[ClaimedDelivery]:
            # Inside BEGIN IMMEDIATE: no other process can select the same rows meanwhile.
            now = time.time()
            rows = db.execute(
                f"SELECT {_DELIVERY_COLUMNS}, attempts FROM deliveries "  # noqa: S608
                "WHERE state = 'pending' AND due <= ? AND leased_until <= ? "
                "ORDER BY due LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET leased_until = ? WHERE id = ?",
                [(now + lease, row[0]) for row in rows],
            )
            return [ClaimedDelivery(_delivery(row), int(row[7]), worker) for row in rows]

        return await self._run(run, True)

    async def finish_delivery(self, claim: ClaimedDelivery, outcome: AttemptOutcome) -> None:
        def run(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT attempts FROM deliveries WHERE id = ?", (claim.delivery.id,)
            ).fetchone()
            if row is None:
                return
            number = int(row[0]) + 1
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
            db.execute(
                "UPDATE deliveries SET attempts = ?, state = ?, due = ?, leased_until = 0 "
                "WHERE id = ?",
                (number, outcome.state, time.time() + outcome.retry_in, claim.delivery.id),
            )

        await self._run(run, True)

    def _statuses(
        self, db: sqlite3.Connection, rows: list[tuple[object, ...]]
    ) -> list[DeliveryStatus]:
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
                    _iso(due) if state == PENDING else None,
                )
            )
        return out

    async def list_deliveries(self, slug: str) -> list[DeliveryStatus]:
        def run(db: sqlite3.Connection) -> list[DeliveryStatus]:
            rows = db.execute(
                _STATUS_QUERY + " WHERE slug = ? ORDER BY created_at, id", (slug,)
            ).fetchall()
            return self._statuses(db, rows)

        return await self._run(run)

    async def get_delivery(self, delivery_id: str) -> DeliveryStatus | None:
        def run(db: sqlite3.Connection) -> list[DeliveryStatus]:
            rows = db.execute(_STATUS_QUERY + " WHERE id = ?", (delivery_id,)).fetchall()
            return self._statuses(db, rows)

        found = await self._run(run)
        return found[0] if found else None

    async def redeliver(self, delivery_id: str) -> bool:
        cur = await self._run(
            lambda db: db.execute(
                "UPDATE deliveries SET state = 'pending', due = ? WHERE id = ?",
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


def _iso(ts: float) -> str:
    stamp = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _window_value(window: str) -> str:
    return utc_day()[0] if window == "day" else utc_month()[0]


def _key(row: tuple[str, str, str, str, int, str]) -> ApiKeyRecord:
    return ApiKeyRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5])

"""Renders and claims in SQLite. The row helpers run inside a caller's transaction, so the
atomic steps (``atomic.py``) use them too."""

from __future__ import annotations

import sqlite3
import time

from ogmint.state.renders import Position, RenderRecord
from ogmint.state.sqlite.db import Database

SCHEMA = """
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
    owner TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT 'png',
    width INTEGER NOT NULL DEFAULT 1200,
    height INTEGER NOT NULL DEFAULT 630,
    params TEXT NOT NULL DEFAULT '{}',
    UNIQUE (user_id, dedup_key)
);
"""

#: Run on every open after the schemas (a "duplicate column" failure means already done): the
#: columns renders gained when they became listable, for files made before.
MIGRATIONS = (
    "ALTER TABLE renders ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE renders ADD COLUMN format TEXT NOT NULL DEFAULT 'png'",
    "ALTER TABLE renders ADD COLUMN width INTEGER NOT NULL DEFAULT 1200",
    "ALTER TABLE renders ADD COLUMN height INTEGER NOT NULL DEFAULT 630",
    "ALTER TABLE renders ADD COLUMN params TEXT NOT NULL DEFAULT '{}'",
    "CREATE INDEX IF NOT EXISTS renders_owner ON renders (owner, created_at DESC, slug DESC)",
    # Renders recorded before: their owner is their key's user.
    "UPDATE renders SET owner = coalesce("
    "(SELECT user_id FROM api_keys WHERE key_id = renders.user_id), '') WHERE owner = ''",
)

_COLUMNS = (
    "slug, user_id, dedup_key, storage_key, etag, size, template, created_at, "
    "owner, format, width, height, params"
)
_PLACES = ", ".join("?" * len(_COLUMNS.split(",")))
_FIND = f"SELECT {_COLUMNS} FROM renders WHERE user_id = ? AND dedup_key = ?"  # noqa: S608


def find(db: sqlite3.Connection, user: str, dedup_key: str) -> RenderRecord | None:
    row = db.execute(_FIND, (user, dedup_key)).fetchone()
    return RenderRecord(*row) if row else None


def claimed(db: sqlite3.Connection, user: str, dedup_key: str, now: float) -> bool:
    """Another caller holds an unexpired claim."""
    row = db.execute(
        "SELECT 1 FROM claims WHERE user_id = ? AND dedup_key = ? AND expires >= ?",
        (user, dedup_key, now),
    ).fetchone()
    return row is not None


def claim(db: sqlite3.Connection, user: str, dedup_key: str, expires: float, now: float) -> bool:
    """Claims unless an unexpired claim exists; True if this call holds it now."""
    cur = db.execute(
        "INSERT INTO claims (user_id, dedup_key, expires) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id, dedup_key) DO UPDATE SET expires = excluded.expires "
        "WHERE claims.expires < ?",
        (user, dedup_key, expires, now),
    )
    return cur.rowcount > 0


def insert(db: sqlite3.Connection, record: RenderRecord) -> bool:
    """Records the render and drops its claim; False (nothing written) if slug or dedup key
    is taken."""
    try:
        db.execute(
            f"INSERT INTO renders ({_COLUMNS}) VALUES ({_PLACES})",  # noqa: S608
            (
                record.slug,
                record.user,
                record.dedup_key,
                record.storage_key,
                record.etag,
                record.size,
                record.template,
                record.created_at,
                record.owner,
                record.format,
                record.width,
                record.height,
                record.params,
            ),
        )
    except sqlite3.IntegrityError:
        return False
    db.execute(
        "DELETE FROM claims WHERE user_id = ? AND dedup_key = ?", (record.user, record.dedup_key)
    )
    return True


def delete(db: sqlite3.Connection, owner: str, slug: str) -> RenderRecord | None:
    """Removes ``owner``'s render ``slug`` (its dedup entry is the same row)."""
    row = db.execute(
        f"SELECT {_COLUMNS} FROM renders WHERE slug = ? AND owner = ?",  # noqa: S608
        (slug, owner),
    ).fetchone()
    if row is None:
        return None
    db.execute("DELETE FROM renders WHERE slug = ?", (slug,))
    return RenderRecord(*row)


class SqliteRenders:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find_render(self, user: str, dedup_key: str) -> RenderRecord | None:
        return await self._db.run(lambda db: find(db, user, dedup_key))

    async def claim_render(self, user: str, dedup_key: str, ttl: float) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            now = time.time()
            done = db.execute(
                "SELECT 1 FROM renders WHERE user_id = ? AND dedup_key = ?", (user, dedup_key)
            ).fetchone()
            return not done and claim(db, user, dedup_key, now + ttl, now)

        return await self._db.run(run, True)

    async def release_claim(self, user: str, dedup_key: str) -> None:
        await self._db.run(
            lambda db: db.execute(
                "DELETE FROM claims WHERE user_id = ? AND dedup_key = ?", (user, dedup_key)
            ),
            True,
        )

    async def refresh_claim(self, user: str, dedup_key: str, ttl: float) -> None:
        def run(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute(
                "UPDATE claims SET expires = ? "
                "WHERE user_id = ? AND dedup_key = ? AND expires >= ?",
                (now + ttl, user, dedup_key, now),
            )

        await self._db.run(run, True, durable=False)

    async def get_render(self, slug: str) -> RenderRecord | None:
        row = await self._db.run(
            lambda db: db.execute(
                f"SELECT {_COLUMNS} FROM renders WHERE slug = ?",  # noqa: S608
                (slug,),
            ).fetchone()
        )
        return RenderRecord(*row) if row else None

    async def list_renders(
        self, owner: str, limit: int, after: Position | None = None
    ) -> list[RenderRecord]:
        def run(db: sqlite3.Connection) -> list[RenderRecord]:
            if after is None:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM renders WHERE owner = ? "  # noqa: S608
                    "ORDER BY created_at DESC, slug DESC LIMIT ?",
                    (owner, limit),
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM renders WHERE owner = ? "  # noqa: S608
                    "AND (created_at, slug) < (?, ?) "
                    "ORDER BY created_at DESC, slug DESC LIMIT ?",
                    (owner, *after, limit),
                ).fetchall()
            return [RenderRecord(*row) for row in rows]

        return await self._db.run(run)

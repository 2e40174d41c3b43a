"""The repeat cache's index in SQLite: one row per cached V1 image, by ETag."""

from __future__ import annotations

import sqlite3
import time

from ogmint.state.repeats import RepeatEntry
from ogmint.state.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS repeats (
    etag TEXT PRIMARY KEY,
    storage_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    template TEXT NOT NULL,
    saved REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS repeats_saved ON repeats (saved);
CREATE INDEX IF NOT EXISTS repeats_template ON repeats (template) WHERE template != '';
CREATE TABLE IF NOT EXISTS repeat_bytes (
    id INTEGER PRIMARY KEY CHECK (id = 0), total INTEGER NOT NULL
);
"""

_COLUMNS = "etag, storage_key, size, content_type, template"


def _drop(db: sqlite3.Connection, rows: list[tuple[str, str, int]]) -> list[str]:
    """Deletes ``(etag, storage_key, size)`` rows and their bytes from the total; the keys."""
    for etag, _, _ in rows:
        db.execute("DELETE FROM repeats WHERE etag = ?", (etag,))
    freed = sum(size for _, _, size in rows)
    if freed:
        db.execute("UPDATE repeat_bytes SET total = max(total - ?, 0) WHERE id = 0", (freed,))
    return [key for _, key, _ in rows]


class SqliteRepeats:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find_repeat(self, etag: str, ttl: float) -> RepeatEntry | None:
        since = time.time() - ttl
        row = await self._db.run(
            lambda db: db.execute(
                f"SELECT {_COLUMNS} FROM repeats WHERE etag = ? AND saved > ?",  # noqa: S608
                (etag, since),
            ).fetchone()
        )
        return None if row is None else RepeatEntry(*row)

    async def save_repeat(self, entry: RepeatEntry, ttl: float, max_bytes: int) -> list[str]:
        def run(db: sqlite3.Connection) -> list[str]:
            now = time.time()
            old = db.execute(
                "SELECT etag, storage_key, size FROM repeats WHERE etag = ?", (entry.etag,)
            ).fetchall()
            freed = _drop(db, old)
            db.execute(
                f"INSERT INTO repeats ({_COLUMNS}, saved) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    entry.etag,
                    entry.storage_key,
                    entry.size,
                    entry.content_type,
                    entry.template,
                    now,
                ),
            )
            db.execute(
                "INSERT INTO repeat_bytes (id, total) VALUES (0, ?) "
                "ON CONFLICT (id) DO UPDATE SET total = total + excluded.total",
                (entry.size,),
            )
            expired = db.execute(
                "SELECT etag, storage_key, size FROM repeats WHERE saved <= ?", (now - ttl,)
            ).fetchall()
            freed += _drop(db, expired)
            (total,) = db.execute("SELECT total FROM repeat_bytes WHERE id = 0").fetchone()
            cursor = db.execute("SELECT etag, storage_key, size FROM repeats ORDER BY saved")
            evict = []
            while total > max_bytes:
                row = cursor.fetchone()
                if row is None:
                    break
                evict.append(row)
                total -= row[2]
            cursor.close()
            return freed + _drop(db, evict)

        # Losing the last saves on power loss only loses cached copies: no durable commit.
        return await self._db.run(run, True, durable=False)

    async def drop_repeat(self, etag: str, storage_key: str) -> None:
        def run(db: sqlite3.Connection) -> None:
            rows = db.execute(
                "SELECT etag, storage_key, size FROM repeats WHERE etag = ? AND storage_key = ?",
                (etag, storage_key),
            ).fetchall()
            _drop(db, rows)

        await self._db.run(run, True, durable=False)

    async def drop_template_repeats(self, template: str) -> list[str]:
        def run(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT etag, storage_key, size FROM repeats WHERE template = ? AND template != ''",
                (template,),
            ).fetchall()
            return _drop(db, rows)

        return await self._db.run(run, True)

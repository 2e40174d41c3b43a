"""Keys & plans in SQLite."""

from __future__ import annotations

import sqlite3

from ogmint.state.keys import ApiKeyRecord
from ogmint.state.sqlite.db import Database

SCHEMA = """
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
"""

_KEY_QUERY = (
    "SELECT k.key_id, k.key_hash, k.user_id, u.plan, k.revoked, k.created_at "
    "FROM api_keys k JOIN users u ON u.user_id = k.user_id"
)


class SqliteKeys:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_key(
        self,
        user: str,
        key_id: str,
        key_hash: str,
        plan: str | None,
        max_active: int | None = None,
    ) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            if max_active is not None:
                (active,) = db.execute(
                    "SELECT count(*) FROM api_keys WHERE user_id = ? AND revoked = 0", (user,)
                ).fetchone()
                if active >= max_active:
                    return False
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
            return True

        return bool(await self._db.run(run, True))

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        row = await self._db.run(
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

        return await self._db.run(run)

    async def revoke_key(self, key_id: str) -> bool:
        cur = await self._db.run(
            lambda db: db.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,)),
            True,
        )
        return cur.rowcount > 0

    async def set_plan(self, user: str, plan: str) -> bool:
        cur = await self._db.run(
            lambda db: db.execute("UPDATE users SET plan = ? WHERE user_id = ?", (plan, user)),
            True,
        )
        return cur.rowcount > 0


def _key(row: tuple[str, str, str, str, int, str]) -> ApiKeyRecord:
    return ApiKeyRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5])

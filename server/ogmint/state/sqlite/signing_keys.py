"""Signing keys in SQLite (the users table belongs to the keys & plans aggregate)."""

from __future__ import annotations

import sqlite3

from ogmint.state.signing_keys import SigningKeyRecord
from ogmint.state.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id),
    secret TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS signing_keys_user ON signing_keys (user_id, created_at)
    WHERE revoked = 0;
"""

_QUERY = (
    "SELECT s.kid, s.user_id, u.plan, s.secret, s.revoked, s.created_at "
    "FROM signing_keys s JOIN users u ON u.user_id = s.user_id"
)


class SqliteSigningKeys:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_signing_key(self, user: str, kid: str, secret: str) -> str | None:
        def run(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "INSERT INTO signing_keys (kid, user_id, secret) "
                "SELECT ?, user_id, ? FROM users WHERE user_id = ? RETURNING created_at",
                (kid, secret, user),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._db.run(run, True)

    async def find_signing_key(self, kid: str) -> SigningKeyRecord | None:
        row = await self._db.run(
            lambda db: db.execute(_QUERY + " WHERE s.kid = ?", (kid,)).fetchone()
        )
        return _record(row) if row else None

    async def list_signing_keys(self, user: str) -> list[SigningKeyRecord]:
        rows = await self._db.run(
            lambda db: db.execute(
                _QUERY + " WHERE s.user_id = ? AND s.revoked = 0 ORDER BY s.created_at, s.kid",
                (user,),
            ).fetchall()
        )
        return [_record(r) for r in rows]

    async def revoke_signing_key(self, user: str, kid: str) -> bool:
        cur = await self._db.run(
            lambda db: db.execute(
                "UPDATE signing_keys SET revoked = 1 WHERE kid = ? AND user_id = ? AND revoked = 0",
                (kid, user),
            ),
            True,
        )
        return cur.rowcount > 0


def _record(row: tuple[str, str, str, str, int, str]) -> SigningKeyRecord:
    return SigningKeyRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5])

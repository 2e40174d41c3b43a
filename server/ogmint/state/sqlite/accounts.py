"""The accounts aggregate in the embedded SQLite database."""

from __future__ import annotations

import sqlite3
import time

from ogmint.state.accounts import Account, AccountExists, Session
from ogmint.state.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS account_links (
    link_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE REFERENCES accounts (user_id),
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES accounts (user_id),
    csrf TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS disabled_accounts (
    user_id TEXT PRIMARY KEY REFERENCES accounts (user_id)
);
CREATE TABLE IF NOT EXISTS session_flashes (
    session_hash TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    expires REAL NOT NULL
);
"""

# A table of its own for disabled users: databases made before it need no migration.
_ACCOUNT = (
    "SELECT user_id, email, password_hash, admin, created_at,"
    " user_id IN (SELECT user_id FROM disabled_accounts) FROM accounts"
)


def _account(row: tuple[str, str, str, int, str, int] | None) -> Account | None:
    if row is None:
        return None
    return Account(row[0], row[1], row[2], bool(row[3]), row[4], bool(row[5]))


class SqliteAccounts:
    """AccountStore on the SQLite file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_account(self, user: str, email: str, admin: bool) -> Account:
        def create(db: sqlite3.Connection) -> Account:
            try:
                db.execute(
                    "INSERT INTO accounts (user_id, email, admin) VALUES (?, ?, ?)",
                    (user, email, int(admin)),
                )
            except sqlite3.IntegrityError as e:
                raise AccountExists(
                    f"user {user!r} or e-mail {email!r} already has an account"
                ) from e
            found = _account(db.execute(f"{_ACCOUNT} WHERE user_id = ?", (user,)).fetchone())
            assert found is not None
            return found

        return await self._db.run(create, True)

    async def get_account(self, user: str) -> Account | None:
        return await self._db.run(
            lambda db: _account(db.execute(f"{_ACCOUNT} WHERE user_id = ?", (user,)).fetchone())
        )

    async def find_account(self, email: str) -> Account | None:
        return await self._db.run(
            lambda db: _account(db.execute(f"{_ACCOUNT} WHERE email = ?", (email,)).fetchone())
        )

    async def list_accounts(self) -> list[Account]:
        rows = await self._db.run(
            lambda db: db.execute(f"{_ACCOUNT} ORDER BY created_at, user_id").fetchall()
        )
        return [a for a in map(_account, rows) if a is not None]

    async def set_link(self, user: str, link_hash: str, ttl: float) -> bool:
        def store(db: sqlite3.Connection) -> bool:
            if db.execute("SELECT 1 FROM accounts WHERE user_id = ?", (user,)).fetchone() is None:
                return False
            db.execute("DELETE FROM account_links WHERE user_id = ?", (user,))
            db.execute(
                "INSERT INTO account_links (link_hash, user_id, expires) VALUES (?, ?, ?)",
                (link_hash, user, time.time() + ttl),
            )
            return True

        return await self._db.run(store, True)

    @staticmethod
    def _link_user(db: sqlite3.Connection, link_hash: str) -> str | None:
        row = db.execute(
            "SELECT user_id FROM account_links WHERE link_hash = ? AND expires > ?",
            (link_hash, time.time()),
        ).fetchone()
        return None if row is None else str(row[0])

    async def link_user(self, link_hash: str) -> str | None:
        return await self._db.run(lambda db: self._link_user(db, link_hash))

    async def use_link(self, link_hash: str, password_hash: str) -> str | None:
        def use(db: sqlite3.Connection) -> str | None:
            user = self._link_user(db, link_hash)
            if user is None:
                return None
            db.execute("DELETE FROM account_links WHERE user_id = ?", (user,))
            db.execute(
                "UPDATE accounts SET password_hash = ? WHERE user_id = ?", (password_hash, user)
            )
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user,))
            return user

        return await self._db.run(use, True)

    async def set_password(self, user: str, password_hash: str, keep: str) -> None:
        def change(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE accounts SET password_hash = ? WHERE user_id = ?", (password_hash, user)
            )
            db.execute("DELETE FROM sessions WHERE user_id = ? AND session_hash != ?", (user, keep))

        await self._db.run(change, True)

    async def start_session(self, session_hash: str, user: str, csrf: str, ttl: float) -> None:
        def start(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))  # keeps the table small
            db.execute(
                "INSERT INTO sessions (session_hash, user_id, csrf, expires) VALUES (?, ?, ?, ?)",
                (session_hash, user, csrf, now + ttl),
            )

        await self._db.run(start, True)

    async def get_session(self, session_hash: str) -> Session | None:
        row = await self._db.run(
            lambda db: db.execute(
                "SELECT user_id, csrf FROM sessions WHERE session_hash = ? AND expires > ?",
                (session_hash, time.time()),
            ).fetchone()
        )
        return None if row is None else Session(row[0], row[1])

    async def end_session(self, session_hash: str) -> None:
        await self._db.run(
            lambda db: db.execute("DELETE FROM sessions WHERE session_hash = ?", (session_hash,)),
            True,
        )

    async def set_disabled(self, user: str, disabled: bool) -> bool:
        def change(db: sqlite3.Connection) -> bool:
            if db.execute("SELECT 1 FROM accounts WHERE user_id = ?", (user,)).fetchone() is None:
                return False
            if disabled:
                db.execute("INSERT OR IGNORE INTO disabled_accounts VALUES (?)", (user,))
                db.execute("DELETE FROM sessions WHERE user_id = ?", (user,))
            else:
                db.execute("DELETE FROM disabled_accounts WHERE user_id = ?", (user,))
            return True

        return await self._db.run(change, True)

    async def put_flash(self, session_hash: str, text: str, ttl: float) -> None:
        def put(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute("DELETE FROM session_flashes WHERE expires <= ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO session_flashes VALUES (?, ?, ?)",
                (session_hash, text, now + ttl),
            )

        await self._db.run(put, True)

    async def take_flash(self, session_hash: str) -> str | None:
        def take(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "DELETE FROM session_flashes WHERE session_hash = ? RETURNING text, expires",
                (session_hash,),
            ).fetchone()
            return str(row[0]) if row is not None and row[1] > time.time() else None

        return await self._db.run(take, True)

"""One SQLite file shared by every aggregate: safe with several worker processes (WAL,
immediate transactions, durable commits); each call runs on the database's own thread so the
event loop never waits."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ogmint.state.base import StateUnavailable

T = TypeVar("T")


class Database:
    """The connection; ``schemas`` (one per aggregate) are created when it opens."""

    def __init__(self, path: Path, schemas: Sequence[str], migrations: Sequence[str] = ()) -> None:
        self._path = path
        self._schema = "\n".join(schemas)
        self._migrations = migrations
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        #: The connection's ``synchronous`` setting now (FULL once open): a call switches it only
        #: when its commit needs the other, so runs of counter updates cost no PRAGMA each.
        self._durable = True
        # One thread: the lock serialises every call on the connection anyway.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def open(self) -> None:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # 0600 before SQLite creates it (its -wal and -shm files copy these permissions): it
        # holds webhook secrets.
        os.close(os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        os.chmod(self._path, 0o600)
        conn = sqlite3.connect(
            self._path, timeout=5.0, isolation_level=None, check_same_thread=False
        )
        # Several workers open a new database at once: switching it to WAL and creating the
        # schema can meet "database is locked" without SQLite's busy handler, so retry.
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.executescript(self._schema)
                self._migrate(conn)
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    conn.close()
                    raise StateUnavailable(f"cannot open {self._path}: {e}") from e
                await asyncio.sleep(0.05)
        self._conn = conn
        self._durable = True

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Applies each migration not applied yet (a column that exists is one that was)."""
        for statement in self._migrations:
            try:
                conn.execute(statement)
            except sqlite3.OperationalError as e:
                if "duplicate column" not in str(e):
                    raise

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def ping(self) -> None:
        await self.run(lambda db: db.execute("SELECT 1").fetchone())

    async def run(
        self, fn: Callable[[sqlite3.Connection], T], write: bool = False, *, durable: bool = True
    ) -> T:
        """Runs ``fn`` on the database's own thread; ``write`` = in one immediate transaction.

        Commits are durable (``synchronous=FULL``: in WAL mode, NORMAL may lose the last
        commits on power loss, and a 201 promises the render is recorded). ``durable=False`` is
        for counters, whose last increments may be lost without breaking a promise.
        """

        def transaction(db: sqlite3.Connection) -> T:
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

        def call() -> T:
            with self._lock:
                if self._conn is None:
                    raise StateUnavailable("state store is not open")
                db = self._conn
                if write and durable != self._durable:  # only outside a transaction
                    db.execute("PRAGMA synchronous=" + ("FULL" if durable else "NORMAL"))
                    self._durable = durable
                return transaction(db)

        try:
            # A thread of its own: a busy shared executor must not delay state calls.
            return await asyncio.get_running_loop().run_in_executor(self._pool, call)
        except sqlite3.OperationalError as e:  # locked for longer than the busy timeout, disk…
            raise StateUnavailable(str(e)) from e

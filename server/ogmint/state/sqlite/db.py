"""One SQLite file shared by every aggregate: safe with several worker processes (WAL,
immediate transactions); each call runs in a thread so the event loop never waits."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from ogmint.state.base import StateUnavailable

T = TypeVar("T")


class Database:
    """The connection; ``schemas`` (one per aggregate) are created when it opens."""

    def __init__(self, path: Path, schemas: Sequence[str]) -> None:
        self._path = path
        self._schema = "\n".join(schemas)
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
                conn.executescript(self._schema)
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

    async def ping(self) -> None:
        await self.run(lambda db: db.execute("SELECT 1").fetchone())

    async def run(self, fn: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        """Runs ``fn`` in a thread; ``write`` = in one immediate transaction."""

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


def iso(ts: float) -> str:
    """Unix time as UTC ISO-8601 with milliseconds."""
    stamp = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")

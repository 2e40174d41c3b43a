"""What only the embedded SQLite backend promises: acknowledged writes survive power loss."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contract.records import check_template_from_before_sizes, delivery, record
from ogmint.state.sqlite import sqlite_state
from ogmint.state.sqlite.db import Database
from ogmint.state.store import State

pytestmark = pytest.mark.asyncio(loop_scope="session")

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL


@pytest.fixture
async def state(tmp_path: Path) -> AsyncIterator[State]:
    s = sqlite_state(tmp_path / "state.db")
    await s.open()
    yield s
    await s.close()


def traced(state: State) -> list[str]:
    """The statements the backend's connection runs from now on."""
    db = state.backend
    assert isinstance(db, Database)
    statements: list[str] = []
    assert db._conn is not None
    db._conn.set_trace_callback(statements.append)
    return statements


async def synchronous(state: State) -> int:
    db = state.backend
    assert isinstance(db, Database)
    return int(await db.run(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]))


async def test_acknowledging_commits_run_at_synchronous_full(state: State) -> None:
    assert await synchronous(state) == FULL
    statements = traced(state)
    assert await state.atomic.save_render(record("slugDURA"), delivery("slugDURA"))
    await state.deliveries.redeliver(delivery("slugDURA").id)
    assert "BEGIN IMMEDIATE" in statements and "COMMIT" in statements
    assert not [s for s in statements if "synchronous" in s.lower()]


def modes_at_commits(statements: list[str]) -> list[str]:
    """The ``synchronous`` setting in force at each COMMIT (FULL since the connection opened)."""
    mode, modes = "FULL", []
    for s in statements:
        if s.startswith("PRAGMA synchronous="):
            mode = s.partition("=")[2]
        elif s == "COMMIT":
            modes.append(mode)
    return modes


async def test_counters_commit_at_normal_and_acknowledged_writes_at_full(state: State) -> None:
    statements = traced(state)
    await state.limits.consume_daily("ip:192.0.2.1", 10)
    await state.limits.take_token("alice", 5.0, 5)
    assert await state.atomic.save_render(record("slugMIXD"), delivery("slugMIXD"))
    await state.limits.consume_daily("ip:192.0.2.1", 10)
    await state.deliveries.redeliver(delivery("slugMIXD").id)
    assert modes_at_commits(statements) == ["NORMAL", "NORMAL", "FULL", "NORMAL", "FULL"]
    # The setting changes only where the next commit needs the other one: a run of counter
    # updates costs no PRAGMA each.
    pragmas = [s for s in statements if "synchronous" in s.lower()]
    assert pragmas == ["PRAGMA synchronous=" + m for m in ("NORMAL", "FULL", "NORMAL", "FULL")]
    assert await synchronous(state) == FULL


async def test_a_file_from_before_listing_gains_the_columns_and_owners(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE users (user_id TEXT PRIMARY KEY, plan TEXT NOT NULL DEFAULT 'free');
        CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
        CREATE TABLE renders (slug TEXT PRIMARY KEY, user_id TEXT NOT NULL,
            dedup_key TEXT NOT NULL, storage_key TEXT NOT NULL, etag TEXT NOT NULL,
            size INTEGER NOT NULL, template TEXT NOT NULL, created_at TEXT NOT NULL,
            UNIQUE (user_id, dedup_key));
        INSERT INTO users VALUES ('alice-user', 'free');
        INSERT INTO api_keys VALUES ('k1', 'h1', 'alice-user', 0, '2026-11-01T00:00:00.000Z');
        INSERT INTO renders VALUES ('slugAAAA', 'k1', 'd1', 'images/a.png', 'e', 10, 'blog',
            '2026-11-05T10:20:30.456Z');
        INSERT INTO renders VALUES ('slugBBBB', 'gone', 'd2', 'images/b.png', 'e', 10, 'blog',
            '2026-11-05T10:20:31.456Z');
        """
    )
    old.commit()
    old.close()
    state = sqlite_state(path)
    await state.open()
    try:
        (listed,) = await state.renders.list_renders("alice-user", 10)
        assert (listed.slug, listed.owner, listed.format, listed.width) == (
            "slugAAAA",
            "alice-user",
            "png",
            1200,
        )
        orphan = await state.renders.get_render("slugBBBB")  # its key is gone: no owner
        assert orphan is not None and orphan.owner == ""
        assert await state.atomic.delete_render("alice-user", "slugAAAA") is not None
    finally:
        await state.close()
    again = sqlite_state(path)  # opening again changes nothing
    await again.open()
    await again.close()


async def test_a_file_from_before_template_sizes_reads_them_as_none(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE templates (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,
            version TEXT NOT NULL, fields TEXT NOT NULL, source TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        INSERT INTO templates VALUES ('custom_a', 'alice', 'Old', 'v1', '[]', '<svg/>',
            '2026-11-05T10:20:30.456Z', '2026-11-05T10:20:30.456Z');
        """
    )
    old.commit()
    old.close()
    state = sqlite_state(path)
    await state.open()
    try:
        await check_template_from_before_sizes(state)
    finally:
        await state.close()

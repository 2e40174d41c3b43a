"""What only the embedded SQLite backend promises: acknowledged writes survive power loss."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contract.records import delivery, record
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


async def test_counters_commit_at_normal_and_restore_full(state: State) -> None:
    statements = traced(state)
    await state.limits.consume_daily("ip:192.0.2.1", 10)
    await state.limits.refund_daily("ip:192.0.2.1")
    await state.limits.take_token("alice", 5.0, 5)
    pragmas = [s for s in statements if "synchronous" in s.lower()]
    assert pragmas == ["PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"] * 3
    assert await synchronous(state) == FULL

"""The ``state`` fixture: every state contract test runs against embedded SQLite, real Redis, and
a Sentinel-managed primary whose writes wait for its replica."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends import RedisServer, SentinelGroup
from ogmint.state.redis import redis_state
from ogmint.state.sqlite import sqlite_state
from ogmint.state.store import State


@pytest.fixture(params=["sqlite", "redis", "sentinel"])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[State]:
    """An open, empty state of each kind (Redis tests get a fresh prefix on the shared server)."""
    if request.param == "sqlite":
        s = sqlite_state(tmp_path / "state.db")
    elif request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        s = redis_state(server.url, prefix=f"t{uuid.uuid4().hex}:")
    else:
        group: SentinelGroup = request.getfixturevalue("shared_sentinel_group")
        s = redis_state(group.url, prefix=f"t{uuid.uuid4().hex}:", replicas=1)
    await s.open()
    yield s
    await s.close()

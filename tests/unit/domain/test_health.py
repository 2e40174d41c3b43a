"""Readiness: 503 once the state store stops answering."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogmint.domain.health import Health
from ogmint.errors import UnavailableError
from ogmint.state.sqlite import sqlite_state


async def test_ready_while_the_state_answers(tmp_path: Path) -> None:
    state = sqlite_state(tmp_path / "state.db")
    await state.open()
    health = Health(state)
    await health.check()
    await state.close()
    with pytest.raises(UnavailableError):
        await health.check()

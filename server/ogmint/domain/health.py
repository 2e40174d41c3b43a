"""Readiness: whether this server can reach what it depends on."""

from __future__ import annotations

from ogmint.errors import UnavailableError
from ogmint.state.store import State


class Health:
    """Checks the shared state for ``/readyz``."""

    def __init__(self, state: State) -> None:
        self._state = state

    async def check(self) -> None:
        """Returns when the state store answers; 503 otherwise."""
        try:
            await self._state.ping()
        except Exception as e:
            raise UnavailableError("State store is unreachable", retry_after=2) from e

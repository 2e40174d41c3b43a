"""The keys & plans aggregate: users, their plan, and their API keys (stored hashed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A stored API key (only its hash is kept) with its user's current plan."""

    key_id: str
    key_hash: str
    user: str
    plan: str
    revoked: bool
    created_at: str


class KeyStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time."""

    async def create_key(
        self,
        user: str,
        key_id: str,
        key_hash: str,
        plan: str | None,
        max_active: int | None = None,
    ) -> bool:
        """Stores a key for ``user`` (created with plan ``free`` if new; ``plan`` sets it).

        Atomically refused (False, nothing changed) when the user already has ``max_active``
        unrevoked keys; concurrent creations never pass the bound."""

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The key record for a key hash, if it exists (revoked ones included)."""

    async def list_keys(self, user: str | None = None) -> list[ApiKeyRecord]:
        """All keys, or one user's, oldest first."""

    async def revoke_key(self, key_id: str) -> bool:
        """Revokes a key; False if there is no such key."""

    async def set_plan(self, user: str, plan: str) -> bool:
        """Changes a user's plan; False if there is no such user."""

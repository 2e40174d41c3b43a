"""The signing keys aggregate (SPEC §2.1): per-user keys that sign V1 URLs.

Unlike API keys, the secret itself is stored: the server needs it to check signatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A stored signing key, with its user's current plan (a signed URL counts for that user)."""

    kid: str
    user: str
    plan: str
    secret: str
    revoked: bool
    created_at: str  # UTC ISO-8601 with milliseconds

    def __repr__(self) -> str:  # never log the secret
        return f"SigningKeyRecord(kid={self.kid!r}, user={self.user!r}, revoked={self.revoked})"


class SigningKeyStore(Protocol):
    """Every method raises StateUnavailable when the backend cannot be reached in time."""

    async def create_signing_key(self, user: str, kid: str, secret: str) -> str | None:
        """Stores a key for an existing ``user``; its ``createdAt``, or None if no such user."""

    async def find_signing_key(self, kid: str) -> SigningKeyRecord | None:
        """The key with this id, if it exists (revoked ones included)."""

    async def list_signing_keys(self, user: str) -> list[SigningKeyRecord]:
        """The user's active (not revoked) keys, oldest first."""

    async def revoke_signing_key(self, user: str, kid: str) -> bool:
        """Revokes one of ``user``'s active keys; False if it is not one."""

"""The accounts aggregate: dashboard sign-in accounts, their one-time links and sessions.

An account belongs to a user (the same name that owns keys, quotas and templates). Secrets are
never stored as given: passwords as KDF hashes, link and session tokens as SHA-256 digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class AccountExists(ValueError):
    """The user already has an account, or another account has this e-mail address."""


@dataclass(frozen=True, slots=True)
class Account:
    """A user's dashboard account."""

    user: str
    email: str  # lower-cased
    password_hash: str  # "" until the invite link has been used
    admin: bool
    created_at: str  # UTC ISO-8601 with milliseconds
    disabled: bool = False  # an operator switched the user off: no sign-in, keys refused


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the cookie holds the token, the store its digest."""

    user: str
    csrf: str  # the token every form POST of this session must carry


class AccountStore(Protocol):
    """Accounts, one-time links and sessions. Implementations: SQLite and Redis.

    Every method raises ``StateUnavailable`` when the backend cannot be reached in time.
    """

    async def create_account(self, user: str, email: str, admin: bool) -> Account:
        """A new account without a password; AccountExists if the user or e-mail is taken."""

    async def get_account(self, user: str) -> Account | None:
        """The user's account, if any."""

    async def find_account(self, email: str) -> Account | None:
        """The account with this (lower-cased) e-mail address, if any."""

    async def list_accounts(self) -> list[Account]:
        """Every account, oldest first."""

    async def set_link(self, user: str, link_hash: str, ttl: float) -> bool:
        """Stores the user's one-time link for ``ttl`` seconds, replacing any earlier one;
        False when the user has no account."""

    async def link_user(self, link_hash: str) -> str | None:
        """The user a valid (unused, unexpired) link belongs to."""

    async def use_link(self, link_hash: str, password_hash: str) -> str | None:
        """Atomically: if the link is valid, sets the password, uses up the link and ends every
        session of its user. The user, or None for an invalid link (nothing changed)."""

    async def set_password(self, user: str, password_hash: str, keep: str) -> None:
        """Sets the password and ends every session of the user but ``keep`` (a digest)."""

    async def start_session(self, session_hash: str, user: str, csrf: str, ttl: float) -> None:
        """Records a new session for ``ttl`` seconds."""

    async def get_session(self, session_hash: str) -> Session | None:
        """The live session with this digest, if any."""

    async def end_session(self, session_hash: str) -> None:
        """Ends one session (signing out); unknown digests are ignored."""

    async def set_disabled(self, user: str, disabled: bool) -> bool:
        """Disables (ending every session of the user) or enables the account; False when the
        user has no account."""

    async def put_flash(self, session_hash: str, text: str, ttl: float) -> None:
        """Keeps ``text`` for the session's next page, for at most ``ttl`` seconds (a newer
        flash replaces it)."""

    async def take_flash(self, session_hash: str) -> str | None:
        """The session's flash, removed as it is read: it is shown at most once."""

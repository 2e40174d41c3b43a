"""Dashboard accounts: passwords, one-time invite / reset links, sessions, sign-in limits.

Passwords are hashed with Argon2id at OWASP's baseline (19 MiB, 2 passes, 1 lane: ~0.1 s
here) in a thread, so the event loop keeps serving. Link and session tokens are 256-bit random; only their SHA-256
digests are stored, so a copy of the state cannot be used to sign in.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ogmint.domain.limits import password_budget, sign_in_budgets
from ogmint.errors import FieldError, ValidationError
from ogmint.state.accounts import Account as Account
from ogmint.state.accounts import AccountStore
from ogmint.state.accounts import Session as Session
from ogmint.state.limits import LimitStore

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # a bound on KDF input; Argon2 itself takes any length
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}")


def digest(token: str) -> str:
    """The stored form of a link or session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _keystream(token: str, nonce: bytes, n: int) -> bytes:
    # SHAKE-256 as a stream cipher, keyed by the session token itself: the stored digest of
    # the token (sha256 of it alone) does not give the key.
    return hashlib.shake_256(b"ogmint-flash\0" + token.encode() + nonce).digest(n)


def seal(token: str, text: str) -> str:
    """``text`` encrypted for the session ``token`` (a fresh nonce each time)."""
    data = text.encode()
    nonce = secrets.token_bytes(16)
    sealed = bytes(a ^ b for a, b in zip(data, _keystream(token, nonce, len(data)), strict=True))
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str, sealed: str) -> str | None:
    """What :func:`seal` sealed for ``token``; None if it is not that."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except ValueError:
        return None
    nonce, data = raw[:16], raw[16:]
    plain = bytes(a ^ b for a, b in zip(data, _keystream(token, nonce, len(data)), strict=True))
    return plain.decode(errors="replace")


def normal_email(email: str) -> str:
    return email.strip().lower()


class SignInFailed(ValidationError):
    """Wrong e-mail or password: one message for both, so accounts cannot be discovered."""

    status = 401
    code = "sign_in_failed"
    default_message = "Email or password is incorrect"


def password_problem(password: str) -> str | None:
    """Why a new password is refused, if it is."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    return None


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Attempts allowed per 15 minutes: sign-ins per e-mail address from one client IP and
    per client IP; password changes per user (each checks the current password)."""

    per_account: int
    per_ip: int
    password_changes: int = 5


class Accounts:
    """The account operations the CLI and the dashboard share."""

    def __init__(
        self,
        store: AccountStore,
        limits_state: LimitStore,
        *,
        link_ttl: float,
        session_ttl: float,
        sign_in: SignInLimits,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._limits = limits_state
        self._link_ttl = link_ttl
        self.session_ttl = session_ttl
        self._sign_in = sign_in
        self._hasher = hasher or PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

    async def account(self, user: str) -> Account | None:
        """The user's account, if there is one."""
        return await self._store.get_account(user)

    async def accounts(self) -> list[Account]:
        """Every account (the admin's list)."""
        return await self._store.list_accounts()

    @cached_property
    def _decoy(self) -> str:
        """A hash verified when there is no password to check, so both cases take as long."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, stored: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._decoy, password) and bool(stored)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)

    # -- operator (CLI) -------------------------------------------------------------------------
    async def create(self, user: str, email: str, *, admin: bool) -> str:
        """Creates an account and returns its invite token (AccountExists, ValueError)."""
        if not USER_NAME.fullmatch(user):
            raise ValueError("user names are 1-64 of A-Z a-z 0-9 _ . - (starting alphanumeric)")
        email = normal_email(email)
        if not EMAIL.fullmatch(email):
            raise ValueError(f"not an e-mail address: {email!r}")
        await self._store.create_account(user, email, admin)
        token = await self.new_link(user)
        assert token is not None
        return token

    async def set_disabled(self, user: str, disabled: bool) -> bool:
        """Disables (ending every session) or enables an account; False if there is none."""
        return await self._store.set_disabled(user, disabled)

    async def new_link(self, user: str) -> str | None:
        """A fresh one-time link token for the user (replacing older ones); None if no account."""
        token = secrets.token_urlsafe(32)
        return token if await self._store.set_link(user, digest(token), self._link_ttl) else None

    # -- browser --------------------------------------------------------------------------------
    async def link_user(self, token: str) -> str | None:
        return await self._store.link_user(digest(token))

    async def use_link(self, token: str, password: str) -> str | None:
        """Sets the password through a link (ending every session); the user, or None."""
        problem = password_problem(password)
        if problem:
            raise ValidationError("New password " + problem, [FieldError("password", problem)])
        if await self.link_user(token) is None:
            return None  # spares the KDF for dead links
        return await self._store.use_link(digest(token), await self._hash(password))

    async def sign_in(self, email: str, password: str, client: str) -> tuple[str, Session]:
        """A new session token, after checking the limits and the password (SignInFailed).

        ``client`` is the caller's rate-limit subject (its IP, or the /64 of an IPv6 one)."""
        email = normal_email(email)
        pair, address = sign_in_budgets(self._sign_in.per_account, self._sign_in.per_ip)
        await pair.spend(self._limits, f"{client}/{digest(email)}")
        await address.spend(self._limits, client)
        account = await self._store.find_account(email) if len(password) <= MAX_PASSWORD else None
        stored = account.password_hash if account else ""
        if not await self._verify(stored, password[:MAX_PASSWORD]) or account is None:
            raise SignInFailed()
        if account.disabled:  # told apart only after the right password: nothing to probe
            raise SignInFailed("This account is disabled; ask your operator")
        return await self.start_session(account.user)

    async def start_session(self, user: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(24))
        await self._store.start_session(digest(token), user, session.csrf, self.session_ttl)
        return token, session

    async def session(self, token: str) -> Session | None:
        return await self._store.get_session(digest(token))

    async def put_flash(self, token: str, text: str, ttl: float = 300) -> None:
        """A message (a secret shown once included) for the session's next page, kept
        encrypted with a key only the browser's cookie gives (the store has its digest)."""
        await self._store.put_flash(digest(token), seal(token, text), ttl)

    async def take_flash(self, token: str) -> str | None:
        """The session's message, removed as it is read."""
        sealed = await self._store.take_flash(digest(token))
        return None if sealed is None else unseal(token, sealed)

    async def sign_out(self, token: str) -> None:
        await self._store.end_session(digest(token))

    async def change_password(self, account: Account, current: str, new: str, token: str) -> None:
        """Changes the password (the current one must be right, within the user's attempt
        budget: 429 past it) and ends the other sessions."""
        await password_budget(self._sign_in.password_changes).spend(self._limits, account.user)
        if not await self._verify(account.password_hash, current[:MAX_PASSWORD]):
            raise ValidationError(
                "Current password is incorrect", [FieldError("current", "is incorrect")]
            )
        problem = password_problem(new)
        if problem:
            raise ValidationError("New password " + problem, [FieldError("password", problem)])
        await self._store.set_password(account.user, await self._hash(new), keep=digest(token))

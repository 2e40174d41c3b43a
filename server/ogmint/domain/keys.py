"""API keys: their material (generated, stored hashed), look-ups remembered per worker, and the
operations on them that the API, the dashboard and the CLI share (plans included)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ogmint.cache import Remembered
from ogmint.domain.plans import Plans
from ogmint.errors import NotFoundError, TooManyError, UnauthorizedError
from ogmint.ids import new_id, random_base62
from ogmint.state.keys import ApiKeyRecord as ApiKeyRecord
from ogmint.state.keys import KeyStore

KEY_PREFIX = "ogm_live_"
KEY_LENGTH = 40
_KEY_FORMAT = re.compile(rf"{KEY_PREFIX}[0-9A-Za-z]{{{KEY_LENGTH}}}")
#: Key look-ups remembered per worker.
CACHED_KEYS = 10_000
#: Unrevoked keys one user may have unless the operator says otherwise.
MAX_ACTIVE_KEYS = 20


def new_key() -> tuple[str, str]:
    """A new (key_id, secret key). Only the key's hash is ever stored."""
    return new_id("key_", 12), KEY_PREFIX + random_base62(KEY_LENGTH)


def is_key_shaped(key: str) -> bool:
    """Whether ``key`` has the form of a key :func:`new_key` makes (nothing else can match)."""
    return _KEY_FORMAT.fullmatch(key) is not None


def hash_key(key: str) -> str:
    """The stored form of an API key: SHA-256 hex (keys are 238-bit random, so no KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: the secret ``key`` is shown once and never stored."""

    key_id: str
    key: str
    plan: str


class ApiKeys:
    """Users' API keys and plans.

    Every keyed request needs its key's user and plan; look-ups are remembered for ``ttl``
    seconds per worker, saving a state round trip on most of them. Revocations and plan
    changes take effect within ``ttl`` (at once in the worker that revoked).
    """

    def __init__(
        self, store: KeyStore, plans: Plans, ttl: float, max_active: int = MAX_ACTIVE_KEYS
    ) -> None:
        self._store = store
        self._plans = plans
        self._max_active = max_active
        self._find = Remembered(store.find_key, ttl, CACHED_KEYS)

    @property
    def plans(self) -> Plans:
        return self._plans

    async def authenticate_sent(self, sent: Sequence[str]) -> ApiKeyRecord | None:
        """As :meth:`authenticate`, for every ``x-api-key`` header a request carried: two
        different keys are a 401, never one picked silently (a proxy in front may have checked
        the other)."""
        if len({value.strip() for value in sent}) > 1:
            raise UnauthorizedError("Send one x-api-key header, not several")
        return await self.authenticate(sent[0] if sent else None)

    async def authenticate(self, key: str | None) -> ApiKeyRecord | None:
        """The record of the key a caller sent; None when none was sent; 401 for an unknown or
        revoked key (never silently anonymous)."""
        if key is None:
            return None
        key = key.strip()
        # Anything not shaped like a key (bytes that are not UTF-8 included) is refused before
        # hashing: no lookup for garbage.
        record = await self._find(hash_key(key)) if is_key_shaped(key) else None
        if record is None or record.revoked:
            raise UnauthorizedError("Invalid API key")
        return record

    async def create(self, user: str, plan: str | None = None) -> NewKey:
        """A new key for ``user`` (a new user starts on ``free``; ``plan`` sets the plan),
        unless the user already has ``max_active`` unrevoked keys (409, nothing changed; the
        check is atomic with the creation, so concurrent ones cannot pass it)."""
        if plan is not None:
            self._plans.check(plan)
        key_id, key = new_key()
        if not await self._store.create_key(user, key_id, hash_key(key), plan, self._max_active):
            raise TooManyError(
                f"At most {self._max_active} active API keys per user; revoke one first"
            )
        record = await self._store.find_key(hash_key(key))
        return NewKey(key_id, key, record.plan if record else plan or "free")

    async def listed(self, user: str | None = None) -> list[ApiKeyRecord]:
        """Every key, or one user's, revoked ones included, oldest first."""
        return await self._store.list_keys(user)

    async def active(self, user: str) -> list[ApiKeyRecord]:
        """The user's keys that are not revoked, oldest first."""
        return [k for k in await self._store.list_keys(user) if not k.revoked]

    async def key_ids(self, user: str) -> set[str]:
        """The ids of every key the user has had (renders are recorded per key)."""
        return {k.key_id for k in await self._store.list_keys(user)}

    async def revoke(self, key_id: str) -> bool:
        """Revokes any key (the operator's command); False if there is no such key."""
        return await self._store.revoke_key(key_id)

    async def revoke_own(self, user: str, key_id: str) -> None:
        """Revokes one of ``user``'s active keys (404 for anyone else's)."""
        mine = {k.key_id: k for k in await self.active(user)}
        if key_id not in mine:
            raise NotFoundError("No such key")
        await self._store.revoke_key(key_id)
        self._find.forget(mine[key_id].key_hash)

    async def revoke_all(self, user: str) -> int:
        """Revokes every active key of ``user`` (forgotten at once in this worker); how many."""
        revoked = 0
        for key in await self.active(user):
            revoked += await self._store.revoke_key(key.key_id)
            self._find.forget(key.key_hash)
        return revoked

    async def plan_of(self, user: str) -> str:
        """The user's plan (users without a key yet are on ``free``)."""
        keys = await self._store.list_keys(user)
        return keys[0].plan if keys else "free"

    async def quota_of(self, user: str) -> tuple[str, int]:
        """The user's plan and its monthly quota."""
        plan = await self.plan_of(user)
        return plan, self._plans.quota(plan)

    async def set_plan(self, user: str, plan: str) -> bool:
        """Moves ``user`` to ``plan`` (400 for an unknown plan); False if there is no such user."""
        self._plans.check(plan)
        return await self._store.set_plan(user, plan)

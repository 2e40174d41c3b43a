"""Signing keys for V1 URLs (SPEC §2.1): per-user keys, at most ``MAX_ACTIVE_KEYS`` active for
every caller (API, dashboard, CLI), look-ups remembered per worker, and signatures checked."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ogmint.cache import Remembered
from ogmint.errors import NotFoundError, SignatureInvalidError, TooManyError, ValidationError
from ogmint.signed_urls import (
    SIGNATURE_PARAMS,
    canonical_query,
    decode_query,
    new_signing_key,
    parse_signed,
    signature,
)
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.signing_keys import SigningKeyRecord, SigningKeyStore

#: Active signing keys per user: enough for rotation and one per site, bounded against abuse.
MAX_ACTIVE_KEYS = 20
#: Signing key look-ups remembered per worker.
CACHED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A V1 request with a valid signature: it acts for the key's user like an API key."""

    key: ApiKeyRecord  # the key's user and plan, as the limits and templates expect them
    params: dict[str, str]  # the render parameters (kid, exp and sig removed)
    max_age: int  # how long the answer may be cached (never past ``exp``)
    canonical: str | None  # the canonical query when the request spelled it otherwise


@dataclass(frozen=True, slots=True)
class NewSigningKey:
    """A key just made: the secret is shown once (the server keeps it to check signatures)."""

    kid: str
    secret: str
    created_at: str


class SigningKeys:
    """Users' signing keys.

    Like API keys, look-ups are remembered for ``ttl`` seconds per worker, so a revocation
    applies within ``ttl`` everywhere (at once in the worker that revoked it).
    """

    def __init__(self, store: SigningKeyStore, ttl: float) -> None:
        self._store = store
        self._find = Remembered(store.find_signing_key, ttl, CACHED_KEYS)

    async def check(self, query: str, longest_max_age: int) -> SignedRequest | None:
        """None for an unsigned query; the verified request; else 400 (repeated parameter,
        bad ``exp``) or 403 ``invalid_signature`` / ``signature_expired``."""
        signed = parse_signed(query)
        if signed is None:
            return None
        record = await self._find(signed.kid)
        if record is None or record.revoked:
            raise SignatureInvalidError()
        now = time.time()
        form = signed.verify(record.secret, now)
        key = ApiKeyRecord(
            key_id=record.kid,
            key_hash="",  # a signing key is no API key: there is no hash to look it up by
            user=record.user,
            plan=record.plan,
            revoked=False,
            created_at=record.created_at,
        )
        # Only the canonical spelling is served; others are redirected to it (SPEC §2.1).
        canonical = signed.served_spelling(query, form)
        return SignedRequest(key, signed.params, signed.max_age(now, longest_max_age), canonical)

    async def create(self, user: str) -> NewSigningKey | None:
        """A new key for ``user`` (409 past the cap); None if there is no
        such user (one is made with its first API key)."""
        if len(await self._store.list_signing_keys(user)) >= MAX_ACTIVE_KEYS:
            raise TooManyError(f"At most {MAX_ACTIVE_KEYS} active signing keys; revoke one first")
        kid, secret = new_signing_key()
        created_at = await self._store.create_signing_key(user, kid, secret)
        return None if created_at is None else NewSigningKey(kid, secret, created_at)

    async def listed(self, user: str) -> list[SigningKeyRecord]:
        """The user's active keys, oldest first."""
        return await self._store.list_signing_keys(user)

    async def revoke(self, user: str, kid: str) -> bool:
        """Revokes one of ``user``'s active keys; False if it is not one."""
        if not await self._store.revoke_signing_key(user, kid):
            return False
        self._find.forget(kid)
        return True

    async def sign(self, kid: str, query: str, expires_in: int | None = None) -> str:
        """``query`` (render parameters) as a signed V1 query, ``sig`` last: 404 for an unknown
        or revoked key, 400 for a query that names kid, exp or sig or cannot be signed."""
        record = await self._store.find_signing_key(kid)
        if record is None or record.revoked:
            raise NotFoundError(f"no active signing key {kid}")
        pairs = decode_query(query.removeprefix("?"))
        if any(name.decode(errors="replace") in SIGNATURE_PARAMS for name, _ in pairs):
            raise ValidationError("kid, exp and sig are added by sign-url; leave them out")
        pairs.append((b"kid", record.kid.encode()))
        if expires_in is not None:
            pairs.append((b"exp", str(int(time.time()) + expires_in).encode()))
        canonical = canonical_query(pairs)
        return f"{canonical}&sig={signature(record.secret, canonical)}"

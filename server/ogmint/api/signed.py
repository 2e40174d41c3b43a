"""Signed V1 URLs at the HTTP edge: which request is signed, by which key, and checked."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sanic import Request

from ogmint.errors import SignatureInvalidError
from ogmint.signed_urls import parse_signed
from ogmint.state.keys import ApiKeyRecord
from ogmint.state.signing_keys import SigningKeyRecord, SigningKeyStore


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A V1 request with a valid signature: it acts for the key's user like an API key."""

    key: ApiKeyRecord  # the key's user and plan, as the limits and templates expect them
    params: dict[str, str]  # the render parameters (kid, exp and sig removed)
    max_age: int  # how long the answer may be cached (never past ``exp``)
    canonical: str | None  # the canonical query when the request spelled it otherwise

    @property
    def kid(self) -> str:
        return self.key.key_id


class SigningKeyDirectory:
    """Looks up signing keys, remembering answers for ``ttl`` seconds per worker.

    Like API keys: a short cache saves a state round trip on most signed requests, so a
    revocation applies within ``ttl`` everywhere (at once in the worker that revoked it).
    """

    def __init__(self, store: SigningKeyStore, ttl: float, max_entries: int = 10_000) -> None:
        self._store = store
        self._ttl = ttl
        self._max = max_entries
        self._cache: dict[str, tuple[float, SigningKeyRecord | None]] = {}

    async def find(self, kid: str) -> SigningKeyRecord | None:
        now = time.monotonic()
        hit = self._cache.get(kid)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = await self._store.find_signing_key(kid)
        if self._ttl > 0:
            if len(self._cache) >= self._max:
                self._cache.clear()  # cheap bound; entries refill within one TTL
            self._cache[kid] = (now + self._ttl, record)
        return record

    def forget(self, kid: str) -> None:
        """Drops a cached answer (this worker just revoked the key)."""
        self._cache.pop(kid, None)

    async def check(self, request: Request, longest_max_age: int) -> SignedRequest | None:
        """None for an unsigned URL; the verified request; else 400 (repeated parameter,
        bad ``exp``) or 403 ``invalid_signature`` / ``signature_expired``."""
        query = request.query_string
        signed = parse_signed(query)
        if signed is None:
            return None
        record = await self.find(signed.kid)
        if record is None or record.revoked:
            raise SignatureInvalidError()
        now = time.time()
        signed.verify(record.secret, now)
        key = ApiKeyRecord(
            key_id=record.kid,
            key_hash="",  # a signing key is no API key: there is no hash to look it up by
            user=record.user,
            plan=record.plan,
            revoked=False,
            created_at=record.created_at,
        )
        canonical = signed.canonical_spelling()
        return SignedRequest(
            key,
            signed.params,
            signed.max_age(now, longest_max_age),
            None if canonical == query else canonical,
        )

"""Who is calling: the client IP (proxy-aware) and the API key, if any."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from functools import cached_property

from sanic import Request

from ogmint.errors import UnauthorizedError
from ogmint.keys import hash_key
from ogmint.state.keys import ApiKeyRecord, KeyStore

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class TrustedProxies:
    """Peers whose ``X-Forwarded-For`` header is believed."""

    entries: tuple[str, ...]

    @cached_property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(e, strict=False) for e in self.entries)

    def trusts(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in n for n in self.networks)

    def client_ip(self, request: Request) -> str:
        """The socket peer, or — only when that peer is a trusted proxy — the right-most
        untrusted address of ``X-Forwarded-For``."""
        peer = str(request.ip)
        if not self.trusts(peer):
            return peer
        forwarded = str(request.headers.get("x-forwarded-for", ""))
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


class KeyDirectory:
    """Looks up API keys, remembering answers for ``ttl`` seconds per worker.

    Every keyed request needs its key's user and plan; a short cache saves a state round trip
    on most of them. Revocations and plan changes take effect within ``ttl``.
    """

    def __init__(self, keys: KeyStore, ttl: float, max_entries: int = 10_000) -> None:
        self._keys = keys
        self._ttl = ttl
        self._max = max_entries
        self._cache: dict[str, tuple[float, ApiKeyRecord | None]] = {}

    async def find(self, key: str) -> ApiKeyRecord | None:
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = await self._keys.find_key(digest)
        if self._ttl > 0:
            if len(self._cache) >= self._max:
                self._cache.clear()  # cheap bound; entries refill within one TTL
            self._cache[digest] = (now + self._ttl, record)
        return record

    def forget(self, key_hash: str) -> None:
        """Drops a remembered lookup (this worker then sees a revocation at once)."""
        self._cache.pop(key_hash, None)

    async def authenticate(self, request: Request) -> ApiKeyRecord | None:
        """The caller's key record; None when no key was sent; 401 for an unknown or revoked
        key (never silently anonymous)."""
        key = request.headers.get(API_KEY_HEADER)
        if key is None:
            return None
        record = await self.find(key.strip())
        if record is None or record.revoked:
            raise UnauthorizedError("Invalid API key")
        return record

"""Who is calling: the client IP (proxy-aware) and the API key, if any."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from functools import cached_property

from sanic import Request

from ogmint.errors import UnauthorizedError
from ogmint.keys import hash_key, is_key_shaped
from ogmint.state.keys import ApiKeyRecord, KeyStore

API_KEY_HEADER = "x-api-key"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: One IPv6 site gets a /64 (RFC 6177): limiting single addresses would hand it 2^64 allowances.
_V6_PREFIX_MASK = ((1 << 64) - 1) << 64


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def limit_subject(ip: IPAddress) -> str:
    """What the anonymous limit counts: an IPv4 address, or the /64 of an IPv6 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return f"{ipaddress.IPv6Address(int(ip) & _V6_PREFIX_MASK)}/64"
    return str(ip)


@dataclass(frozen=True)
class TrustedProxies:
    """Peers whose ``X-Forwarded-For`` header is believed (none by default)."""

    entries: tuple[str, ...]

    @cached_property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(e, strict=False) for e in self.entries)

    def _trusts(self, ip: IPAddress) -> bool:
        return any(ip in n for n in self.networks)

    def from_proxy(self, request: Request) -> bool:
        """Whether the socket peer is a trusted proxy (so its forwarded headers count)."""
        peer = _address(str(request.ip))
        return peer is not None and self._trusts(peer)

    def client_ip(self, request: Request) -> IPAddress:
        """The socket peer, or — only when that peer is a trusted proxy — the right-most
        untrusted address of ``X-Forwarded-For``. Hops that are not IP addresses are ignored:
        each would otherwise be a fresh rate-limit subject."""
        peer = _address(str(request.ip))
        if peer is None:  # a Unix socket: no address to go by
            peer = ipaddress.IPv4Address(0)
        if not self._trusts(peer):
            return peer
        forwarded = str(request.headers.get("x-forwarded-for", ""))
        hops = [ip for h in forwarded.split(",") if (ip := _address(h.strip())) is not None]
        for hop in reversed(hops):
            if not self._trusts(hop):
                return hop
        return hops[0] if hops else peer

    def limit_subject(self, request: Request) -> str:
        """The anonymous rate-limit subject of the caller (see :func:`limit_subject`)."""
        return "ip:" + limit_subject(self.client_ip(request))


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
        key = key.strip()
        # Anything not shaped like a key (bytes that are not UTF-8 included) is refused before
        # hashing: no lookup for garbage.
        record = await self.find(key) if is_key_shaped(key) else None
        if record is None or record.revoked:
            raise UnauthorizedError("Invalid API key")
        return record

"""Who is calling: the client IP (proxy-aware) and the API key, if any."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property

from sanic import Request

from ogmint.errors import UnauthorizedError
from ogmint.keys import hash_key
from ogmint.state.base import ApiKeyRecord, StateStore

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


async def authenticate(request: Request, state: StateStore) -> ApiKeyRecord | None:
    """The caller's key record; None when no key was sent; 401 for an unknown or revoked key."""
    key = request.headers.get(API_KEY_HEADER)
    if key is None:
        return None
    record = await state.find_key(hash_key(key.strip()))
    if record is None or record.revoked:
        raise UnauthorizedError("Invalid API key")
    return record

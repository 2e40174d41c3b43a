"""Who is calling from where: the client address (believing only trusted proxies) and the
subject the per-address limits count."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property

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

    def from_proxy(self, peer: str) -> bool:
        """Whether the socket peer is a trusted proxy (so its forwarded headers count)."""
        ip = _address(peer)
        return ip is not None and self._trusts(ip)

    def client_ip(self, peer: str, forwarded: str) -> IPAddress:
        """The socket ``peer``, or — only when that peer is a trusted proxy — the right-most
        untrusted address of ``forwarded`` (``X-Forwarded-For``). Hops that are not IP
        addresses are ignored: each would otherwise be a fresh rate-limit subject."""
        ip = _address(peer)
        if ip is None:  # a Unix socket: no address to go by
            ip = ipaddress.IPv4Address(0)
        if not self._trusts(ip):
            return ip
        hops = [a for h in forwarded.split(",") if (a := _address(h.strip())) is not None]
        for hop in reversed(hops):
            if not self._trusts(hop):
                return hop
        return hops[0] if hops else ip

    def limit_subject(self, peer: str, forwarded: str) -> str:
        """The anonymous rate-limit subject of the caller (see :func:`limit_subject`)."""
        return "ip:" + limit_subject(self.client_ip(peer, forwarded))

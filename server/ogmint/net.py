"""The one guarded outbound HTTP client: HTTPS only, public addresses only, bounded.

Avatar/logo fetches and webhook deliveries all go through :class:`GuardedClient`. A request
is refused unless every address its host resolves to is a public unicast address
(:class:`AddressPolicy`), and the socket is only ever dialled to one of those vetted addresses,
so a DNS answer that changes between the check and the connect (rebinding) cannot reach an
internal service. Redirects are never followed; time and body size are bounded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass, field
from typing import Final

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_READ_CHUNK: Final = 64 * 1024
_USER_AGENT: Final = "ogmint (+https://github.com/ogmint/ogmint)"


class OutboundError(Exception):
    """An outbound request was refused or failed. ``message`` is safe to show to clients."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadURL(OutboundError):
    """The URL is malformed, has a user name/password, or has no host."""


class BadScheme(BadURL):
    """The URL is not ``https://``."""


class BlockedAddress(OutboundError, ValueError):
    """The host is, or resolves to, an address the service must not contact."""

    def __init__(self, reason: str, address: str = "") -> None:
        # The address stays out of the public message: echoing what an internal name
        # resolves to would leak the internal network layout.
        super().__init__(f"the URL points to a non-public address ({reason})")
        self.reason = reason
        self.address = address


class BlockedPort(OutboundError):
    """The URL names a port outbound requests may not use (a port scan in disguise)."""


class FetchTimeout(OutboundError):
    """No complete answer within the time limit."""


class TooLarge(OutboundError):
    """The response body exceeds the size limit."""


class ConnectionFailed(OutboundError):
    """Resolution, connection or the HTTP exchange failed."""


class TLSFailed(ConnectionFailed):
    """The TLS handshake failed, e.g. the certificate is not trusted or not for this host."""


def _networks(
    rules: tuple[tuple[str, str], ...],
) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in rules)


# Explicit, version-independent rules: `ipaddress.is_global` differs between Python releases
# and calls multicast, 6to4, NAT64 and site-local addresses global.
_V4_BLOCKED: Final = _networks(
    (
        ("0.0.0.0/8", "unspecified / this network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local / cloud metadata"),
        ("168.63.129.16/32", "cloud metadata (Azure WireServer)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved / broadcast"),
    )
)
# Order matters: the first matching rule names the reason.
_V6_BLOCKED: Final = _networks(
    (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo"),
        ("2001::/23", "IETF special-purpose"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")

_BLOCKED_NAMES: Final = frozenset({"localhost", "metadata.google.internal", "metadata"})
_BLOCKED_SUFFIXES: Final = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
# Legacy IPv4 spellings (2130706433, 0x7f000001, 0177.0.0.1, 127.1) that the C resolver turns
# into addresses; no real host name consists only of numeric labels.
_NUMERIC_NAME: Final = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address tunnels to, with the mechanism's name."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be contacted, or ``None`` for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner, how = embedded
            reason = blocked_reason(inner)
            return f"{how} {reason}" if reason else None
        rules = _V6_BLOCKED
    else:
        rules = _V4_BLOCKED
    for network, reason in rules:
        if ip in network:
            return reason
    if not ip.is_global or ip.is_multicast:
        return "not globally routable"
    return None


def _normalise_host(host: str) -> str:
    return host.rstrip(".").lower()


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class AddressPolicy:
    """Decides which hosts, addresses and ports outbound requests may reach.

    ``allow`` lists host names (matched exactly, case-insensitively) and IPs/CIDRs that are
    exempt from every check; operators use it for tests against local servers. ``ports`` are
    the only ports other hosts may be contacted on.
    """

    def __init__(self, allow: tuple[str, ...] = (), ports: tuple[int, ...] = (443,)) -> None:
        self._ports = frozenset(ports)
        hosts: set[str] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in allow:
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                hosts.add(_normalise_host(item.strip()))
        self._hosts = frozenset(hosts)
        self._networks = tuple(networks)

    def host_exempt(self, host: str) -> bool:
        """Whether ``host`` is allow-listed by name."""
        return _normalise_host(host) in self._hosts

    def _ip_exempt(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self._networks)

    def check_port(self, host: str, port: int) -> None:
        """Raises :class:`BlockedPort` unless ``port`` is allowed, or ``host`` allow-listed."""
        if port in self._ports or self.host_exempt(host):
            return
        literal = _ip_literal(_normalise_host(host))
        if literal is not None and self._ip_exempt(literal):
            return
        raise BlockedPort("the URL's port is not allowed (use the default https port)")

    def check_ip(self, ip: str | IPAddress) -> None:
        """Raises :class:`BlockedAddress` unless ``ip`` is public or allow-listed."""
        if isinstance(ip, str):
            parsed = _ip_literal(ip)
            if parsed is None:
                raise BlockedAddress("not an IP address", ip)
            ip = parsed
        if self._ip_exempt(ip):
            return
        reason = blocked_reason(ip)
        if reason is not None:
            raise BlockedAddress(reason, str(ip))

    def check_host(self, host: str) -> None:
        """Raises :class:`BlockedAddress` for internal names, numeric spellings and bad IPs.

        This only looks at the name; :meth:`resolve` also checks what it resolves to.
        """
        name = _normalise_host(host)
        if name in self._hosts:
            return
        if not name:
            raise BlockedAddress("empty host name", host)
        literal = _ip_literal(name)
        if literal is not None:
            self.check_ip(literal)
            return
        if _NUMERIC_NAME.fullmatch(name):
            raise BlockedAddress("numeric host name", host)
        if name in _BLOCKED_NAMES or name.endswith(_BLOCKED_SUFFIXES):
            raise BlockedAddress("internal host name", host)

    async def resolve(
        self, host: str, port: int, family: int = socket.AF_UNSPEC
    ) -> list[tuple[int, IPAddress]]:
        """Resolves ``host`` and returns ``(family, address)`` pairs, all of them checked.

        One blocked address refuses the whole name: a resolver answer mixing public and
        private addresses is an attack, not a misconfiguration.
        """
        exempt = self.host_exempt(host)
        if not exempt:
            self.check_host(host)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM
            )
        except UnicodeError as e:  # the IDNA codec refuses empty and over-63-character labels
            raise BadURL("the URL's host name is not valid") from e
        resolved: list[tuple[int, IPAddress]] = []
        for fam, _, _, _, sockaddr in infos:
            ip = ipaddress.ip_address(sockaddr[0])
            if not exempt:
                self.check_ip(ip)
            if (fam, ip) not in resolved:
                resolved.append((fam, ip))
        return resolved


@dataclass(frozen=True, slots=True)
class Response:
    """A complete, size-bounded HTTP response. ``headers`` keys are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes
    peer: str


@dataclass(slots=True)
class _Dial:
    """The addresses one request has vetted, and the one its socket was dialled to."""

    policy: AddressPolicy
    vetted: set[str] = field(default_factory=set)
    peer: str = ""

    def open_socket(self, info: AddrInfoType) -> socket.socket:
        # aiohttp's socket factory sees the exact address about to be dialled; refusing
        # anything not vetted here also covers paths where aiohttp bypasses the resolver.
        family, type_, proto, _, sockaddr = info
        ip = str(ipaddress.ip_address(sockaddr[0]))
        if ip not in self.vetted:
            raise BlockedAddress("address was not vetted", ip)
        self.peer = ip
        return socket.socket(family, type_, proto)

    def connected_peer(self, resp: aiohttp.ClientResponse) -> str:
        """The connected peer's address, verified again on the live transport."""
        transport = resp.connection.transport if resp.connection is not None else None
        peername = transport.get_extra_info("peername") if transport is not None else None
        if not peername:
            # Small bodies are read with the headers and the connection is already released.
            return self.peer
        ip = str(ipaddress.ip_address(peername[0]))
        if ip not in self.vetted:
            raise BlockedAddress("connected address was not vetted", ip)
        return ip


class _VettingResolver(AbstractResolver):
    """aiohttp resolver that only returns addresses the policy accepted."""

    def __init__(self, dial: _Dial) -> None:
        self._dial = dial

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = []
        for fam, ip in await self._dial.policy.resolve(host, port, family):
            self._dial.vetted.add(str(ip))
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(ip),
                    port=port,
                    family=fam,
                    proto=socket.IPPROTO_TCP,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        return results

    async def close(self) -> None:
        return None


def _tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()  # system CAs, CERT_REQUIRED, hostname checked
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def parse_target(url: str) -> URL:
    """The URL, if the client may request it at all: ``https://``, a host, no credentials."""
    try:
        target = URL(url)
        host = target.raw_host
    except (TypeError, ValueError) as e:
        raise BadURL("not a valid URL") from e
    if target.scheme != "https":
        raise BadScheme("only https:// URLs are allowed")
    if target.raw_user is not None or target.raw_password is not None:
        raise BadURL("URLs with a user name or password are not allowed")
    if not host:
        raise BadURL("the URL has no host")
    return target


async def _read_bounded(content: aiohttp.StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the response is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _lower_headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in resp.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class GuardedClient:
    """The service's only outbound HTTP client.

    Connections are never pooled: each request dials a freshly vetted address, so a kept-alive
    socket can never outlive the check that allowed it.
    """

    def __init__(self, policy: AddressPolicy, ca_file: str, timeout: float, max_bytes: int) -> None:
        self._policy = policy
        self._tls = _tls_context(ca_file)
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._closed = False

    async def close(self) -> None:
        """Refuses further requests. Nothing else to release: connections are not pooled."""
        self._closed = True

    async def get(self, url: str, *, max_bytes: int | None = None) -> Response:
        """GETs ``url``; any status (3xx included) is returned, never followed."""
        limit = self._max_bytes if max_bytes is None else max_bytes
        return await self._request("GET", url, None, {}, self._timeout, limit)

    async def post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call budget (webhooks: 10 s)
    ) -> Response:
        """POSTs ``body`` with ``headers`` to ``url``; redirects are returned, never followed."""
        limit_s = self._timeout if timeout is None else timeout
        return await self._request("POST", url, body, headers, limit_s, self._max_bytes)

    async def _request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        seconds: float,
        max_bytes: int,
    ) -> Response:
        if self._closed:
            raise ConnectionFailed("the outbound client is closed")
        target = parse_target(url)
        host = target.raw_host or ""
        self._policy.check_host(host)
        self._policy.check_port(host, target.port or 443)
        dial = _Dial(self._policy)
        literal = _ip_literal(host)
        if literal is not None:
            # aiohttp does not call the resolver for IP literals; check_host vetted it.
            dial.vetted.add(str(literal))
        try:
            async with asyncio.timeout(seconds):
                return await self._exchange(method, target, body, headers, dial, max_bytes)
        except TimeoutError as e:
            raise FetchTimeout(f"no complete answer within {seconds:g} s") from e

    async def _exchange(
        self,
        method: str,
        target: URL,
        body: bytes | None,
        headers: dict[str, str],
        dial: _Dial,
        max_bytes: int,
    ) -> Response:
        connector = aiohttp.TCPConnector(
            ssl=self._tls,
            resolver=_VettingResolver(dial),
            use_dns_cache=False,
            force_close=True,
            # Sequential dialling: a refusal in the socket factory propagates instead of
            # being swallowed by the happy-eyeballs race, and the last dial is the peer.
            happy_eyeballs_delay=None,
            socket_factory=dial.open_socket,
        )
        request_headers = {"User-Agent": _USER_AGENT, **headers}
        # Compressed bodies would defeat the byte limit, so ask for none and decode none.
        request_headers["Accept-Encoding"] = "identity"
        try:
            async with (
                aiohttp.ClientSession(
                    connector=connector,
                    trust_env=False,  # proxies from the environment would bypass the checks
                    auto_decompress=False,
                    cookie_jar=aiohttp.DummyCookieJar(),
                ) as session,
                session.request(
                    method,
                    target,
                    data=body,
                    headers=request_headers,
                    allow_redirects=False,
                ) as resp,
            ):
                peer = dial.connected_peer(resp)
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise TooLarge(f"the response is larger than {max_bytes} bytes")
                content = await _read_bounded(resp.content, max_bytes)
                return Response(resp.status, _lower_headers(resp), content, peer)
        except aiohttp.ClientConnectorCertificateError as e:
            raise TLSFailed("the server's TLS certificate is not trusted") from e
        except aiohttp.ClientSSLError as e:
            raise TLSFailed("the TLS handshake failed") from e
        except aiohttp.ClientConnectorDNSError as e:
            raise ConnectionFailed("the host name could not be resolved") from e
        except aiohttp.InvalidURL as e:
            raise BadURL("not a valid URL") from e
        except TimeoutError:
            raise
        except aiohttp.ClientConnectorError as e:
            raise ConnectionFailed("could not connect to the server") from e
        except (aiohttp.ClientError, OSError) as e:
            raise ConnectionFailed("the connection failed or the response was invalid") from e

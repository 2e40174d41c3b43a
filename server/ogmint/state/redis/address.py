"""Where the shared Redis is: one server (``redis://``, ``rediss://``, ``unix://``) or a primary
found through Redis Sentinel (``redis+sentinel://``).

The Sentinel form, parsed here because redis-py's ``from_url`` does not know it::

    redis+sentinel://[[user]:password@]host:port[,host:port…]/service_name[/db]

Every ``host:port`` is a sentinel (the port defaults to 26379); ``service_name`` is the name the
sentinels monitor (``sentinel monitor <name> …``); ``db`` defaults to 0. The user and password
are those of the Redis primary and replicas; the sentinels themselves are asked without auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
_PLAIN_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class SentinelAddress:
    """A Sentinel-managed primary: the sentinels to ask, and what to ask them for."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def parse_redis_url(url: str) -> str | SentinelAddress:
    """``url`` itself for a single server, its parts for Sentinel; ValueError naming the
    problem (never echoing a password) when it is neither."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("expected redis://…, rediss://…, unix://… or redis+sentinel://…")
    scheme = scheme.lower()
    if scheme in _PLAIN_SCHEMES:
        return url
    if scheme != SENTINEL_SCHEME:
        raise ValueError(
            f"unknown scheme {scheme!r}: expected redis, rediss, unix or redis+sentinel"
        )
    if "?" in rest or "#" in rest:
        raise ValueError("redis+sentinel:// URLs take no query or fragment")
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        hostpart = rest
    hosts, _, path = hostpart.partition("/")
    username = password = None
    if userinfo:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
        if not colon:  # ``redis://secret@host`` means a password in redis-py's URLs
            username, password = None, unquote(user)
    sentinels = tuple(_host_port(item) for item in hosts.split(","))
    parts = path.split("/") if path else []
    if not parts or not parts[0] or len(parts) > 2:
        raise ValueError("expected redis+sentinel://host:port[,host:port…]/service_name[/db]")
    db = 0
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise ValueError("the database after the service name must be a number")
        db = int(parts[1])
    return SentinelAddress(sentinels, unquote(parts[0]), db, username, password)


def _host_port(item: str) -> tuple[str, int]:
    item = item.strip()
    # A URL's host part is ASCII; IPv6 literals come in brackets.
    if item.startswith("["):
        host, bracket, port = item[1:].partition("]")
        port = port.removeprefix(":") if bracket else "?"
    else:
        host, _, port = item.partition(":")
    if not host:
        raise ValueError("every sentinel needs a host (host:port, comma-separated)")
    if not port:
        return host, SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"sentinel {item!r}: the port must be a number from 1 to 65535")
    return host, int(port)

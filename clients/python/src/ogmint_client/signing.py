"""Signed V1 image URLs (SPEC §2.1), in the canonical form the server checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from urllib.parse import quote_from_bytes, unquote_to_bytes

#: The signed request line: method and path are fixed.
MESSAGE_PREFIX = b"GET\n/api/og\n"
SIGNATURE_PARAMS = frozenset(["kid", "exp", "sig"])

#: A render parameter's value: strings, numbers and booleans are sent as text; None is left out.
ParamValue = str | int | float | bool | None
Expires = datetime | timedelta | int | None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A signing key: its public id ``sk_…`` and its secret ``ogm_sign_…``."""

    kid: str
    secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"SigningKey(kid={self.kid!r})"


def encode(raw: bytes) -> str:
    """Percent-encodes every byte except ``A–Z a–z 0–9 - . _ ~`` (upper-case hex)."""
    return quote_from_bytes(raw, safe="")


def decode_query(query: str) -> list[tuple[bytes, bytes]]:
    """A query string's pairs, percent-decoded to bytes as the server reads them: ``+`` is a
    space, a part without ``=`` has an empty value, empty parts are skipped."""
    pairs = []
    for part in query.removeprefix("?").split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append(
                (
                    unquote_to_bytes(name.replace("+", " ")),
                    unquote_to_bytes(value.replace("+", " ")),
                )
            )
    return pairs


#: Colour parameters: signed as lower-case ``rrggbb`` (``#FFF`` → ``ffffff``), as the server does.
COLOR_PARAMS = frozenset(
    [b"bgColor", b"bg", b"textColor", b"text", b"accentColor", b"accent", b"surfaceColor"]
)
_COLOR = re.compile(rb"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


def _canonical_color(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    m = _COLOR.fullmatch(value) if name in COLOR_PARAMS else None
    if m is None:
        return name, value
    digits = m.group(1).lower()
    return name, digits if len(digits) == 6 else bytes(c for c in digits for _ in range(2))


def canonical_query(pairs: Iterable[tuple[bytes, bytes]]) -> str:
    """Every pair but ``sig``, sorted by name bytes, re-encoded, joined with ``&``; colour
    parameters' values as lower-case ``rrggbb``.

    Raises ValueError for a repeated name (the server answers 400).
    """
    signed = sorted(_canonical_color(n, v) for n, v in pairs if n != b"sig")
    for (a, _), (b, _) in pairwise(signed):
        if a == b:
            raise ValueError(f"parameter {a.decode(errors='replace')!r} is repeated")
    return "&".join(encode(name) + "=" + encode(value) for name, value in signed)


def signature(secret: str, canonical: str) -> str:
    """``sig``: base64url without padding of HMAC-SHA256(secret, message)."""
    mac = hmac.new(secret.encode(), MESSAGE_PREFIX + canonical.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def _text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def param_pairs(params: Mapping[str, ParamValue] | str) -> list[tuple[bytes, bytes]]:
    """Render parameters (a mapping, or a query string like ``template=blog&title=Hi``) as
    byte pairs; None values are left out."""
    if isinstance(params, str):
        return decode_query(params)
    return [(k.encode(), _text(v).encode()) for k, v in params.items() if v is not None]


def unix_expiry(
    expires: Expires, now: float | None = None, bucket: int | timedelta | None = None
) -> int | None:
    """``exp``: a datetime (aware, or naive = UTC), a timedelta from now, or Unix seconds;
    rounded up to a multiple of ``bucket`` seconds when given, so that every URL made within
    one bucket is the same (cache-stable) and none expires earlier than asked."""
    exp = _unix_expiry(expires, now)
    if exp is None or bucket is None:
        return exp
    step = int(bucket.total_seconds()) if isinstance(bucket, timedelta) else bucket
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        raise TypeError("bucket must be a positive number of seconds or a timedelta")
    return -(-exp // step) * step


def _unix_expiry(expires: Expires, now: float | None) -> int | None:
    if expires is None:
        return None
    if isinstance(expires, timedelta):
        return int((time.time() if now is None else now) + expires.total_seconds())
    if isinstance(expires, datetime):
        if expires.tzinfo is None:
            return int(expires.replace(tzinfo=UTC).timestamp())
        return int(expires.timestamp())
    if isinstance(expires, bool) or not isinstance(expires, int) or expires < 0:
        raise TypeError("expires must be a datetime, a timedelta or Unix seconds")
    return expires


def image_url(
    base_url: str,
    params: Mapping[str, ParamValue] | str,
    signing_key: SigningKey | tuple[str, str] | None = None,
    expires: Expires = None,
    *,
    bucket: int | timedelta | None = None,
    now: float | None = None,
) -> str:
    """A V1 URL ``<base_url>/api/og?…``; signed (``kid``, ``exp``, ``sig`` last) when a key is
    given. The query is always in canonical form, so it reads the same to every cache.

    Without ``expires`` the URL has no ``exp`` and never changes. With one, ``bucket`` rounds
    ``exp`` up to a multiple of that many seconds (e.g. ``expires=timedelta(days=30),
    bucket=86400``: the same page gets the same URL all day)."""
    pairs = param_pairs(params)
    for name, _ in pairs:
        if name.decode(errors="replace") in SIGNATURE_PARAMS:
            raise ValueError(f"{name.decode()} is set by the signature, not a render parameter")
    root = base_url.rstrip("/").removesuffix("/api/og")
    if signing_key is None:
        if expires is not None or bucket is not None:
            raise ValueError("expires needs a signing_key")
        return f"{root}/api/og?{canonical_query(pairs)}"
    key = signing_key if isinstance(signing_key, SigningKey) else SigningKey(*signing_key)
    pairs.append((b"kid", key.kid.encode()))
    exp = unix_expiry(expires, now, bucket)
    if exp is not None:
        pairs.append((b"exp", str(exp).encode()))
    canonical = canonical_query(pairs)
    return f"{root}/api/og?{canonical}&sig={signature(key.secret, canonical)}"

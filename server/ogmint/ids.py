"""The one id maker: random base62 names for keys, renders, templates and deliveries."""

from __future__ import annotations

import secrets
import string

_BASE62 = string.digits + string.ascii_letters
#: Random bytes at or above this would make ``byte % 62`` favour the first characters.
_UNBIASED_BELOW = 256 - 256 % 62


def random_base62(n: int) -> str:
    """``n`` uniformly random characters of [0-9A-Za-z] from the OS CSPRNG."""
    # One CSPRNG read per call (not per character): this names every render.
    out: list[str] = []
    while len(out) < n:
        out.extend(_BASE62[b % 62] for b in secrets.token_bytes(n + 8) if b < _UNBIASED_BELOW)
    return "".join(out[:n])


def new_id(prefix: str, n: int) -> str:
    """``prefix`` followed by ``n`` random base62 characters, e.g. ``key_…`` or ``msg_…``."""
    return prefix + random_base62(n)

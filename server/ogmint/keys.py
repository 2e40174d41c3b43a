"""API key material: generation and the stored (hashed) form; issuing a user's keys."""

from __future__ import annotations

import hashlib
import re
import secrets
import string

from ogmint.errors import TooManyError
from ogmint.state.keys import KeyStore

KEY_PREFIX = "ogm_live_"
KEY_LENGTH = 40
_KEY_FORMAT = re.compile(rf"{KEY_PREFIX}[0-9A-Za-z]{{{KEY_LENGTH}}}")
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


def new_key() -> tuple[str, str]:
    """A new (key_id, secret key). Only the key's hash is ever stored."""
    return "key_" + random_base62(12), KEY_PREFIX + random_base62(KEY_LENGTH)


def is_key_shaped(key: str) -> bool:
    """Whether ``key`` has the form of a key :func:`new_key` makes (nothing else can match)."""
    return _KEY_FORMAT.fullmatch(key) is not None


def hash_key(key: str) -> str:
    """The stored form of an API key: SHA-256 hex (keys are 238-bit random, so no KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_key(
    store: KeyStore, user: str, plan: str | None, max_active: int
) -> tuple[str, str]:
    """A new key for ``user`` (key_id, secret key), unless the user already has ``max_active``
    unrevoked keys (409: the CLI and the dashboard share this bound)."""
    key_id, key = new_key()
    if not await store.create_key(user, key_id, hash_key(key), plan, max_active):
        raise TooManyError(f"At most {max_active} active API keys per user; revoke one first")
    return key_id, key

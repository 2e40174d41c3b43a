"""API key material: generation and the stored (hashed) form."""

from __future__ import annotations

import hashlib
import secrets
import string

KEY_PREFIX = "ogm_live_"
_BASE62 = string.digits + string.ascii_letters


def random_base62(n: int) -> str:
    """``n`` characters of [0-9A-Za-z] from the OS CSPRNG."""
    return "".join(secrets.choice(_BASE62) for _ in range(n))


def new_key() -> tuple[str, str]:
    """A new (key_id, secret key). Only the key's hash is ever stored."""
    return "key_" + random_base62(12), KEY_PREFIX + random_base62(40)


def hash_key(key: str) -> str:
    """The stored form of an API key: SHA-256 hex (keys are 238-bit random, so no KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()

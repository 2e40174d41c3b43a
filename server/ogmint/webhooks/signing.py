"""Delivery headers: ``x-ogmint-signature`` and the Standard Webhooks scheme (SPEC §4)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret
#: A ``whsec_`` key's size in bytes (Standard Webhooks: 24 to 64).
KEY_BYTES = range(24, 65)
MAX_SECRET = 100


def _whsec_key(secret: str) -> bytes | None:
    """The key after ``whsec_``, or None when it is not base64 of a 24-64 byte key."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if not encoded.isascii():
        return None  # b64decode raises ValueError, not binascii.Error, for non-ASCII text
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return None
    return key if len(key) in KEY_BYTES else None


def secret_problem(secret: object) -> str | None:
    """Why ``secret`` cannot be a ``webhookSecret`` (SPEC §4), or None when it can."""
    if not isinstance(secret, str) or not secret or len(secret) > MAX_SECRET:
        return f"must be a non-empty string of at most {MAX_SECRET} characters"
    if secret.startswith(SECRET_PREFIX) and _whsec_key(secret) is None:
        return "a whsec_ secret must be base64 of a 24-64 byte key after the prefix"
    return None


def ogmint_signature(secret: str, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of the exact body, keyed by the secret's UTF-8 bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks signing key: base64 after ``whsec_``, else the raw UTF-8 secret.

    Requests are refused unless a ``whsec_`` secret decodes (:func:`secret_problem`); one that
    still does not (queued before that check existed) signs like a plain secret.
    """
    if secret.startswith(SECRET_PREFIX):
        key = _whsec_key(secret)
        if key is not None:
            return key
    return secret.encode()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def delivery_headers(msg_id: str, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Headers of one attempt. ``webhook-id`` and ``-timestamp`` always (receivers dedupe on
    the id); the two signatures only when the render request gave a secret."""
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        headers["x-ogmint-signature"] = ogmint_signature(secret, body)
        headers["webhook-signature"] = standard_signature(secret, msg_id, timestamp, body)
    return headers

"""Delivery headers: ``x-ogmint-signature`` and the Standard Webhooks scheme (SPEC §4)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret


def ogmint_signature(secret: str, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of the exact body, keyed by the secret's UTF-8 bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks signing key: base64 after ``whsec_``, else the raw UTF-8 secret."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            pass  # not base64: sign with the secret as given, like a plain secret
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

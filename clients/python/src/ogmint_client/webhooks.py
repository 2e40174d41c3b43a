"""Verifying ogmint webhook deliveries (SPEC §4): both signatures and the timestamp."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from ogmint_client.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive; header names are not
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _standard_key(secret: str) -> bytes:
    """A ``whsec_`` secret is the Standard Webhooks key in base64; any other secret is its
    UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Checks a delivery and returns its parsed event, or raises WebhookVerificationError.

    ``body`` must be the raw bytes received (before any JSON parsing). Checks, all in constant
    time: ``x-ogmint-signature`` (hex HMAC-SHA256 of the body), one of the ``v1,`` signatures
    of ``webhook-signature`` (over ``id.timestamp.body``), and ``webhook-timestamp`` within
    ``tolerance`` seconds of ``now`` (so a captured delivery cannot be replayed later).
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    ours = _header(headers, "x-ogmint-signature")
    if not msg_id or not timestamp or not signatures or not ours:
        raise WebhookVerificationError("missing webhook signature headers")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 15:
        raise WebhookVerificationError("bad webhook-timestamp")
    clock = time.time() if now is None else now
    if abs(clock - int(timestamp)) > tolerance:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), ours.strip().encode(errors="replace")):
        raise WebhookVerificationError("x-ogmint-signature does not match")
    signed = f"{msg_id}.{timestamp}.".encode() + raw
    mac = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    wanted = b"v1," + base64.b64encode(mac)
    matched = False
    for candidate in signatures.split(" "):
        # Every candidate is compared (no early exit), each in constant time.
        matched |= hmac.compare_digest(wanted, candidate.encode(errors="replace"))
    if not matched:
        raise WebhookVerificationError("webhook-signature does not match")
    try:
        event: dict[str, Any] = json.loads(raw)
    except ValueError as e:
        raise WebhookVerificationError("the body is not JSON") from e
    return event

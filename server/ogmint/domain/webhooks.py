"""The webhook a V2 render asks for (SPEC §4): its fields checked, its URL's host checked, and
the ``render.completed`` delivery built for the new render."""

from __future__ import annotations

import json as stdlib_json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ogmint.errors import FieldError, ValidationError
from ogmint.net import AddressPolicy
from ogmint.state.deliveries import Delivery
from ogmint.state.renders import RenderRecord
from ogmint.webhooks.payload import MAX_DEPTH, NotRepresentable, js_json, shape
from ogmint.webhooks.queue import check_webhook_url, new_delivery
from ogmint.webhooks.signing import secret_problem

MAX_METADATA_BYTES = 4096
#: The body fields that ask for a webhook (they are not part of the render).
WEBHOOK_FIELDS = ("webhookUrl", "webhookSecret", "metadata")
#: Request-time DNS check of ``webhookUrl``: bounded, the attempts check again anyway.
RESOLVE_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class WebhookAsk:
    """A valid request for a ``render.completed`` delivery."""

    url: str
    secret: str
    metadata: dict[str, Any]


def _metadata_problem(metadata: object, raw: bytes) -> str | None:
    if not isinstance(metadata, dict):
        return "must be a JSON object"
    depth, big = shape(metadata)
    if depth > MAX_DEPTH:
        return f"must be nested at most {MAX_DEPTH} levels deep"
    if big:
        # The standard library keeps integer literals exact, so js_json can refuse them.
        metadata = stdlib_json.loads(raw)["metadata"]
    try:
        size = len(js_json(metadata).encode())
    except NotRepresentable as e:
        return str(e)
    if size > MAX_METADATA_BYTES:
        return f"must be at most {MAX_METADATA_BYTES} bytes"
    return None


def webhook_ask(body: dict[str, Any], raw: bytes) -> WebhookAsk | None:
    """The webhook ``body`` asks for, if any (``raw``: the body as sent); 400 naming every
    bad field."""
    errors = []
    url = body.get("webhookUrl")
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
        errors.append(FieldError("webhookUrl", "must be an https:// URL"))
    elif isinstance(url, str) and len(url) > 2048:
        errors.append(FieldError("webhookUrl", "must be at most 2048 characters"))
    secret = body.get("webhookSecret")
    problem = None if secret is None else secret_problem(secret)
    if problem is not None:
        errors.append(FieldError("webhookSecret", problem))
    metadata = body.get("metadata")
    if metadata is not None:
        problem = _metadata_problem(metadata, raw)
        if problem is not None:
            errors.append(FieldError("metadata", problem))
    if errors:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    if not isinstance(url, str):
        return None
    return WebhookAsk(url, body.get("webhookSecret") or "", body.get("metadata") or {})


class Webhooks:
    """Admits the webhooks renders ask for and wakes the delivery worker for new ones."""

    def __init__(self, outbound: AddressPolicy, base_url: str, wake: Callable[[], None]) -> None:
        self._outbound = outbound
        self._base_url = base_url
        self.wake = wake

    async def admit(self, owner: str, ask: WebhookAsk) -> Callable[[RenderRecord], Delivery]:
        """Checks the URL's host (400 for a blocked one) and returns what builds the delivery
        for the new render (queued atomically with its record)."""
        await check_webhook_url(ask.url, self._outbound, RESOLVE_TIMEOUT)
        return partial(
            new_delivery,
            base_url=self._base_url,
            owner=owner,
            url=ask.url,
            secret=ask.secret,
            metadata=ask.metadata,
        )

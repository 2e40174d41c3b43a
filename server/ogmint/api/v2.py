"""V2: ``POST /api/v2/render`` stores the image and answers with its slug and URL (SPEC §3).

With ``webhookUrl``, a new render also queues its ``render.completed`` delivery, atomically
with the render record; the delivery worker sends it after the response (SPEC §4).
"""

from __future__ import annotations

import json as stdlib_json
from functools import partial
from typing import Any

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import json_object, key_required
from ogmint.api.responses import json
from ogmint.errors import (
    FieldError,
    OgmintError,
    PayloadTooLargeError,
    ValidationError,
)
from ogmint.limits import take_burst
from ogmint.rendering.params import RenderSpec
from ogmint.services import Services
from ogmint.webhooks.payload import MAX_DEPTH, NotRepresentable, js_json, shape
from ogmint.webhooks.queue import check_webhook_url, new_delivery
from ogmint.webhooks.signing import secret_problem

bp = Blueprint("v2")

#: Render bodies are small JSON (the server-wide bound is sized for template uploads).
MAX_BODY_BYTES = 64 * 1024
MAX_METADATA_BYTES = 4096
WEBHOOK_FIELDS = ("webhookUrl", "webhookSecret", "metadata")
#: Request-time DNS check of ``webhookUrl``: bounded, the attempts check again anyway.
RESOLVE_TIMEOUT = 2.0


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


def _webhook_fields(body: dict[str, Any], raw: bytes) -> None:
    """Validates the delivery fields (they are not part of the render)."""
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


def _render_request(request: Request, svc: Services) -> tuple[RenderSpec, dict[str, Any]]:
    """The render asked for, and the request body (for its webhook fields)."""
    body = json_object(request)
    _webhook_fields(body, request.body)
    spec = svc.pipeline.parse(
        {k: v for k, v in body.items() if k not in WEBHOOK_FIELDS}, strict=True
    )
    return spec, body


@bp.post("/api/v2/render")
async def create_render(request: Request) -> HTTPResponse:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"Request body larger than {MAX_BODY_BYTES} bytes")
    svc, key = await key_required(request)
    try:
        spec, body = _render_request(request, svc)
        template = await svc.templates.resolve(key.user, spec.template)
    except OgmintError:
        # Refused requests count too; a 429 comes first.
        await take_burst(svc.state.limits, key, svc.settings.plans)
        raise
    url = body.get("webhookUrl")
    webhook = None
    burst = None
    if isinstance(url, str):
        # The token first: the address check resolves a name, which a client out of tokens
        # must not be able to make us do.
        burst = await take_burst(svc.state.limits, key, svc.settings.plans)
        await check_webhook_url(url, svc.outbound, RESOLVE_TIMEOUT)
        webhook = partial(
            new_delivery,
            base_url=svc.settings.base_url,
            owner=key.user,
            url=url,
            secret=body.get("webhookSecret") or "",
            metadata=body.get("metadata") or {},
        )
    # Without a token taken yet, it is taken with the dedup lookup, quota and claim at once.
    record, created, status = await svc.renders.create(key, spec, template, webhook, burst)
    dispatched = created and webhook is not None
    if dispatched:
        svc.webhooks.wake()
    headers = status.headers()
    payload: dict[str, object] = {
        "success": True,
        "slug": record.slug,
        "url": f"{svc.settings.base_url}/i/{record.slug}",
        "webhook_dispatched": dispatched,
    }
    if not created:
        payload["cached"] = True
        svc.metrics.dedup_hit()
    return json(payload, status=201 if created else 200, headers=headers)

"""V2: ``POST /api/v2/render`` stores the image and answers with its slug and URL (SPEC §3).

With ``webhookUrl``, a new render also queues its ``render.completed`` delivery, atomically
with the render record; the delivery worker sends it after the response (SPEC §4).
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import key_required
from ogmint.api.responses import json
from ogmint.errors import PayloadTooLargeError

bp = Blueprint("v2")

#: Render bodies are small JSON (the server-wide bound is sized for template uploads).
MAX_BODY_BYTES = 64 * 1024


@bp.post("/api/v2/render")
async def create_render(request: Request) -> HTTPResponse:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"Request body larger than {MAX_BODY_BYTES} bytes")
    svc, key = await key_required(request)
    made = await svc.renders.create(key, request.body or b"")
    payload: dict[str, object] = {
        "success": True,
        "slug": made.record.slug,
        "url": f"{svc.settings.base_url}/i/{made.record.slug}",
        "webhook_dispatched": made.dispatched,
    }
    # Later keys (SPEC §3): the image's pixel size and format.
    width, height = made.spec.pixels
    payload.update(width=width, height=height, format=made.spec.format)
    if not made.created:
        payload["cached"] = True
        svc.metrics.dedup_hit()
    return json(payload, status=201 if made.created else 200, headers=made.status.headers())

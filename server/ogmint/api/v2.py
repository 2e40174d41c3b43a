"""V2: ``POST /api/v2/render`` stores the image and answers with its slug and URL (SPEC §3)."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.caller import authenticate
from ogmint.api.limits import take_burst
from ogmint.api.responses import json
from ogmint.errors import (
    BadJSONError,
    FieldError,
    UnauthorizedError,
    ValidationError,
)
from ogmint.services import Services

bp = Blueprint("v2")

MAX_METADATA_BYTES = 4096
MAX_SECRET = 100
WEBHOOK_FIELDS = ("webhookUrl", "webhookSecret", "metadata")


def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(request.body or b"")
    except orjson.JSONDecodeError as e:
        raise BadJSONError(f"Request body is not valid JSON: {e}") from e
    if not isinstance(body, dict):
        raise BadJSONError("Request body must be a JSON object")
    return body


def _webhook_fields(body: dict[str, Any]) -> None:
    """Validates the delivery fields (they are not part of the render)."""
    errors = []
    url = body.get("webhookUrl")
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
        errors.append(FieldError("webhookUrl", "must be an https:// URL"))
    elif isinstance(url, str) and len(url) > 2048:
        errors.append(FieldError("webhookUrl", "must be at most 2048 characters"))
    secret = body.get("webhookSecret")
    if secret is not None and (not isinstance(secret, str) or len(secret) > MAX_SECRET):
        errors.append(FieldError("webhookSecret", f"must be a string of ≤ {MAX_SECRET} characters"))
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            errors.append(FieldError("metadata", "must be a JSON object"))
        elif len(orjson.dumps(metadata)) > MAX_METADATA_BYTES:
            errors.append(FieldError("metadata", f"must be at most {MAX_METADATA_BYTES} bytes"))
    if errors:
        raise ValidationError("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


@bp.post("/api/v2/render")
async def create_render(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    key = await authenticate(request, svc.state)
    if key is None:
        raise UnauthorizedError("Missing x-api-key header")
    burst = await take_burst(svc.state, key)
    body = _body(request)
    _webhook_fields(body)
    spec = svc.pipeline.parse(
        {k: v for k, v in body.items() if k not in WEBHOOK_FIELDS}, strict=True
    )
    record, created, quota = await svc.renders.create(key, spec)
    headers = (quota or burst).headers()
    payload: dict[str, object] = {
        "success": True,
        "slug": record.slug,
        "url": f"{svc.settings.base_url}/i/{record.slug}",
        "webhook_dispatched": False,
    }
    if not created:
        payload["cached"] = True
    return json(payload, status=201 if created else 200, headers=headers)

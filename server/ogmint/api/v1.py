"""V1: ``GET /api/og`` returns the PNG directly (SPEC §2)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import caller_key, client_subject
from ogmint.api.responses import image as image_response
from ogmint.api.responses import not_modified
from ogmint.services import Services

bp = Blueprint("v1")

MAX_AGE = 86400
CACHE_CONTROL = f"public, max-age={MAX_AGE}, s-maxage={MAX_AGE}"


@bp.get("/api/og")
async def og_image(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    # A signed URL (SPEC §2.1) acts for its key's user, as an x-api-key would.
    signed = await svc.signing_keys.check(request.query_string, MAX_AGE)
    key = signed.key if signed else await caller_key(request)
    # Repeated names: the first wins; unknown names are ignored (caches append junk).
    raw = signed.params if signed else {name: values[0] for name, values in request.args.items()}
    card = await svc.renders.card(key.user if key else None, raw)
    cache = CACHE_CONTROL
    if signed and signed.max_age < MAX_AGE:  # never cached past exp
        cache = f"public, max-age={signed.max_age}, s-maxage={signed.max_age}"
    headers = {"Cache-Control": cache, "ETag": card.etag}
    if not_modified(request.headers.get("if-none-match", ""), card.etag):
        return HTTPResponse(status=304, headers=headers)
    subject = "" if key else client_subject(request)
    image, status = await svc.renders.image(card, key, subject=subject, signed=bool(signed))
    headers.update(status.headers())
    return image_response(image, headers, card.spec.output().content_type)

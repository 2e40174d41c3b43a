"""V1: ``GET /api/og`` returns the PNG directly (SPEC §2)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.api.requests import caller_key, client_subject
from ogmint.api.responses import not_modified
from ogmint.services import Services

bp = Blueprint("v1")

MAX_AGE = 86400


def cache_control(max_age: int) -> str:
    return f"public, max-age={max_age}, s-maxage={max_age}"


@bp.get("/api/og")
async def og_image(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    # A signed URL (SPEC §2.1) acts for its key's user, as an x-api-key would; it may be cached
    # briefly only (OGMINT_SIGNED_MAX_AGE, never past exp), so a revoked kid stops working.
    signed = await svc.signing_keys.check(request.query_string, svc.settings.signed_max_age)
    if signed is not None and signed.canonical is not None:
        # One spelling per signed card, so that caches keyed on the URL hold one copy of it.
        headers = {"Cache-Control": "no-store"}
        return redirect(f"/api/og?{signed.canonical}", headers=headers, status=308)
    key = signed.key if signed else await caller_key(request)
    # Repeated names: the first wins; unknown names are ignored (caches append junk).
    raw = signed.params if signed else {name: values[0] for name, values in request.args.items()}
    card = await svc.renders.card(key.user if key else None, raw)
    headers = {"Cache-Control": cache_control(signed.max_age if signed else MAX_AGE)}
    headers["ETag"] = card.etag
    if not_modified(request.headers.get("if-none-match", ""), card.etag):
        return HTTPResponse(status=304, headers=headers)
    subject = "" if key else client_subject(request)
    image = await svc.renders.image(card, key, subject=subject, signed=bool(signed))
    if image.repeat:
        svc.metrics.repeat_hit()
    if image.status is not None:
        headers.update(image.status.headers())
    return HTTPResponse(image.data, headers=headers, content_type=image.content_type)

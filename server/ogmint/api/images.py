"""``GET|HEAD /i/{slug}``: the stored image with its type, never its storage location (SPEC §8)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import client_subject
from ogmint.api.responses import not_modified
from ogmint.domain.gallery import content_type
from ogmint.errors import NotFoundError
from ogmint.services import Services

bp = Blueprint("images")

#: Stored images never change: a year, immutable.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@bp.route("/i/<slug:str>", methods=["GET", "HEAD"])  # type: ignore[untyped-decorator]
async def image(request: Request, slug: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    if svc.settings.image_rate_limit:
        # Counted here, so only requests nginx could not answer from its cache count.
        await svc.limits.take_image(client_subject(request))
    if svc.settings.behind_nginx:
        # nginx streams (and caches) the file itself: only the record is needed here.
        record = await svc.gallery.record(slug)
        data = None
    else:
        found = await svc.gallery.image(slug)
        record, data = found if found is not None else (None, None)
    if record is None:
        raise NotFoundError(f"No image {slug!r}")
    etag = f'"{record.etag}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    kind = content_type(record)
    if not_modified(request.headers.get("if-none-match", ""), etag):
        return HTTPResponse(status=304, headers=headers)
    if data is None:
        headers["X-Accel-Redirect"] = await svc.gallery.edge_location(record)
        return HTTPResponse(status=200, headers=headers, content_type=kind)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return HTTPResponse(status=200, headers=headers, content_type=kind)
    return HTTPResponse(data, status=200, headers=headers, content_type=kind)

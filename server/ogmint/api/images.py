"""``GET|HEAD /i/{slug}``: the stored PNG, never its storage location (SPEC §8)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.responses import not_modified
from ogmint.errors import NotFoundError
from ogmint.services import Services

bp = Blueprint("images")

#: Stored images never change: a year, immutable.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@bp.route("/i/<slug:str>", methods=["GET", "HEAD"])  # type: ignore[untyped-decorator]
async def image(request: Request, slug: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    found = await svc.renders.image(slug)
    if found is None:
        raise NotFoundError(f"No image {slug!r}")
    record, data = found
    etag = f'"{record.etag}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(request.headers.get("if-none-match", ""), etag):
        return HTTPResponse(status=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return HTTPResponse(status=200, headers=headers, content_type="image/png")
    return HTTPResponse(data, status=200, headers=headers, content_type="image/png")

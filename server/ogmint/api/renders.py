"""A user's renders as a resource: list, get one, delete (SPEC §3.1)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.deliveries import delivery_json
from ogmint.api.requests import key_holder
from ogmint.api.responses import json
from ogmint.domain.library import RenderRecord
from ogmint.services import Services

bp = Blueprint("renders")


def render_json(svc: Services, record: RenderRecord) -> dict[str, object]:
    """``R`` (SPEC §3.1)."""
    return {
        "slug": record.slug,
        "url": f"{svc.settings.base_url}/i/{record.slug}",
        "template": record.template,
        "format": record.format,
        "width": record.width,
        "height": record.height,
        "bytes": record.size,
        "createdAt": record.created_at,
    }


@bp.get("/api/v2/renders")
async def list_renders(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    args = request.get_args(keep_blank_values=True)
    page = await svc.library.page(key.user, args.get("limit"), args.get("cursor"))
    return json(
        {
            "success": True,
            "renders": [render_json(svc, r) for r in page.renders],
            "nextCursor": page.next_cursor,
        }
    )


@bp.get("/api/v2/renders/<slug:str>")
async def get_render(request: Request, slug: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    found = await svc.library.detail(key.user, slug)
    render = render_json(svc, found.record)
    render["params"] = found.params
    render["deliveries"] = [delivery_json(d) for d in found.deliveries]
    return json({"success": True, "render": render})


@bp.delete("/api/v2/renders/<slug:str>")
async def delete_render(request: Request, slug: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    await svc.library.delete(key.user, slug)
    return json({"success": True})

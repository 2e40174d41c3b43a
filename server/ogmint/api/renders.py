"""A user's renders as a resource: list, get one, delete (SPEC §3.1)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.deliveries import delivery_json
from ogmint.api.requests import key_holder
from ogmint.api.responses import Answer, json
from ogmint.domain.keys import ApiKeyRecord
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


async def list_answer(
    svc: Services, key: ApiKeyRecord, limit: str | None, cursor: str | None
) -> Answer:
    """``GET /api/v2/renders`` for ``key`` (its burst token already taken)."""
    page = await svc.library.page(key.user, limit, cursor)
    renders = [render_json(svc, r) for r in page.renders]
    return Answer({"success": True, "renders": renders, "nextCursor": page.next_cursor})


async def detail_answer(svc: Services, key: ApiKeyRecord, slug: str) -> Answer:
    """``GET /api/v2/renders/{slug}`` for ``key`` (its burst token already taken)."""
    found = await svc.library.detail(key.user, slug)
    render = render_json(svc, found.record)
    render["params"] = found.params
    render["deliveries"] = [delivery_json(d) for d in found.deliveries]
    return Answer({"success": True, "render": render})


@bp.get("/api/v2/renders")
async def list_renders(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    args = request.get_args(keep_blank_values=True)
    return (await list_answer(svc, key, args.get("limit"), args.get("cursor"))).response()


@bp.get("/api/v2/renders/<slug:str>")
async def get_render(request: Request, slug: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    return (await detail_answer(svc, key, slug)).response()


@bp.delete("/api/v2/renders/<slug:str>")
async def delete_render(request: Request, slug: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    await svc.library.delete(key.user, slug)
    return json({"success": True})

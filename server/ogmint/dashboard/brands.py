"""Brands (SPEC §6.1): a user's saved looks — listed with their colours, made from a form,
deleted. The work is the brands domain's, exactly as the API does it."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.dashboard import flash
from ogmint.dashboard.auth import Visitor, field, require
from ogmint.dashboard.flash import Flash
from ogmint.domain.brands import LOOK_FIELDS, look_of
from ogmint.errors import BrandLimitError, ValidationError
from ogmint.services import Services

bp = Blueprint("dashboard_brands")

PAGE = "/dashboard/brands"


async def _page(
    request: Request,
    me: Visitor,
    status: int = 200,
    error: str = "",
    form: dict[str, str] | None = None,
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    brands = await svc.brands.list(me.user)
    return await flash.page(
        request,
        me,
        "brands.html",
        status,
        brands=[(b, look_of(b)) for b in brands],
        error=error,
        form=form or {},
        palettes=list(svc.templates.palettes),
        fonts=[f.name for f in svc.templates.fonts],
    )


@bp.get("/dashboard/brands")
async def brands(request: Request) -> HTTPResponse:
    return await _page(request, await require(request))


@bp.post("/dashboard/brands")
async def create_brand(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    body = {name: field(request, name, 2100).strip() for name in ("name", *LOOK_FIELDS)}
    body = {k: v.removeprefix("#") if k.endswith("Color") else v for k, v in body.items()}
    try:
        made = await svc.brands.create(me.user, body)
    except (ValidationError, BrandLimitError) as e:
        return await _page(request, me, e.status, e.message, body)
    await flash.put(request, me, Flash(f"Brand “{made.name}” saved: use it as brand={made.id}."))
    return redirect(PAGE, status=303)


@bp.post("/dashboard/brands/<brand_id:str>/delete")
async def delete_brand(request: Request, brand_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    await svc.brands.delete(me.user, brand_id)  # another user's: 404
    await flash.put(request, me, Flash(f"Brand {brand_id} deleted."))
    return redirect(PAGE, status=303)

"""Usage (this month against the quota, per day) and Renders (recent ones, their webhooks,
deleting a stored one)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlencode

from markupsafe import Markup
from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.dashboard import flash
from ogmint.dashboard.auth import Visitor, field, require
from ogmint.dashboard.chart import usage_chart
from ogmint.dashboard.flash import Flash
from ogmint.errors import RateLimitError, RenderNotFoundError
from ogmint.services import Services

bp = Blueprint("dashboard_renders")

PAGE = 50  # renders listed per page; ?n= shows more, up to what is kept
#: The API filter's choices: (value, label) and the kinds each keeps.
APIS = (("", "V1 and V2"), ("v1", "V1"), ("v2", "V2"))
KINDS = {"v1": {"v1"}, "v2": {"v2", "dedup"}}


@bp.get("/dashboard/usage")
async def usage(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    days = await svc.usage.month(me.user)
    plan, quota = await svc.keys.quota_of(me.user)
    used = sum(d.v1 + d.v2 for d in days)
    return await flash.page(
        request,
        me,
        "usage.html",
        days=[d for d in days if d.v1 or d.v2 or d.dedup],
        chart=Markup(usage_chart(days)),  # noqa: S704 - built from numbers and escaped labels
        plan=plan,
        quota=quota,
        used=used,
        v1=sum(d.v1 for d in days),
        v2=sum(d.v2 for d in days),
        dedup=sum(d.dedup for d in days),
    )


@bp.get("/dashboard/renders")
async def renders(request: Request) -> HTTPResponse:
    return await _renders_page(request, await require(request))


async def _renders_page(
    request: Request, me: Visitor, status: int = 200, error: str = ""
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    try:
        n = min(max(int(str(request.args.get("n", PAGE))), 1), svc.settings.recent_renders_kept)
    except ValueError:
        n = PAGE
    recent = await svc.usage.recent(me.user, n)
    template = str(request.args.get("template", ""))[:100]
    api = str(request.args.get("api", ""))
    api = api if api in KINDS else ""
    shown = [
        r
        for r in recent
        if (not template or r.template == template) and (not api or r.kind in KINDS[api])
    ]
    # Deleted renders stay in the list (they were made and counted), without their picture.
    slugs = sorted(await svc.library.kept(me.user, (r.slug for r in shown if r.slug)))
    found = await asyncio.gather(*(svc.deliveries.listed(me.user, s) for s in slugs))
    more = n * 4 if len(recent) == n and n < svc.settings.recent_renders_kept else 0
    chosen = {k: v for k, v in (("template", template), ("api", api)) if v}
    return await flash.page(
        request,
        me,
        "renders.html",
        status,
        error=error,
        renders=shown,
        templates=sorted({r.template for r in recent} | ({template} if template else set())),
        chosen_template=template,
        apis=APIS,
        chosen_api=api,
        kept=set(slugs),
        deliveries=dict(zip(slugs, found, strict=True)),
        query=urlencode(chosen),
        base_url=svc.settings.base_url,
        more=urlencode({**chosen, "n": more}) if more else "",
    )


@bp.post("/dashboard/renders/<slug:str>/deliveries/<delivery_id:str>/redeliver")
async def redeliver(request: Request, slug: str, delivery_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    try:
        await svc.deliveries.redeliver(me.user, slug, delivery_id)
    except RateLimitError as e:
        page = await _renders_page(request, me, e.status, e.message)
        page.headers.update(e.headers)
        return page
    return redirect(f"/dashboard/renders#r-{slug}", status=303)


@bp.post("/dashboard/renders/<slug:str>/delete")
async def delete(request: Request, slug: str) -> HTTPResponse:
    """Deletes a stored render as ``DELETE /api/v2/renders/{slug}`` does (SPEC §3.1), then
    back to the list as it was filtered."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    try:
        await svc.library.delete(me.user, slug)
    except RenderNotFoundError:  # gone already (a second click), or never theirs
        await flash.put(
            request, me, Flash(f"No stored render {slug[:20]} of yours: nothing deleted.")
        )
    else:
        message = f"Render {slug} deleted: /i/{slug} now answers 404 and its webhooks stop."
        await flash.put(request, me, Flash(message))
    back = parse_qs(field(request, "back", 300))
    query = urlencode({k: v[0] for k, v in back.items() if k in ("template", "api", "n")})
    return redirect("/dashboard/renders" + (f"?{query}" if query else ""), status=303)

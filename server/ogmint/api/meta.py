"""Discovery and operations: templates, fonts, health checks, metrics, the OpenAPI document."""

from __future__ import annotations

import asyncio
import json as stdjson
from functools import cache
from importlib import resources

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.api.responses import json
from ogmint.domain.templates import field_entries
from ogmint.metrics import CONTENT_TYPE
from ogmint.services import Services

bp = Blueprint("meta")


@bp.get("/api/templates")
async def templates(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    items = [
        {
            "name": t.name,
            "description": t.description,
            "fields": field_entries(t),
        }
        for t in svc.templates.builtins
    ]
    palettes = {
        name: {
            "bgColor": c.bg,
            "textColor": c.text,
            "accentColor": c.accent,
            "surfaceColor": c.surface,
        }
        for name, c in svc.templates.palettes.items()
    }
    return json(
        {"success": True, "templates": items, "palettes": palettes},
        headers={"Cache-Control": "public, max-age=300"},
    )


@bp.get("/api/fonts")
async def fonts(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    items = [
        {"family": f.name, "weights": list(f.weights), "variable": f.variable}
        for f in svc.templates.fonts
    ]
    return json(
        {"success": True, "default": "Inter", "fonts": items},
        headers={"Cache-Control": "public, max-age=300"},
    )


@bp.get("/")
async def root(request: Request) -> HTTPResponse:
    """A person opening the server's address lands on the dashboard (SPEC §9)."""
    return redirect("/dashboard")


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


@bp.get("/readyz")
async def readyz(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    await svc.health.check()
    return json({"status": "ready"})


@bp.get("/metrics")
async def metrics(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    # A scrape reads every worker's metric files: off the event loop.
    body = await asyncio.to_thread(svc.metrics.exposition)
    return HTTPResponse(body, content_type=CONTENT_TYPE)


@cache
def _openapi() -> bytes:
    text = resources.files("ogmint").joinpath("openapi.json").read_text()
    return stdjson.dumps(stdjson.loads(text)).encode()


@bp.get("/openapi.json")
async def openapi(request: Request) -> HTTPResponse:
    return HTTPResponse(_openapi(), content_type="application/json")

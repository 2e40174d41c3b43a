"""A render's webhook deliveries: list them with every attempt, and redeliver (SPEC §4).

Only keys of the user who owns the render see its deliveries; for anyone else the render does
not exist (404), so slugs cannot be probed.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import key_holder
from ogmint.api.responses import json
from ogmint.domain.deliveries import DeliveryStatus

bp = Blueprint("deliveries")


def delivery_json(status: DeliveryStatus) -> dict[str, object]:
    d = status.delivery
    return {
        "id": d.id,
        "event": "render.completed",
        "url": d.url,
        "signed": bool(d.secret),
        "state": status.state,
        "createdAt": d.created_at,
        "nextAttemptAt": status.next_attempt_at,
        "attempts": [
            {
                "number": a.number,
                "at": a.at,
                "status": a.status,
                "error": a.error or None,
                "durationMs": a.duration_ms,
            }
            for a in status.attempts
        ],
    }


@bp.get("/api/v2/renders/<slug:str>/deliveries")
async def list_deliveries(request: Request, slug: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    found = await svc.deliveries.of_render(key.user, slug)
    return json({"success": True, "slug": slug, "deliveries": [delivery_json(s) for s in found]})


@bp.post("/api/v2/renders/<slug:str>/deliveries/<delivery_id:str>/redeliver")
async def redeliver(request: Request, slug: str, delivery_id: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    await svc.deliveries.redeliver(key.user, slug, delivery_id)
    return json({"success": True, "id": delivery_id, "state": "pending"}, status=202)

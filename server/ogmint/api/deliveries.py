"""A render's webhook deliveries: list them with every attempt, and redeliver (SPEC §4).

Only keys of the user who owns the render see its deliveries; for anyone else the render does
not exist (404), so slugs cannot be probed.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import key_holder
from ogmint.api.responses import json
from ogmint.errors import NotFoundError
from ogmint.limits import redelivery_budget
from ogmint.services import Services
from ogmint.state.deliveries import DeliveryStatus
from ogmint.state.keys import ApiKeyRecord

bp = Blueprint("deliveries")


async def _owned_render(request: Request, slug: str) -> tuple[Services, ApiKeyRecord]:
    """The caller's key, after checking that its user owns the render ``slug`` (else 404)."""
    svc, key = await key_holder(request)
    record = await svc.state.renders.get_render(slug)
    # Renders are recorded per API key (dedup is per key); deliveries are shown per user.
    if record is None or record.user not in {
        k.key_id for k in await svc.state.keys.list_keys(key.user)
    }:
        raise NotFoundError("No such render")
    return svc, key


def _as_json(status: DeliveryStatus) -> dict[str, object]:
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
    svc, key = await _owned_render(request, slug)
    found = [
        s for s in await svc.state.deliveries.list_deliveries(slug) if s.delivery.owner == key.user
    ]
    return json({"success": True, "slug": slug, "deliveries": [_as_json(s) for s in found]})


@bp.post("/api/v2/renders/<slug:str>/deliveries/<delivery_id:str>/redeliver")
async def redeliver(request: Request, slug: str, delivery_id: str) -> HTTPResponse:
    svc, key = await _owned_render(request, slug)
    found = await svc.state.deliveries.get_delivery(delivery_id)
    if found is None or found.delivery.slug != slug or found.delivery.owner != key.user:
        raise NotFoundError("No such delivery")
    # Each redelivery is an outbound request: the user's allowance, shared with the dashboard.
    await redelivery_budget(svc.settings.redeliver_limit).spend(svc.state.limits, key.user)
    if not await svc.state.deliveries.redeliver(delivery_id):
        raise NotFoundError("No such delivery")
    svc.webhooks.wake()
    return json({"success": True, "id": delivery_id, "state": "pending"}, status=202)

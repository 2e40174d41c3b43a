"""V2: ``POST /api/v2/render`` stores the image and answers with its slug and URL (SPEC §3);
``/api/v2/render/batch`` does it for up to 100 bodies, ``/api/v2/validate`` lays one out
without rendering, ``/api/v2/usage`` tells the month (SPEC §3.1).

With ``webhookUrl``, a new render also queues its ``render.completed`` delivery, atomically
with the render record; the delivery worker sends it after the response (SPEC §4).
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import key_holder, key_required
from ogmint.api.responses import Answer, json
from ogmint.domain.keys import ApiKeyRecord
from ogmint.domain.renders import Created
from ogmint.errors import OgmintError, PayloadTooLargeError
from ogmint.services import Services

bp = Blueprint("v2")

#: Render bodies are small JSON (the server-wide bound is sized for template uploads).
MAX_BODY_BYTES = 64 * 1024
#: A batch holds up to 100 of them; in practice each is well under 1 KB.
MAX_BATCH_BODY_BYTES = 1024 * 1024


def _body(request: Request, limit: int) -> bytes:
    body = request.body or b""
    if len(body) > limit:
        raise PayloadTooLargeError(f"Request body larger than {limit} bytes")
    return body


def _created(svc: Services, made: Created) -> tuple[dict[str, object], int]:
    """A render's answer: its JSON and status (201 new, 200 dedup hit)."""
    payload: dict[str, object] = {
        "success": True,
        "slug": made.record.slug,
        "url": f"{svc.settings.base_url}/i/{made.record.slug}",
        "webhook_dispatched": made.dispatched,
    }
    # Later keys (SPEC §3): the image's pixel size and format.
    width, height = made.spec.pixels
    payload.update(width=width, height=height, format=made.spec.format)
    if not made.created:
        payload["cached"] = True
        svc.metrics.dedup_hit()
    return payload, 201 if made.created else 200


async def render_answer(svc: Services, key: ApiKeyRecord, body: bytes) -> Answer:
    """``POST /api/v2/render`` for ``key`` with ``body``."""
    made = await svc.renders.create(key, body)
    payload, status = _created(svc, made)
    return Answer(payload, status, made.status.headers())


@bp.post("/api/v2/render")
async def create_render(request: Request) -> HTTPResponse:
    body = _body(request, MAX_BODY_BYTES)
    svc, key = await key_required(request)
    return (await render_answer(svc, key, body)).response()


@bp.post("/api/v2/render/batch")
async def create_batch(request: Request) -> HTTPResponse:
    body = _body(request, MAX_BATCH_BODY_BYTES)
    svc, key = await key_required(request)
    batch = await svc.renders.batch(key, body)
    results: list[dict[str, object]] = []
    headers = batch.burst.headers()
    for result in batch.results:
        if isinstance(result, OgmintError):
            results.append({**result.body(), "status": result.status})
            continue
        payload, status = _created(svc, result)
        results.append({**payload, "status": status})
        if result.created:
            headers = result.status.headers()  # the quota after the latest charge
    return json({"success": True, "results": results}, headers=headers)


async def validate_answer(svc: Services, key: ApiKeyRecord, body: bytes) -> Answer:
    """``POST /api/v2/validate`` for ``key`` with ``body``."""
    layout = await svc.renders.validate(key, body)
    fields = {
        name: {"lines": list(f.lines), "fontSize": f.font_size, "truncated": f.truncated}
        for name, f in layout.fields.items()
    }
    return Answer(
        {"success": True, "width": layout.width, "height": layout.height, "fields": fields}
    )


async def usage_answer(svc: Services, key: ApiKeyRecord) -> Answer:
    """``GET /api/v2/usage`` for ``key`` (its burst token already taken)."""
    month = await svc.reports.month(key)
    body: dict[str, object] = {
        "success": True,
        "plan": month.plan,
        "quota": month.quota.limit,
        "used": month.used,
        "remaining": month.quota.remaining,
        "resetsAt": month.resets_at,
        "days": [{"date": d.day, "v1": d.v1, "v2": d.v2, "dedup": d.dedup} for d in month.days],
    }
    return Answer(body, headers=month.quota.headers())


@bp.post("/api/v2/validate")
async def validate(request: Request) -> HTTPResponse:
    body = _body(request, MAX_BODY_BYTES)
    svc, key = await key_required(request)
    return (await validate_answer(svc, key, body)).response()


@bp.get("/api/v2/usage")
async def usage(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    return (await usage_answer(svc, key)).response()

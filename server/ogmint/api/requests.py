"""What the key holders' endpoints take from a request: the caller's key and a JSON body."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import Request

from ogmint.errors import BadJSONError, UnauthorizedError
from ogmint.limits import take_burst
from ogmint.services import Services
from ogmint.state.keys import ApiKeyRecord


async def key_required(request: Request) -> tuple[Services, ApiKeyRecord]:
    """The services and the caller's API key; 401 without a valid one."""
    svc: Services = request.app.ctx.services
    key = await svc.keys.authenticate(request)
    if key is None:
        raise UnauthorizedError("Missing x-api-key header")
    return svc, key


async def key_holder(request: Request) -> tuple[Services, ApiKeyRecord]:
    """As ``key_required``, with one token of the key's burst limit taken (429 when out)."""
    svc, key = await key_required(request)
    await take_burst(svc.state.limits, key, svc.settings.plans)
    return svc, key


def json_object(request: Request) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    try:
        body = orjson.loads(request.body or b"")
    except orjson.JSONDecodeError as e:
        raise BadJSONError(f"Request body is not valid JSON: {e}") from e
    if not isinstance(body, dict):
        raise BadJSONError("Request body must be a JSON object")
    return body

"""What the API's endpoints take from a request: the caller's key and address, a JSON body."""

from __future__ import annotations

from typing import Any

from sanic import Request

from ogmint.domain.json_body import json_object as parse_object
from ogmint.domain.keys import ApiKeyRecord
from ogmint.errors import UnauthorizedError
from ogmint.services import Services

API_KEY_HEADER = "x-api-key"


async def caller_key(request: Request) -> ApiKeyRecord | None:
    """The caller's key record; None when no key was sent; 401 for an unknown or revoked key,
    or for several different keys."""
    svc: Services = request.app.ctx.services
    return await svc.keys.authenticate_sent(request.headers.getall(API_KEY_HEADER, []))


async def key_required(request: Request) -> tuple[Services, ApiKeyRecord]:
    """The services and the caller's API key; 401 without a valid one."""
    svc: Services = request.app.ctx.services
    key = await caller_key(request)
    if key is None:
        raise UnauthorizedError("Missing x-api-key header")
    return svc, key


async def key_holder(request: Request) -> tuple[Services, ApiKeyRecord]:
    """As ``key_required``, with one token of the key's burst limit taken (429 when out)."""
    svc, key = await key_required(request)
    await svc.limits.take_burst(key)
    return svc, key


def client_subject(request: Request) -> str:
    """The caller's per-address rate-limit subject (its IP, or the /64 of an IPv6 one)."""
    svc: Services = request.app.ctx.services
    forwarded = str(request.headers.get("x-forwarded-for", ""))
    return svc.proxies.limit_subject(str(request.ip), forwarded)


def json_object(request: Request) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    return parse_object(request.body or b"")

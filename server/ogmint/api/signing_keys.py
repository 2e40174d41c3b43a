"""``/api/v2/signing-keys``: a user's keys for signed V1 URLs (SPEC §2.1).

Any of the user's API keys manages them; another user's key id is a 404, so ids cannot be
probed. The secret appears once, in the creation answer.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import key_holder
from ogmint.api.responses import json
from ogmint.errors import NotFoundError, UnauthorizedError

bp = Blueprint("signing_keys")


@bp.post("/api/v2/signing-keys")
async def create_signing_key(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    made = await svc.signing_keys.create(key.user)
    if made is None:  # the user was removed since its key was cached
        raise UnauthorizedError("Invalid API key")
    body = {"id": made.kid, "secret": made.secret, "createdAt": made.created_at}
    return json({"success": True, "signingKey": body}, status=201)


@bp.get("/api/v2/signing-keys")
async def list_signing_keys(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    found = await svc.signing_keys.listed(key.user)
    keys = [{"id": k.kid, "createdAt": k.created_at} for k in found]
    return json({"success": True, "signingKeys": keys})


@bp.delete("/api/v2/signing-keys/<kid:str>")
async def revoke_signing_key(request: Request, kid: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    if not await svc.signing_keys.revoke(key.user, kid):
        raise NotFoundError("No such signing key")
    return json({"success": True})

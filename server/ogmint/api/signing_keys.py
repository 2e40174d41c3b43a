"""``/api/v2/signing-keys``: a user's keys for signed V1 URLs (SPEC §2.1).

Any of the user's API keys manages them; another user's key id is a 404, so ids cannot be
probed. The secret appears once, in the creation answer.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from ogmint.api.requests import key_holder
from ogmint.api.responses import json
from ogmint.errors import NotFoundError, TooManyError, UnauthorizedError
from ogmint.signed_urls import new_signing_key

bp = Blueprint("signing_keys")

#: Active signing keys per user: enough for rotation and one per site, bounded against abuse.
MAX_ACTIVE_KEYS = 20


@bp.post("/api/v2/signing-keys")
async def create_signing_key(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    store = svc.state.signing_keys
    if len(await store.list_signing_keys(key.user)) >= MAX_ACTIVE_KEYS:
        raise TooManyError(f"At most {MAX_ACTIVE_KEYS} active signing keys; revoke one first")
    kid, secret = new_signing_key()
    created_at = await store.create_signing_key(key.user, kid, secret)
    if created_at is None:  # the user was removed since its key was cached
        raise UnauthorizedError("Invalid API key")
    body = {"id": kid, "secret": secret, "createdAt": created_at}
    return json({"success": True, "signingKey": body}, status=201)


@bp.get("/api/v2/signing-keys")
async def list_signing_keys(request: Request) -> HTTPResponse:
    svc, key = await key_holder(request)
    found = await svc.state.signing_keys.list_signing_keys(key.user)
    keys = [{"id": k.kid, "createdAt": k.created_at} for k in found]
    return json({"success": True, "signingKeys": keys})


@bp.delete("/api/v2/signing-keys/<kid:str>")
async def revoke_signing_key(request: Request, kid: str) -> HTTPResponse:
    svc, key = await key_holder(request)
    if not await svc.state.signing_keys.revoke_signing_key(key.user, kid):
        raise NotFoundError("No such signing key")
    svc.signing_keys.forget(kid)
    return json({"success": True})

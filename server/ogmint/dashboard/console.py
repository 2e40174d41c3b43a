"""Settings (API keys, plan and quota, password) and the admin's list of users."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.api.signing_keys import MAX_ACTIVE_KEYS
from ogmint.dashboard.auth import Visitor, field, require
from ogmint.errors import NotFoundError, TooManyError, ValidationError
from ogmint.keys import hash_key, new_key
from ogmint.services import Services
from ogmint.signed_urls import new_signing_key
from ogmint.state.keys import ApiKeyRecord

bp = Blueprint("dashboard_console")

PASSWORD_ERRORS = {
    "current": "Current password is incorrect.",
    "password": "The new password must be 10 to 1024 characters.",
}


async def _keys(svc: Services, user: str) -> list[ApiKeyRecord]:
    return [k for k in await svc.state.keys.list_keys(user) if not k.revoked]


async def plan_of(svc: Services, user: str) -> str:
    """The user's plan (users without a key yet are on ``free``)."""
    keys = await svc.state.keys.list_keys(user)
    return keys[0].plan if keys else "free"


async def _settings_page(
    request: Request,
    me: Visitor,
    new_key_value: str = "",
    status: int = 200,
    new_signing: tuple[str, str] | None = None,
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    plan = await plan_of(svc, me.user)
    quotas = dict(svc.settings.plan_quotas)
    used = await svc.usage.month_total(me.user)
    return svc.pages.html(
        "settings.html",
        status,
        visitor=me,
        keys=await _keys(svc, me.user),
        new_key=new_key_value,
        signing_keys=await svc.state.signing_keys.list_signing_keys(me.user),
        new_signing=new_signing,
        plan=plan,
        quota=quotas.get(plan, 0),
        used=used,
        password_error=PASSWORD_ERRORS.get(str(request.args.get("error", "")), ""),
        password_changed=request.args.get("changed") == "password",
    )


@bp.get("/dashboard")
async def home(request: Request) -> HTTPResponse:
    return redirect("/dashboard/settings", status=303)


@bp.get("/dashboard/settings")
async def settings(request: Request) -> HTTPResponse:
    return await _settings_page(request, await require(request))


@bp.post("/dashboard/keys")
async def create_key(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    key_id, key = new_key()
    await svc.state.keys.create_key(me.user, key_id, hash_key(key), None)
    # Answered with the page itself (not a redirect) so the key is never in a URL or history.
    return await _settings_page(request, me, new_key_value=key, status=201)


@bp.post("/dashboard/keys/<key_id:str>/revoke")
async def revoke_key(request: Request, key_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    mine = {k.key_id: k for k in await _keys(svc, me.user)}
    if key_id not in mine:
        raise NotFoundError("No such key")
    await svc.state.keys.revoke_key(key_id)
    svc.keys.forget(mine[key_id].key_hash)
    return redirect("/dashboard/settings", status=303)


@bp.post("/dashboard/signing-keys")
async def create_signing_key(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    store = svc.state.signing_keys
    if len(await store.list_signing_keys(me.user)) >= MAX_ACTIVE_KEYS:
        raise TooManyError(f"At most {MAX_ACTIVE_KEYS} active signing keys; revoke one first")
    kid, secret = new_signing_key()
    if await store.create_signing_key(me.user, kid, secret) is None:
        raise ValidationError.field("signingKey", "create an API key first (it creates the user)")
    # The page itself, not a redirect: the secret is never in a URL or the history.
    return await _settings_page(request, me, new_signing=(kid, secret), status=201)


@bp.post("/dashboard/signing-keys/<kid:str>/revoke")
async def revoke_signing_key(request: Request, kid: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not await svc.state.signing_keys.revoke_signing_key(me.user, kid):
        raise NotFoundError("No such signing key")
    svc.signing_keys.forget(kid)
    return redirect("/dashboard/settings", status=303)


@bp.get("/dashboard/admin")
async def admin(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not me.account.admin:
        raise NotFoundError()
    accounts = await svc.accounts.store.list_accounts()
    rows = []
    for account in accounts:
        plan = await plan_of(svc, account.user)
        rows.append(
            {
                "account": account,
                "plan": plan,
                "keys": len(await _keys(svc, account.user)),
                "used": await svc.usage.month_total(account.user),
            }
        )
    return svc.pages.html("admin.html", visitor=me, rows=rows, plans=svc.settings.plans.names)


@bp.post("/dashboard/admin/users/<user:str>/plan")
async def set_plan(request: Request, user: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not me.account.admin:
        raise NotFoundError()
    plan = field(request, "plan")
    problem = svc.settings.plans.check(plan)
    if problem is not None:
        raise ValidationError.field("plan", problem)
    if await svc.accounts.store.get_account(user) is None:
        raise NotFoundError("No such user")
    if not await svc.state.keys.set_plan(user, plan):
        raise ValidationError.field("plan", "the user has no API key yet, so no plan to change")
    return redirect("/dashboard/admin", status=303)

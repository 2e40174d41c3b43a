"""Settings (API keys, plan and quota, password) and the admin's list of users."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.dashboard.auth import Visitor, field, require
from ogmint.errors import NotFoundError, TooManyError, ValidationError
from ogmint.services import Services

bp = Blueprint("dashboard_console")

PASSWORD_ERRORS = {
    "current": "Current password is incorrect.",
    "password": "The new password must be 10 to 1024 characters.",
    "attempts": "Too many attempts to change the password; try again in a few minutes.",
}


async def _settings_page(
    request: Request,
    me: Visitor,
    new_key_value: str = "",
    status: int = 200,
    new_signing: tuple[str, str] | None = None,
    key_error: str = "",
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    plan, quota = await svc.keys.quota_of(me.user)
    used = await svc.usage.month_total(me.user)
    return svc.pages.html(
        "settings.html",
        status,
        visitor=me,
        keys=await svc.keys.active(me.user),
        new_key=new_key_value,
        key_error=key_error,
        signing_keys=await svc.signing_keys.listed(me.user),
        new_signing=new_signing,
        plan=plan,
        quota=quota,
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
    try:
        made = await svc.keys.create(me.user)
    except TooManyError as e:
        return await _settings_page(request, me, status=e.status, key_error=e.message)
    # Answered with the page itself (not a redirect) so the key is never in a URL or history.
    return await _settings_page(request, me, new_key_value=made.key, status=201)


@bp.post("/dashboard/keys/<key_id:str>/revoke")
async def revoke_key(request: Request, key_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    await svc.keys.revoke_own(me.user, key_id)
    return redirect("/dashboard/settings", status=303)


@bp.post("/dashboard/signing-keys")
async def create_signing_key(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    made = await svc.signing_keys.create(me.user)
    if made is None:
        raise ValidationError.field("signingKey", "create an API key first (it creates the user)")
    # The page itself, not a redirect: the secret is never in a URL or the history.
    return await _settings_page(request, me, new_signing=(made.kid, made.secret), status=201)


@bp.post("/dashboard/signing-keys/<kid:str>/revoke")
async def revoke_signing_key(request: Request, kid: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not await svc.signing_keys.revoke(me.user, kid):
        raise NotFoundError("No such signing key")
    return redirect("/dashboard/settings", status=303)


@bp.get("/dashboard/admin")
async def admin(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not me.account.admin:
        raise NotFoundError()
    rows = []
    for account in await svc.accounts.accounts():
        rows.append(
            {
                "account": account,
                "plan": await svc.keys.plan_of(account.user),
                "active_keys": len(await svc.keys.active(account.user)),
                "used": await svc.usage.month_total(account.user),
            }
        )
    return svc.pages.html("admin.html", visitor=me, rows=rows, plans=svc.plans.names())


@bp.post("/dashboard/admin/users/<user:str>/plan")
async def set_plan(request: Request, user: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not me.account.admin:
        raise NotFoundError()
    plan = field(request, "plan")
    svc.plans.check(plan)
    if await svc.accounts.account(user) is None:
        raise NotFoundError("No such user")
    if not await svc.keys.set_plan(user, plan):
        raise ValidationError.field("plan", "the user has no API key yet, so no plan to change")
    return redirect("/dashboard/admin", status=303)

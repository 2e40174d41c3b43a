"""Getting started, Settings (API keys, signing keys, plan and quota, password) and the admin's
users (plans, invitations, disabling).

Every form that creates or changes something answers with a redirect (post/redirect/get): a
reload never repeats it. A new key's secret rides to the next page in the session's one-time
message (``flash``), never in a URL.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.dashboard import flash
from ogmint.dashboard.auth import Visitor, field, local_path, require
from ogmint.dashboard.flash import Flash
from ogmint.dashboard.pages import page
from ogmint.dashboard.playground import snippets
from ogmint.errors import NotFoundError, TooManyError, ValidationError
from ogmint.services import Services

bp = Blueprint("dashboard_console")

PASSWORD_ERRORS = {
    "current": "Current password is incorrect.",
    "password": "The new password must be 10 to 1024 characters.",
    "attempts": "Too many attempts to change the password; try again in a few minutes.",
}
START = "/dashboard/start"
SETTINGS = "/dashboard/settings"
#: The getting-started card: what the first render draws.
FIRST = {"template": "blog", "title": "Hello from ogmint", "palette": "midnight"}


def _back(request: Request) -> str:
    """Where a key form goes back to: the page it was on (Getting started or Settings)."""
    return START if local_path(field(request, "next", 200)) == START else SETTINGS


async def _settings_page(
    request: Request, me: Visitor, status: int = 200, key_error: str = ""
) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    plan, quota = await svc.keys.quota_of(me.user)
    return await flash.page(
        request,
        me,
        "settings.html",
        status,
        keys=await svc.keys.active(me.user),
        key_error=key_error,
        signing_keys=await svc.signing_keys.listed(me.user),
        plan=plan,
        quota=quota,
        used=await svc.usage.month_total(me.user),
        password_error=PASSWORD_ERRORS.get(str(request.args.get("error", "")), ""),
        password_changed=request.args.get("changed") == "password",
    )


@bp.get("/dashboard")
async def home(request: Request) -> HTTPResponse:
    """A user without a key yet starts with Getting started; everyone else with Settings."""
    svc: Services = request.app.ctx.services
    me = await require(request)
    return redirect(SETTINGS if await svc.keys.active(me.user) else START, status=303)


@bp.get("/dashboard/start")
async def start(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    shown = await flash.take(request, me)
    keys = await svc.keys.active(me.user)
    signing = await svc.signing_keys.listed(me.user)
    rendered = [r for r in await svc.usage.recent(me.user, 20) if r.status < 400]
    kept = await svc.library.kept(me.user, (r.slug for r in rendered if r.slug))
    # The curl carries the key only while it is on the screen (just made); else a placeholder.
    api_key = shown.secret if shown and shown.label == "New API key" else ""
    base = svc.settings.base_url
    signer = (signing[-1].kid, signing[-1].secret) if signing else None
    return page(
        request,
        "start.html",
        visitor=me,
        flash=shown,
        has_key=bool(keys),
        # One with a stored picture to show, if any.
        rendered=next((r for r in rendered if r.slug in kept), rendered[0] if rendered else None),
        kept=kept,
        has_signing=bool(signing),
        api_key=api_key,
        first=snippets(base, FIRST, signer, api_key or "YOUR_API_KEY"),
        v1_keyed=(
            f"curl -H 'x-api-key: {api_key or 'YOUR_API_KEY'}' -o card.png \\\n"
            f"  '{base}/api/og?template=blog&title=Hello+from+ogmint&palette=midnight'"
        ),
    )


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
    message = f"API key {made.key_id} created. Store it now: it is shown only this once."
    await flash.put(request, me, Flash(message, made.key, "New API key"))
    return redirect(_back(request), status=303)


@bp.post("/dashboard/keys/<key_id:str>/revoke")
async def revoke_key(request: Request, key_id: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    await svc.keys.revoke_own(me.user, key_id)
    await flash.put(request, me, Flash(f"API key {key_id} revoked: it now answers 401."))
    return redirect(SETTINGS, status=303)


@bp.post("/dashboard/signing-keys")
async def create_signing_key(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    made = await svc.signing_keys.create(me.user)
    if made is None:
        raise ValidationError.field("signingKey", "create an API key first (it creates the user)")
    message = f"Signing key {made.kid} created. Store its secret now: it is shown only this once."
    await flash.put(request, me, Flash(message, made.secret, "New signing secret"))
    return redirect(_back(request), status=303)


@bp.post("/dashboard/signing-keys/<kid:str>/revoke")
async def revoke_signing_key(request: Request, kid: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    if not await svc.signing_keys.revoke(me.user, kid):
        raise NotFoundError("No such signing key")
    await flash.put(request, me, Flash(f"Signing key {kid} revoked: URLs it signed answer 403."))
    return redirect(SETTINGS, status=303)


async def _admin(request: Request) -> Visitor:
    me = await require(request)
    if not me.account.admin:
        raise NotFoundError()
    return me


@bp.get("/dashboard/admin")
async def admin(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await _admin(request)
    return await flash.page(
        request,
        me,
        "admin.html",
        rows=await svc.users.overview(),
        plans=svc.plans.names(),
        invite_error="",
    )


@bp.post("/dashboard/admin/users/<user:str>/plan")
async def set_plan(request: Request, user: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await _admin(request)
    plan = field(request, "plan")
    svc.plans.check(plan)
    if await svc.accounts.account(user) is None:
        raise NotFoundError("No such user")
    if not await svc.keys.set_plan(user, plan):
        raise ValidationError.field("plan", "the user has no API key yet, so no plan to change")
    await flash.put(request, me, Flash(f"{user} is now on the {plan} plan."))
    return redirect("/dashboard/admin", status=303)


@bp.post("/dashboard/admin/users")
async def invite(request: Request) -> HTTPResponse:
    """Creates an account; its one-time link is shown on the next page (nothing is e-mailed)."""
    svc: Services = request.app.ctx.services
    me = await _admin(request)
    user = field(request, "user", 100).strip()
    try:
        token = await svc.users.invite(
            user, field(request, "email", 300), admin=field(request, "admin", 10) == "on"
        )
    except ValueError as e:  # a bad name or address, or one already taken
        return await flash.page(
            request,
            me,
            "admin.html",
            400,
            rows=await svc.users.overview(),
            plans=svc.plans.names(),
            invite_error=str(e),
        )
    hours = svc.settings.account_link_ttl / 3600
    link = f"{svc.settings.base_url}/dashboard/password/{token}"
    message = f"{user} invited. Send them this one-time link (valid {hours:g} h):"
    await flash.put(request, me, Flash(message, link, f"Invite link for {user}"))
    return redirect("/dashboard/admin", status=303)


@bp.post("/dashboard/admin/users/<user:str>/disable")
async def disable(request: Request, user: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await _admin(request)
    if user == me.user:
        raise ValidationError.field("user", "you cannot disable yourself")
    revoked = await svc.users.disable(user)
    message = (
        f"{user} disabled: signed out everywhere, {revoked} keys revoked for good "
        "(enabling them again does not bring those keys back)."
    )
    await flash.put(request, me, Flash(message))
    return redirect("/dashboard/admin", status=303)


@bp.post("/dashboard/admin/users/<user:str>/enable")
async def enable(request: Request, user: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await _admin(request)
    await svc.users.enable(user)
    plan = await svc.keys.plan_of(user)
    message = (
        f"{user} may sign in again, still on the {plan} plan. The keys revoked when they were "
        "disabled stay revoked: they create new ones on Settings (or you, with "
        f"`ogmint keys create --user {user}`), and update the apps that used the old ones."
    )
    await flash.put(request, me, Flash(message))
    return redirect("/dashboard/admin", status=303)

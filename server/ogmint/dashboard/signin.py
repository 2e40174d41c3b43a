"""Signing in and out, and setting a password through a one-time link or on Settings."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.response import redirect

from ogmint.api.requests import client_subject
from ogmint.dashboard.auth import (
    FORM_COOKIE,
    SESSION_COOKIE,
    check_form_token,
    field,
    form_token,
    local_path,
    require,
    set_cookie,
    visitor,
)
from ogmint.dashboard.pages import page
from ogmint.domain.accounts import SignInFailed
from ogmint.errors import RateLimitError, ValidationError
from ogmint.services import Services

bp = Blueprint("dashboard_signin")

MAX_FIELD = 2048  # sign-in fields past this are refused without touching the KDF


def _sign_in_page(
    request: Request, status: int = 200, error: str = "", email: str = ""
) -> HTTPResponse:
    token = form_token(request)
    nxt = local_path(str(request.args.get("next") or field(request, "next")))
    response = page(
        request,
        "sign_in.html",
        status,
        csrf=token,
        error=error,
        email=email,
        next=nxt,
        visitor=None,
        password_set=request.args.get("set") == "1" and not error,
    )
    set_cookie(request, response, FORM_COOKIE, token, 3600)
    return response


@bp.get("/dashboard/sign-in")
async def sign_in_form(request: Request) -> HTTPResponse:
    if await visitor(request) is not None:
        return redirect(local_path(str(request.args.get("next", ""))), status=303)
    return _sign_in_page(request)


@bp.post("/dashboard/sign-in")
async def sign_in(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    check_form_token(request)
    email = field(request, "email", MAX_FIELD)
    password = field(request, "password", MAX_FIELD)
    try:
        token, _ = await svc.accounts.sign_in(email, password, client_subject(request))
    except SignInFailed as e:
        return _sign_in_page(request, 401, e.message, email)
    except RateLimitError as e:
        refused = _sign_in_page(request, 429, e.message, email)
        refused.headers.update(e.headers)
        return refused
    response = redirect(local_path(field(request, "next")), status=303)
    set_cookie(request, response, SESSION_COOKIE, token, int(svc.accounts.session_ttl))
    return response


@bp.post("/dashboard/sign-out")
async def sign_out(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    await svc.accounts.sign_out(me.token)
    response = redirect("/dashboard/sign-in", status=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response


@bp.get("/dashboard/password/<token:str>")
async def link_form(request: Request, token: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    user = await svc.accounts.link_user(token)
    csrf = form_token(request)
    response = page(
        request,
        "set_password.html",
        200 if user else 404,
        user=user,
        csrf=csrf,
        error="",
        visitor=None,
    )
    set_cookie(request, response, FORM_COOKIE, csrf, 3600)
    return response


@bp.post("/dashboard/password/<token:str>")
async def use_link(request: Request, token: str) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    check_form_token(request)
    password = field(request, "password", MAX_FIELD)
    try:
        user = await svc.accounts.use_link(token, password)
    except ValidationError as e:
        csrf = form_token(request)
        user = await svc.accounts.link_user(token)
        return page(
            request, "set_password.html", 400, user=user, csrf=csrf, error=e.message, visitor=None
        )
    if user is None:
        csrf = form_token(request)
        return page(request, "set_password.html", 404, user=None, csrf=csrf, error="", visitor=None)
    # The new password is set; signing in is the next step (and proves the user knows it).
    return redirect("/dashboard/sign-in?set=1", status=303)


@bp.post("/dashboard/password")
async def change_password(request: Request) -> HTTPResponse:
    svc: Services = request.app.ctx.services
    me = await require(request)
    try:
        await svc.accounts.change_password(
            me.account,
            field(request, "current", MAX_FIELD),
            field(request, "password", MAX_FIELD),
            me.token,
        )
    except ValidationError as e:
        return redirect("/dashboard/settings?error=" + e.details[0].field, status=303)
    except RateLimitError:
        return redirect("/dashboard/settings?error=attempts", status=303)
    return redirect("/dashboard/settings?changed=password", status=303)

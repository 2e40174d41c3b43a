"""Who is signed in, CSRF tokens, cookies and the security headers of every dashboard answer."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from sanic import HTTPResponse, Request
from sanic.response import redirect

from ogmint.domain.accounts import Account, Session
from ogmint.errors import OgmintError
from ogmint.services import Services

SESSION_COOKIE = "ogmint_session"
#: Signed-out forms (sign-in) use a double-submit token: this cookie must equal the form field.
FORM_COOKIE = "ogmint_form"
SIGN_IN = "/dashboard/sign-in"
#: What the tokens this module hands out look like (``secrets.token_urlsafe``). A cookie of
#: any other shape — not UTF-8, too long — is treated as absent, never decoded further.
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,99}")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # link tokens sit in the path
    "Cross-Origin-Opener-Policy": "same-origin",
}


class CsrfError(OgmintError):
    status = 403
    code = "csrf_failed"
    default_message = "The form expired or did not come from this site; reload and try again"


class SignedOut(OgmintError):
    """A dashboard page was asked for without a session (answered with a redirect)."""

    status = 401
    code = "signed_out"
    default_message = "Sign in first"


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in account behind a request."""

    account: Account
    session: Session
    token: str

    @property
    def user(self) -> str:
        return self.account.user


def is_https(request: Request, svc: Services) -> bool:
    """Served over HTTPS: directly, or per ``X-Forwarded-Proto`` from a trusted proxy."""
    if request.scheme == "https":
        return True
    forwarded = str(request.headers.get("x-forwarded-proto", "")).strip().lower()
    return forwarded == "https" and svc.proxies.from_proxy(str(request.ip))


async def visitor(request: Request) -> Visitor | None:
    """The signed-in account, or None."""
    svc: Services = request.app.ctx.services
    token = token_cookie(request, SESSION_COOKIE)
    if token is None:
        return None
    session = await svc.accounts.session(token)
    if session is None:
        return None
    account = await svc.accounts.account(session.user)
    if account is None or account.disabled:
        return None
    return Visitor(account, session, token)


async def require(request: Request) -> Visitor:
    """The signed-in account, or SignedOut (the blueprint answers with the sign-in page)."""
    found = await visitor(request)
    if found is None:
        raise SignedOut()
    if request.method == "POST":
        check_csrf(request, found.session.csrf)
    return found


def token_cookie(request: Request, name: str) -> str | None:
    """The cookie ``name`` if it has the shape of one of our tokens, else None."""
    value = request.cookies.get(name)
    return value if value and TOKEN.fullmatch(value) else None


def check_csrf(request: Request, expected: str) -> None:
    sent = field(request, "csrf", 100)
    if not expected or not TOKEN.fullmatch(sent) or not hmac.compare_digest(sent, expected):
        raise CsrfError()


def form_token(request: Request) -> str:
    """The double-submit token for a signed-out form: the cookie's, or a new one."""
    return token_cookie(request, FORM_COOKIE) or secrets.token_urlsafe(24)


def check_form_token(request: Request) -> None:
    check_csrf(request, token_cookie(request, FORM_COOKIE) or "")


def set_cookie(
    request: Request, response: HTTPResponse, name: str, value: str, max_age: int
) -> None:
    svc: Services = request.app.ctx.services
    response.add_cookie(
        name,
        value,
        path="/dashboard",
        httponly=True,
        samesite="Lax",
        secure=is_https(request, svc),
        max_age=max_age,
    )


def to_sign_in(request: Request) -> HTTPResponse:
    """303 to the sign-in form, coming back here afterwards (GET pages only)."""
    target = SIGN_IN
    if request.method == "GET" and request.path != SIGN_IN:
        target += "?next=" + quote(request.path, safe="/")
    return redirect(target, status=303)


def local_path(value: str) -> str:
    """``value`` if it is a dashboard path on this site, else the Settings page."""
    if value.startswith("/dashboard/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


def field(request: Request, name: str, limit: int = 300_000) -> str:
    """A form field's first value ("" when absent), at most ``limit`` characters."""
    form = request.form
    value = form.get(name, "") if form is not None else ""
    return str(value or "")[:limit]

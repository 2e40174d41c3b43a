"""All dashboard routes as one blueprint group, with its security headers and sign-in redirect."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic.blueprint_group import BlueprintGroup
from sanic.response import file

from ogmint.dashboard import brands, console, editor, playground, reference, renders, signin
from ogmint.dashboard.auth import SECURITY_HEADERS, SignedOut, is_https, to_sign_in
from ogmint.dashboard.pages import STATIC_DIR
from ogmint.errors import NotFoundError

assets = Blueprint("dashboard_static")
#: The static files, by name: nothing else under the directory (or outside it) is served, and
#: no client path ever reaches the file system.
STATIC_FILES = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


@assets.route("/dashboard/static/<name:str>", methods=["GET", "HEAD"])  # type: ignore[untyped-decorator]
async def static_file(request: Request, name: str) -> HTTPResponse:
    kind = STATIC_FILES.get(name)
    if kind is None:
        raise NotFoundError()
    # Sanic's default is "no-cache" with Last-Modified: revalidated on every use (304), so a
    # new version is seen at once.
    return await file(STATIC_DIR / name, request_headers=request.headers, mime_type=kind)


@assets.route("/favicon.ico", methods=["GET", "HEAD"])  # type: ignore[untyped-decorator]
async def favicon(request: Request) -> HTTPResponse:
    """What browsers ask for on pages that name no icon (the API's JSON, images): the SVG."""
    return await file(
        STATIC_DIR / "favicon.svg", request_headers=request.headers, mime_type="image/svg+xml"
    )


def _security_headers(request: Request, response: HTTPResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if is_https(request, request.app.ctx.services):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


def _signed_out(request: Request, exception: Exception) -> HTTPResponse:
    return to_sign_in(request)


BLUEPRINTS = (
    signin.bp,
    console.bp,
    renders.bp,
    editor.bp,
    playground.bp,
    brands.bp,
    reference.bp,
    assets,
)
for _bp in BLUEPRINTS:
    _bp.middleware(_security_headers, "response")
    _bp.exception(SignedOut)(_signed_out)


def blueprints() -> BlueprintGroup:
    """The dashboard's blueprints, each with the security headers and the sign-in redirect."""
    return Blueprint.group(*BLUEPRINTS)

"""A cookie-keeping HTTP client for the dashboard's forms, without a browser (and without JS)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar

from support import Reply

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LINK = re.compile(r"(http://\S+/dashboard/password/\S+)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Console:
    """One visitor: keeps its cookies, sends the last page's CSRF token with every form."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.jar = CookieJar()
        self.headers = headers or {}
        self.csrf = ""
        self._open = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        ).open

    def _send(self, req: urllib.request.Request) -> Reply:
        try:
            with self._open(req, timeout=30) as r:
                reply = Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            reply = Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
        found = CSRF.search(reply.body.decode("utf-8", "replace"))
        if found:
            self.csrf = found.group(1)
        return reply

    def get(self, path: str) -> Reply:
        return self._send(urllib.request.Request(self.base + path, headers=self.headers))

    def post(self, path: str, fields: dict[str, str] | None = None, csrf: bool = True) -> Reply:
        data = dict(fields or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        body = urllib.parse.urlencode(data).encode()
        headers = {**self.headers, "content-type": "application/x-www-form-urlencoded"}
        return self._send(urllib.request.Request(self.base + path, body, headers, method="POST"))

    def post_raw(self, path: str, body: bytes) -> Reply:
        """A form POST of exactly ``body`` (already encoded: any bytes)."""
        headers = {**self.headers, "content-type": "application/x-www-form-urlencoded"}
        return self._send(urllib.request.Request(self.base + path, body, headers, method="POST"))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def sign_in(self, email: str, password: str) -> Reply:
        self.get("/dashboard/sign-in")
        return self.post("/dashboard/sign-in", {"email": email, "password": password})


def invite_path(cli_output: str) -> str:
    """The dashboard path of the one-time link ``ogmint users create/reset`` printed."""
    found = LINK.search(cli_output)
    assert found, cli_output
    return urllib.parse.urlsplit(found.group(1)).path


def invited(cli: Callable[..., str], name: str, *flags: str) -> tuple[str, str]:
    """Creates the account ``name`` (``cli`` runs ``ogmint``); its e-mail and invite path."""
    email = f"{name}@example.com"
    return email, invite_path(cli("users", "create", name, "--email", email, *flags))


def signed_in_console(
    base: str,
    cli: Callable[..., str],
    name: str,
    password: str,
    *flags: str,
    headers: dict[str, str] | None = None,
) -> Console:
    """A console (sending ``headers``) signed in as the new account ``name``, its password set
    through the invite, holding the Settings page's CSRF token."""
    email, link = invited(cli, name, *flags)
    c = Console(base, headers)
    c.get(link)
    assert c.post(link, {"password": password}).status == 303
    assert c.sign_in(email, password).status == 303
    c.get("/dashboard/settings")
    return c


def create_api_key(c: Console) -> str:
    """A new API key made on the Settings page: the form redirects, and the page it leads to
    shows the key (once)."""
    made = c.post("/dashboard/keys")
    assert made.status == 303, made.body[:300]
    page = c.get(made.headers["location"])
    found = re.search(r'value="(ogm_live_\w+)"', page.body.decode())
    assert found
    return found.group(1)


PARAM = re.compile(r"<[^>]+>")


def dashboard_routes() -> list[tuple[str, str]]:
    """Every (method, path) the app's router serves under ``/dashboard``, path parameters
    filled with a placeholder: what the security tests walk, never a hand-kept list."""
    from sanic import Sanic

    from ogmint.app import create_app
    from ogmint.settings import Settings

    app = create_app(Settings.from_env({}))
    try:
        routes = {
            (method, "/" + PARAM.sub("x0", route.path))
            for route in app.router.routes
            if route.path.startswith("dashboard")
            for method in route.methods
        }
    finally:
        Sanic.unregister_app(app)
    return sorted(routes)

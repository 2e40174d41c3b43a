"""The dashboard against hostile visitors, over real HTTP on both backends (SPEC §7, §10): no
input of any shape gives a 500, every POST of the router needs its CSRF token, and the work a
user can make the server do without a render quota is bounded — previews (shared with the API),
webhook redeliveries, sign-in and change-password attempts, API keys."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterator
from itertools import count

import orjson
import pytest

from backends import RedisServer
from conftest import Server
from console import Console, create_api_key, dashboard_routes, invited, signed_in_console
from support import Reply, assert_error, request, until_admitted

PASSWORD = "correct horse battery"
CARD = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630" og:description="Budget card">
  <rect width="1200" height="630" fill="{{bg}}"/>
  <og:text field="title" x="80" y="170" width="1040" height="280" max-size="72" min-size="40"
           weight="700" max-lines="3" valign="middle"/>
</svg>
"""
#: Small budgets, so the tests reach them.
LIMITS = {
    "OGMINT_SIGN_IN_LIMIT_ACCOUNT": "3",
    "OGMINT_SIGN_IN_LIMIT_IP": "8",
    "OGMINT_PASSWORD_CHANGE_LIMIT": "3",
    "OGMINT_PREVIEW_LIMIT": "4",
    "OGMINT_REDELIVER_LIMIT": "3",
    "OGMINT_MAX_API_KEYS_PER_USER": "3",
}
ROUTES = dashboard_routes()
GETS = [path for method, path in ROUTES if method == "GET"]
POSTS = [path for method, path in ROUTES if method == "POST"]
#: Bytes that are not UTF-8 (a lone continuation byte, a truncated sequence, NUL).
NOT_UTF8 = ["\xff\xfe", "\xc3(", "\x80abc", "a\x00b"]
_names = count()
_addresses = count(1)


@pytest.fixture(scope="module", params=["embedded", "redis"])
def srv(request: pytest.FixtureRequest, server_factory: Callable[..., Server]) -> Iterator[Server]:
    env = {
        **LIMITS,
        "OGMINT_TRUSTED_PROXIES": "127.0.0.1",  # the tests play the proxy: X-Forwarded-For
        "OGMINT_OUTBOUND_ALLOW": "127.0.0.1",
    }
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        env |= redis.namespace()
    s = server_factory(**env)
    yield s
    s.stop()


def address() -> str:
    """A client address of its own (sign-in attempts are limited per address)."""
    n = next(_addresses)
    return f"10.77.{n // 250}.{n % 250 + 1}"


def user(srv: Server, *flags: str) -> tuple[Console, str]:
    """A signed-in console of a new account, from an address of its own; and the user name."""
    name = f"h{next(_names)}"
    headers = {"x-forwarded-for": address()}
    return signed_in_console(srv.url, srv.cli, name, PASSWORD, *flags, headers=headers), name


def raw_cookie(srv: Server, path: str, cookie: str, method: str = "GET") -> Reply:
    """``path`` with a Cookie header of arbitrary bytes (characters sent as Latin-1)."""
    return request(srv.url + path, method, {"cookie": cookie, "x-forwarded-for": address()})


# -- no 500s ------------------------------------------------------------------------------------
def test_the_router_has_the_dashboard_routes() -> None:
    assert "/dashboard/admin/users/x0/plan" in POSTS
    assert "/dashboard/settings" in GETS
    assert len(POSTS) >= 12


@pytest.mark.parametrize("junk", NOT_UTF8)
def test_cookies_that_are_not_utf8_are_ignored(srv: Server, junk: str) -> None:
    for name in ("ogmint_session", "ogmint_form"):
        for path in GETS:
            reply = raw_cookie(srv, path, f"{name}={junk}")
            assert reply.status < 500, (name, path, reply.status, reply.body[:200])
        for path in POSTS:
            reply = raw_cookie(srv, path, f"{name}={junk}", "POST")
            assert reply.status < 500, (name, path, reply.status, reply.body[:200])
    signed_out = raw_cookie(srv, "/dashboard/settings", f"ogmint_session={junk}")
    assert signed_out.status == 200  # after the redirect to the sign-in form
    assert b">Sign in</button>" in signed_out.body
    form = raw_cookie(srv, "/dashboard/sign-in", f"ogmint_form={junk}")
    assert form.status == 200
    assert re.search(r"ogmint_form=[A-Za-z0-9_-]{16,}", form.headers["set-cookie"])  # a new one


def test_form_fields_that_are_not_utf8_are_refused_or_ignored(srv: Server) -> None:
    c, _ = user(srv, "--admin")
    junk = "%FF%FE%C3%28%00"
    names = ("email", "password", "current", "svg", "name", "id", "title", "plan", "action")
    for path in sorted(POSTS, key=lambda p: p == "/dashboard/sign-out"):  # signing out last
        body = "&".join(f"{n}={junk}" for n in names) + "&csrf=" + c.csrf
        for sent in (body, body.replace(c.csrf, junk)):
            reply = c.post_raw(path, sent.encode())
            assert reply.status < 500, (path, reply.status, reply.body[:200])
        c.get("/dashboard/settings")


def test_playground_with_sizes_a_render_refuses_is_no_500(srv: Server) -> None:
    # Review 2026-12: size=²x300 or scale=² (digits to str.isdigit, not to int) was a 500 on
    # the templates page and playground.json; now the form shows the render's 400 message.
    c, _ = user(srv)
    for odd in ({"size": "²x300"}, {"scale": "²"}, {"size": "٣٠٠x٣٠٠"}, {"scale": "99999999"}):
        query = urllib.parse.urlencode({"template": "blog", "title": "Odd", **odd})
        page = c.get("/dashboard/templates?" + query)
        assert page.status == 200, (odd, page.status, page.body[:200])
        shown = c.get("/dashboard/playground.json?" + query)
        assert shown.status == 200, (odd, shown.status, shown.body[:200])
        body = orjson.loads(shown.body)
        assert (body["width"], body["height"]) == (1200, 630)
        assert next(iter(odd)) in body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/static/",
        "/dashboard/static/%00",
        "/dashboard/static/..%2fpages.py",
        "/dashboard/static/templates/",
        "/dashboard/static/%ff",
        "/dashboard/static",
    ],
)
def test_static_paths_outside_the_files_are_404(srv: Server, path: str) -> None:
    assert_error(request(srv.url + path), 404)


def test_static_files_are_served(srv: Server) -> None:
    for name, kind in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")):
        reply = request(f"{srv.url}/dashboard/static/{name}")
        assert reply.status == 200
        assert reply.headers["content-type"].startswith(kind)
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert request(f"{srv.url}/dashboard/static/{name}", "HEAD").status == 200
        since = {"If-Modified-Since": reply.headers["last-modified"]}
        assert request(f"{srv.url}/dashboard/static/{name}", headers=since).status == 304


# -- CSRF on every POST the router has ----------------------------------------------------------
def test_every_post_of_the_router_needs_the_csrf_token(srv: Server) -> None:
    admin, name = user(srv, "--admin")
    create_api_key(admin)
    settings = admin.get("/dashboard/settings").body
    for path in POSTS:
        path = path.replace("/users/x0/", f"/users/{name}/")
        for fields, label in (({"csrf": "forged" * 4}, "forged"), ({}, "missing")):
            reply = admin.post(path, {**fields, "plan": "agency"}, csrf=False)
            assert reply.status == 403, (path, label, reply.status)
            assert reply.json()["code"] == "csrf_failed"
    admin.get("/dashboard/settings")
    assert admin.get("/dashboard/settings").body.count(b"/revoke") == settings.count(b"/revoke")
    assert b"Plan <strong>free</strong>" in admin.get("/dashboard/settings").body


# -- sign-in: per (address, account) and per address, never per account alone -----------------
def test_guessing_from_one_address_does_not_lock_the_owner_out(srv: Server) -> None:
    _, name = user(srv)
    email = f"{name}@example.com"
    attacker = address()

    def attempt(password: str, source: str, who: str = email) -> int:
        c = Console(srv.url, {"x-forwarded-for": source})
        return c.sign_in(who, password).status

    assert [attempt("wrong guess!!", attacker) for _ in range(4)] == [401, 401, 401, 429]
    assert attempt(PASSWORD, attacker) == 429  # this pair waits, even with the right password
    assert attempt(PASSWORD, address()) == 303  # the owner, elsewhere, signs in
    assert attempt("wrong guess!!", address()) == 401  # another address has its own pair
    # The attacker's address: three tokens taken (the refused tries stopped at the pair's
    # bucket); five more guesses at other accounts use up its eight.
    others = [attempt("guess guess", attacker, f"x{i}-{name}@example.com") for i in range(6)]
    assert others == [401] * 5 + [429]


# -- change password ----------------------------------------------------------------------------
def test_change_password_attempts_are_limited(srv: Server) -> None:
    c, name = user(srv)
    for _ in range(3):
        wrong = c.post("/dashboard/password", {"current": "not it at all", "password": "x" * 12})
        assert wrong.headers["location"].endswith("error=current")
        c.get("/dashboard/settings")
    right = c.post("/dashboard/password", {"current": PASSWORD, "password": "a new passphrase"})
    assert right.headers["location"].endswith("error=attempts")
    page = c.get(right.headers["location"]).body.decode()
    assert "Too many attempts to change the password" in page
    # Nothing changed: the old password still signs in, the new one does not.
    assert (
        Console(srv.url, {"x-forwarded-for": address()})
        .sign_in(f"{name}@example.com", PASSWORD)
        .status
        == 303
    )
    assert (
        Console(srv.url, {"x-forwarded-for": address()})
        .sign_in(f"{name}@example.com", "a new passphrase")
        .status
        == 401
    )


# -- previews: one budget per user, API and dashboard -------------------------------------------
def api_preview(srv: Server, key: str) -> Reply:
    body = orjson.dumps({"svg": CARD, "title": "Preview"})
    headers = {"x-api-key": key, "content-type": "application/json"}
    return until_admitted(
        lambda: request(srv.url + "/api/v2/templates/preview", "POST", headers, body)
    )


def test_previews_share_one_bounded_budget(srv: Server) -> None:
    c, _ = user(srv)
    key = create_api_key(c)
    c.get("/dashboard/templates/new")
    picture = "/dashboard/preview.png?template=blog&title=Budget"
    made = [
        api_preview(srv, key),
        c.get(picture),
        c.post("/dashboard/templates/preview", {"svg": CARD}),
        api_preview(srv, key),
    ]
    assert [(r.status, r.headers["content-type"]) for r in made] == [(200, "image/png")] * 4
    # The four were one allowance: every kind of preview is refused now.
    for refused in (
        api_preview(srv, key),
        c.get(picture),
        c.post("/dashboard/templates/preview", {"svg": CARD}),
    ):
        body = assert_error(refused, 429)
        assert "Preview limit of 4 previews per hour" in body["error"]
        assert int(refused.headers["retry-after"]) > 0
    page = c.post("/dashboard/templates/save", {"svg": CARD, "action": "preview"})
    assert page.status == 429
    assert "Preview limit of 4 previews per hour" in page.body.decode()
    assert b"data:image/png" not in page.body
    # Saving is no preview; another user has an allowance of their own.
    assert c.post("/dashboard/templates/save", {"svg": CARD, "name": "Kept"}).status == 303
    other, _ = user(srv)
    assert other.get(picture).status == 200


# -- redeliveries -------------------------------------------------------------------------------
def test_redeliveries_are_bounded_across_api_and_dashboard(srv: Server) -> None:
    c, _ = user(srv)
    key = create_api_key(c)
    headers = {"x-api-key": key, "content-type": "application/json"}
    body = {"template": "blog", "title": "Hooked", "webhookUrl": "https://127.0.0.1:9/hook"}
    made = until_admitted(
        lambda: request(srv.url + "/api/v2/render", "POST", headers, orjson.dumps(body))
    )
    assert made.status == 201, made.body
    slug = made.json()["slug"]
    listed = until_admitted(
        lambda: request(f"{srv.url}/api/v2/renders/{slug}/deliveries", headers={"x-api-key": key})
    )
    delivery = listed.json()["deliveries"][0]["id"]
    api = f"{srv.url}/api/v2/renders/{slug}/deliveries/{delivery}/redeliver"
    page = f"/dashboard/renders/{slug}/deliveries/{delivery}/redeliver"

    def by_api() -> Reply:
        return until_admitted(lambda: request(api, "POST", {"x-api-key": key}))

    assert [by_api().status, c.post(page).status, by_api().status] == [202, 303, 202]
    c.get("/dashboard/renders")
    refused = assert_error(by_api(), 429)
    assert "Redelivery limit of 3 per hour" in refused["error"]
    over = c.post(page)
    assert over.status == 429
    assert int(over.headers["retry-after"]) > 0
    assert 'role="alert">Redelivery limit of 3 per hour reached' in over.body.decode()


# -- API keys per user --------------------------------------------------------------------------
def key_ids(page: Reply) -> list[str]:
    return re.findall(r"/dashboard/keys/(key_\w+)/revoke", page.body.decode())


def test_api_keys_per_user_are_bounded(srv: Server) -> None:
    c, name = user(srv)
    for _ in range(3):
        create_api_key(c)
    refused = c.post("/dashboard/keys")
    assert refused.status == 409
    assert 'role="alert">At most 3 active API keys per user; revoke one first<' in (
        refused.body.decode()
    )
    assert not re.search(r'value="ogm_live_', refused.body.decode())
    with pytest.raises(RuntimeError, match="At most 3 active API keys"):
        srv.cli("keys", "create", "--user", name)
    c.get("/dashboard/settings")
    first = key_ids(c.get("/dashboard/settings"))[0]
    assert c.post(f"/dashboard/keys/{first}/revoke").status == 303
    assert srv.create_key(name).startswith("ogm_live_")  # a revoked key frees its place
    c.get("/dashboard/settings")
    assert c.post("/dashboard/keys").status == 409
    assert len(key_ids(c.get("/dashboard/settings"))) == 3
    # Another user's bound is their own.
    other = f"h{next(_names)}"
    for _ in range(3):
        srv.create_key(other)


# -- the admin page, and the Usage page's V1 and V2 counts --------------------------------------
def test_admin_page_shows_each_users_keys_and_usage(srv: Server) -> None:
    c, name = user(srv)
    key = create_api_key(c)
    c.get("/dashboard/settings")
    create_api_key(c)
    headers = {"x-api-key": key, "content-type": "application/json"}
    for title in ("One", "Two", "Three", "One"):  # three new V2 renders and a dedup hit
        payload = orjson.dumps({"template": "blog", "title": title})
        reply = until_admitted(
            lambda p=payload: request(srv.url + "/api/v2/render", "POST", headers, p)
        )
        assert reply.status in (200, 201), reply.body
    for title in ("V1 a", "V1 b"):
        v1 = until_admitted(
            lambda t=title: request(
                srv.url + "/api/og?template=docs&title=" + urllib.parse.quote(t),
                headers={"x-api-key": key},
            )
        )
        assert v1.status == 200
    usage = c.get("/dashboard/usage").body.decode()
    assert "(2 V1, 3 V2; 1 dedup hits" in usage
    assert "<strong>5</strong> of" in usage
    admin, _ = user(srv, "--admin")
    page = admin.get("/dashboard/admin").body.decode()
    assert "built-in method" not in page
    found = cells(page, name)
    assert found.pop("Plan").startswith(f"Plan of {name} ")
    assert found == {
        "User": f"{name} {name}@example.com",
        "Status": "active",
        "Active keys": "2",
        "Renders this month": "5 / 100",
    }
    email, _ = invited(srv.cli, f"h{next(_names)}")  # an account without keys yet
    page = admin.get("/dashboard/admin").body.decode()
    found = cells(page, email.split("@")[0])
    assert (found["Status"], found["Active keys"], found["Renders this month"]) == (
        "invited",
        "0",
        "0 / 100",
    )


def cells(page: str, user: str) -> dict[str, str]:
    """The admin page's row of ``user``: each labelled cell's text, tags dropped."""
    row = page[page.index(f"<strong>{user}</strong>") :]
    row = row[: row.index("</tr>")]
    found = re.findall(
        r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', '<td data-label="User">' + row, re.S
    )
    return {label: " ".join(re.sub(r"<[^>]+>", " ", html).split()) for label, html in found}

"""The dashboard over real HTTP, without a browser or JavaScript, on both backends: accounts,
sessions, CSRF, cookies, security headers, sign-in limits, and authorization route by route."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from itertools import count

import orjson
import pytest

from backends import RedisServer
from conftest import Server
from console import Console, create_api_key, dashboard_routes, invite_path
from support import Reply, request

PASSWORD = "correct horse battery"
CARD = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630" og:description="Alice's card">
  <rect width="1200" height="630" fill="{{bg}}"/>
  <og:text field="title" x="80" y="170" width="1040" height="280" max-size="72" min-size="40"
           weight="700" max-lines="3" valign="middle"/>
</svg>
"""
PAGES = [
    "/dashboard/settings",
    "/dashboard/usage",
    "/dashboard/renders",
    "/dashboard/templates",
    "/dashboard/api",
]
NAV = ["Settings", "Usage", "Renders", "Templates", "API"]
_names = count()


@pytest.fixture(scope="module", params=["embedded", "redis"])
def srv(request: pytest.FixtureRequest, server_factory: Callable[..., Server]) -> Server:
    env = {
        "OGMINT_SIGN_IN_LIMIT_IP": "10000",
        "OGMINT_SIGN_IN_LIMIT_ACCOUNT": "10000",
        "OGMINT_TRUSTED_PROXIES": "127.0.0.1",  # the tests play the proxy
    }
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        env["OGMINT_REDIS_URL"] = redis.url + "/13"
    return server_factory(**env)


def new_user(srv: Server, *flags: str) -> tuple[str, str, str]:
    """A new account (name, e-mail, invite path); names are unique across both backends."""
    name = f"u{next(_names)}"
    out = srv.cli("users", "create", name, "--email", f"{name.upper()}@Example.com", *flags)
    return name, f"{name}@example.com", invite_path(out)


def signed_in(srv: Server, *flags: str) -> tuple[Console, str]:
    """A console signed in as a fresh user whose password was set through the invite."""
    name, email, link = new_user(srv, *flags)
    c = Console(srv.url)
    c.get(link)
    assert c.post(link, {"password": PASSWORD}).status == 303
    assert c.sign_in(email, PASSWORD).status == 303
    c.get("/dashboard/settings")  # picks up the session's CSRF token
    return c, name


def api_key(c: Console) -> str:
    return create_api_key(c)


def key_ids(page: Reply) -> list[str]:
    return re.findall(r"/dashboard/keys/(key_\w+)/revoke", page.body.decode())


def v2(srv: Server, key: str, **body: object) -> Reply:
    payload = orjson.dumps({"template": "blog", "title": "Dash", **body})
    headers = {"x-api-key": key, "content-type": "application/json"}
    return request(srv.url + "/api/v2/render", "POST", headers, payload)


# -- signed out ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [*PAGES, "/dashboard", "/dashboard/admin"])
def test_signed_out_pages_lead_to_sign_in(srv: Server, path: str) -> None:
    c = Console(srv.url)
    reply = c.get(path)
    for _ in range(2):  # /dashboard goes to Settings first
        assert reply.status == 303
        if reply.headers["location"].startswith("/dashboard/sign-in"):
            break
        reply = c.get(reply.headers["location"])
    assert reply.headers["location"].startswith("/dashboard/sign-in")
    assert c.get(reply.headers["location"]).status == 200


def test_sign_in_form_and_headers(srv: Server) -> None:
    c = Console(srv.url)
    page = c.get("/dashboard/sign-in")
    assert page.status == 200
    html = page.body.decode()
    for label in ('for="email">Email<', 'for="password">Password<', ">Sign in</button>"):
        assert label in html
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in html  # only the external file
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP, no proxy saying otherwise


def test_static_files_are_local(srv: Server) -> None:
    for name, kind in (("dashboard.css", "text/css"), ("dashboard.js", "javascript")):
        reply = request(f"{srv.url}/dashboard/static/{name}")
        assert reply.status == 200
        assert kind in reply.headers["content-type"]
        assert b"http://" not in reply.body
        assert b"https://" not in reply.body


# -- accounts and sessions ----------------------------------------------------------------------
def test_invite_sets_password_once_then_sign_in(srv: Server) -> None:
    _, email, link = new_user(srv)
    c = Console(srv.url)
    page = c.get(link)
    assert page.status == 200
    assert b'for="password">New password<' in page.body
    assert b">Set password</button>" in page.body
    assert c.post(link, {"password": "short"}).status == 400
    assert c.post(link, {"password": PASSWORD}).status == 303
    assert c.get(link).status == 404  # used up
    assert c.post(link, {"password": "another password"}).status == 404
    reply = c.sign_in(email.upper(), PASSWORD)
    assert reply.status == 303
    assert reply.headers["location"] == "/dashboard"  # it sends a first visit to Getting started
    session = reply.headers["set-cookie"]
    assert session.startswith("ogmint_session=")
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session
    settings = c.get("/dashboard/settings")
    assert settings.status == 200
    assert email.encode() in settings.body


def test_reset_link_replaces_the_invite(srv: Server) -> None:
    name, email, invite = new_user(srv)
    reset = invite_path(srv.cli("users", "reset", name))
    c = Console(srv.url)
    assert c.get(invite).status == 404
    c.get(reset)
    assert c.post(reset, {"password": PASSWORD}).status == 303
    assert c.sign_in(email, PASSWORD).status == 303


def test_cli_refuses_duplicates_and_unknown_users(srv: Server) -> None:
    name, email, _ = new_user(srv)
    with pytest.raises(RuntimeError, match="already has an account"):
        srv.cli("users", "create", name, "--email", "other@example.com")
    with pytest.raises(RuntimeError, match="already has an account"):
        srv.cli("users", "create", "fresh-name-x", "--email", email)
    with pytest.raises(RuntimeError, match="no account"):
        srv.cli("users", "reset", "nobody-here")


def test_wrong_password_and_unknown_email_look_the_same(srv: Server) -> None:
    _, name = signed_in(srv)
    known = Console(srv.url).sign_in(f"{name}@example.com", "wrong password!")
    unknown = Console(srv.url).sign_in("nobody@example.com", "wrong password!")
    assert known.status == unknown.status == 401
    message = re.compile(rb'role="alert">([^<]+)<')
    assert message.findall(known.body) == message.findall(unknown.body)
    assert message.findall(known.body) == [b"Email or password is incorrect"]


def test_sign_out_ends_the_session(srv: Server) -> None:
    c, _ = signed_in(srv)
    token = c.cookie("ogmint_session")
    assert token
    c.get("/dashboard/settings")
    assert c.post("/dashboard/sign-out").status == 303
    thief = Console(srv.url, {"cookie": f"ogmint_session={token}"})
    assert thief.get("/dashboard/settings").status == 303


def test_password_change_ends_other_sessions(srv: Server) -> None:
    c, name = signed_in(srv)
    other = Console(srv.url)
    assert other.sign_in(f"{name}@example.com", PASSWORD).status == 303
    c.get("/dashboard/settings")
    wrong = c.post("/dashboard/password", {"current": "not it at all", "password": "x" * 12})
    assert wrong.headers["location"].endswith("error=current")
    c.get("/dashboard/settings")
    done = c.post("/dashboard/password", {"current": PASSWORD, "password": "a new passphrase"})
    assert done.headers["location"].endswith("changed=password")
    assert c.get("/dashboard/settings").status == 200  # this session stays
    assert other.get("/dashboard/settings").status == 303  # the other one ended
    assert Console(srv.url).sign_in(f"{name}@example.com", PASSWORD).status == 401
    assert Console(srv.url).sign_in(f"{name}@example.com", "a new passphrase").status == 303


# -- CSRF ---------------------------------------------------------------------------------------
def test_every_post_needs_the_csrf_token(srv: Server) -> None:
    c, _ = signed_in(srv)
    c.get("/dashboard/settings")
    posts = [path for method, path in dashboard_routes() if method == "POST"]  # the router's
    assert "/dashboard/admin/users/x0/plan" in posts
    for path in posts:
        assert c.post(path, {"csrf": "forged"}).status == 403, path
        assert c.post(path, csrf=False).status == 403, path
    assert key_ids(c.get("/dashboard/settings")) == []  # nothing was created
    # Signed-out forms: the token must match the form cookie.
    fresh = Console(srv.url)
    fresh.get("/dashboard/sign-in")
    forged = fresh.post("/dashboard/sign-in", {"email": "a@b.c", "password": "x", "csrf": "no"})
    assert forged.status == 403
    assert forged.json()["code"] == "csrf_failed"


def test_secure_cookie_behind_a_trusted_https_proxy(srv: Server) -> None:
    # The test server trusts 127.0.0.1 as its proxy, so its header counts.
    c = Console(srv.url, {"x-forwarded-proto": "https"})
    page = c.get("/dashboard/sign-in")
    assert "Secure" in page.headers["set-cookie"]
    assert page.headers["strict-transport-security"].startswith("max-age=")


def test_forwarded_proto_from_an_untrusted_peer_is_ignored(
    server_factory: Callable[..., Server],
) -> None:
    srv = server_factory(OGMINT_TRUSTED_PROXIES="10.9.9.9")
    page = Console(srv.url, {"x-forwarded-proto": "https"}).get("/dashboard/sign-in")
    assert "Secure" not in page.headers["set-cookie"]
    assert "strict-transport-security" not in page.headers


def test_sign_in_is_rate_limited_per_account_and_per_ip(
    server_factory: Callable[..., Server],
) -> None:
    srv = server_factory(OGMINT_SIGN_IN_LIMIT_ACCOUNT="3", OGMINT_SIGN_IN_LIMIT_IP="6")
    _, email, link = new_user(srv)
    c = Console(srv.url)
    c.get(link)
    c.post(link, {"password": PASSWORD})
    statuses = [Console(srv.url).sign_in(email, "wrong guess!!").status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = Console(srv.url).sign_in(email, PASSWORD)  # even the right password waits
    assert limited.status == 429
    assert int(limited.headers["retry-after"]) > 0
    # Three attempts took IP tokens (the refused ones stopped at the account's bucket); three
    # more, at unknown addresses (answered like known ones), use up the IP's six.
    others = [Console(srv.url).sign_in(f"x{i}@example.com", "guess guess").status for i in range(4)]
    assert others == [401, 401, 401, 429]


# -- custom templates -----------------------------------------------------------------------------
def test_template_editor_shows_errors_at_their_line(srv: Server) -> None:
    c, _ = signed_in(srv)
    c.get("/dashboard/templates/new")
    broken = CARD.replace("  <rect", "  <script>x</script>\n  <rect", 1)
    refused = c.post("/dashboard/templates/save", {"svg": broken, "name": "Broken"})
    assert refused.status == 400
    html = refused.body.decode()
    assert '<a href="#line-3">Line 3</a>' in html
    assert re.search(r'<span id="line-3" class="bad">.*&lt;script&gt;', html)
    editor = html[html.index('id="tpl-svg"') :]
    assert "&lt;script&gt;x&lt;/script&gt;" in editor[: editor.index("</textarea>")]  # to fix
    preview = c.post("/dashboard/templates/save", {"svg": CARD, "action": "preview"})
    assert preview.status == 200
    assert b'src="data:image/png;base64,' in preview.body
    live = c.post("/dashboard/templates/preview", {"svg": CARD, "title": "Live"})
    assert live.status == 200
    assert live.headers["content-type"] == "image/png"
    saved = c.post("/dashboard/templates/save", {"svg": CARD, "name": "Mine"})
    assert saved.status == 303
    template_id = saved.headers["location"].split("/")[-1].split("?")[0]
    page = c.get(f"/dashboard/templates/{template_id}").body.decode()
    assert "Mine" in page
    assert "<summary>Delete template</summary>" in page  # asked twice
    assert c.post(f"/dashboard/templates/{template_id}/delete").status == 303
    assert f"Template {template_id} deleted." in c.get("/dashboard/templates").body.decode()
    assert c.get(f"/dashboard/templates/{template_id}").status == 404


# -- pages without JavaScript -------------------------------------------------------------------
def test_every_page_answers_without_javascript(srv: Server) -> None:
    c, _ = signed_in(srv)
    for path in PAGES:
        page = c.get(path)
        assert page.status == 200, path
        html = page.body.decode()
        for label in NAV:
            assert f">{label}</a>" in html, (path, label)
        assert ">Sign out</button>" in html
        assert 'name="csrf"' in html
    settings = c.get("/dashboard/settings").body.decode()
    assert ">Create API key</button>" in settings
    templates = c.get("/dashboard/templates").body.decode()
    assert "/dashboard/preview.png?" in templates
    assert "<meta property=&#34;og:image&#34;" in templates or "og:image" in templates
    assert "curl -X POST" in templates


def test_keys_are_shown_once_listed_and_revoked(srv: Server) -> None:
    c, _ = signed_in(srv)
    key = api_key(c)
    page = c.get("/dashboard/settings")
    assert key.encode() not in page.body  # shown once
    [key_id] = key_ids(page)
    assert v2(srv, key).status == 201
    assert c.post(f"/dashboard/keys/{key_id}/revoke").status == 303
    assert key_ids(c.get("/dashboard/settings")) == []
    assert v2(srv, key, title="after revoke").status == 401


def test_renders_and_usage_are_tracked(srv: Server) -> None:
    c, _ = signed_in(srv)
    key = api_key(c)
    first = v2(srv, key, title="Tracked one")
    assert first.status == 201
    slug = first.json()["slug"]
    assert v2(srv, key, title="Tracked one").status == 200  # a dedup hit
    v1 = request(srv.url + "/api/og?template=docs&title=Tracked+V1", headers={"x-api-key": key})
    assert v1.status == 200
    # A keyed V1 render that fails (the avatar's address is refused) is listed, not counted.
    bad = "/api/og?template=blog&title=Failed+V1&avatar=https%3A%2F%2F10.0.0.1%2Fa.png"
    assert request(srv.url + bad, headers={"x-api-key": key}).status == 400
    renders = c.get("/dashboard/renders").body.decode()
    failed = renders[renders.index("Failed V1") :]
    assert "status 400" in failed[: failed.index("</li>")]
    assert f'src="/i/{slug}"' in renders
    assert "Tracked V1" in renders
    assert renders.index("Tracked V1") < renders.index("Tracked one")  # newest first
    usage = c.get("/dashboard/usage").body.decode()
    assert "<svg" in usage
    assert "(1 V1, 1 V2; 1 dedup hits" in usage
    assert "<strong>2</strong> of" in usage


# -- authorization: another user's things are 404 -----------------------------------------------
def test_another_users_things_are_not_found(srv: Server) -> None:
    alice, _ = signed_in(srv)
    key = api_key(alice)
    [alice_key] = key_ids(alice.get("/dashboard/settings"))
    slug = v2(srv, key, title="Alice only").json()["slug"]
    alice.get("/dashboard/templates/new")
    saved = alice.post("/dashboard/templates/save", {"svg": CARD, "name": "Alice only"})
    assert saved.status == 303, saved.body[:300]
    template_id = saved.headers["location"].split("/")[-1].split("?")[0]
    bob, _ = signed_in(srv)
    bob.get("/dashboard/settings")
    assert bob.post(f"/dashboard/keys/{alice_key}/revoke").status == 404
    # Alice's custom template: not to be seen, edited, deleted or drawn by bob.
    assert bob.get(f"/dashboard/templates/{template_id}").status == 404
    changed = bob.post("/dashboard/templates/save", {"svg": CARD, "id": template_id})
    assert changed.status == 404
    assert bob.post(f"/dashboard/templates/{template_id}/delete").status == 404
    assert bob.get(f"/dashboard/preview.png?template={template_id}&title=x").status == 404
    assert alice.get(f"/dashboard/templates/{template_id}").status == 200
    assert template_id.encode() in alice.get("/dashboard/templates").body
    assert key_ids(alice.get("/dashboard/settings")) == [alice_key]
    assert bob.post(f"/dashboard/renders/{slug}/deliveries/whatever/redeliver").status == 404
    for path in PAGES:
        html = bob.get(path).body
        assert slug.encode() not in html
        assert alice_key.encode() not in html
        assert template_id.encode() not in html
        assert b"Alice only" not in html
    # Alice's signing key: bob cannot revoke it, and never sees it.
    alice.get("/dashboard/settings")
    made = alice.get(alice.post("/dashboard/signing-keys").headers["location"]).body.decode()
    kid = re.search(r"(sk_[0-9A-Za-z]{12})", made)
    assert kid, made[:500]
    bob.get("/dashboard/settings")
    assert bob.post(f"/dashboard/signing-keys/{kid.group(1)}/revoke").status == 404
    assert kid.group(1).encode() not in bob.get("/dashboard/settings").body
    assert kid.group(1).encode() in alice.get("/dashboard/settings").body
    # Not an admin: the admin pages do not exist for bob.
    assert bob.get("/dashboard/admin").status == 404
    assert bob.post("/dashboard/admin/users/x/plan", {"plan": "pro"}).status == 404


def test_admin_sees_users_and_sets_plans(srv: Server) -> None:
    user, name = signed_in(srv)
    api_key(user)
    admin, _ = signed_in(srv, "--admin")
    page = admin.get("/dashboard/admin")
    assert page.status == 200
    assert f"{name}@example.com".encode() in page.body
    assert admin.post(f"/dashboard/admin/users/{name}/plan", {"plan": "agency"}).status == 303
    assert b"Plan <strong>agency</strong>" in user.get("/dashboard/settings").body
    assert admin.post(f"/dashboard/admin/users/{name}/plan", {"plan": "gold"}).status == 400
    assert admin.post("/dashboard/admin/users/nobody-x/plan", {"plan": "pro"}).status == 404


def test_admin_plans_are_the_settings(server_factory: Callable[..., Server]) -> None:
    # A plan OGMINT_PLAN_QUOTAS adds is offered and assignable; one it leaves out is not.
    srv = server_factory(OGMINT_PLAN_QUOTAS="free=100,platinum=7")
    user, name = signed_in(srv)
    api_key(user)
    admin, _ = signed_in(srv, "--admin")
    assert b"platinum" in admin.get("/dashboard/admin").body
    assert admin.post(f"/dashboard/admin/users/{name}/plan", {"plan": "platinum"}).status == 303
    assert b"Plan <strong>platinum</strong>" in user.get("/dashboard/settings").body
    assert admin.post(f"/dashboard/admin/users/{name}/plan", {"plan": "pro"}).status == 400


# -- issue 25: post/redirect/get, confirmations, readable times, favicon, admin ----------------
def test_creating_a_key_redirects_and_a_reload_makes_no_second_key(srv: Server) -> None:
    c, _ = signed_in(srv)
    made = c.post("/dashboard/keys")
    assert made.status == 303
    assert made.headers["location"] == "/dashboard/settings"
    assert b"ogm_live_" not in made.body and "ogm_live_" not in made.headers["location"]
    page = c.get("/dashboard/settings").body.decode()
    key = re.search(r'value="(ogm_live_\w+)"', page)
    assert key and 'aria-label="New API key"' in page
    # Reloading the page after the redirect is a GET: no new key, and the secret is gone.
    again = c.get("/dashboard/settings").body.decode()
    assert key.group(1) not in again
    assert len(key_ids(c.get("/dashboard/settings"))) == 1
    # The same for signing keys; from Getting started the form comes back there.
    signing = c.post("/dashboard/signing-keys", {"next": "/dashboard/start"})
    assert signing.status == 303 and signing.headers["location"] == "/dashboard/start"
    start = c.get("/dashboard/start").body.decode()
    assert 'aria-label="New signing secret"' in start and "ogm_sign_" in start
    assert "ogm_sign_" not in c.get("/dashboard/start").body.decode()
    assert c.get("/dashboard/settings").body.decode().count("Revoke signing key") == 1


def test_confirmations_follow_each_change(srv: Server) -> None:
    _, email, link = new_user(srv)
    c = Console(srv.url)
    c.get(link)
    done = c.post(link, {"password": PASSWORD})
    assert done.headers["location"] == "/dashboard/sign-in?set=1"
    assert 'role="status">Password set' in c.get("/dashboard/sign-in?set=1").body.decode()
    assert "Password set" not in c.get("/dashboard/sign-in").body.decode()
    assert c.sign_in(email, PASSWORD).status == 303
    c.get("/dashboard/settings")
    api_key(c)
    [key_id] = key_ids(c.get("/dashboard/settings"))
    assert c.post(f"/dashboard/keys/{key_id}/revoke").status == 303
    assert f"API key {key_id} revoked" in c.get("/dashboard/settings").body.decode()
    c.get("/dashboard/templates/new")
    saved = c.post("/dashboard/templates/save", {"svg": CARD, "name": "Confirmed"})
    assert saved.headers["location"].endswith("?saved=1")
    assert 'role="status">Template saved' in c.get(saved.headers["location"]).body.decode()


def test_first_visit_lands_on_getting_started(srv: Server) -> None:
    _, email, link = new_user(srv)
    c = Console(srv.url)
    c.get(link)
    c.post(link, {"password": PASSWORD})
    c.get("/dashboard/sign-in")
    signed = c.post("/dashboard/sign-in", {"email": email, "password": PASSWORD})
    assert signed.headers["location"] == "/dashboard"
    assert c.get("/dashboard").headers["location"] == "/dashboard/start"
    start = c.get("/dashboard/start").body.decode()
    assert start.count('class="step done"') == 0
    assert ">Create API key</button>" in start
    made = c.post("/dashboard/keys", {"next": "/dashboard/start"})
    assert made.headers["location"] == "/dashboard/start"
    page = c.get("/dashboard/start").body.decode()
    key = re.search(r'value="(ogm_live_\w+)"', page)
    assert key
    assert f"x-api-key: {key.group(1)}" in page  # the curl is filled in while it is shown
    assert page.count('class="step done"') == 1
    assert v2(srv, key.group(1), title="First card").status == 201
    assert c.get("/dashboard/start").body.decode().count('class="step done"') == 2
    assert c.get("/dashboard").headers["location"] == "/dashboard/settings"


def test_times_are_in_words_and_numbers_have_separators(srv: Server) -> None:
    c, name = signed_in(srv)
    api_key(c)
    settings = c.get("/dashboard/settings").body.decode()
    when = r'<time datetime="\d{4}-\d\d-\d\dT[^"]+Z" title="[^"]+ UTC">just now</time>'
    assert re.search(when, settings)
    srv.cli("plans", "set", name, "agency")
    assert "of 50,000 renders" in c.get("/dashboard/settings").body.decode()
    assert "of 50,000 renders" in c.get("/dashboard/usage").body.decode()


def test_every_page_names_its_icon_and_the_icon_is_served(srv: Server) -> None:
    c, _ = signed_in(srv)
    for path in [*PAGES, "/dashboard/start", "/dashboard/templates/new"]:
        assert 'rel="icon" href="/dashboard/static/favicon.svg"' in c.get(path).body.decode()
    for path in ("/dashboard/static/favicon.svg", "/favicon.ico"):
        icon = request(srv.url + path)
        assert icon.status == 200, path
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.body.startswith(b"<svg")


def test_admin_page_content_invite_and_disable(srv: Server) -> None:
    user, name = signed_in(srv)
    key = api_key(user)
    assert v2(srv, key, title="Counted").status == 201
    admin, admin_name = signed_in(srv, "--admin")
    page = admin.get("/dashboard/admin").body.decode()
    assert "built-in method" not in page and "<built-in" not in page
    row = page[page.index(f"<strong>{name}</strong>") :]
    row = row[: row.index("</tr>")]
    assert 'data-label="Active keys" class="num">1<' in row
    assert 'data-label="Renders this month" class="num">1 <' in row
    # Invite: the link is on the next page, once; it works.
    invited = admin.post(
        "/dashboard/admin/users", {"user": f"{name}x", "email": f"{name}x@example.com"}
    )
    assert invited.status == 303
    shown = admin.get("/dashboard/admin").body.decode()
    found = re.search(r'value="(http://[^"]+/dashboard/password/[^"]+)"', shown)
    assert found, shown[:2000]
    assert found.group(1) not in admin.get("/dashboard/admin").body.decode()
    path = "/dashboard/password/" + found.group(1).split("/dashboard/password/")[1]
    assert Console(srv.url).get(path).status == 200
    bad = admin.post("/dashboard/admin/users", {"user": f"{name}x", "email": "other@example.com"})
    assert bad.status == 400 and 'role="alert"' in bad.body.decode()
    # Disable (asked twice, saying what it revokes): signed out, keys refused.
    assert admin.post(f"/dashboard/admin/users/{name}/plan", {"plan": "pro"}).status == 303
    page = admin.get("/dashboard/admin").body.decode()
    row = page[page.index(f"<strong>{name}</strong>") :]
    row = row[: row.index("</tr>")]
    assert "<summary>Disable</summary>" in row and "revokes their 1 API keys" in row
    assert "does not restore those keys" in row
    assert admin.post(f"/dashboard/admin/users/{name}/disable").status == 303
    assert "1 keys revoked for good" in admin.get("/dashboard/admin").body.decode()
    assert user.get("/dashboard/settings").status == 303
    assert v2(srv, key, title="After disabling").status == 401
    assert user.sign_in(f"{name}@example.com", PASSWORD).status == 401
    assert admin.post(f"/dashboard/admin/users/{admin_name}/disable").status == 400  # not yourself
    assert admin.post("/dashboard/admin/users/nobody-x/disable").status == 404
    # Enable: they sign in again on their plan; the old keys stay revoked, and the admin is told.
    assert admin.post(f"/dashboard/admin/users/{name}/enable").status == 303
    told = admin.get("/dashboard/admin").body.decode()
    assert f"{name} may sign in again, still on the pro plan" in told
    assert "stay revoked" in told
    assert v2(srv, key, title="After enabling").status == 401
    assert user.sign_in(f"{name}@example.com", PASSWORD).status == 303
    assert user.get("/dashboard").headers["location"] == "/dashboard/start"  # no key: make one
    settings = user.get("/dashboard/settings").body.decode()
    assert "No active keys" in settings and "Plan <strong>pro</strong>" in settings
    assert user.post(f"/dashboard/admin/users/{name}/disable").status == 404  # not an admin


def test_renders_filter_by_template_and_api(srv: Server) -> None:
    c, _ = signed_in(srv)
    key = api_key(c)
    assert v2(srv, key, template="blog", title="Blog V2").status == 201
    v1 = request(
        srv.url + "/api/og?template=docs&title=Docs+V1&palette=paper&tag=Guide",
        headers={"x-api-key": key},
    )
    assert v1.status == 200
    everything = c.get("/dashboard/renders").body.decode()
    assert "Blog V2" in everything and "Docs V1" in everything
    # V1 renders get a thumbnail too, drawn again from their parameters (palette resolved).
    thumb = re.search(r'<img class="thumb" src="([^"]+)" alt="V1 render: Docs V1"', everything)
    assert thumb, everything
    src = thumb.group(1).replace("&amp;", "&")
    assert src.startswith("/dashboard/preview.png?template=docs&title=Docs+V1&tag=Guide&")
    assert "bgColor=" in src
    drawn = c.get(src)
    assert drawn.status == 200 and drawn.headers["content-type"] == "image/png"

    docs = c.get("/dashboard/renders?template=docs").body.decode()
    assert "Docs V1" in docs and "Blog V2" not in docs
    v2_only = c.get("/dashboard/renders?api=v2").body.decode()
    assert "Blog V2" in v2_only and "Docs V1" not in v2_only


def test_brands_page_creates_lists_and_deletes(srv: Server) -> None:
    c, _ = signed_in(srv)
    api_key(c)
    c.get("/dashboard/brands")
    bad = c.post("/dashboard/brands", {"name": "Acme", "accentColor": "nothex"})
    assert bad.status == 400 and 'role="alert"' in bad.body.decode()
    assert 'value="Acme"' in bad.body.decode()  # the form keeps what was typed
    made = c.post("/dashboard/brands", {"name": "Acme", "accentColor": "#E4572E"})
    assert made.status == 303
    page = c.get("/dashboard/brands").body.decode()
    brand = re.search(r"(brand_[0-9A-Za-z]{12})", page)
    assert brand and "Brand “Acme” saved" in page and "e4572e" in page
    playground = c.get(f"/dashboard/templates?brand={brand.group(1)}").body.decode()
    assert f'<option value="{brand.group(1)}" selected>Acme</option>' in playground
    assert f"brand={brand.group(1)}" in playground  # in the preview, URL and curl
    other, _ = signed_in(srv)
    other.get("/dashboard/brands")
    assert other.post(f"/dashboard/brands/{brand.group(1)}/delete").status == 404
    assert 'role="alert"' in other.get(f"/dashboard/templates?brand={brand.group(1)}").body.decode()
    assert c.post(f"/dashboard/brands/{brand.group(1)}/delete").status == 303
    assert brand.group(1) not in c.get("/dashboard/brands").body.decode().split("deleted")[1]


def test_renders_page_deletes_a_stored_render(srv: Server) -> None:
    c, _ = signed_in(srv)
    key = api_key(c)
    made = v2(srv, key, title="To be deleted")
    kept = v2(srv, key, title="To be kept")
    assert made.status == 201 and kept.status == 201
    slug, other = made.json()["slug"], kept.json()["slug"]
    assert request(f"{srv.url}/i/{slug}").status == 200
    page = c.get("/dashboard/renders?api=v2").body.decode()
    # Asked twice: a disclosure, then the button that posts (no JavaScript needed).
    assert "<summary>Delete</summary>" in page
    assert f'action="/dashboard/renders/{slug}/delete"' in page
    assert 'name="back" value="api=v2"' in page
    # Someone else cannot delete it (a 404-like "nothing deleted"), and it stays.
    stranger, _ = signed_in(srv)
    stranger.get("/dashboard/renders")
    assert stranger.post(f"/dashboard/renders/{slug}/delete").status == 303
    assert "nothing deleted" in stranger.get("/dashboard/renders").body.decode()
    assert request(f"{srv.url}/i/{slug}").status == 200
    # The owner deletes it: back to the list as filtered, with a confirmation, once.
    gone = c.post(f"/dashboard/renders/{slug}/delete", {"back": "api=v2"})
    assert gone.status == 303 and gone.headers["location"] == "/dashboard/renders?api=v2"
    after = c.get("/dashboard/renders?api=v2").body.decode()
    assert f"Render {slug} deleted" in after
    assert f"Render {slug} deleted" not in c.get("/dashboard/renders?api=v2").body.decode()
    # The image is really gone, for everyone; the API agrees; the other render is untouched.
    assert request(f"{srv.url}/i/{slug}").status == 404
    one = request(f"{srv.url}/api/v2/renders/{slug}", headers={"x-api-key": key})
    assert one.status == 404 and one.json()["code"] == "render_not_found"
    assert request(f"{srv.url}/i/{other}").status == 200
    # The list keeps it as made (it was counted) but without picture, link or Delete.
    assert f'src="/i/{slug}"' not in after and f'href="/i/{slug}"' not in after
    assert f'action="/dashboard/renders/{slug}/delete"' not in after
    assert f'src="/i/{other}"' in after and "To be deleted" in after
    # A second delete (a reload of the form) deletes nothing and says so.
    assert c.post(f"/dashboard/renders/{slug}/delete").status == 303
    assert "nothing deleted" in c.get("/dashboard/renders").body.decode()
    # The same request renders anew, under a new slug.
    again = v2(srv, key, title="To be deleted")
    assert again.status == 201 and again.json()["slug"] != slug


def try_call(c: Console, fields: dict[str, str]) -> Reply:
    """The API page's try-it POST, again while the call answers 429 (the 5/s burst limit)."""
    for _ in range(20):
        reply = c.post("/dashboard/api/try", fields)
        if b">429</span>" not in reply.body:
            return reply
        time.sleep(0.25)
    return reply


def test_api_page_tries_calls_with_the_users_own_key(srv: Server) -> None:
    c, _ = signed_in(srv)
    page = c.get("/dashboard/api").body.decode()
    assert "to try this call here" in page and "Send request" not in page  # no key yet
    key = api_key(c)
    key_id = re.findall(r"(key_\w+)", c.get("/dashboard/settings").body.decode())[0]
    page = c.get("/dashboard/api").body.decode()
    # An example per call; a try-it form with the user's keys by id, never a secret.
    assert page.count('<pre class="example"') >= 25
    assert f'<option value="{key_id}">{key_id}</option>' in page
    assert key not in page and re.search(r"ogm_live_[A-Za-z0-9]", page) is None
    # Validate with the sample body: the JSON the API answers, shown on the page.
    body = '{"template": "blog", "title": "Tried from the API page"}'
    tried = try_call(
        c,
        {"call": "POST /api/v2/validate", "key": key_id, "body": body},
    )
    assert tried.status == 200
    html = tried.body.decode()
    answer = re.search(
        r'<pre class="answer" aria-label="Answer of POST /api/v2/validate">(.*?)</pre>', html, re.S
    )
    assert answer, html[-3000:]
    got = orjson.loads(answer.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    direct = request(
        srv.url + "/api/v2/validate",
        "POST",
        {"x-api-key": key, "content-type": "application/json"},
        body.encode(),
    ).json()
    assert got == direct and got["success"] is True
    # A render made from the page is the user's, listed by the API with the real key.
    made = try_call(
        c,
        {
            "call": "POST /api/v2/render",
            "key": key_id,
            "body": '{"template": "blog", "title": "From the page"}',
        },
    ).body.decode()
    assert ">201</span>" in made
    slug = re.search(r"/i/([A-Za-z0-9]{8})", made)
    assert slug
    mine = request(f"{srv.url}/api/v2/renders/{slug.group(1)}", headers={"x-api-key": key})
    assert mine.status == 200
    assert f'<a href="/i/{slug.group(1)}">Open the image</a>' in made
    # Errors are the API's errors (here: a render of another user is a 404).
    other = try_call(
        c,
        {"call": "GET /api/v2/renders/{slug}", "key": key_id, "slug": "AAAAAAAA"},
    ).body.decode()
    assert ">404</span>" in other and "render_not_found" in other
    bad = try_call(c, {"call": "POST /api/v2/validate", "key": key_id, "body": "{"})
    assert ">400</span>" in bad.body.decode()
    # Only one's own active keys; only the calls the page offers.
    stranger, _ = signed_in(srv)
    api_key(stranger)
    stranger.get("/dashboard/api")
    refused = stranger.post("/dashboard/api/try", {"call": "GET /api/v2/usage", "key": key_id})
    assert refused.status == 400 and refused.json()["details"][0]["field"] == "key"
    assert (
        c.post(
            "/dashboard/api/try", {"call": "DELETE /api/v2/renders/{slug}", "key": key_id}
        ).status
        == 400
    )

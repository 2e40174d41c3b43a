"""The dashboard journey of issue 12 in a real Chromium, against a real server process, by the
accessible names of SPEC §10: invite → password → sign in → API key → V2 render with a webhook
→ Renders (thumbnail, deliveries, Redeliver) → playground URL → revoke → 401 → sign out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import orjson
import pytest
import trustme
from playwright.sync_api import Browser, BrowserContext, Page, expect

from conftest import Server
from console import invite_path
from e2e.conftest import Shots
from receiver import Receiver, wait_until, write_ca
from support import Reply, request

PASSWORD = "a long enough passphrase"
FIXED = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630" og:description="Journey card">
  <rect width="1200" height="630" fill="{{bg}}"/>
  <rect x="80" y="120" width="96" height="8" rx="4" fill="{{accent}}"/>
  <og:text field="title" x="80" y="170" width="1040" height="280" max-size="72" min-size="40"
           weight="700" max-lines="3" valign="middle"/>
</svg>
"""
#: The same card with a script on line 4: refused, and the error names that line.
BROKEN = FIXED.replace('  <rect x="80"', '  <script>alert(1)</script>\n  <rect x="80"', 1)
NAV = ["Settings", "Usage", "Renders", "Templates", "API"]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver(trustme.CA())
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def srv(
    receiver: Receiver,
    server_factory: Callable[..., Server],
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    return server_factory(
        OGMINT_OUTBOUND_CA_FILE=write_ca(receiver.ca, tmp_path_factory.mktemp("ca") / "ca.pem"),
        OGMINT_OUTBOUND_ALLOW="127.0.0.1",
        OGMINT_WEBHOOK_POLL_INTERVAL="0.1",
    )


@pytest.fixture
def context(browser: Browser, srv: Server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=srv.url, viewport={"width": 1200, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=srv.url)
    yield ctx
    ctx.close()


def invite(srv: Server, name: str) -> str:
    # The real command: Playwright's sync API keeps an event loop running in this thread.
    done = srv.cli_process("users", "create", name, "--email", f"{name}@example.com")
    assert done.returncode == 0, done.stderr
    return invite_path(done.stdout)


def join(page: Page, shots: Shots, link: str, email: str) -> None:
    """Sets the password through the invite link, then signs in."""
    page.goto(link)
    shots.take(page, "set-password")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    shots.take(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def v2(srv: Server, key: str, **body: object) -> Reply:
    headers = {"x-api-key": key, "content-type": "application/json"}
    return request(srv.url + "/api/v2/render", "POST", headers, orjson.dumps(body))


def test_journey(srv: Server, receiver: Receiver, context: BrowserContext, shots: Shots) -> None:
    page = context.new_page()
    join(page, shots, invite(srv, "journey"), "journey@example.com")
    for name in NAV:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()

    # An API key, shown once, copied with the Copy button.
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("button", name="Create API key").click()
    key = page.get_by_label("New API key").input_value()
    assert re.fullmatch(r"ogm_live_[0-9A-Za-z]{40}", key)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    shots.take(page, "settings-new-key")

    # A signing key, its secret shown once: from now on the playground signs its V1 URL.
    page.get_by_role("button", name="Create signing key").click()
    assert page.get_by_label("New signing secret").input_value().startswith("ogm_sign_")
    expect(page.get_by_role("button", name="Revoke signing key")).to_have_count(1)
    shots.take(page, "settings-signing-key")

    # A V2 render with that key over HTTP, with a webhook.
    made = v2(
        srv,
        key,
        template="blog",
        title="From the journey",
        palette="forest",
        webhookUrl=receiver.url("/journey"),
    )
    assert made.status == 201, made.body
    slug = made.json()["slug"]
    receiver.wait_for("/journey", 1)

    # It appears in Renders with its thumbnail and its delivery; Redeliver sends it again.
    page.get_by_role("link", name="Renders", exact=True).click()

    def delivered() -> bool | None:
        page.reload()
        return True if page.locator(".state.delivered").count() else None

    wait_until(delivered, timeout=15, step=0.3)
    thumb = page.get_by_role("img", name=re.compile(f"Render {slug}"))
    expect(thumb).to_be_visible()
    assert thumb.evaluate("i => i.complete && i.naturalWidth") == 1200
    expect(page.get_by_role("link", name=f"{srv.url}/i/{slug}")).to_be_visible()
    shots.take(page, "renders")
    page.get_by_role("button", name="Redeliver").click()
    receiver.wait_for("/journey", 2)

    # A broken template: refused with the error at its line; fixed, previewed, saved.
    page.get_by_role("link", name="Templates", exact=True).click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Template SVG").fill(BROKEN)
    page.get_by_role("button", name="Save template").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Line 4")
    expect(alert).to_contain_text("script")
    expect(page.locator("#line-4.bad")).to_contain_text("<script>")
    shots.take(page, "template-refused")
    page.get_by_label("Template SVG").fill(FIXED)
    page.get_by_label("Name").fill("Journey card")
    page.get_by_role("button", name="Preview template").click()
    shown = page.get_by_role("img", name="Template preview")
    expect(shown).to_be_visible()
    wait_until(lambda: shown.evaluate("i => i.complete && i.naturalWidth") or None, 10)
    shots.take(page, "template-preview")
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("heading", name=re.compile("Journey card"))).to_be_visible()
    template_id = page.url.split("/dashboard/templates/")[1].split("?")[0]
    assert re.fullmatch(r"custom_[0-9A-Za-z]{12,}", template_id)
    custom = v2(srv, key, template=template_id, title="With my own template")
    assert custom.status == 201, custom.body
    # The playground signs its V1 URL: it renders the custom template with no headers at all.
    page.goto(f"/dashboard/templates?template={template_id}&title=Signed+card#playground")
    signed_url = page.get_by_label("V1 URL").input_value()
    assert "kid=sk_" in signed_url
    assert "&sig=" in signed_url
    signed = request(signed_url)
    assert signed.status == 200, signed.body[:300]
    assert signed.headers["content-type"] == "image/png"

    # The playground's V1 URL renders.
    page.get_by_role("link", name="Templates", exact=True).click()
    page.get_by_label("Title").fill("Playground card")
    page.get_by_label("Palette").select_option("paper")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("img", name="Playground preview")
    expect(preview).to_be_visible()
    wait_until(lambda: preview.evaluate("i => i.complete && i.naturalWidth") or None, 10)
    url = page.get_by_label("V1 URL").input_value()
    assert "title=Playground+card" in url
    assert "og:image" in page.get_by_label("Meta tags").input_value()
    assert "curl -X POST" in page.get_by_label("V2 curl").input_value()
    shots.take(page, "templates")
    image = request(url)
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"

    # Usage counts it; the API page reads the local OpenAPI document.
    page.get_by_role("link", name="Usage", exact=True).click()
    expect(page.get_by_role("img", name=re.compile("Renders per day"))).to_be_visible()
    shots.take(page, "usage")
    page.get_by_role("link", name="API", exact=True).click()
    expect(page.get_by_role("heading", name="POST /api/v2/render", exact=True)).to_be_visible()
    shots.take(page, "api")

    # Revoke the key: V2 with it answers 401.
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("button", name="Revoke", exact=True).click()
    expect(page.get_by_role("button", name="Revoke", exact=True)).to_have_count(0)
    shots.take(page, "revoked")
    assert v2(srv, key, template="blog", title="After revoke").status == 401

    # Sign out: the dashboard leads to the sign-in form again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto("/dashboard/renders")
    expect(page.get_by_label("Email")).to_be_visible()
    shots.take(page, "signed-out")


def test_second_user_sees_none_of_the_first(
    srv: Server, browser: Browser, context: BrowserContext, shots: Shots
) -> None:
    first = context.new_page()
    join(first, shots, invite(srv, "first"), "first@example.com")
    first.get_by_role("button", name="Create API key").click()  # on Getting started
    key = first.get_by_label("New API key").input_value()
    slug = v2(srv, key, template="docs", title="First's secret card").json()["slug"]
    first.get_by_role("link", name="Settings", exact=True).click()
    key_id = first.locator("td.mono").first.inner_text()

    other = browser.new_context(base_url=srv.url)
    try:
        second = other.new_page()
        join(second, shots, invite(srv, "second"), "second@example.com")
        for name in NAV:
            second.get_by_role("link", name=name, exact=True).click()
            shots.take(second, f"second-{name}")
            html = second.content()
            assert slug not in html, name
            assert key_id not in html, name
            assert "First's secret card" not in html, name
    finally:
        other.close()


def test_pages_work_without_javascript(browser: Browser, srv: Server, shots: Shots) -> None:
    ctx = browser.new_context(base_url=srv.url, java_script_enabled=False)
    try:
        page = ctx.new_page()
        join(page, shots, invite(srv, "nojs"), "nojs@example.com")
        page.get_by_role("button", name="Create API key").click()
        expect(page.get_by_label("New API key")).to_have_value(re.compile("^ogm_live_"))
        for name in NAV:
            page.get_by_role("link", name=name, exact=True).click()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            shots.take(page, f"nojs-{name}")
        page.get_by_role("link", name="Templates", exact=True).click()
        page.get_by_label("Title").fill("No script needed")
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_label("V1 URL")).to_have_value(re.compile("No\\+script\\+needed"))
        page.get_by_role("link", name="Settings", exact=True).click()
        page.get_by_role("button", name="Revoke", exact=True).click()
        expect(page.get_by_role("button", name="Revoke", exact=True)).to_have_count(0)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        ctx.close()

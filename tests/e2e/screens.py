"""Full-page screenshots of every dashboard page at a desktop and a phone width, for a person
to look at (issue 25), and the walk the layout test makes through the same pages.

    PYTHONPATH=server:tests .venv/bin/python -m e2e.screens [OUT_DIR]

starts a server with sample data, signs in as an admin in Debian's Chromium and writes
``OUT_DIR/<width>-<page>.png`` (default ``test-artifacts/screens``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from conftest import Server, start_server
from console import invite_path
from support import Reply, request

PASSWORD = "a long enough passphrase"
WIDTHS = (1280, 390)
CARD = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630" og:description="Launch card">
  <rect width="1200" height="630" fill="{{bg}}"/>
  <rect x="80" y="120" width="96" height="8" rx="4" fill="{{accent}}"/>
  <og:text field="title" x="80" y="170" width="1040" height="280" max-size="72" min-size="40"
           weight="700" max-lines="3" valign="middle"/>
  <og:text field="price" limit="20" x="80" y="500" width="500" height="60" max-size="44"
           weight="700" fill="{{accent}}"/>
  <og:text field="launchDate" limit="30" x="620" y="500" width="500" height="60" max-size="32"
           align="end"/>
</svg>
"""


def sign_up(srv: Server, page: Page, name: str, *flags: str) -> None:
    """Creates the account ``name`` with the CLI, sets its password and signs in."""
    done = srv.cli_process("users", "create", name, "--email", f"{name}@example.com", *flags)
    assert done.returncode == 0, done.stderr
    page.goto(invite_path(done.stdout))
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def paced(send: Callable[[], Reply]) -> Reply:
    """``send()`` again while it answers 429 (the 5/s burst limit), a few times at most."""
    for _ in range(20):
        reply = send()
        if reply.status != 429:
            return reply
        time.sleep(0.25)
    return reply


def with_data(srv: Server, page: Page) -> dict[str, str]:
    """Gives the signed-in user what makes every page show something: keys, renders of both
    APIs (one failed), a custom template. Returns a few ids."""
    page.goto("/dashboard/start")
    page.get_by_role("button", name="Create API key").click()
    key = page.get_by_label("New API key").input_value()
    page.get_by_role("button", name="Create signing key").click()
    headers = {"x-api-key": key, "content-type": "application/json"}
    made = {}
    for title, template, palette in (
        ("Shipping faster with edge caches", "blog", "midnight"),
        ("Release 2.4: batch renders and brands", "changelog", "paper"),
        ("Getting started with signed URLs", "docs", "ocean"),
    ):
        body = orjson.dumps({"template": template, "title": title, "palette": palette})
        url = srv.url + "/api/v2/render"
        made[template] = paced(lambda u=url, b=body: request(u, "POST", headers, b)).json()["slug"]
    # One made and deleted: the list keeps it, without its picture.
    body = orjson.dumps({"template": "blog", "title": "An old card, deleted", "palette": "sunset"})
    url = srv.url + "/api/v2/render"
    gone = paced(lambda: request(url, "POST", headers, body)).json()["slug"]
    deleting = f"{srv.url}/api/v2/renders/{gone}"
    assert paced(lambda: request(deleting, "DELETE", {"x-api-key": key})).status == 200
    for query in (
        "template=quote&title=Simplicity+is+prerequisite+for+reliability&author=Edsger+Dijkstra",
        "template=blog&title=A+V1+card+that+failed&avatar=https%3A%2F%2F10.0.0.1%2Fa.png",
    ):
        paced(lambda q=query: request(srv.url + "/api/og?" + q, headers={"x-api-key": key}))
    look = {"name": "Acme", "palette": "paper", "accentColor": "e4572e", "font": "Inter"}
    brands = srv.url + "/api/v2/brands"
    made["brand"] = paced(lambda: request(brands, "POST", headers, orjson.dumps(look))).json()[
        "brand"
    ]["id"]
    body = orjson.dumps({"svg": CARD, "name": "Launch card"})
    templates = srv.url + "/api/v2/templates"
    made["custom"] = paced(lambda: request(templates, "POST", headers, body)).json()["template"][
        "id"
    ]
    return made


def pages(made: dict[str, str]) -> list[tuple[str, str]]:
    """(name, path) of every signed-in page."""
    return [
        ("start", "/dashboard/start"),
        ("settings", "/dashboard/settings"),
        ("usage", "/dashboard/usage"),
        ("renders", "/dashboard/renders"),
        ("templates", "/dashboard/templates"),
        (
            "playground-custom",
            "/dashboard/templates?template="
            + made["custom"]
            + "&title=Ogmint+Pro&price=%2449+%2F+month&launchDate=1+March",
        ),
        ("template-new", "/dashboard/templates/new"),
        ("template-edit", "/dashboard/templates/" + made["custom"]),
        ("brands", "/dashboard/brands"),
        ("playground-brand", "/dashboard/templates?brand=" + made["brand"]),
        ("api", "/dashboard/api"),
        ("admin", "/dashboard/admin"),
    ]


def settle(page: Page) -> None:
    """Loads the page's pictures at once (lazy ones included) and waits until they have
    loaded (or failed)."""
    page.evaluate("() => document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    page.wait_for_load_state("networkidle")
    page.evaluate(
        """() => Promise.all([...document.images].map(i => i.complete ? null :
             new Promise(r => { i.onload = i.onerror = r; })))"""
    )


def walk(
    browser: Browser, srv: Server, width: int, made: dict[str, str], state: str
) -> Iterator[tuple[str, Page, list[str]]]:
    """Each page at ``width`` (signed in with the saved ``state``), with what went wrong while
    it loaded: URLs that answered 404 and console errors (a CSP refusal included)."""
    context: BrowserContext = browser.new_context(
        base_url=srv.url,
        viewport={"width": width, "height": 900},
        storage_state=state,
        device_scale_factor=1,
    )
    try:
        for name, path in pages(made):
            page = context.new_page()
            missing: list[str] = []
            page.on("response", lambda r, m=missing: m.append(r.url) if r.status == 404 else None)
            page.on(
                "console",
                lambda c, m=missing: m.append("console: " + c.text) if c.type == "error" else None,
            )
            page.goto(path)
            settle(page)
            yield name, page, missing
            page.close()
    finally:
        context.close()


def prepared(browser: Browser, srv: Server, folder: Path) -> tuple[dict[str, str], str]:
    """Signs up an admin with sample data; its ids and the saved sign-in state."""
    context = browser.new_context(base_url=srv.url)
    try:
        page = context.new_page()
        sign_up(srv, page, "screens", "--admin")
        made = with_data(srv, page)
        state = str(folder / "state.json")
        context.storage_state(path=state)
    finally:
        context.close()
    return made, state


def first_visit(browser: Browser, srv: Server, out: Path) -> None:
    """The sign-in page, and a newcomer's Getting started at each width: before and just after
    making a key."""
    for width in WIDTHS:
        context = browser.new_context(base_url=srv.url, viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            page.goto("/dashboard/sign-in")
            settle(page)
            page.screenshot(path=str(out / f"{width}-sign-in.png"), full_page=True)
            sign_up(srv, page, f"newcomer{width}")
            settle(page)
            page.screenshot(path=str(out / f"{width}-first-visit.png"), full_page=True)
            page.get_by_role("button", name="Create API key").click()
            settle(page)
            page.screenshot(path=str(out / f"{width}-first-key.png"), full_page=True)
            print(f"{width}-sign-in.png {width}-first-visit.png {width}-first-key.png")
        finally:
            context.close()


def actions(browser: Browser, srv: Server, width: int, state: str, out: Path) -> None:
    """The pages' actions half-done: a delete being confirmed, a call tried on the API page."""
    context = browser.new_context(
        base_url=srv.url,
        viewport={"width": width, "height": 900},
        storage_state=state,
        device_scale_factor=1,
    )
    try:
        page = context.new_page()
        page.goto("/dashboard/renders")
        page.locator("details.confirm > summary").first.click()
        settle(page)
        page.evaluate("scrollTo(0, 0)")  # the sticky header at the top of the full page
        page.screenshot(path=str(out / f"{width}-renders-confirm.png"), full_page=True)
        for name in ("admin", "brands"):
            page.goto(f"/dashboard/{name}")
            page.locator("details.confirm > summary").first.click()
            settle(page)
            page.evaluate("scrollTo(0, 0)")
            page.screenshot(path=str(out / f"{width}-{name}-confirm.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} with a confirmation open is {wide} px wide"
        page.goto("/dashboard/api")
        section = page.locator("#post-api-v2-render")
        section.get_by_text("Try it", exact=True).click()
        section.get_by_role("button", name="Send request").click()
        page.wait_for_url("**/dashboard/api/try#post-api-v2-render")
        settle(page)
        # Not sticky for this shot of one section (it would cover the section's top).
        page.evaluate("document.querySelector('header.top').style.position = 'static'")
        page.locator("#post-api-v2-render").screenshot(path=str(out / f"{width}-api-tried.png"))
        print(f"{width}-{{renders,admin,brands}}-confirm.png {width}-api-tried.png")
    finally:
        context.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        srv = start_server(Path(tmp), OGMINT_OUTBOUND_ALLOW="127.0.0.1")
        try:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox"]
            )
            first_visit(browser, srv, out)
            made, state = prepared(browser, srv, Path(tmp))
            for width in WIDTHS:
                for name, page, missing in walk(browser, srv, width, made, state):
                    page.screenshot(path=str(out / f"{width}-{name}.png"), full_page=True)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    flag = "" if wide <= width else f"  SCROLLS SIDEWAYS ({wide} px)"
                    gone = f"  problems: {missing}" if missing else ""
                    print(f"{width}-{name}.png{flag}{gone}")
                actions(browser, srv, width, state, out)
            browser.close()
        finally:
            srv.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "test-artifacts/screens"))

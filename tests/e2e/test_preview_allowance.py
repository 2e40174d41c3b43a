"""Previews in a real Chromium once the user's preview allowance (shared with the API) is used
up: the template editor and the playground say so in their status line (issue 19)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import orjson
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from conftest import Server
from e2e.conftest import Shots
from e2e.test_dashboard_journey import FIXED, invite, join
from support import request

LIMIT = 3


@pytest.fixture(scope="module")
def srv(server_factory: Callable[..., Server]) -> Server:
    return server_factory(OGMINT_PREVIEW_LIMIT=str(LIMIT))


@pytest.fixture
def context(browser: Browser, srv: Server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=srv.url, viewport={"width": 1200, "height": 900})
    yield ctx
    ctx.close()


def test_previews_say_when_the_allowance_is_used_up(
    srv: Server, context: BrowserContext, shots: Shots
) -> None:
    page = context.new_page()
    join(page, shots, invite(srv, "previewer"), "previewer@example.com")
    done = srv.cli_process("keys", "create", "--user", "previewer")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]

    # The editor's live preview draws while the allowance lasts.
    page.goto("/dashboard/templates/new")
    page.get_by_label("Template SVG").fill(FIXED)
    shown = page.get_by_role("img", name="Template preview")
    expect(shown).to_be_visible()
    expect(shown).to_have_attribute("src", re.compile(r"^blob:"))

    # The API's previews use up the rest of the same allowance.
    headers = {"x-api-key": key, "content-type": "application/json"}
    body = orjson.dumps({"svg": FIXED})
    answers = [
        request(srv.url + "/api/v2/templates/preview", "POST", headers, body).status
        for _ in range(LIMIT)
    ]
    assert answers == [200] * (LIMIT - 1) + [429]

    page.get_by_label("Template SVG").fill(FIXED.replace("Journey card", "Changed card"))
    expect(page.locator("#preview-status")).to_contain_text("Preview limit of 3 previews per hour")
    shots.take(page, "editor-over-allowance")

    # The playground's own picture is refused on arrival, and so is the next one typed.
    page.goto("/dashboard/templates")
    expect(page.locator("#playground-status")).to_contain_text("Preview limit")
    page.evaluate("document.getElementById('playground-status').textContent = ''")
    page.get_by_label("Title").fill("Over the allowance")
    expect(page.locator("#playground-status")).to_contain_text("Preview limit")
    shots.take(page, "playground-over-allowance")

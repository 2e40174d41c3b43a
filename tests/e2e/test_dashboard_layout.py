"""Every dashboard page in a real Chromium at a 390 px phone and a 1280 px screen (issue 25): no
sideways scrolling, nothing missing (no 404 while a page loads: the favicon included) and no
console error (nothing the CSP refuses), the
navigation and the page's main buttons reachable, tables stacked into rows on the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from conftest import Server, start_server
from e2e.screens import pages, prepared, walk

NAV = ["Settings", "Usage", "Renders", "Templates", "API"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("layout"), OGMINT_OUTBOUND_ALLOW="127.0.0.1")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def signed_in(
    browser: Browser, srv: Server, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], str]:
    return prepared(browser, srv, Path(tmp_path_factory.mktemp("state")))


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_scrolls_sideways_or_misses_a_file(
    browser: Browser, srv: Server, signed_in: tuple[dict[str, str], str], width: int
) -> None:
    made, state = signed_in
    seen = []
    for name, page, missing in walk(browser, srv, width, made, state):
        seen.append(name)
        wide = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("innerWidth")
        assert wide <= inner, f"{name} is {wide} px wide at {inner} px"
        assert missing == [], (name, missing)
        for label in NAV:
            link = page.get_by_role("link", name=label, exact=True)
            expect(link).to_have_count(1)
            link.scroll_into_view_if_needed()
            expect(link).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        if width == 390:
            for table in page.locator("table.stack").all():
                if table.is_visible():
                    header = table.locator("thead")
                    assert not header.is_visible(), f"{name}: a table kept its columns"
    assert seen == [name for name, _ in pages(made)]


def test_the_playground_shows_its_preview_beside_the_form(
    browser: Browser, srv: Server, signed_in: tuple[dict[str, str], str]
) -> None:
    made, state = signed_in
    context = browser.new_context(
        base_url=srv.url, viewport={"width": 1280, "height": 900}, storage_state=state
    )
    try:
        page = context.new_page()
        page.goto("/dashboard/templates?template=quote")
        form = page.get_by_label("Title").bounding_box()
        image = page.get_by_role("img", name="Playground preview").bounding_box()
        assert form and image
        assert image["x"] > form["x"] + form["width"]  # beside, not below
        assert image["y"] < 900  # above the fold
        # Only the chosen template's fields: quote has no description.
        expect(page.get_by_label("Description")).to_have_count(0)
        expect(page.get_by_label("Author", exact=True)).to_have_count(1)
        # The colour picker writes its hex field, which the form submits.
        page.get_by_label("Accent picker").fill("#ff8800")
        expect(page.get_by_label("Accent", exact=True)).to_have_value("ff8800")
        # The URL follows the form as it changes (JavaScript), before any button is pressed.
        page.get_by_label("Title").fill("Live title")
        expect(page.get_by_label("V1 URL")).to_have_value(re.compile(r"title=Live\+title"))
        assert "accentColor=ff8800" in page.get_by_label("V1 URL").input_value()
        page.get_by_label("Title").fill("Hello from ogmint")
        page.get_by_role("button", name="Preview").click()
        assert "accentColor=ff8800" in page.get_by_label("V1 URL").input_value()
        tags = page.get_by_label("Meta tags").input_value()
        assert 'og:image:alt" content="Hello from ogmint"' in tags
        assert 'og:image:width" content="1200"' in tags
        # A custom template's own fields.
        page.goto("/dashboard/templates?template=" + made["custom"])
        expect(page.get_by_label("Title")).to_have_count(1)
        expect(page.get_by_label("Tag", exact=True)).to_have_count(0)
    finally:
        context.close()

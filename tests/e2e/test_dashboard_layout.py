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


def test_the_playground_has_a_custom_templates_own_fields_and_draws_them(
    browser: Browser, srv: Server, signed_in: tuple[dict[str, str], str]
) -> None:
    made, state = signed_in
    context = browser.new_context(
        base_url=srv.url, viewport={"width": 1280, "height": 900}, storage_state=state
    )
    try:
        page = context.new_page()
        page.goto("/dashboard/templates")
        # Chosen from the list: the page reloads with that template's own fields.
        page.get_by_label("Template", exact=True).select_option(made["custom"])
        page.wait_for_url(re.compile(r"template=" + made["custom"]))
        expect(page.get_by_label("Price")).to_have_count(1)
        expect(page.get_by_label("Launch date")).to_have_count(1)
        expect(page.get_by_label("Author", exact=True)).to_have_count(0)
        image = page.get_by_role("img", name="Playground preview")
        before = image.screenshot()
        # Typed into: the live preview draws them, and the snippets carry them.
        page.get_by_label("Price").fill("$49 / month")
        expect(page.get_by_label("V1 URL")).to_have_value(re.compile(r"price=%2449\+%2F\+month"))
        page.wait_for_function(
            "() => document.getElementById('playground-image').src.startsWith('blob:')"
        )
        page.wait_for_function("() => document.getElementById('playground-image').complete")
        assert image.screenshot() != before  # the price is drawn
        assert '"price":"$49 / month"' in page.get_by_label("V2 curl").input_value()
        # Without JavaScript the Preview button does the same: the server draws the field.
        page.get_by_label("Launch date").fill("1 March")
        page.get_by_role("button", name="Preview").click()
        page.wait_for_url(re.compile(r"launchDate=1\+March"))
        src = page.get_by_role("img", name="Playground preview").get_attribute("src")
        assert src and "price=%2449" in src and "launchDate=1+March" in src
        drawn = page.request.get(src)
        plain = page.request.get(
            src.replace("price=%2449+%2F+month", "price=").replace(
                "launchDate=1+March", "launchDate="
            )
        )
        assert drawn.status == 200 and drawn.headers["content-type"] == "image/png"
        assert drawn.body() != plain.body()
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_render_is_deleted_from_the_renders_page(
    browser: Browser, srv: Server, signed_in: tuple[dict[str, str], str], javascript: bool
) -> None:
    made, state = signed_in
    slug = made["docs"] if javascript else made["changelog"]
    context = browser.new_context(
        base_url=srv.url,
        viewport={"width": 390, "height": 900},
        storage_state=state,
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        assert page.request.get(f"/i/{slug}").status == 200
        page.goto("/dashboard/renders?api=v2")
        item = page.locator(f"#r-{slug}")
        expect(item.get_by_role("img")).to_be_visible()
        confirm = item.get_by_role("button", name=f"Delete render {slug}")
        expect(confirm).to_be_hidden()  # asked twice: the first press only opens it
        item.get_by_text("Delete", exact=True).click()
        expect(item.get_by_text("answers 404 from now on")).to_be_visible()
        confirm.click()
        page.wait_for_url("**/dashboard/renders?api=v2")
        expect(page.get_by_role("status")).to_contain_text(f"Render {slug} deleted")
        expect(page.locator(f"#r-{slug}")).to_have_count(0)
        expect(page.locator(f'img[src="/i/{slug}"]')).to_have_count(0)
        expect(page.get_by_text("deleted", exact=True).first).to_be_visible()
        assert page.request.get(f"/i/{slug}").status == 404
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_the_api_page_tries_a_call_with_a_key_of_the_user(
    browser: Browser, srv: Server, signed_in: tuple[dict[str, str], str], javascript: bool
) -> None:
    _, state = signed_in
    context = browser.new_context(
        base_url=srv.url,
        viewport={"width": 390, "height": 900},
        storage_state=state,
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        page.goto("/dashboard/api")
        section = page.locator("#post-api-v2-validate")
        section.get_by_text("Try it", exact=True).click()
        key = section.get_by_label("API key")
        expect(key).to_have_value(re.compile(r"^key_"))
        section.get_by_label("Body (JSON)").fill('{"template": "blog", "title": "Tried"}')
        section.get_by_role("button", name="Send request").click()
        page.wait_for_url("**/dashboard/api/try#post-api-v2-validate")
        answer = page.locator("#post-api-v2-validate").get_by_label(
            "Answer of POST /api/v2/validate"
        )
        expect(answer).to_be_visible()
        expect(answer).to_contain_text('"success": true')
        expect(answer).to_contain_text('"Tried"')
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()

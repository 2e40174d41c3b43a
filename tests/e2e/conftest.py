"""A real browser for end-to-end tests: Debian's Chromium driven by Playwright.

``playwright install`` cannot download browsers here, so Chromium is launched from the system
(`apt-get install chromium`, done by ``make test``). Screenshots taken along the way are written
to ``test-artifacts/<test>/`` only when the test fails.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one module. Not for the session: while Playwright's sync API is open it
    keeps an event loop running in this thread, and later tests call ``asyncio.run``."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield b
        b.close()


@dataclass
class Shots:
    """Screenshots of the pages a test went through, kept in memory until it fails."""

    taken: list[tuple[str, bytes]] = field(default_factory=list)

    def take(self, page: Page, name: str) -> None:
        self.taken.append((name, page.screenshot(full_page=True)))

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for i, (name, png) in enumerate(self.taken):
            (folder / f"{i:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}.png").write_bytes(png)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if getattr(report, "when", "") == "call":
        item.stash[FAILED] = bool(getattr(report, "failed", False))
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Shots]:
    s = Shots()
    yield s
    if request.node.stash.get(FAILED, False):
        s.write(ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name))

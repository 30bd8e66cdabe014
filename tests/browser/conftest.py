"""Debian's chromium driven by Playwright.

Playwright cannot download its own browser on Mirador's machines, so the tests launch the
system's /usr/bin/chromium (scripts/test installs it). Screenshots go to test-artifacts/.

Do database work before or after the `with chromium() as browser:` block, not inside it:
Playwright's sync API runs an event loop in the test's thread, and Django, seeing it, would
refuse ORM calls (or, if allowed, open a second connection that outlives the test).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

Chromium = Callable[[], AbstractContextManager[Browser]]
Screenshot = Callable[[Page, str], None]


@contextmanager
def _launch() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def chromium() -> Chromium:
    """`with chromium() as browser:` a headless chromium, closed at the end of the block."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does), "
            "or leave the browser tests out with -m 'not browser'."
        )
    return _launch


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshot:
    """`screenshot(page, "step")` saves test-artifacts/<test>-<step>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = re.sub(r"[^\w.-]+", "-", request.node.name)

    def take(page: Page, step: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{prefix}-{step}.png"), full_page=True)

    return take

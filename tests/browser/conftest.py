"""Browser tests: Playwright's sync API driving Debian's Chromium (never a downloaded browser).

Chromium is looked for at $GULIAN_CHROMIUM (default /usr/bin/chromium). When it is missing the
tests are skipped with the reason, unless GULIAN_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GULIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable, or a skip (a failure under GULIAN_REQUIRE_BROWSER=1) naming the fix."""
    path = Path(CHROMIUM)
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    reason = f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set GULIAN_CHROMIUM)"
    if os.environ.get("GULIAN_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test body
    # (fixtures, assertions) would otherwise be refused as "async unsafe".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    """A fresh browser context and page (own cookies) per test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()

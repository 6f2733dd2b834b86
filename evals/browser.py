"""Debian's Chromium driven by Playwright, never a downloaded browser: launched one way
for the client-page benchmark (``bench_web``), the report's screenshot
(``html.screenshot``) and the browser tests (tests/e2e).

>>> with chromium() as browser:  # doctest: +SKIP
...     page = browser.new_context(**VIEWPORTS["phone"]).new_page()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
# Offline and quiet: no background requests that would hide the page's own.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# The two windows the client page is checked and measured in (browser context options).
VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed (and Playwright stopped) on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()

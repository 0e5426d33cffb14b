"""A real headless browser for the dashboard tests: Debian's chromium driven by
Playwright. Playwright's own browser downloads are never used (nothing can be fetched
here); `.ci/run` installs the `chromium` package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps trying to reach the internet on its own.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser; under CI a missing one fails the test, never skips it."""
    if not CHROMIUM.exists():
        unavailable(f"Debian's chromium ({CHROMIUM}; apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Requests:
    """Every URL a browser context asked for, to show it never left Moorage; and those
    that failed or were answered with an error, to say why a page did not come up."""

    def __init__(self, context: Any) -> None:
        self.urls: list[str] = []
        self.failed: list[str] = []
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("requestfailed", lambda request: self.failed.append(
            f"{request.method} {request.url}: {request.failure}"))
        context.on("response", lambda response: self.failed.append(
            f"{response.request.method} {response.url}: {response.status}")
            if response.status >= 400 else None)

    def outside(self, origin: str) -> list[str]:
        return [u for u in self.urls if not (
            u == origin or u.startswith((origin + "/", f"blob:{origin}/", "data:")))]

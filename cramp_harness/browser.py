"""Debian's Chromium, driven by Playwright, the same way for every browser test.

Nothing is downloaded: the browser is /usr/bin/chromium (scripts/ensure_chromium.sh installs the
Debian package), and the flags keep it from phoning home or updating itself while tests run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright: Any) -> Any:
    """A headless system Chromium from a `sync_playwright()` context."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


@contextmanager
def running_chromium() -> Iterator[Any]:
    """A headless system Chromium under Playwright, closed afterwards (a browser suite's fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def missing(reason: str) -> None:
    """Skip when run by hand without the browser set-up; fail under REQUIRE_BROWSER=1."""
    import pytest

    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_browser(*built: Path, build_hint: str = "run bash scripts/build_web.sh") -> Any:
    """Playwright's sync API, once Chromium and the `built` files are there. A test module calls
    it at import: run by hand without the browser set-up it skips; under `make browser` /
    `make contract` (REQUIRE_BROWSER=1, which install everything first) it fails, so CI cannot
    pass by skipping."""
    try:
        from playwright import sync_api
    except ImportError:
        missing("pip install playwright (see requirements/lock.txt)")
    if not CHROMIUM.exists():
        missing("no /usr/bin/chromium: run bash scripts/ensure_chromium.sh")
    for path in built:
        if not path.exists():
            missing(f"{path} not built: {build_hint}")
    return sync_api

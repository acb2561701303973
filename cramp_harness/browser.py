"""Debian's Chromium, driven by Playwright, the same way for every browser test.

Nothing is downloaded: the browser is /usr/bin/chromium (scripts/ensure_chromium.sh installs the
Debian package), and the flags keep it from phoning home or updating itself while tests run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

"""Take docs/catalog.png, the README's screenshot of the catalog: the model page of
registry_example's churn-predictor, in the system's headless Chromium.

Run from the project's folder: ``.venv/bin/python scripts/catalog_screenshot.py``
(needs Playwright, a dev dependency, and the system's chromium; it launches it as the
browser tests do, with tests/_catalog.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from modelreg import Registry
from modelreg.webcatalog import build

ROOT = Path(__file__).resolve().parent.parent
# The browser tests' launch (the system's Chromium, the same flags): one place for both.
sys.path.insert(0, str(ROOT / "tests"))
from _catalog import launch_chromium  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as top:
        site = Path(top) / "site"
        build(Registry(ROOT / "registry_example"), site)
        page_url = (site / "models" / "churn-predictor" / "index.html").as_uri()
        with sync_playwright() as playwright:
            context = launch_chromium(playwright, Path(top) / "profile", 1100, 760)
            page = context.new_page()
            page.goto(page_url)
            page.screenshot(path=str(ROOT / "docs" / "catalog.png"))
            context.close()


if __name__ == "__main__":
    main()

"""Take docs/catalog.png, the README's screenshot of the catalog: the model page of
registry_example's churn-predictor, in the system's headless Chromium.

Run from the project's folder: ``.venv/bin/python scripts/catalog_screenshot.py``
(needs Playwright, a dev dependency, and /usr/bin/chromium).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from modelreg import Registry
from modelreg.webcatalog import build

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as top:
        site = Path(top) / "site"
        build(Registry(ROOT / "registry_example"), site)
        page_url = (site / "models" / "churn-predictor" / "index.html").as_uri()
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(Path(top) / "profile"),
                executable_path="/usr/bin/chromium",
                headless=True,
                args=ARGS,
                viewport={"width": 1100, "height": 760},
            )
            page = context.new_page()
            page.goto(page_url)
            page.screenshot(path=str(ROOT / "docs" / "catalog.png"))
            context.close()


if __name__ == "__main__":
    main()

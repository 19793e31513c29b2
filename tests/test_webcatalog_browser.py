"""The catalog in a real browser: headless Chromium (the system's, driven by Playwright)
opens the site from file:// and from ``modelreg catalog serve``.

Every page must load without a console error or a request outside the site, every link
must lead to a page that exists, the search box must filter, the charts must be drawn,
and the hostile model's payloads must stay text. Screenshots at a desktop's and a phone's
width go to tests/output/catalog/ (git-ignored) for people to look at.

`.ci/run` installs Chromium from the system's packages when it is missing; without it (or
without Playwright, a dev dependency) these tests are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from _catalog import CHROMIUM, HOSTILE_MODEL, SCRIPT, launch_chromium, make_registry
from _safety import git
from conftest import modelreg_executable
from modelreg import Registry
from modelreg.webcatalog import build

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason="no chromium (.ci/run installs it with apt-get)"
)
OUTPUT = Path(__file__).resolve().parent / "output" / "catalog"
COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
DESKTOP, PHONE = 1280, 390


@pytest.fixture(scope="session")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the session, with a fresh profile."""
    with sync_api.sync_playwright() as playwright:
        browser_context = launch_chromium(
            playwright, tmp_path_factory.mktemp("chromium-profile"), DESKTOP, 900
        )
        yield browser_context
        browser_context.close()


@pytest.fixture(scope="module")
def registry_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test registry, in a git repository whose origin is on GitHub."""
    project = tmp_path_factory.mktemp("browser") / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    git(project, "remote", "add", "origin", "git@github.com:acme/models.git")
    return make_registry(project / "registry", commit=COMMIT).root


@pytest.fixture(scope="module")
def site(registry_root: Path) -> Path:
    out = registry_root.parent.parent / "site"
    build(Registry(registry_root), out)
    return out


class Watched:
    """A page whose console errors, uncaught errors and requests are recorded."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", lambda request: self.requests.append(request.url))

    def goto(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is None or response.ok, (url, response and response.status)

    def links(self) -> list[str]:
        """Every link of the page (HTML's and the charts' SVG ones), as absolute URLs."""
        return list(
            self.page.eval_on_selector_all(
                "a[href]",
                "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)",
            )
        )

    def xss_flag(self) -> object:
        return self.page.evaluate("() => window.__xss")

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def watched(context: Any) -> Iterator[Watched]:
    page = Watched(context)
    yield page
    page.close()


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def crawl(page: Watched, start: str, inside: Callable[[str], Path | None]) -> set[str]:
    """Visit every page reachable from ``start``; ``inside`` maps a URL of the site to
    its file (None: a link out of the site). Returns the URLs visited."""
    seen, queue = {start}, [start]
    while queue:
        url = queue.pop()
        page.goto(url)
        assert page.xss_flag() is None, url
        for href in page.links():
            target, _ = urldefrag(href)
            path = inside(target)
            if path is None:
                # Links out of the site are the commit links and the descriptions' links.
                assert target.startswith("https://"), (url, href)
                continue
            assert path.is_file(), f"{url} links to {href}, which does not exist"
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def test_every_page_from_file_loads_cleanly_and_every_link_resolves(
    watched: Watched, site: Path
) -> None:
    root = file_url(site) + "/"

    def inside(url: str) -> Path | None:
        if not url.startswith("file://"):
            return None
        assert url.startswith(root), f"a link leaves the site: {url}"
        return Path(unquote(urlparse(url).path))

    visited = crawl(watched, root + "index.html", inside)
    assert {inside(url) for url in visited} == set(site.rglob("*.html"))
    assert watched.errors == []
    outside = [url for url in watched.requests if not url.startswith(root)]
    assert outside == []
    # The lineage's commits link to GitHub (but nothing was fetched from it).
    watched.goto(root + "models/churn/v1.html")
    assert f"https://github.com/acme/models/commit/{COMMIT}" in watched.links()


def test_the_search_box_filters_the_models(watched: Watched, site: Path) -> None:
    watched.goto(file_url(site / "index.html"))
    page = watched.page

    def shown() -> list[str]:
        return list(
            page.eval_on_selector_all(
                "#models tbody tr:not([hidden]) a.model-name", "els => els.map(e => e.textContent)"
            )
        )

    assert shown() == ["churn", "demand", "empty-model", HOSTILE_MODEL]
    page.fill("#search", "CHURN")
    assert shown() == ["churn"]
    page.fill("#search", "team=growth")  # a tag
    assert shown() == ["churn"]
    page.fill("#search", "production")  # a stage
    assert shown() == ["churn", "demand", HOSTILE_MODEL]
    page.fill("#search", "@champion alice")  # every word must match
    assert shown() == ["churn"]
    page.fill("#search", "no such model")
    assert shown() == []
    assert page.text_content("#search-count") == "0 of 4 models"
    page.fill("#search", "")
    assert len(shown()) == 4
    assert watched.errors == []  # the script ran, under the pages' CSP, from file://


def test_the_charts_are_drawn(watched: Watched, site: Path) -> None:
    watched.goto(file_url(site / "models" / "churn" / "index.html"))
    charts = watched.page.locator("svg.chart")
    assert charts.count() == 2
    for index in range(2):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80
        dots = chart.locator("circle.dot")
        assert dots.count() == 3
        for dot in range(3):
            assert dots.nth(dot).is_visible()
            dot_box = dots.nth(dot).bounding_box()
            assert dot_box is not None and dot_box["width"] > 0
        points = chart.locator("polyline").get_attribute("points") or ""
        assert len(points.split()) == 3
    # Each dot is coloured by its version's stage (the stylesheet's fill per class).
    fills = watched.page.eval_on_selector_all(
        "svg.chart[data-metric=accuracy] circle", "els => els.map(e => getComputedStyle(e).fill)"
    )
    assert len(set(fills)) == 3


def test_hostile_values_are_inert_text(watched: Watched, site: Path) -> None:
    folder = site / "models" / HOSTILE_MODEL
    for page_file in (site / "index.html", folder / "index.html", folder / "v1.html"):
        watched.goto(file_url(page_file))
        page = watched.page
        page.hover("main")
        for element in page.locator("span.chip").all()[:10]:
            element.hover()
        assert watched.xss_flag() is None
        assert (
            page.locator("main img, main iframe, [onerror], [onload], [onmouseover]").count() == 0
        )
        assert page.locator('a[href^="javascript:" i]').count() == 0
        if page_file != site / "index.html":
            assert SCRIPT in page.inner_text("main")
    assert watched.errors == []


def test_the_content_security_policy_holds_from_file(watched: Watched, site: Path) -> None:
    # A second line of defence behind the escaping: were markup ever injected, an inline
    # script would not run. (And the site's own script does run: see the search test.)
    watched.goto(file_url(site / "index.html"))
    watched.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__xss = 'inline'";
            document.body.appendChild(script);
        }"""
    )
    assert watched.xss_flag() is None
    assert any("Content Security Policy" in error for error in watched.errors), watched.errors


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_screenshots_and_no_sideways_scrolling(watched: Watched, site: Path, width: int) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    watched.page.set_viewport_size({"width": width, "height": 900})
    for name, path in (
        ("index", "index.html"),
        ("model", "models/churn/index.html"),
        ("version", "models/churn/v3.html"),
    ):
        watched.goto(file_url(site / path))
        overflow = watched.page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways at {width}px"
        shot = OUTPUT / f"{name}-{width}.png"
        watched.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000


def ctrl_c_as_in_a_terminal() -> None:
    """A process started in the background by a shell without job control (CI's
    `cmd &`) ignores SIGINT, and its children inherit that, as the catalog server would
    (Python leaves an ignored SIGINT ignored); started from a terminal, Ctrl-C reaches it.
    The server is started as from a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serve_previews_and_rebuilds_in_the_browser(
    watched: Watched, registry_root: Path, tmp_path: Path
) -> None:
    root = Path(shutil.copytree(registry_root, tmp_path / "registry"))
    command = [modelreg_executable(), "--registry", str(root), "catalog", "serve"]
    server = subprocess.Popen(
        [*command, "--port", "0", "--format", "plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # faulthandler: a server that does not stop is made to print every thread's stack
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"},
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        assert server.stdout is not None
        url, out = server.stdout.readline().rstrip("\n").split("\t")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        visited = crawl(
            watched,
            url + "index.html",
            lambda link: Path(out) / unquote(link[len(url) :]) if link.startswith(url) else None,
        )
        assert len(visited) == len(list(Path(out).rglob("*.html")))
        assert watched.errors == []
        assert [each for each in watched.requests if not each.startswith(url)] == []

        Registry(root).register("churn", "s3://bucket/churn/4", metrics={"accuracy": 0.95})
        deadline = time.monotonic() + 30
        while True:
            watched.goto(url + "models/churn/index.html")
            # v4 has one of the two metrics: 4 dots on the first chart, 3 on the other.
            if watched.page.locator("svg.chart circle").count() == 7:
                break
            assert time.monotonic() < deadline, "the served catalog was not rebuilt"
            time.sleep(0.3)
        assert watched.page.locator('a[href="v4.html"]').count() > 0
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.send_signal(signal.SIGABRT)  # faulthandler prints where it hangs
            _, stderr = server.communicate(timeout=30)
            raise AssertionError(f"Ctrl-C did not stop the server:\n{stderr}") from None
    assert server.returncode == 0, stderr
    assert "Serving the catalog" in stderr and "The registry changed" in stderr
    assert stderr.endswith("Stopped.\n")
    assert not Path(out).exists()  # the temporary site is removed

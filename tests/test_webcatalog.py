"""The catalog site without a browser: what the pages contain, escaping, incremental
rebuilds, the manifest's safety, commit links, the command line and the preview server.
(The same site in headless Chromium: test_webcatalog_browser.py.)"""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from _catalog import CARD, HOSTILE_MODEL, IMG, JS_LINK, PAYLOADS, SCRIPT, make_registry
from _safety import git
from modelreg import Registry
from modelreg.cli import app
from modelreg.errors import InvalidInputError
from modelreg.webcatalog import build, serve
from modelreg.webcatalog.build import MANIFEST, web_url
from modelreg.webcatalog.text import markdown

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test registry, made once (its writes fsync: seconds)."""
    return make_registry(tmp_path_factory.mktemp("catalog") / "registry", commit=COMMIT).root


@pytest.fixture
def registry(template: Path, tmp_path: Path) -> Registry:
    """A copy of the test registry, for one test to change."""
    return Registry(shutil.copytree(template, tmp_path / "registry"))


def pages_of(site: Path) -> dict[str, str]:
    return {
        path.relative_to(site).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(site.rglob("*.html"))
    }


def snapshot(site: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(site).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in site.rglob("*")
        if path.is_file()
    }


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def test_the_site_has_a_page_per_model_and_version(registry: Registry, tmp_path: Path) -> None:
    result = build(registry, tmp_path / "site")
    assert (result.models, result.versions, result.removed) == (4, 7, 0)
    assert set(pages_of(tmp_path / "site")) == {
        "index.html",
        "models/churn/index.html",
        "models/churn/v1.html",
        "models/churn/v2.html",
        "models/churn/v3.html",
        "models/demand/index.html",
        "models/demand/v1.html",
        "models/demand/v2.html",
        "models/empty-model/index.html",
        f"models/{HOSTILE_MODEL}/index.html",
        f"models/{HOSTILE_MODEL}/v1.html",
        f"models/{HOSTILE_MODEL}/v2.html",
    }
    assert result.written == 12 + 2  # and the two assets
    assert (tmp_path / "site" / "assets" / "catalog.js").is_file()


def test_every_registry_value_is_escaped_and_no_page_can_run_inline_code(
    registry: Registry, tmp_path: Path
) -> None:
    build(registry, tmp_path / "site")
    pages = pages_of(tmp_path / "site")
    hostile = pages[f"models/{HOSTILE_MODEL}/index.html"] + pages[f"models/{HOSTILE_MODEL}/v1.html"]
    for payload in PAYLOADS:
        assert payload not in hostile
    for name, html in pages.items():
        page = parse(html)
        for tag, attrs in page.tags:
            assert not [key for key in attrs if key.startswith("on")], (name, tag, attrs)
            assert tag not in ("img", "iframe", "object", "embed"), (name, tag, attrs)
            if tag == "script":
                assert attrs.get("src", "").endswith("assets/catalog.js"), (name, attrs)
            if attrs == {"rel": "icon", "href": "data:,"}:
                continue  # the empty favicon: the browser asks no server for one
            for key in ("href", "src"):
                value = (attrs.get(key) or "").strip().lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:")), (name, attrs)
        svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
        assert all(attrs.get("class") == "chart" for attrs in svgs), (name, svgs)
    # ... and the values are there, as text.
    text = "".join(parse(pages[f"models/{HOSTILE_MODEL}/index.html"]).text)
    assert SCRIPT in text and IMG in text and f"[click me]({JS_LINK})" in text


def test_markdown_has_no_raw_html_no_javascript_links_and_no_images() -> None:
    assert markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"
    assert "href" not in markdown("[x](javascript:alert(1))")
    assert "href" not in markdown("[x](JaVaScRiPt:alert(1))")
    assert "<img" not in markdown("![x](https://example.com/x.png)")
    assert markdown("[x](https://example.com)") == (
        '<p><a href="https://example.com" rel="noopener noreferrer">x</a></p>\n'
    )
    assert "<table>" in markdown("| a | b |\n|---|---|\n| 1 | 2 |\n")


def test_the_model_page_shows_the_card_charts_versions_and_history(
    registry: Registry, tmp_path: Path
) -> None:
    build(registry, tmp_path / "site")
    html = (tmp_path / "site" / "models" / "churn" / "index.html").read_text()
    assert "<h1>Churn predictor card</h1>" in html and "<table>" in html  # card.md
    assert "<strong>churn</strong>" in html  # the description, as Markdown
    page = parse(html)
    charts = [attrs["data-metric"] for tag, attrs in page.tags if tag == "svg"]
    assert charts == ["accuracy", "f1"]
    dots = [attrs["class"] for tag, attrs in page.tags if tag == "circle"]
    # One dot per version and metric, coloured by stage (v1 Staging, v2 Production, v3 None).
    assert dots == ["dot stage-1", "dot stage-2", "dot stage-0"] * 2
    assert "weekly release" in html and "looks promising" in html  # the history
    versions = html.index("<h2>Versions</h2>")
    assert html.index('<a href="v3.html">', versions) < html.index('<a href="v1.html">', versions)


def test_a_version_page_is_compared_with_the_champion_or_production(
    registry: Registry, tmp_path: Path
) -> None:
    build(registry, tmp_path / "site")
    models = tmp_path / "site" / "models"
    v3 = (models / "churn" / "v3.html").read_text()
    assert "Compared with the champion (v2)" in v3
    assert "<td>accuracy</td><td>0.93</td><td>0.91</td><td>-0.02</td><td>-2.15%</td>" in v3
    assert "This version is the champion (v2)." in (models / "churn" / "v2.html").read_text()
    assert "Compared with Production (v1)" in (models / "demand" / "v2.html").read_text()
    assert "models:/churn/3" in v3 and "s3://bucket/churn/3" in v3 and "run3" in v3


def test_a_rebuild_writes_only_the_files_whose_content_changed(
    registry: Registry, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    build(registry, site)
    before = snapshot(site)
    again = build(Registry(registry.root), site)
    assert (again.written, again.unchanged, again.removed) == (0, 14, 0)
    assert snapshot(site) == before

    registry.set_model_version_tag("churn", 3, "reviewed", "yes")
    changed = build(Registry(registry.root), site)
    after = snapshot(site)
    rewritten = {path for path in after if after[path] != before[path]}
    # The version's page, its model's page (the history), the index (last change).
    expected = {"index.html", "models/churn/index.html", "models/churn/v3.html"}
    assert rewritten == expected | {MANIFEST}  # the model's fingerprint
    assert (changed.written, changed.unchanged, changed.removed) == (3, 11, 0)


def test_the_pages_of_deleted_versions_and_models_are_removed(
    registry: Registry, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    build(registry, site)
    registry.delete_model_version("churn", 3)
    registry.delete_registered_model("demand")
    result = build(Registry(registry.root), site)
    assert result.removed == 4  # churn v3, demand's page and its two versions
    assert not (site / "models" / "churn" / "v3.html").exists()
    assert not (site / "models" / "demand").exists()
    assert (site / "models" / "churn" / "v2.html").exists()


def test_a_folder_that_is_not_a_catalog_is_refused_and_the_manifest_cannot_delete_others(
    registry: Registry, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(InvalidInputError, match="not empty and holds no catalog"):
        build(registry, mine)
    with pytest.raises(InvalidInputError, match="into the registry itself"):
        build(registry, registry.root)

    site = tmp_path / "site"
    build(registry, site)
    outside = tmp_path / "outside.html"
    outside.write_text("keep")
    (site / "notes.html").write_text("keep")
    manifest = json.loads((site / MANIFEST).read_text())
    manifest["files"] += ["../outside.html", "notes.html", "/etc/hostname"]
    (site / MANIFEST).write_text(json.dumps(manifest))
    assert build(registry, site).removed == 0
    assert outside.exists() and (site / "notes.html").exists()


def test_check_accepts_a_model_card(registry: Registry) -> None:
    result = CliRunner().invoke(app, ["--registry", str(registry.root), "check"])
    assert result.exit_code == 0, result.output
    assert (registry.root / "models" / "churn" / "card.md").read_text() == CARD


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:acme/models.git", ("https://github.com/acme/models", "github")),
        ("https://github.com/acme/models.git", ("https://github.com/acme/models", "github")),
        ("https://x:token@github.com/acme/models", ("https://github.com/acme/models", "github")),
        (
            "ssh://git@gitlab.com:2222/g/sub/models.git",
            ("https://gitlab.com/g/sub/models", "gitlab"),
        ),
        (
            "https://gitlab.example.org/team/models",
            ("https://gitlab.example.org/team/models", "gitlab"),
        ),
        ("git@bitbucket.org:acme/models.git", None),
        ("/srv/git/models.git", None),
        ('git@github.com:acme/models"onclick=x.git', None),
    ],
)
def test_the_hosting_service_address_of_a_remote(
    remote: str, expected: tuple[str, str] | None
) -> None:
    assert web_url(remote) == expected


def test_lineage_commits_link_to_the_hosting_service(template: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    git(project, "remote", "add", "origin", "git@gitlab.com:acme/models.git")
    shutil.copytree(template, project / "registry")
    build(Registry(project / "registry"), tmp_path / "site")
    v1 = (tmp_path / "site" / "models" / "churn" / "v1.html").read_text()
    assert f'href="https://gitlab.com/acme/models/-/commit/{COMMIT}"' in v1


def test_catalog_build_command(registry: Registry, tmp_path: Path) -> None:
    site = tmp_path / "site"
    args = ["--registry", str(registry.root), "catalog", "build", str(site), "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "out": str(site),
        "models": 4,
        "versions": 7,
        "written": 14,
        "unchanged": 0,
        "removed": 0,
        "skipped": [],
    }
    assert result.stderr == (
        f"Catalog of 4 models and 7 versions in {site}: 14 files written, 0 unchanged, 0 removed\n"
    )
    again = [*args[:-1], "yaml"]
    assert yaml.safe_load(CliRunner().invoke(app, again).stdout) == {
        **json.loads(result.stdout),
        "written": 0,
        "unchanged": 14,
    }
    plain = CliRunner().invoke(app, [*args[:-1], "plain"]).stdout
    assert plain == f"{site}\t4\t7\t0\t14\t0\n"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - 127.0.0.1 only
        return str(answer.read().decode())


def test_serve_rebuilds_when_the_registry_changes(registry: Registry, tmp_path: Path) -> None:
    ready: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve.serve,
        args=(registry.root,),
        kwargs={
            "out": tmp_path / "site",
            "port": 0,
            "poll": 0.05,
            "on_ready": lambda url, out, result: ready.append(url),
            "stop": stop,
        },
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not ready and time.monotonic() < deadline:
            time.sleep(0.05)
        (url,) = ready
        assert url.startswith("http://127.0.0.1:")
        assert "v4.html" not in _get(url + "models/churn/index.html")
        with pytest.raises(urllib.error.HTTPError, match="404"):
            _get(url + MANIFEST)
        registry.register("churn", "s3://bucket/churn/4", metrics={"accuracy": 0.95})
        while "v4.html" not in _get(url + "models/churn/index.html"):
            assert time.monotonic() < deadline, "the catalog was not rebuilt"
            time.sleep(0.05)
        assert "<h1>churn <span class=muted>v4</span>" in _get(url + "models/churn/v4.html")
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_the_templates_and_assets_are_package_data() -> None:
    # A non-editable install has only what pyproject.toml declares besides the modules.
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["modelreg"]
    package = root / "src" / "modelreg"
    data = {
        path.relative_to(package).as_posix()
        for path in (package / "webcatalog").rglob("*")
        # Modules and their bytecode (make test compiles src/) are not package data.
        if path.is_file() and path.suffix not in (".py", ".pyc")
    }
    assert {"webcatalog/templates/page.html", "webcatalog/assets/catalog.js"} <= data
    assert [path for path in data if not any(fnmatch(path, glob) for glob in globs)] == []

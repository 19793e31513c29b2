"""``modelreg catalog build``: read the registry, write the site, touch only what changed.

A file is written only when its bytes differ from what is there, so a rebuild after one
change rewrites the few pages that show it and leaves the others' times alone (a static
host's sync, ``rsync`` or a git diff of the site sees only those). A manifest
(``.modelreg-catalog`` in the site's folder, JSON) lists the files the last build made and
a fingerprint of each model's data (its model, versions and card, with the site's
settings and this code): the pages of a model whose fingerprint has not changed and whose
files are all there are not even made again, which keeps a rebuild after one change well
under the time of a whole build. A page the manifest listed that this build does not make
(a deleted model or version) is removed, and nothing else ever is. A folder that is
neither empty nor a catalog is refused, so a typo in OUT cannot scatter pages over
someone's files.

Pages have no build time or absolute path in them: the same registry gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from modelreg import compare
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError, RegistryError
from modelreg.registry import Registry
from modelreg.store import CARD_FILE, MODELS_DIR
from modelreg.webcatalog import pages
from modelreg.webcatalog.pages import ModelView, Site
from modelreg.webcatalog.text import model_path, version_path

MANIFEST = ".modelreg-catalog"
ASSETS = ("catalog.css", "catalog.js")
# What a manifest may name: a tampered manifest must not make a build delete other files.
_OWN_FILE = re.compile(
    r"(index\.html|assets/[A-Za-z0-9._-]+|models/[A-Za-z0-9][A-Za-z0-9._-]*/(index|v[0-9]+)\.html)\Z"
)


@dataclass(frozen=True)
class BuildResult:
    """What a build did: ``written`` files whose content changed (or are new),
    ``unchanged`` ones left as they were, ``removed`` pages of what is gone; ``skipped``
    the corrupt files of the registry left out (``modelreg check`` says more)."""

    out: Path
    models: int
    versions: int
    written: int
    unchanged: int
    removed: int
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "out": str(self.out),
            "models": self.models,
            "versions": self.versions,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": list(self.skipped),
        }


def build(registry: Registry, out: str | os.PathLike[str]) -> BuildResult:
    """Write the catalog of ``registry`` into the folder ``out`` (made if missing)."""
    target = Path(out)
    _check_target(registry, target)
    errors: list[CorruptFileError] = []
    views = collect(registry, errors)
    from modelreg import __version__

    site = Site(tuple(registry.config.stages), __version__, commit_link(remote_url(registry.root)))
    writer = _Writer(target)
    previous = writer.read_manifest()
    site_key = _site_key(site, registry.root)
    fingerprints = {view.name: _fingerprint(site_key, view) for view in views}
    fresh = {
        view.name
        for view in views
        if previous.get(view.name) == fingerprints[view.name]
        and all((target / path).is_file() for path in _model_files(view))
    }
    writer.fingerprints = fingerprints
    writer.write_all(site_files(site, views, fresh))
    removed = writer.remove_stale()
    return BuildResult(
        target,
        len(views),
        sum(len(view.versions) for view in views),
        writer.written,
        writer.unchanged,
        removed,
        tuple(str(exc) for exc in errors),
    )


def collect(registry: Registry, errors: list[CorruptFileError]) -> list[ModelView]:
    """Every model with its versions and card; corrupt files go to ``errors``."""
    views = []
    for model in registry.list_registered_models(errors):
        try:
            versions = registry.list_versions(model.name, errors)
        except (NotFoundError, CorruptFileError):  # deleted or broken since it was listed
            continue
        card_file = registry.root / MODELS_DIR / model.name / CARD_FILE
        try:
            card = card_file.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            card = None
        views.append(ModelView(model, versions, card))
    return views


def site_files(
    site: Site, views: list[ModelView], fresh: frozenset[str] | set[str] = frozenset()
) -> Iterator[tuple[str, bytes | None]]:
    """Every file of the site: (path relative to its root, content), made one at a time;
    the content is None for the pages of the models in ``fresh`` (as the last build made
    them)."""
    assets = resources.files("modelreg.webcatalog").joinpath("assets")
    for name in ASSETS:
        yield f"assets/{name}", assets.joinpath(name).read_bytes()
    yield "index.html", pages.index_page(site, views).encode()
    for view in views:
        if view.name in fresh:
            yield from ((path, None) for path in _model_files(view))
            continue
        yield model_path(view.name), pages.model_page(site, view).encode()
        target = view.diff_target()
        for mv in view.versions:
            diff = None if target is None else compare.diff(target[1], mv)
            html = pages.version_page(site, view, mv, target, diff)
            yield version_path(view.name, mv.version), html.encode()


def _model_files(view: ModelView) -> list[str]:
    return [model_path(view.name), *(version_path(view.name, mv.version) for mv in view.versions)]


def _site_key(site: Site, root: Path) -> bytes:
    """What every page depends on besides its model: the stages, the version of
    modelreg, the commit links, and the code and files that make the pages."""
    digest = hashlib.sha256(
        repr((site.stages, site.modelreg_version, site.commit_url("0"))).encode()
    )
    package = resources.files("modelreg.webcatalog")
    for name in ("pages.py", "text.py", "charts.py", "templates/page.html"):
        digest.update(package.joinpath(name).read_bytes())
    return digest.digest()


def _fingerprint(site_key: bytes, view: ModelView) -> str:
    """A digest of everything a model's pages show."""
    data = pickle.dumps((view.model, view.versions, view.card), protocol=5)
    return hashlib.sha256(site_key + data).hexdigest()


def _check_target(registry: Registry, target: Path) -> None:
    resolved = target.resolve()
    root = registry.root.resolve()
    if resolved == root or resolved.is_relative_to(root / "models"):
        raise InvalidInputError(f"{target}: the catalog cannot be written into the registry itself")
    if resolved.exists() and not resolved.is_dir():
        raise InvalidInputError(f"{target} is not a folder")
    if (
        resolved.is_dir()
        and not (resolved / MANIFEST).is_file()
        and any(True for _ in resolved.iterdir())
    ):
        raise InvalidInputError(
            f"{target} is not empty and holds no catalog ({MANIFEST}): "
            "build into a new or empty folder, or one an earlier build made"
        )


@dataclass
class _Writer:
    """Writes files whose bytes changed (each replaced whole, never seen half-written)
    and remembers what it wrote, for the manifest."""

    root: Path
    written: int = 0
    unchanged: int = 0
    made: set[str] = field(default_factory=set)
    fingerprints: dict[str, str] = field(default_factory=dict)
    _folders: set[Path] = field(default_factory=set)
    _before: list[str] = field(default_factory=list)

    def read_manifest(self) -> dict[str, str]:
        """The files and the models' fingerprints of the last build (none when there is
        no manifest or it cannot be read: then every page is made)."""
        try:
            doc = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return {}
        if not isinstance(doc, dict):
            return {}
        files, models = doc.get("files"), doc.get("models")
        self._before = (
            [each for each in files if isinstance(each, str)] if isinstance(files, list) else []
        )
        if not isinstance(models, dict):
            return {}
        return {key: value for key, value in models.items() if isinstance(value, str)}

    def write_all(self, files: Iterable[tuple[str, bytes | None]]) -> None:
        for relative, data in files:
            self.made.add(relative)
            if data is not None and self._write(self.root / relative, data):
                self.written += 1
            else:
                self.unchanged += 1

    def _write(self, path: Path, data: bytes) -> bool:
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return False
        except (FileNotFoundError, NotADirectoryError):
            pass
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
        return True

    def remove_stale(self) -> int:
        """Remove what the last build made and this one did not; save the manifest."""
        removed = 0
        for relative in sorted(set(self._before) - self.made):
            if not _OWN_FILE.match(relative):
                continue
            path = self.root / relative
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
            _remove_empty(path.parent, self.root)
        doc = {"files": sorted(self.made), "models": dict(sorted(self.fingerprints.items()))}
        self._write(self.root / MANIFEST, (json.dumps(doc, indent=0) + "\n").encode())
        return removed


def _remove_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone)
            return
        folder = folder.parent


# -- links to the commits of a version's lineage ------------------------------------------

_SCP = re.compile(r"(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)\Z")
_URL = re.compile(r"(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^:/]+)(?::\d+)?/(?P<path>.+)\Z")
_PATH = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)+\Z")


def remote_url(root: Path) -> str | None:
    """``git remote get-url origin`` of the repository the registry is in, if any."""
    from modelreg.gitsync import trees

    try:
        if not trees.inside_work_tree(root):
            return None
        return trees.text(root, "remote", "get-url", "origin").strip() or None
    except RegistryError:
        return None


def web_url(remote: str) -> tuple[str, str] | None:
    """The https address of a GitHub or GitLab repository from its remote URL (scp-like
    ``git@host:owner/repo.git``, ``ssh://``, ``https://``; credentials dropped), and which
    of the two it is; None for another host or form."""
    found = _URL.match(remote) or _SCP.match(remote)
    if found is None:
        return None
    host, path = found["host"].lower(), found["path"].strip("/").removesuffix(".git")
    kind = "github" if "github" in host else "gitlab" if "gitlab" in host else None
    if kind is None or not _PATH.match(path) or ".." in path.split("/"):
        return None
    return f"https://{host}/{path}", kind


def commit_link(remote: str | None) -> Callable[[str], str | None]:
    """A function from a commit's sha to its page on the hosting service (or None)."""
    found = web_url(remote) if remote else None
    if found is None:
        return lambda sha: None
    base, kind = found
    middle = "/commit/" if kind == "github" else "/-/commit/"
    return lambda sha: f"{base}{middle}{sha}"

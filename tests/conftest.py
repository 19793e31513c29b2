"""Shared fixtures: every test builds its registry under tmp_path, and nothing can reach a
real registry by accident."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry


def _in_group(config: pytest.Config, item: pytest.Item, group: str) -> None:
    item.add_marker(pytest.mark.xdist_group(group))
    # pytest-xdist (3.8) hands a group to its scheduler as a suffix of the test's id,
    # written to the item's _nodeid; since pytest 9.2 the id lives in _id and that write
    # is lost, so loadgroup silently groups nothing (pytest-xdist issue #1386). Write the
    # same suffix where pytest 9.2 keeps the id; older pytest needs nothing more.
    ident = getattr(item, "_id", None)
    grouping = getattr(config.option, "loadgroup", False)
    if grouping and ident is not None and not item.nodeid.endswith(f"@{group}"):
        item._id = type(ident).parse(f"{item.nodeid}@{group}")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for ``pytest -n 2 --dist loadgroup`` (`make test`): pytest-xdist runs each
    group's tests one after another in one worker. The stress tests (marked slow) form one
    group, so that no two of them run beside each other (each starts several processes of
    its own); the tests sharing a module-scoped fixture (an MLflow server, a store built
    by MLflow, a moto server...) form one group per module, so that it is built once.
    Under xdist the slow group is collected first: with --no-loadscope-reorder (`make
    test`) one worker starts with it, the longest group, and the other worker runs the
    rest beside it. Without xdist the marks change nothing, and the order neither."""
    groups: dict[pytest.Item, str] = {}
    for item in items:
        if item.get_closest_marker("slow") is not None:
            groups[item] = "slow"
            continue
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info is not None else ()
        if any(defs[-1].scope == "module" for defs in definitions):
            groups[item] = item.path.stem  # the module's name
    # A module whose module-scoped fixture a slow test uses too: all of it in the slow group.
    slow_modules = {item.path.stem for item in items if groups.get(item) == "slow"}
    for item in items:
        group = groups.get(item)
        if group is not None:
            groups[item] = group = "slow" if group in slow_modules else group
            _in_group(config, item, group)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: groups.get(item) != "slow")  # stable


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Discovery must never find a registry the test did not make: point the default at a
    # folder that is not one, and run from an empty folder with no registry above it.
    nowhere = tmp_path_factory.mktemp("not-a-registry")
    monkeypatch.setenv("MODELREG_REGISTRY", str(nowhere))
    monkeypatch.chdir(nowhere)
    monkeypatch.setenv("MODELREG_USER", "tester@example.com")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("MODELREG_LOCK_TIMEOUT", raising=False)
    # Hook trust is remembered per user: tests never read or write the real trust file.
    monkeypatch.setenv("MODELREG_TRUST_DIR", str(tmp_path_factory.mktemp("trust")))
    monkeypatch.setenv("MODELREG_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    # Pulled artifacts too (modelreg pull).
    monkeypatch.setenv("MODELREG_CACHE", str(tmp_path_factory.mktemp("artifact-cache")))
    monkeypatch.delenv("MODELREG_TRUST_HOOKS", raising=False)
    monkeypatch.delenv("MODELREG_TRUST", raising=False)
    monkeypatch.delenv("MODELREG_NO_HOOKS", raising=False)
    # git lineage must not depend on the developer's own git configuration.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """An empty registry under tmp_path."""
    return Registry.init(tmp_path / "registry")


@pytest.fixture
def registry_path(registry: Registry) -> Path:
    return registry.root


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The version files this process parsed from YAML (cache misses), in order (a
    forked child counts in its own copy)."""
    from modelreg import index

    seen: list[Path] = []
    real = index.VersionIndex._version_fields

    def counting(
        self: index.VersionIndex, name: str, number: int, path: str, data: bytes
    ) -> object:
        seen.append(self.store.version_file(name, number))
        return real(self, name, number, path, data)

    monkeypatch.setattr(index.VersionIndex, "_version_fields", counting)
    return seen


@pytest.fixture
def composes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models whose fields were composed from their files (format 2: model.yaml,
    the alias files, the tombstones), in order."""
    from modelreg import index

    seen: list[str] = []
    real = index.VersionIndex._compose_model

    def counting(self: index.VersionIndex, name: str) -> object:
        seen.append(name)
        return real(self, name)

    monkeypatch.setattr(index.VersionIndex, "_compose_model", counting)
    return seen


@pytest.fixture
def settle_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust (and cache) files' stat data as soon as it is read (the default waits until
    it is 2 s old): the cache's and git lineage's settle time, shortened to nothing."""
    from modelreg import index

    monkeypatch.setattr(index, "SETTLE_SECONDS", 0.0)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository on branch main with one committed file, train.py."""
    from _safety import git

    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text("print('train')\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    return root


def cli_commands(group: Any = None, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every command of the Typer app by its words ("list", "hooks", "hooks list"...),
    the sub-apps' too: lists of "every command" are derived from this, never kept by hand."""
    if group is None:
        import typer.main

        from modelreg.cli import app

        group = typer.main.get_command(app)
    found: dict[str, Any] = {}
    for name, command in sorted(group.commands.items()):
        found[" ".join((*path, name))] = command
        if getattr(command, "commands", None) is not None:
            found.update(cli_commands(command, (*path, name)))
    return found


def leaf_commands() -> list[str]:
    """The runnable commands of :func:`cli_commands` (not the groups)."""
    return [
        name
        for name, command in cli_commands().items()
        if getattr(command, "commands", None) is None
    ]


def modelreg_executable() -> str:
    """The installed console script, next to the running interpreter."""
    candidate = Path(sys.executable).with_name("modelreg")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("modelreg")
    assert found, "the modelreg console script is not installed (pip install -e .)"
    return found


@pytest.fixture
def run_cli() -> Iterator[object]:
    """Run the installed ``modelreg`` as a real subprocess; returns CompletedProcess."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [modelreg_executable(), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            input=stdin,
            timeout=60,
            check=False,
        )

    yield run

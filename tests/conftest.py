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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for ``pytest -n 2 --dist loadgroup`` (`make test`): pytest-xdist runs each
    group's tests one after another in one worker. The stress tests (marked slow) form one
    group, so that no two of them run beside each other (each starts several processes of
    its own); the tests sharing a module-scoped fixture (an MLflow server, a store built
    by MLflow, a moto server...) form one group per module, so that it is built once.
    Without xdist the marks change nothing."""
    groups: dict[str, str] = {}
    for item in items:
        if item.get_closest_marker("slow") is not None:
            groups[item.nodeid] = "slow"
            continue
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info is not None else ()
        if any(defs[-1].scope == "module" for defs in definitions):
            groups[item.nodeid] = item.nodeid.split("::", 1)[0]
    # A module whose module-scoped fixture a slow test uses too: all of it in the slow group.
    slow_modules = {
        item.nodeid.split("::", 1)[0] for item in items if groups.get(item.nodeid) == "slow"
    }
    for item in items:
        group = groups.get(item.nodeid)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group("slow" if group in slow_modules else group))


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

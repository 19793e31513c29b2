"""Hostile files and names: each yields a clear error or finding that names the file,
within a second or two and in modest memory (no crash, hang or traceback), the healthy
rest of the registry stays readable, and nothing outside the registry is ever read or
written through a symlink."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.check import check_registry
from modelreg.errors import CorruptFileError, RegistryError

MB = 1024 * 1024


def alias_bomb() -> bytes:
    # "Billion laughs": nine levels of nine references, 10^9 strings if expanded.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def merge_key_bomb() -> bytes:
    lines = ["k0: &k0 {x: 1, y: 2}"]
    for level in range(1, 10):
        refs = ", ".join([f"*k{level - 1}"] * 9)
        lines.append(f"k{level}: &k{level} {{<<: [{refs}], z{level}: 1}}")
    return ("\n".join(lines) + "\n").encode()


def valid_version(number: int = 3, **changes: Any) -> str:
    doc = {
        "name": "m",
        "version": number,
        "source": "s3://b/3",
        "current_stage": "None",
        "created_at": "2026-11-28T19:00:00.000Z",
        "updated_at": "2026-11-28T19:00:00.000Z",
        **changes,
    }
    return "".join(f"{key}: {value}\n" for key, value in doc.items())


def random_bytes(size: int, seed: int, exclude_nul: bool = False) -> bytes:
    rng = random.Random(seed)
    low = 0x80 if exclude_nul else 0
    return bytes(rng.randrange(low, 256) for _ in range(size))


# name -> (the file's content, what the error must say)
CONTENTS: dict[str, tuple[Callable[[], bytes], str]] = {
    "alias bomb": (alias_bomb, "anchors (&name) are not allowed"),
    "merge-key bomb": (merge_key_bomb, "anchors (&name) are not allowed"),
    "merge key": (lambda: b"<<: {name: m}\nversion: 3\n", "merge keys (<<) are not allowed"),
    "nesting 100,000 deep (flow)": (
        lambda: b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "nest",
    ),
    "nesting 100,000 deep (mappings)": (
        lambda: b"x: " + b"{a: " * 100_000 + b"1" + b"}" * 100_000 + b"\n",
        "nest",
    ),
    "nesting 100,000 deep (block)": (lambda: b"- " * 100_000 + b"x\n", "nest"),
    "4 MB of tiny values": (
        lambda: b"x: [" + b"1," * (2 * MB - 8) + b"1]\n",
        "more than 250,000 values",
    ),
    "duplicate keys": (
        lambda: (valid_version() + "source: s3://other\n").encode(),
        "duplicate key",
    ),
    "version is text": (lambda: valid_version(version="three").encode(), "'version'"),
    "tags is a list": (lambda: valid_version(tags="[1, 2]").encode(), "'tags'"),
    "metric is text": (lambda: valid_version(metrics="{acc: high}").encode(), "'metrics.acc'"),
    "timestamp is a number": (lambda: valid_version(created_at=12).encode(), "'created_at'"),
    "history is a mapping": (lambda: valid_version(history="{a: 1}").encode(), "'history'"),
    "binary garbage": (lambda: random_bytes(4096, 1), "binary data"),
    "invalid UTF-8": (lambda: random_bytes(4096, 2, exclude_nul=True), "not UTF-8"),
    "empty file": (lambda: b"", "expected a mapping"),
    "a list, not a mapping": (lambda: b"- name: m\n- version: 3\n", "expected a mapping"),
    "two documents": (lambda: valid_version().encode() + b"---\n" + b"a: 1\n", "more than one"),
    "python object tag": (
        lambda: b"name: !!python/object/apply:os.system ['echo pwned']\n",
        "explicit YAML tag",
    ),
    "git conflict markers": (
        lambda: (
            "<<<<<<< HEAD\n"
            + valid_version()
            + "=======\n"
            + valid_version(source="s3://x")
            + ">>>>>>> other\n"
        ).encode(),
        "git conflict marker on line 1",
    ),
    "renamed to another number": (lambda: valid_version(number=2).encode(), "says version 2"),
}


@pytest.fixture
def healthy(registry: Registry) -> Registry:
    """Model m with versions 1 and 2; the hostile file becomes version 3."""
    registry.register("m", "s3://b/1", create_model=True)
    registry.register("m", "s3://b/2")
    return registry


def version_file(registry: Registry, number: int = 3) -> Path:
    return registry.root / "models" / "m" / "versions" / f"{number}.yaml"


def assert_refused_everywhere(registry: Registry, path: Path, says: str) -> None:
    """Reading names the file; listing shows the healthy versions and names the bad one;
    check reports it; each within two seconds of CPU time (the work done, which other
    processes on a busy machine do not inflate the way they do wall-clock time)."""
    started = time.process_time()
    with pytest.raises(CorruptFileError) as caught:
        Registry(registry.root).get_model_version("m", 3)
    assert caught.value.path == path
    assert says in str(caught.value)
    assert str(path) in str(caught.value)
    assert time.process_time() - started < 2
    started = time.process_time()
    errors: list[CorruptFileError] = []
    listed = Registry(registry.root).list_versions("m", errors=errors)
    assert [mv.version for mv in listed] == [1, 2]
    assert [error.path for error in errors] == [path]
    assert time.process_time() - started < 2
    started = time.process_time()
    report = check_registry(registry.root)
    assert path in [finding.path for finding in report.problems]
    assert not report.clean
    assert time.process_time() - started < 2


@pytest.mark.parametrize("case", list(CONTENTS))
def test_hostile_version_file(healthy: Registry, case: str) -> None:
    content, says = CONTENTS[case]
    path = version_file(healthy)
    path.write_bytes(content())
    assert_refused_everywhere(healthy, path, says)


def test_file_of_100_mb(healthy: Registry) -> None:
    path = version_file(healthy)
    with path.open("wb") as handle:  # sparse: quick to make, 100 MB to read
        handle.write(valid_version().encode())
        handle.truncate(100 * MB)
    assert_refused_everywhere(healthy, path, "larger than 4 MB")


def test_a_fifo_does_not_hang(healthy: Registry) -> None:
    path = version_file(healthy)
    os.mkfifo(path)
    assert_refused_everywhere(healthy, path, "not a regular file")


def test_a_folder_named_like_a_version(healthy: Registry) -> None:
    path = version_file(healthy)
    path.mkdir()
    assert_refused_everywhere(healthy, path, "found a folder")


def test_hostile_model_file(healthy: Registry) -> None:
    path = healthy.root / "models" / "m" / "model.yaml"
    path.write_bytes(alias_bomb())
    with pytest.raises(CorruptFileError, match="anchors"):
        Registry(healthy.root).get_registered_model("m")
    errors: list[CorruptFileError] = []
    assert Registry(healthy.root).list_registered_models(errors=errors) == []
    assert [error.path for error in errors] == [path]
    assert [finding.path for finding in check_registry(healthy.root).problems] == [path]


def test_hostile_registry_yaml(healthy: Registry) -> None:
    path = healthy.root / "registry.yaml"
    path.write_bytes(merge_key_bomb())
    with pytest.raises(CorruptFileError, match="anchors"):
        Registry(healthy.root)
    # check still checks everything else, with the default stages.
    report = check_registry(healthy.root)
    assert [finding.path for finding in report.problems] == [path]


# -- time, memory and bytes read, measured in a process of their own ------------------

MEASURE = """
import json, sys, time
from pathlib import Path
from modelreg import Registry
from modelreg.check import check_registry

def read_so_far():
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))

def peak_rss_mb():
    # VmHWM belongs to this process's memory since exec; getrusage's ru_maxrss would
    # also count the parent's peak at fork time (pytest's, late in a long run).
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

root = Path(sys.argv[1])
check_registry(root.parent / "warm-up")  # imports and first-use costs are not the file's
before, started = read_so_far(), time.process_time()
report = check_registry(root)
errors = []
Registry(root).list_versions("m", errors=errors)
print(json.dumps({
    "cpu_seconds": time.process_time() - started,
    "bytes_read": read_so_far() - before,
    "max_rss_mb": peak_rss_mb(),
    "findings": [str(finding.path) for finding in report.problems],
    "errors": [str(error.path) for error in errors],
}))
"""
HEAVY = {
    "alias bomb": alias_bomb,
    "merge-key bomb": merge_key_bomb,
    "nesting 100,000 deep": lambda: b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "100 MB": None,
}


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
@pytest.mark.parametrize("case", list(HEAVY))
def test_hostile_file_costs_little(healthy: Registry, case: str) -> None:
    Registry.init(healthy.root.parent / "warm-up")
    path = version_file(healthy)
    content = HEAVY[case]
    if content is None:
        with path.open("wb") as handle:
            handle.truncate(100 * MB)
    else:
        path.write_bytes(content())
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(healthy.root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    measured = json.loads(result.stdout)
    assert str(path) in measured["findings"]
    assert measured["errors"] == [str(path)]
    assert measured["cpu_seconds"] < 2
    assert measured["max_rss_mb"] < 150
    # Each of the two reads (check, list) stops at the 4 MB cap: far from 100 MB.
    assert measured["bytes_read"] < 2 * 4 * MB + MB


# -- the command line: one line on stderr naming the file, exit 7, no traceback --------


@pytest.mark.parametrize("case", ["git conflict markers", "alias bomb", "empty file"])
def test_cli_read_commands_name_the_file(healthy: Registry, run_cli: Any, case: str) -> None:
    path = version_file(healthy)
    path.write_bytes(CONTENTS[case][0]())
    listed = run_cli("--registry", str(healthy.root), "list", "m", "--format", "plain")
    assert listed.returncode == 7
    assert [line.split("\t")[1] for line in listed.stdout.splitlines()] == ["1", "2"]
    assert listed.stderr.startswith(f"error: {path}: ")
    assert listed.stderr.count("\n") == 1
    described = run_cli("--registry", str(healthy.root), "describe", "m", "3")
    assert described.returncode == 7
    assert described.stderr.startswith(f"error: {path}: ")
    assert "Traceback" not in listed.stderr + described.stderr
    checked = run_cli("--registry", str(healthy.root), "check", "--format", "json")
    assert checked.returncode == 7
    assert str(path) in [finding["path"] for finding in json.loads(checked.stdout)]


# -- symlinks: never followed, for reading or writing ---------------------------------


def tree_state(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``folder`` (and the folder itself) with its bytes and mtime."""
    entries = {".": (None, folder.stat().st_mtime_ns)}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        entries[path.relative_to(folder).as_posix()] = (
            path.read_bytes() if path.is_file() else None,
            info.st_mtime_ns,
        )
    return entries


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the registry holding a valid-looking model."""
    elsewhere = Registry.init(tmp_path / "elsewhere")
    elsewhere.register("evil", "s3://outside/1", create_model=True)
    elsewhere.set_registered_model_alias("evil", "champion", 1)
    return elsewhere.root / "models" / "evil"


def attempts(registry: Registry) -> dict[str, Callable[[], Any]]:
    return {
        "get": lambda: registry.get_registered_model("evil"),
        "get version": lambda: registry.get_model_version("evil", 1),
        "list versions": lambda: registry.list_versions("evil"),
        "create": lambda: registry.create_registered_model("evil"),
        "register": lambda: registry.register("evil", "s3://x", create_model=True),
        "create version": lambda: registry.create_model_version("evil", "s3://x"),
        "tag": lambda: registry.set_registered_model_tag("evil", "k", "v"),
        "version tag": lambda: registry.set_model_version_tag("evil", 1, "k", "v"),
        "transition": lambda: registry.transition_model_version_stage("evil", 1, "Production"),
        "alias": lambda: registry.set_registered_model_alias("evil", "a", 1),
        "delete alias": lambda: registry.delete_registered_model_alias("evil", "champion"),
        "describe": lambda: registry.update_registered_model("evil", "x"),
        "delete version": lambda: registry.delete_model_version("evil", 1),
        "rename away": lambda: registry.rename_registered_model("evil", "good"),
        "rename onto": lambda: registry.rename_registered_model("other", "evil"),
        "delete": lambda: registry.delete_registered_model("evil"),
    }


def test_symlinked_model_folder_is_never_followed(registry: Registry, outside: Path) -> None:
    registry.create_registered_model("other")
    link = registry.root / "models" / "evil"
    link.symlink_to(outside, target_is_directory=True)
    before = tree_state(outside.parent.parent)
    for what, attempt in attempts(registry).items():
        with pytest.raises(RegistryError) as caught:
            attempt()
        assert str(link) in str(caught.value), (what, caught.value)
    errors: list[CorruptFileError] = []
    assert [model.name for model in registry.list_registered_models(errors=errors)] == ["other"]
    assert [error.path for error in errors] == [link]
    report = check_registry(registry.root, repair=True)
    assert [finding.path for finding in report.problems] == [link]
    assert tree_state(outside.parent.parent) == before  # not a byte, not an mtime


def test_symlinked_versions_folder_is_never_followed(registry: Registry, outside: Path) -> None:
    registry.create_registered_model("m")
    versions = registry.root / "models" / "m" / "versions"
    versions.rmdir()
    versions.symlink_to(outside / "versions", target_is_directory=True)
    before = tree_state(outside.parent.parent)
    for attempt in (
        lambda: registry.create_model_version("m", "s3://x"),
        lambda: registry.get_model_version("m", 1),
        lambda: registry.list_versions("m"),
        lambda: registry.set_model_version_tag("m", 1, "k", "v"),
        lambda: registry.delete_model_version("m", 1),
    ):
        with pytest.raises(CorruptFileError, match="symlink"):
            attempt()
    report = check_registry(registry.root, repair=True)
    assert [finding.path for finding in report.problems] == [versions]
    assert tree_state(outside.parent.parent) == before


def test_symlinked_version_file_is_never_read(registry: Registry, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(valid_version(1))
    registry.create_registered_model("m")
    link = registry.root / "models" / "m" / "versions" / "1.yaml"
    link.symlink_to(secret)
    with pytest.raises(CorruptFileError, match="symlink"):
        registry.get_model_version("m", 1)
    with pytest.raises(CorruptFileError, match="symlink"):
        registry.set_model_version_tag("m", 1, "k", "v")
    assert link in [finding.path for finding in check_registry(registry.root).problems]
    assert secret.read_text() == valid_version(1)


@pytest.mark.parametrize(
    "name",
    ["../outside", "a/b", "..", ".", "", "-x", "CON", "nul.txt", "a" * 129, "x\n", "a:b", "é"],
)
def test_hostile_model_names_are_refused_before_any_path(registry: Registry, name: str) -> None:
    before = tree_state(registry.root.parent)
    for attempt in (
        lambda: registry.create_registered_model(name),
        lambda: registry.register(name, "s3://x", create_model=True),
        lambda: registry.get_registered_model(name),
    ):
        with pytest.raises(RegistryError) as caught:
            attempt()
        assert caught.value.exit_code == 2
    assert tree_state(registry.root.parent) == before

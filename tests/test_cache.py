"""The cache of parsed version files never serves stale data: hand edits, git checkouts and
other processes' writes are seen by the next read, and deleting it changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _safety import git
from modelreg import Registry, index, yamlio

NAME = "churn"


def build(registry: Registry, count: int = 5) -> None:
    for number in range(1, count + 1):
        registry.register(
            NAME,
            f"s3://b/{number}",
            metrics={"accuracy": 0.5},
            tags={"n": str(number)},
            create_model=True,
        )


def accuracies(root: Path) -> list[float]:
    return [mv.metrics["accuracy"] for mv in Registry(root).list_versions(NAME)]


def edit_in_place(path: Path, old: str, new: str) -> None:
    """Rewrite a file's bytes in place (same inode), as an editor without backups does."""
    assert len(old) == len(new)
    text = path.read_text()
    assert old in text
    with path.open("r+") as handle:
        handle.write(text.replace(old, new))


def test_a_second_read_parses_nothing(
    registry: Registry, settle_now: None, parses: list[Path]
) -> None:
    build(registry)
    parses.clear()
    accuracies(registry.root)
    assert len(parses) == 5
    parses.clear()
    assert accuracies(registry.root) == [0.5] * 5
    assert parses == []


def test_fresh_files_are_not_cached_until_they_settle(
    registry: Registry, parses: list[Path]
) -> None:
    build(registry, 2)
    parses.clear()
    accuracies(registry.root)
    accuracies(registry.root)
    assert len(parses) == 4  # written just now: parsed every time, never trusted


def test_a_hand_edit_of_the_same_size_is_seen(
    registry: Registry, settle_now: None, parses: list[Path]
) -> None:
    build(registry)
    accuracies(registry.root)
    time.sleep(0.05)  # past the file system's timestamp granularity
    path = registry.root / "models" / NAME / "versions" / "3.yaml"
    inode = path.stat().st_ino
    edit_in_place(path, "accuracy: 0.5", "accuracy: 0.9")
    assert path.stat().st_ino == inode
    parses.clear()
    assert accuracies(registry.root) == [0.5, 0.5, 0.9, 0.5, 0.5]
    assert parses == [path]


def test_a_file_replaced_and_timestamps_restored_is_seen(
    registry: Registry, settle_now: None
) -> None:
    # cp -p / rsync -t restore mtime; the inode and change time still give it away.
    build(registry)
    accuracies(registry.root)
    path = registry.root / "models" / NAME / "versions" / "2.yaml"
    before = path.stat()
    replacement = path.with_name("new.txt")
    replacement.write_text(path.read_text().replace("accuracy: 0.5", "accuracy: 0.7"))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    replacement.replace(path)
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert accuracies(registry.root) == [0.5, 0.7, 0.5, 0.5, 0.5]


def test_deleted_and_added_files_are_seen(registry: Registry, settle_now: None) -> None:
    build(registry)
    accuracies(registry.root)
    registry.delete_model_version(NAME, 4)
    registry.register(NAME, "s3://b/6", metrics={"accuracy": 0.6})
    versions = Registry(registry.root).list_versions(NAME)
    assert [(mv.version, mv.metrics["accuracy"]) for mv in versions] == [
        (1, 0.5),
        (2, 0.5),
        (3, 0.5),
        (5, 0.5),
        (6, 0.6),
    ]


def test_a_write_by_another_process_is_seen(registry: Registry, settle_now: None) -> None:
    build(registry)
    accuracies(registry.root)
    code = (
        "import sys; from modelreg import Registry; "
        "Registry(sys.argv[1]).set_model_version_tag('churn', 2, 'n', 'other-process')"
    )
    subprocess.run([sys.executable, "-c", code, str(registry.root)], check=True, timeout=60)
    found = Registry(registry.root).search_model_versions("tags.n = 'other-process'")
    assert [mv.version for mv in found] == [2]


def test_git_checkout_of_another_branch_is_seen(
    registry: Registry, settle_now: None, tmp_path: Path
) -> None:
    repo = registry.root.parent

    git(repo, "init", "-q", "-b", "main")
    build(registry, 3)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "three versions")
    git(repo, "checkout", "-q", "-b", "tuned")
    registry.set_model_version_tag(NAME, 2, "n", "tuned")
    registry.update_model_version(NAME, 3, "retuned on the tuned branch")
    git(repo, "commit", "-q", "-am", "tuned")
    assert Registry(registry.root).get_model_version(NAME, 2).tags["n"] == "tuned"
    assert len(Registry(registry.root).search_model_versions("tags.n = 'tuned'")) == 1
    time.sleep(0.05)
    git(repo, "checkout", "-q", "main")
    fresh = Registry(registry.root)
    assert fresh.search_model_versions("tags.n = 'tuned'") == []
    assert [mv.description for mv in fresh.list_versions(NAME)] == [None, None, None]
    git(repo, "checkout", "-q", "tuned")
    assert len(Registry(registry.root).search_model_versions("tags.n = 'tuned'")) == 1


def test_deleting_or_corrupting_the_cache_changes_nothing_but_speed(
    registry: Registry, settle_now: None
) -> None:
    build(registry)
    registry.transition_model_version_stage(NAME, 2, "Production")
    registry.set_registered_model_alias(NAME, "champion", 2)
    expected = [mv.to_dict() for mv in Registry(registry.root).search_model_versions()]
    cache_dir = index.VersionIndex(Registry(registry.root)._store).cache_dir
    assert list(cache_dir.iterdir())  # the first search filled it
    for cache_file in cache_dir.iterdir():
        cache_file.write_bytes(b"\x00garbage")
    assert [mv.to_dict() for mv in Registry(registry.root).search_model_versions()] == expected
    shutil.rmtree(cache_dir)
    assert [mv.to_dict() for mv in Registry(registry.root).search_model_versions()] == expected


def test_the_cache_is_never_inside_the_registry(registry: Registry, settle_now: None) -> None:
    # A cloned repository could ship a crafted cache file; ours lives elsewhere.
    build(registry)
    accuracies(registry.root)
    cache_dir = index.VersionIndex(Registry(registry.root)._store).cache_dir
    assert not cache_dir.resolve().is_relative_to(registry.root.resolve())
    assert not (registry.root / ".cache").exists()


def test_a_corrupt_file_is_reported_even_when_it_was_cached(
    registry: Registry, settle_now: None
) -> None:
    build(registry)
    accuracies(registry.root)
    path = registry.root / "models" / NAME / "versions" / "1.yaml"
    path.write_text("<<<<<<< HEAD\n")
    with pytest.raises(yamlio.CorruptFileError, match="conflict marker"):
        Registry(registry.root).list_versions(NAME)


def test_a_second_process_search_composes_no_model(
    registry: Registry, settle_now: None, composes: list[str]
) -> None:
    # Composing a format-2 model reads each of its files as YAML: it was most of a warm
    # `modelreg search` of 100 models, done again by every process.
    build(registry, 3)
    registry.set_registered_model_alias(NAME, "champion", 2)
    assert Registry(registry.root).search_model_versions("tags.n = '2'")[0].aliases == ["champion"]
    composes.clear()
    found = Registry(registry.root).search_model_versions("tags.n = '2'")
    assert found[0].aliases == ["champion"]
    assert composes == []


def test_an_alias_file_changed_behind_the_cache_is_seen_by_the_next_process(
    registry: Registry, settle_now: None
) -> None:
    repo = registry.root.parent
    git(repo, "init", "-q", "-b", "main")
    build(registry, 3)
    registry.set_registered_model_alias(NAME, "champion", 2)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "champion is 2")
    git(repo, "checkout", "-q", "-b", "moved")
    registry.set_registered_model_alias(NAME, "champion", 3)
    git(repo, "commit", "-q", "-am", "champion is 3")
    assert Registry(registry.root).search_model_versions("tags.n = '3'")[0].aliases == ["champion"]
    time.sleep(0.05)
    git(repo, "checkout", "-q", "main")
    found = {mv.version: mv.aliases for mv in Registry(registry.root).search_model_versions()}
    assert found == {1: [], 2: ["champion"], 3: []}
    # The same bytes' size, the old times: only the change time and inode tell.
    alias_file = registry.root / "models" / NAME / "aliases" / "champion.yaml"
    before = alias_file.stat()
    edit_in_place(alias_file, "version: 2", "version: 1")
    os.utime(alias_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    found = {mv.version: mv.aliases for mv in Registry(registry.root).search_model_versions()}
    assert found == {1: ["champion"], 2: [], 3: []}

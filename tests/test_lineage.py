"""Lineage reads the checked-out commit from .git directly; it must agree with git in
every layout it handles, and fall back to git for the others."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from _safety import git
from modelreg import Registry, index, lineage
from modelreg.lineage import git_lineage


def test_a_plain_repository(repo: Path) -> None:
    assert git_lineage(repo) == {
        "git_commit": git(repo, "rev-parse", "HEAD"),
        "git_dirty": False,
        "git_branch": "main",
    }


def test_packed_refs_and_another_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/x")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "feature" / "x").exists()
    found = git_lineage(repo / ".")
    assert (found["git_commit"], found["git_branch"]) == (
        git(repo, "rev-parse", "HEAD"),
        "feature/x",
    )


def test_a_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert git_lineage(repo) == {"git_commit": git(repo, "rev-parse", "HEAD"), "git_dirty": False}


def test_a_worktree_and_a_subfolder(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    git(repo, "commit", "-qam", "two")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "other", str(worktree), "HEAD~1")
    (worktree / "src").mkdir()
    found = git_lineage(worktree / "src")
    assert found == {
        "git_commit": git(worktree, "rev-parse", "HEAD"),
        "git_dirty": False,
        "git_branch": "other",
    }
    assert found["git_commit"] != git(repo, "rev-parse", "HEAD")


def test_no_commit_yet_and_no_repository(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert git_lineage(empty) == {}
    git(empty, "init", "-q")
    assert git_lineage(empty) == {}


def test_the_search_for_a_repository_stops_at_git_ceiling_directories(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = repo / "src" / "deep"
    inside.mkdir(parents=True)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(repo / "src"))
    assert git_lineage(inside) == {}
    refused = subprocess.run(["git", "rev-parse", "HEAD"], cwd=inside, capture_output=True)
    assert refused.returncode != 0  # git does not find it either
    assert git_lineage(repo / "src")["git_commit"] == git(repo, "rev-parse", "HEAD")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(repo.parent))
    assert git_lineage(inside)["git_commit"] == git(repo, "rev-parse", "HEAD")


def test_staged_and_unstaged_changes_are_dirty_untracked_files_are_not(repo: Path) -> None:
    (repo / "notes.txt").write_text("untracked\n")
    assert git_lineage(repo)["git_dirty"] is False
    (repo / "train.py").write_text("print('edited')\n")
    assert git_lineage(repo)["git_dirty"] is True
    git(repo, "add", "train.py")
    assert git_lineage(repo)["git_dirty"] is True  # staged, not committed
    git(repo, "commit", "-qm", "two")
    (repo / "new.py").write_text("x = 1\n")
    git(repo, "add", "new.py")
    assert git_lineage(repo)["git_dirty"] is True  # a new file, staged


# -- the dirty check without git ------------------------------------------------------
#
# git diff's answer is remembered while the commit, the index, git's config and every
# tracked file's stat data are unchanged. These tests count the git processes: each
# change git would see must start git again and get git's answer.


@pytest.fixture
def git_diffs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders git diff ran in, in order."""
    seen: list[Path] = []
    real = lineage._git_status_code

    def counting(args: list[str], cwd: Path) -> bool | None:
        seen.append(cwd)
        return real(args, cwd)

    monkeypatch.setattr(lineage, "_git_status_code", counting)
    return seen


def git_says_dirty(repo: Path) -> bool:
    code = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=repo, check=False).returncode
    assert code in (0, 1)
    return code == 1


def tick() -> None:
    """Let the file-system clock move on, so that the next change gets new timestamps
    (Linux stamps files with a clock that advances every few milliseconds)."""
    time.sleep(0.03)


def test_an_unchanged_tree_is_answered_without_starting_git(
    repo: Path, settle_now: None, git_diffs: list[Path]
) -> None:
    tick()
    assert git_lineage(repo)["git_dirty"] is False
    assert git_lineage(repo)["git_dirty"] is False
    assert git_lineage(repo / ".")["git_dirty"] is False
    assert len(git_diffs) == 1
    (repo / "train.py").write_text("print('edited here')\n")
    tick()
    assert git_lineage(repo)["git_dirty"] is True
    assert git_lineage(repo)["git_dirty"] is True
    assert len(git_diffs) == 2


def test_every_change_git_would_see_starts_git_again(
    repo: Path, settle_now: None, git_diffs: list[Path]
) -> None:
    train = repo / "train.py"
    original = train.read_text()
    before = train.stat()

    def check(expected: bool) -> None:
        tick()
        runs = len(git_diffs)
        assert git_says_dirty(repo) is expected
        assert git_lineage(repo)["git_dirty"] is expected
        assert len(git_diffs) == runs + 1, "a change was answered from memory"
        assert git_lineage(repo)["git_dirty"] is expected
        assert len(git_diffs) == runs + 1, "an unchanged tree started git again"

    check(False)
    train.write_text(original.replace("train", "TRAIN"))  # same size
    os.utime(train, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime
    check(True)
    train.write_text(original)
    check(False)
    train.chmod(0o755)
    check(True)
    train.chmod(0o644)
    check(False)
    git(repo, "rm", "-q", "--cached", "train.py")  # only the index changes
    check(True)
    git(repo, "add", "train.py")
    check(False)
    train.write_text("print('staged')\n")
    git(repo, "add", "train.py")
    check(True)
    git(repo, "commit", "-qm", "two")
    check(False)
    train.unlink()
    check(True)
    git(repo, "rm", "-q", "train.py")
    git(repo, "commit", "-qm", "three")
    check(False)
    (repo / "src").mkdir()
    (repo / "src" / "model.py").write_text("x = 1\n")
    git(repo, "add", "src")
    check(True)
    git(repo, "commit", "-qm", "four")
    check(False)
    (repo / "src" / "model.py").write_text("x = 2\n")
    check(True)
    git(repo, "checkout", "-q", "--", "src")
    check(False)


def test_untracked_files_and_the_registry_folder_start_no_git(
    repo: Path, settle_now: None, git_diffs: list[Path]
) -> None:
    registry = repo / "registry"
    registry.mkdir()
    (registry / "registry.yaml").write_text("a: 1\n")
    git(repo, "add", "registry")
    git(repo, "commit", "-qm", "a registry")
    tick()
    assert git_lineage(repo, registry)["git_dirty"] is False
    (registry / "registry.yaml").write_text("a: 2\n")
    (registry / "new.yaml").write_text("b: 1\n")
    (repo / "notes.txt").write_text("untracked\n")
    tick()
    assert git_lineage(repo, registry)["git_dirty"] is False
    assert len(git_diffs) == 1
    assert git_lineage(repo)["git_dirty"] is True  # without the exclusion, it counts


@pytest.mark.parametrize("scope", ["--local", "--global"])
def test_a_change_of_git_config_starts_git_again(
    repo: Path,
    settle_now: None,
    git_diffs: list[Path],
    scope: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "global.gitconfig"))
    git(repo, "config", "--local", "--unset", "core.fileMode")  # the default: it counts
    (repo / "train.py").chmod(0o755)
    tick()
    assert git_lineage(repo)["git_dirty"] is True
    git(repo, "config", scope, "core.fileMode", "false")  # now the executable bit does not
    tick()
    assert git_lineage(repo)["git_dirty"] is False
    assert len(git_diffs) == 2


def test_changes_younger_than_the_settling_time_always_ask_git(
    repo: Path, git_diffs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "SETTLE_SECONDS", 0.5)

    def git_runs_of_two_checks() -> int:
        runs = len(git_diffs)
        assert git_lineage(repo)["git_dirty"] is True
        assert git_lineage(repo)["git_dirty"] is True
        return len(git_diffs) - runs

    time.sleep(0.6)  # the index and the commit's files have settled
    (repo / "train.py").write_text("print('just now')\n")
    assert git_runs_of_two_checks() == 2
    time.sleep(0.6)
    assert git_runs_of_two_checks() == 1
    git(repo, "update-index", "--index-version", "4")  # a new index, the same files
    assert git_runs_of_two_checks() == 2
    time.sleep(0.6)
    assert git_runs_of_two_checks() == 1


def test_registering_in_a_loop_starts_git_once(
    repo: Path, settle_now: None, git_diffs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    registry = Registry.init(repo / "registry")
    tick()
    for number in range(1, 6):
        mv = registry.register("m", f"s3://b/{number}", create_model=True).version
        assert mv.lineage["git_dirty"] is False
    assert len(git_diffs) == 1
    (repo / "train.py").write_text("print('edited between two registrations')\n")
    tick()
    assert registry.register("m", "s3://b/6").version.lineage["git_dirty"] is True
    assert len(git_diffs) == 2


# -- reading the index ---------------------------------------------------------------


def tracked(repo: Path, excluded: bytes | None = None) -> tuple[bytes, ...] | None:
    object_id = git(repo, "rev-parse", "HEAD")
    data = (repo / ".git" / "index").read_bytes()
    return lineage._tracked_paths(data, len(object_id) // 2, excluded)


def listed(repo: Path) -> tuple[bytes, ...]:
    found = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True)
    return tuple(found.stdout.split(b"\0")[:-1])


def fill(repo: Path) -> None:
    """Paths that share prefixes (what version 4 compresses), of every padding length."""
    for depth, name in enumerate(["a", "ab", "abc.py", "Ünïcödé.txt", "x" * 40, "a-b"]):
        folder = repo.joinpath(*["deep"] * depth)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    (repo / "registry").mkdir()
    (repo / "registry" / "registry.yaml").write_text("a: 1\n")
    (repo / "registry-notes.txt").write_text("outside the registry\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")


@pytest.mark.parametrize("version", ["2", "4"])
def test_the_index_is_read_as_git_lists_it(repo: Path, version: str) -> None:
    fill(repo)
    git(repo, "update-index", "--index-version", version)
    assert tracked(repo) == listed(repo)
    inside = tracked(repo, b"registry")
    assert inside == tuple(p for p in listed(repo) if not p.startswith(b"registry/"))
    assert b"registry-notes.txt" in inside


def test_a_sha256_repository(tmp_path: Path) -> None:
    repo = tmp_path / "sha256"
    repo.mkdir()
    try:
        git(repo, "init", "-q", "--object-format=sha256")
    except subprocess.CalledProcessError:
        pytest.skip("this git cannot make sha256 repositories")
    fill(repo)
    assert len(git(repo, "rev-parse", "HEAD")) == 64
    assert tracked(repo) == listed(repo)
    assert git_lineage(repo)["git_dirty"] is False


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(["update-index", "--skip-worktree", "train.py"], id="skip-worktree"),
        pytest.param(["update-index", "--assume-unchanged", "train.py"], id="assume-unchanged"),
        pytest.param(["add", "-N", "new.py"], id="intent-to-add"),
        pytest.param(["update-index", "--split-index"], id="split-index"),
        pytest.param(["update-index", "--add", "--cacheinfo", "160000,{head},sub"], id="submodule"),
    ],
)
def test_what_stat_data_cannot_vouch_for_is_left_to_git(
    repo: Path, settle_now: None, git_diffs: list[Path], make: list[str]
) -> None:
    (repo / "new.py").write_text("x = 1\n")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, *(arg.format(head=head) for arg in make))
    assert tracked(repo) is None
    tick()
    assert git_lineage(repo)["git_dirty"] is git_says_dirty(repo)
    assert git_lineage(repo)["git_dirty"] is git_says_dirty(repo)
    assert len(git_diffs) == 2


def test_an_index_cut_short_or_damaged_is_left_to_git(repo: Path) -> None:
    fill(repo)
    data = (repo / ".git" / "index").read_bytes()
    assert lineage._tracked_paths(data, 20, None) == listed(repo)
    for length in range(len(data)):
        assert lineage._tracked_paths(data[:length], 20, None) is None, length
    damaged = bytearray(data)
    damaged[70] ^= 0x01  # a bit of the first entry's object id
    assert lineage._tracked_paths(bytes(damaged), 20, None) is None

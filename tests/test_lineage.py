"""Lineage reads the checked-out commit from .git directly; it must agree with git in
every layout it handles, and fall back to git for the others."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from modelreg.lineage import git_lineage


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text("print('train')\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    return root


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

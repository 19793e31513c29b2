"""A merge never silently yields two different versions under one number: two branches
that each registered "the next version" end in a git conflict or in a `check` error, and
the resolution the documentation gives ends in a clean registry holding both."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.check import check_registry
from modelreg.errors import CorruptFileError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ana",
    "GIT_AUTHOR_EMAIL": "ana@example.com",
    "GIT_COMMITTER_NAME": "Ana",
    "GIT_COMMITTER_EMAIL": "ana@example.com",
}


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose registry has model m at version 3, committed on main."""
    root = tmp_path / "project"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    registry = Registry.init(root / "registry", file_format=1)  # format 1's conflicts
    for number in (1, 2, 3):
        registry.register("m", f"s3://base/{number}", create_model=True)
    commit_all(root, "base")
    return root


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def on_branch(repo: Path, branch: str, source: str, start: str = "main") -> None:
    """A branch from ``start`` that registers ``source`` as the next version of m."""
    git(repo, "checkout", "-q", "-b", branch, start)
    number = Registry(repo / "registry").register("m", source).version.version
    assert number == 4
    commit_all(repo, f"register {source}")


def versions(repo: Path) -> dict[int, str]:
    return {mv.version: mv.source for mv in Registry(repo / "registry").list_versions("m")}


def test_two_branches_registering_version_4_conflict(repo: Path, run_cli: Any) -> None:
    on_branch(repo, "a", "s3://a/model")
    on_branch(repo, "b", "s3://b/model")
    merged = git(repo, "merge", "a", check=False)
    assert merged.returncode != 0
    assert "CONFLICT (add/add): Merge conflict in registry/models/m/versions/4.yaml" in (
        merged.stdout
    )
    unmerged = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
    assert "registry/models/m/versions/4.yaml" in unmerged
    # Nothing reads the conflicted files as if they were a version.
    with pytest.raises(CorruptFileError, match="git conflict marker"):
        Registry(repo / "registry").get_model_version("m", 4)
    checked = run_cli("--registry", str(repo / "registry"), "check", "--format", "plain")
    assert checked.returncode == 7
    bad = {line.split("\t")[0] for line in checked.stdout.splitlines()}
    assert str(repo / "registry" / "models" / "m" / "versions" / "4.yaml") in bad
    assert "git conflict marker" in checked.stdout
    listed = run_cli("--registry", str(repo / "registry"), "list", "m", "--format", "plain")
    assert listed.returncode == 7


def test_the_documented_resolution_keeps_both_versions(repo: Path, run_cli: Any) -> None:
    # docs/safety.md, "Two branches registered the same version number".
    on_branch(repo, "a", "s3://a/model")
    on_branch(repo, "b", "s3://b/model")
    assert git(repo, "merge", "a", check=False).returncode != 0
    theirs = git(repo, "show", "MERGE_HEAD:registry/models/m/versions/4.yaml").stdout
    assert "source: s3://a/model" in theirs
    git(repo, "checkout", "--ours", "--", "registry/models/m")
    registry = str(repo / "registry")
    assert run_cli("--registry", registry, "check").returncode == 0
    again = run_cli("--registry", registry, "register", "m", "s3://a/model", "-f", "plain")
    assert again.returncode == 0, again.stderr
    commit_all(repo, "merge a; its version 4 registered again as version 5")
    assert versions(repo) == {
        1: "s3://base/1",
        2: "s3://base/2",
        3: "s3://base/3",
        4: "s3://b/model",
        5: "s3://a/model",
    }
    assert run_cli("--registry", registry, "check").returncode == 0
    assert git(repo, "status", "--porcelain").stdout == ""


def test_a_union_merge_driver_is_caught_by_check(repo: Path) -> None:
    # A merge driver that never conflicts: git is satisfied, `check` is not.
    (repo / ".gitattributes").write_text("*.yaml merge=union\n")
    commit_all(repo, "union merges")
    on_branch(repo, "a", "s3://a/model")
    on_branch(repo, "b", "s3://b/model")
    assert git(repo, "merge", "-q", "-m", "merge a", "a", check=False).returncode == 0
    problems = check_registry(repo / "registry").problems
    assert repo / "registry" / "models" / "m" / "versions" / "4.yaml" in [
        finding.path for finding in problems
    ]
    assert any("duplicate key" in finding.problem for finding in problems)


def test_a_reused_number_is_caught_by_check(repo: Path) -> None:
    # Branch c registered version 4 and deleted it; branch b registered its own 4. Git
    # merges that without a conflict under `-X ours`; the history shows the reuse.
    git(repo, "checkout", "-q", "-b", "c", "main")
    registry = Registry(repo / "registry")
    registry.register("m", "s3://c/model")
    registry.delete_model_version("m", 4)
    commit_all(repo, "c: register and delete version 4")
    on_branch(repo, "b", "s3://b/model")
    assert git(repo, "merge", "-q", "-X", "ours", "-m", "merge c", "c", check=False).returncode == 0
    problems = check_registry(repo / "registry").problems
    version_4 = repo / "registry" / "models" / "m" / "versions" / "4.yaml"
    assert [finding.path for finding in problems] == [version_4]
    assert "was deleted" in problems[0].problem


def test_a_plain_merge_of_a_reused_number_is_never_silent(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "c", "main")
    registry = Registry(repo / "registry")
    registry.register("m", "s3://c/model")
    registry.delete_model_version("m", 4)
    commit_all(repo, "c: register and delete version 4")
    on_branch(repo, "b", "s3://b/model")
    merged = git(repo, "merge", "-q", "-m", "merge c", "c", check=False)
    assert merged.returncode != 0 or not check_registry(repo / "registry").clean


def test_branches_registering_different_models_merge_cleanly(repo: Path) -> None:
    # The control: when there is nothing to conflict, git merges and check is clean.
    git(repo, "checkout", "-q", "-b", "a", "main")
    Registry(repo / "registry").register("fraud", "s3://a/fraud", create_model=True)
    commit_all(repo, "a")
    git(repo, "checkout", "-q", "-b", "b", "main")
    Registry(repo / "registry").register("churn", "s3://b/churn", create_model=True)
    commit_all(repo, "b")
    assert git(repo, "merge", "-q", "-m", "merge a", "a", check=False).returncode == 0
    assert check_registry(repo / "registry").findings == ()
    names = [model.name for model in Registry(repo / "registry").list_registered_models()]
    assert names == ["churn", "fraud", "m"]

"""`check` in a git work tree: a history entry that the committed file (HEAD, and
MERGE_HEAD in a stopped merge) has and the file in the folder lost is a finding; a
deleted version taking its history with it is not."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from _safety import git
from modelreg import Registry, yamlio
from modelreg.check import check_registry

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def drop_last_entry(path: Path) -> dict[str, Any]:
    doc = yamlio.load(path)
    lost: dict[str, Any] = doc["history"].pop()
    path.write_text(yamlio.dumps(doc))
    return lost


def test_an_entry_dropped_from_a_committed_file_is_reported(repo: Path, run_cli: Any) -> None:
    registry = Registry.init(repo / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    registry.comment_model_version("churn", 1, "shipping friday")
    commit(repo, "registry")
    assert check_registry(repo / "registry").clean
    version = repo / "registry/models/churn/versions/1.yaml"
    lost = drop_last_entry(version)
    assert lost["action"] == "commented"
    done = run_cli("--registry", str(repo / "registry"), "check", "--format", "json")
    assert done.returncode == 7
    [finding] = [f for f in json.loads(done.stdout) if "history entry" in f["problem"]]
    assert finding["path"] == str(version)
    assert finding["problem"] == (
        f"history entry 'commented' of {lost['timestamp']} by tester@example.com is in HEAD "
        "but not in this file: a merge or an edit dropped it"
    )
    assert "git show HEAD:registry/models/churn/versions/1.yaml" in finding["fix"]


def test_a_deleted_version_or_a_new_entry_is_not_a_loss(repo: Path) -> None:
    registry = Registry.init(repo / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    registry.register("churn", "s3://m/2")
    commit(repo, "registry")
    registry.delete_model_version("churn", 1)
    registry.comment_model_version("churn", 2, "more")
    assert check_registry(repo / "registry").clean


def test_a_stopped_merge_resolved_by_taking_one_side_is_reported(repo: Path) -> None:
    registry = Registry.init(repo / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "other")
    Registry(repo / "registry").comment_model_version("churn", 1, "theirs")
    commit(repo, "theirs")
    git(repo, "checkout", "-q", "main")
    Registry(repo / "registry").comment_model_version("churn", 1, "ours")
    commit(repo, "ours")
    identity = ["-c", "user.name=Tester", "-c", "user.email=tester@example.com"]
    merged = subprocess.run(
        ["git", *identity, "merge", "-q", "other"], cwd=repo, capture_output=True, check=False
    )
    assert merged.returncode == 1, merged.stderr
    git(repo, "checkout", "--ours", "--", "registry")
    problems = check_registry(repo / "registry").problems
    assert [f.problem.split(" is in ")[1].split()[0] for f in problems] == ["MERGE_HEAD"]
    assert "'commented'" in problems[0].problem


def test_outside_git_nothing_is_compared(tmp_path: Path) -> None:
    registry = Registry.init(tmp_path / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    drop_last_entry(tmp_path / "registry/models/churn/versions/1.yaml")
    assert check_registry(tmp_path / "registry").clean

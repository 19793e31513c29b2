"""`changes REV1..REV2`: the events between two commits of a real repository are the
events the writes in between published — same types, users, times and data — each once,
with the entities as the later commit has them; `--deliver` hands them to the hooks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from _safety import git
from _trees import base_tree, register, set_alias
from modelreg import Registry, yamlio
from modelreg import events as ev
from modelreg.check import check_registry
from modelreg.gitsync.changes import events_between
from modelreg.gitsync.integrate import integrate

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def shape(event: dict[str, Any]) -> tuple[Any, ...]:
    return (
        event["event"],
        event["entity"].get("name"),
        event["entity"].get("version"),
        event["user"],
        event["timestamp"],
        json.dumps(event["data"], sort_keys=True),
    )


def test_changes_between_two_commits_are_the_events_the_writes_emitted(
    repo: Path, run_cli: Any
) -> None:
    registry = Registry.init(repo / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    registry.register("churn", "s3://m/2")
    first = commit(repo, "two versions")
    heard: list[ev.Event] = []
    registry = Registry(repo / "registry")
    registry.subscribers.append(heard.append)
    registry.register("churn", "s3://m/3", tags={"team": "a"})
    registry.transition_model_version_stage("churn", 3, "Staging")
    registry.set_registered_model_alias("churn", "champion", 3)
    registry.set_model_version_tag("churn", 2, "reviewed", "yes")
    registry.comment_model_version("churn", 2, "looks fine")
    registry.request_transition("churn", 2, "Production", comment="please")
    registry.transition_model_version_stage(
        "churn", 2, "Production", archive_existing_versions=True
    )
    registry.transition_model_version_stage(
        "churn", 3, "Production", archive_existing_versions=True
    )
    registry.delete_model_version("churn", 1)
    registry.update_registered_model("churn", description="the churn model")
    registry.create_registered_model("fraud", tags={"owner": "x"})
    second = commit(repo, "more")
    done = run_cli("--registry", str(repo / "registry"), "changes", f"{first}..{second}", cwd=repo)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected = [event.to_dict() for event in heard]
    # The data of a move records what the write knew; the entity is the version now.
    assert [shape(event) for event in printed] == [shape(event) for event in expected]
    created = [event for event in printed if event["event"] == "model_version.created"]
    assert [event["entity"]["current_stage"] for event in created] == ["Production"]
    assert created[0]["entity"]["aliases"] == ["champion"]
    # Each change once; nothing between a commit and itself; the ids are stable.
    again = run_cli("--registry", str(repo / "registry"), "changes", f"{first}..{second}")
    assert [e["delivery_id"] for e in json.loads(again.stdout)] == [
        e["delivery_id"] for e in printed
    ]
    assert len({e["delivery_id"] for e in printed}) == len(printed)
    same = run_cli("--registry", str(repo / "registry"), "changes", f"{second}..{second}")
    assert json.loads(same.stdout) == []


def test_changes_deliver_hands_each_event_to_the_hooks_once(repo: Path, run_cli: Any) -> None:
    registry = Registry.init(repo / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    first = commit(repo, "one")
    registry.register("churn", "s3://m/2")
    registry.transition_model_version_stage("churn", 2, "Production")
    second = commit(repo, "two")
    seen = repo.parent / "seen.jsonl"
    config = (repo / "registry" / "registry.yaml").read_text()
    config += (
        "hooks:\n"
        "  - name: record\n"
        "    kind: command\n"
        "    events: ['model_version.*']\n"
        f"    command: cat >> {seen}; echo >> {seen}\n"
    )
    (repo / "registry" / "registry.yaml").write_text(config)
    done = run_cli(
        "--registry",
        str(repo / "registry"),
        "changes",
        f"{first}..{second}",
        "--deliver",
        env={**os.environ, "MODELREG_TRUST_HOOKS": "1"},
    )
    assert done.returncode == 0, done.stderr
    delivered = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [(e["event"], e["entity"]["version"]) for e in delivered] == [
        ("model_version.created", 2),
        ("model_version.stage_changed", 2),
    ]
    assert [e["delivery_id"] for e in delivered] == [
        e["delivery_id"] for e in json.loads(done.stdout)
    ]


def test_a_renumbered_version_is_created_once_under_its_final_number() -> None:
    base = base_tree()
    published, local = dict(base), dict(base)
    register(published, "churn", 4, 10, "alice")
    register(local, "churn", 4, 11, "bob")
    set_alias(local, "churn", "champion", 4, 12, "bob")
    merged = integrate(base, published, local).files
    found = events_between(published, merged)
    assert [(e.type, e.entity["version"], e.user) for e in found] == [
        ("model_version.created", 5, "bob"),
        ("model_version_alias.created", 5, "bob"),
    ]
    assert found[1].data == {"alias": "champion"}
    assert events_between(merged, merged) == []
    everything = events_between(base, merged)
    assert [(e.type, e.entity["version"]) for e in everything][:2] == [
        ("model_version.created", 4),
        ("model_version.created", 5),
    ]


def test_changes_in_every_format(repo: Path, run_cli: Any) -> None:
    registry = Registry.init(repo / "registry")
    registry.register("churn", "s3://m/1", create_model=True)
    first = commit(repo, "one")
    registry.register("churn", "s3://m/2")
    second = commit(repo, "two")
    span = f"{first}..{second}"
    where = ("--registry", str(repo / "registry"), "changes", span, "--format")
    as_json = json.loads(run_cli(*where, "json").stdout)
    as_yaml = run_cli(*where, "yaml").stdout
    assert yamlio.loads(as_yaml.encode(), Path("out")) == as_json
    plain = run_cli(*where, "plain").stdout.splitlines()
    [event] = as_json
    assert plain == [f"{event['timestamp']}\tmodel_version.created\tchurn\t2\ttester@example.com\t"]
    table = run_cli(*where, "table").stdout
    assert "model_version.created" in table
    bad = run_cli("--registry", str(repo / "registry"), "changes", first)
    assert bad.returncode == 2
    assert "expected REV1..REV2" in bad.stderr
    unknown = run_cli("--registry", str(repo / "registry"), "changes", f"{first}..nope")
    assert unknown.returncode == 3
    assert "'nope' names no commit" in unknown.stderr


def test_the_format_upgrade_is_no_event_and_zeros_mean_everything(repo: Path, run_cli: Any) -> None:
    registry = Registry.init(repo / "registry")
    config = repo / "registry" / "registry.yaml"
    config.write_text(config.read_text().replace("modelreg: 2", "modelreg: 1"))
    registry = Registry(repo / "registry")
    for number in (1, 2):
        registry.register("churn", f"s3://m/{number}", create_model=True)
    registry.set_registered_model_alias("churn", "champion", 2)
    registry.delete_model_version("churn", 1)
    old = commit(repo, "format 1")
    assert check_registry(repo / "registry", repair=True).repairs
    new = commit(repo, "upgraded to format 2")
    where = ("--registry", str(repo / "registry"), "changes")
    assert json.loads(run_cli(*where, f"{old}..{new}").stdout) == []
    everything = json.loads(run_cli(*where, f"{'0' * 40}..{new}").stdout)
    # Version 1's file is gone: its delete is told with the model, its creation not at all.
    assert [(e["event"], e["entity"].get("version")) for e in everything] == [
        ("registered_model.created", None),
        ("model_version.created", 2),
        ("model_version_alias.created", 2),
        ("model_version.deleted", None),
    ]

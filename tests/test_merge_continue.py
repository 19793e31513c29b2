"""`modelreg merge-continue` with real git: a bare origin, clones for alice and bob with
a format-2 registry, and the issue's scenarios — both register version 4 and bob pulls
(merge and rebase), a rebase of two commits (register; alias + promote), a number
registered and deleted on one clone and registered on the other — each ends with both
versions kept, the published numbers unchanged and bob's version renumbered with
everything it carries."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _team import Clone
from _trees import (
    Tree,
    base_tree,
    delete,
    load,
    read_folder,
    register,
    set_alias,
    transition,
    write_folder,
)
from modelreg.gitsync.trees import read_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

MODES = ["merge", "rebase"]
V = "models/churn/versions/{}.yaml"


def seeded_team(tmp_path: Path, seed: Callable[[Clone], None]) -> tuple[Clone, Clone]:
    """origin.git with carol's first commit (``seed`` writes its files); clones for
    alice and bob, tracking origin/main."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(tmp_path / "origin.git")])
    clones = []
    for user in ("carol", "alice", "bob"):
        clone = Clone(tmp_path / user, user, tmp_path / "scratch")
        subprocess.run(
            ["git", "clone", "-q", str(tmp_path / "origin.git"), str(clone.path)],
            check=True,
            capture_output=True,
        )
        if user == "carol":
            seed(clone)
            clone.commit("a registry")
            clone.git("push", "-q", "origin", "main")
        else:
            clone.git("branch", "-q", "--set-upstream-to=origin/main", "main")
        clones.append(clone)
    return clones[1], clones[2]


@pytest.fixture
def team(tmp_path: Path) -> tuple[Clone, Clone]:
    """origin.git with a format-2 registry (churn 1-3); clones for alice and bob."""

    def seed(carol: Clone) -> None:
        write_folder(carol.path / "registry", base_tree())
        (carol.path / "train.py").write_text("print('train')\n")

    return seeded_team(tmp_path, seed)


def change(clone: Clone, how: Callable[[Tree], Any], message: str) -> str:
    tree = read_folder(clone.path / "registry")
    how(tree)
    write_folder(clone.path / "registry", tree)
    return clone.commit(message)


def head_tree(clone: Clone, rev: str = "HEAD") -> Tree:
    return read_tree(clone.path, rev, "registry/")


def merge_continue(clone: Clone) -> subprocess.CompletedProcess[str]:
    done = clone.modelreg("merge-continue", ok=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert clone.git("status", "--porcelain").stdout == ""
    return done


def assert_published_kept(published: Tree, merged: Tree) -> None:
    """Every published file is in the merge, with every history entry it had."""
    for path in published:
        assert path in merged, f"{path} of the published side is gone"
        if path.endswith(".yaml") and path.startswith("models/"):
            before = load(published, path).get("history", [])
            after = load(merged, path).get("history", [])
            assert all(entry in after for entry in before), path


@pytest.mark.parametrize("mode", MODES)
def test_both_register_4_then_pull(team: tuple[Clone, Clone], mode: str) -> None:
    alice, bob = team
    change(alice, lambda t: register(t, "churn", 4, 10, "alice"), "alice registers 4")
    alice.git("push", "-q", "origin", "main")
    mine: dict[str, Any] = {}
    change(
        bob,
        lambda t: mine.update(register(t, "churn", 4, 11, "bob", metrics={"f1": 0.9})),
        "bob registers 4",
    )
    assert bob.pull(mode, ok=False).returncode != 0  # add/add conflict on versions/4.yaml
    said = merge_continue(bob)
    assert "Renumbered churn version 4 -> 5" in said.stderr
    merged = head_tree(bob)
    published = head_tree(bob, "origin/main")
    assert merged[V.format(4)] == published[V.format(4)]
    five = load(merged, V.format(5))
    assert (five["uid"], five["metrics"], five["version"]) == (mine["uid"], {"f1": 0.9}, 5)
    assert five["history"][-1]["action"] == "renumbered"
    assert_published_kept(published, merged)
    parents = bob.git("rev-list", "--parents", "-n", "1", "HEAD").stdout.split()[1:]
    if mode == "merge":
        assert len(parents) == 2
    else:
        assert parents == [bob.git("rev-parse", "origin/main").stdout.strip()]
    bob.git("push", "-q", "origin", "main")


def test_a_rebase_of_register_then_alias_and_promote_does_not_touch_the_other_4(
    team: tuple[Clone, Clone],
) -> None:
    alice, bob = team
    change(alice, lambda t: register(t, "churn", 4, 10, "alice"), "alice registers 4")
    alice.git("push", "-q", "origin", "main")
    change(bob, lambda t: register(t, "churn", 4, 11, "bob"), "bob registers 4")

    def alias_and_promote(tree: Tree) -> None:
        set_alias(tree, "churn", "champion", 4, 12, "bob")
        transition(tree, "churn", 4, "Production", 13, "bob")

    change(bob, alias_and_promote, "bob: champion and Production")
    assert bob.pull("rebase", ok=False).returncode != 0
    said = merge_continue(bob)
    assert "replaced by it" in said.stderr
    merged = head_tree(bob)
    alices = load(head_tree(bob, "origin/main"), V.format(4))
    assert load(merged, V.format(4)) == alices  # untouched: no alias, no promotion
    five = load(merged, V.format(5))
    assert (five["user_id"], five["current_stage"]) == ("bob", "Production")
    assert load(merged, "models/churn/aliases/champion.yaml")["version"] == 5
    log = bob.git("log", "--format=%s", "origin/main..HEAD").stdout.splitlines()
    assert len(log) == 1


@pytest.mark.parametrize("mode", MODES)
def test_register_and_delete_4_against_register_4(team: tuple[Clone, Clone], mode: str) -> None:
    alice, bob = team

    def register_and_delete(tree: Tree) -> None:
        register(tree, "churn", 4, 10, "alice")
        delete(tree, "churn", 4, 11, "alice")

    change(alice, register_and_delete, "alice registers and deletes 4")
    alice.git("push", "-q", "origin", "main")
    mine: dict[str, Any] = {}
    change(bob, lambda t: mine.update(register(t, "churn", 4, 12, "bob")), "bob registers 4")
    # Two different files: git merges (or rebases) without a word, reusing number 4.
    assert bob.pull(mode, ok=False).returncode == 0
    assert V.format(4) in head_tree(bob) and "models/churn/deleted/4.yaml" in head_tree(bob)
    said = merge_continue(bob)
    assert "Renumbered churn version 4 -> 5" in said.stderr
    merged = head_tree(bob)
    assert V.format(4) not in merged
    assert "models/churn/deleted/4.yaml" in merged
    assert load(merged, V.format(5))["uid"] == mine["uid"]
    bob.git("push", "-q", "origin", "main")


def test_register_and_delete_here_against_a_published_register(team: tuple[Clone, Clone]) -> None:
    alice, bob = team
    theirs: dict[str, Any] = {}
    change(alice, lambda t: theirs.update(register(t, "churn", 4, 12, "alice")), "alice: 4")
    alice.git("push", "-q", "origin", "main")

    def register_and_delete(tree: Tree) -> None:
        register(tree, "churn", 4, 10, "bob")
        delete(tree, "churn", 4, 11, "bob")

    change(bob, register_and_delete, "bob registers and deletes 4")
    assert bob.pull("merge", ok=False).returncode == 0
    merge_continue(bob)
    merged = head_tree(bob)
    assert load(merged, V.format(4))["uid"] == theirs["uid"]
    assert load(merged, "models/churn/deleted/5.yaml")["version"] == 5
    assert "models/churn/deleted/4.yaml" not in merged


def test_other_conflicts_are_left_to_the_user_with_the_registry_staged(
    team: tuple[Clone, Clone],
) -> None:
    alice, bob = team
    (alice.path / "train.py").write_text("print('alice')\n")
    change(alice, lambda t: register(t, "churn", 4, 10, "alice"), "alice")
    alice.git("push", "-q", "origin", "main")
    (bob.path / "train.py").write_text("print('bob')\n")
    change(bob, lambda t: register(t, "churn", 4, 11, "bob"), "bob")
    assert bob.pull("merge", ok=False).returncode != 0
    done = bob.modelreg("merge-continue", ok=False)
    assert done.returncode == 4
    assert "other files still have conflicts: train.py" in done.stderr
    assert bob.git("diff", "--name-only", "--diff-filter=U").stdout.split() == ["train.py"]
    assert (
        "registry/models/churn/versions/5.yaml" in bob.git("diff", "--cached", "--name-only").stdout
    )


def test_a_rebase_whose_commits_change_other_files_becomes_a_merge(
    team: tuple[Clone, Clone],
) -> None:
    alice, bob = team
    change(alice, lambda t: register(t, "churn", 4, 10, "alice"), "alice registers 4")
    alice.git("push", "-q", "origin", "main")
    (bob.path / "train.py").write_text("print('bob')\n")
    change(bob, lambda t: register(t, "churn", 4, 11, "bob"), "bob: code and version 4")
    assert bob.pull("rebase", ok=False).returncode != 0
    said = merge_continue(bob)
    assert "the rebase was aborted and the upstream merged instead" in said.stderr
    merged = head_tree(bob)
    assert load(merged, V.format(4))["user_id"] == "alice"
    assert load(merged, V.format(5))["user_id"] == "bob"
    assert (bob.path / "train.py").read_text() == "print('bob')\n"
    parents = bob.git("rev-list", "--parents", "-n", "1", "HEAD").stdout.split()[1:]
    assert len(parents) == 2
    bob.git("push", "-q", "origin", "main")


def test_merge_continue_prints_its_record_when_asked(team: tuple[Clone, Clone]) -> None:
    alice, bob = team
    change(alice, lambda t: register(t, "churn", 4, 10, "alice"), "alice registers 4")
    alice.git("push", "-q", "origin", "main")
    change(bob, lambda t: register(t, "churn", 4, 11, "bob"), "bob registers 4")
    assert bob.pull("merge", ok=False).returncode != 0
    done = bob.modelreg("merge-continue", "--format", "json")
    record = json.loads(done.stdout)
    assert record == {
        "mode": "merge",
        "commit": bob.head(),
        "renumbered": ["churn:4->5"],
        "unresolved": [],
    }


def test_nothing_to_finish_says_so(team: tuple[Clone, Clone]) -> None:
    done = team[1].modelreg("merge-continue", ok=False)
    assert done.returncode == 2
    assert "there is no merge or rebase to finish here" in done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_with_the_driver_aliases_merge_and_a_collision_points_to_merge_continue(
    team: tuple[Clone, Clone], mode: str
) -> None:
    alice, bob = team
    bob.modelreg("git-setup")
    bob.commit("the merge driver")
    bob.git("push", "-q", "origin", "main")
    alice.git("pull", "-q", "origin", "main")

    def alice_does(tree: Tree) -> None:
        set_alias(tree, "churn", "champion", 1, 10, "alice")
        register(tree, "churn", 4, 11, "alice")

    change(alice, alice_does, "alice")
    alice.git("push", "-q", "origin", "main")
    change(bob, lambda t: set_alias(t, "churn", "champion", 2, 12, "bob"), "bob moves champion")
    change(bob, lambda t: register(t, "churn", 4, 13, "bob"), "bob registers 4")
    pulled = bob.pull(mode, ok=False)
    assert pulled.returncode != 0
    said = pulled.stdout + pulled.stderr
    assert "Run `modelreg merge-continue`" in said
    # The alias file, moved on both sides, merged by the driver (the later move wins).
    champion = load(read_folder(bob.path / "registry"), "models/churn/aliases/champion.yaml")
    assert champion["version"] == 2
    merge_continue(bob)
    merged = head_tree(bob)
    assert load(merged, "models/churn/aliases/champion.yaml")["version"] == 2
    assert load(merged, V.format(5))["user_id"] == "bob"


# -- the same, with the real commands (a registry made by `modelreg init`: format 2) --------


def team_of(tmp_path: Path, fmt: int = 2) -> tuple[Clone, Clone]:
    """origin.git with a registry made by `modelreg init` (format ``fmt``; churn 1-3, 3 in
    Production); clones for alice and bob."""

    def seed(carol: Clone) -> None:
        carol.modelreg("init", "registry")
        config = carol.path / "registry" / "registry.yaml"
        config.write_text(config.read_text().replace("modelreg: 2", f"modelreg: {fmt}"))
        for number in (1, 2, 3):
            carol.modelreg("register", "churn", f"s3://carol/{number}")
        carol.modelreg("transition", "churn", "3", "Production")

    return seeded_team(tmp_path, seed)


@pytest.fixture
def made(tmp_path: Path) -> tuple[Clone, Clone]:
    """A team whose registry is format 2, made by the real commands."""
    return team_of(tmp_path)


def listed(clone: Clone) -> dict[int, tuple[str, str]]:
    done = clone.modelreg("list", "churn", "--format", "json")
    return {mv["version"]: (mv["source"], mv["current_stage"]) for mv in json.loads(done.stdout)}


@pytest.mark.parametrize("mode", MODES)
def test_real_commands_two_commits_against_a_published_4(
    made: tuple[Clone, Clone], mode: str
) -> None:
    alice, bob = made
    alice.modelreg("register", "churn", "s3://alice/4")
    alice.commit("alice registers 4")
    alice.git("push", "-q", "origin", "main")
    published = alice.head()
    bob.modelreg("register", "churn", "s3://bob/4", "--metric", "f1=0.9")
    bob.commit("bob registers 4")
    bob.modelreg("alias", "churn", "champion", "4")
    bob.modelreg("transition", "churn", "4", "Production", "--archive-existing")
    bob.commit("bob: champion and Production")
    assert bob.pull(mode, ok=False).returncode != 0
    merge_continue(bob)
    assert bob.modelreg("check", ok=False).returncode == 0
    assert listed(bob) == {
        1: ("s3://carol/1", "None"),
        2: ("s3://carol/2", "None"),
        3: ("s3://carol/3", "Archived"),
        4: ("s3://alice/4", "None"),
        5: ("s3://bob/4", "Production"),
    }
    assert bob.modelreg("resolve", "churn@champion").stdout.strip() == "s3://bob/4"
    # Archived by bob's move, which now names the new number.
    history = json.loads(bob.modelreg("history", "churn", "3", "--format", "json").stdout)
    assert history[-1]["archived_by"] == 5
    bob.git("push", "-q", "origin", "main")
    events = json.loads(bob.modelreg("changes", f"{published}..HEAD").stdout)
    assert [(e["event"], e["entity"]["version"]) for e in events] == [
        ("model_version.created", 5),
        ("model_version_alias.created", 5),
        ("model_version.stage_changed", 5),
        ("model_version.stage_changed", 3),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_real_commands_both_promote_with_archive_existing(
    made: tuple[Clone, Clone], mode: str
) -> None:
    alice, bob = made
    alice.modelreg("transition", "churn", "1", "Production", "--archive-existing")
    alice.commit("alice: 1 to Production")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("transition", "churn", "2", "Production", "--archive-existing")
    bob.commit("bob: 2 to Production")
    # Both archived version 3 (a conflict in its file); git may stop or not elsewhere.
    bob.pull(mode, ok=False)
    merge_continue(bob)
    stages = {n: stage for n, (_, stage) in listed(bob).items()}
    assert stages == {1: "Archived", 2: "Production", 3: "Archived"}
    assert bob.modelreg("check", ok=False).returncode == 0


@pytest.mark.parametrize("mode", MODES)
def test_real_commands_register_and_delete_against_register(
    made: tuple[Clone, Clone], mode: str
) -> None:
    alice, bob = made
    alice.modelreg("register", "churn", "s3://alice/4")
    alice.modelreg("delete", "churn", "4", "--yes")
    alice.commit("alice registers and deletes 4")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("register", "churn", "s3://bob/4")
    bob.commit("bob registers 4")
    bob.pull(mode, ok=False)
    merge_continue(bob)
    assert bob.modelreg("check", ok=False).returncode == 0
    assert listed(bob)[5] == ("s3://bob/4", "None")
    assert 4 not in listed(bob)


@pytest.mark.parametrize("mode", MODES)
def test_a_format_1_registry_merges_unrelated_moves_and_a_rebase_stop_is_checked(
    tmp_path: Path, mode: str
) -> None:
    """Format 1 (every transition rewrites model.yaml's updated_at): git stops on
    model.yaml; merge-continue merges it by meaning. Nothing is renumbered there."""
    alice, bob = team_of(tmp_path, fmt=1)
    alice.modelreg("transition", "churn", "2", "Staging")
    alice.commit("alice: 2 to Staging")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("alias", "churn", "champion", "1")
    bob.commit("bob: champion")
    assert bob.pull(mode, ok=False).returncode != 0  # model.yaml: updated_at, aliases
    if mode == "rebase":
        # Taking the upstream's model.yaml would drop bob's entries: check says so.
        bob.git("checkout", "--ours", "--", "registry/models/churn/model.yaml")
        checked = bob.modelreg("check", "--format", "plain", ok=False)
        assert "is in REBASE_HEAD but not in this file" in checked.stdout
    merge_continue(bob)
    assert bob.modelreg("check", ok=False).returncode == 0
    stages = {n: stage for n, (_, stage) in listed(bob).items()}
    assert stages == {1: "None", 2: "Staging", 3: "Production"}
    assert bob.modelreg("resolve", "churn@champion").stdout.strip() == "s3://carol/1"


@pytest.mark.parametrize("mode", MODES)
def test_real_commands_both_register_a_new_model(made: tuple[Clone, Clone], mode: str) -> None:
    alice, bob = made
    alice.modelreg("register", "fraud", "s3://alice/fraud")
    alice.commit("alice: fraud 1")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("register", "fraud", "s3://bob/fraud")
    bob.modelreg("tag", "fraud", "team=b")
    bob.commit("bob: fraud 1")
    assert bob.pull(mode, ok=False).returncode != 0  # add/add: model.yaml, versions/1.yaml
    said = merge_continue(bob)
    assert "Renumbered fraud version 1 -> 2" in said.stderr
    assert bob.modelreg("check", ok=False).returncode == 0
    done = bob.modelreg("list", "fraud", "--format", "json")
    assert [(mv["version"], mv["source"]) for mv in json.loads(done.stdout)] == [
        (1, "s3://alice/fraud"),
        (2, "s3://bob/fraud"),
    ]
    model = json.loads(bob.modelreg("describe", "fraud", "--format", "json").stdout)
    assert (model["user_id"], model["tags"]) == ("alice@example.com", {"team": "b"})

"""Issue 14's team scenarios, end to end with real git and real `modelreg` processes: a bare
origin on local disk, clones for alice and bob (each with `modelreg git-setup`), and every
scenario the issue lists — both register the next version, a rebase of two commits, a
number registered and deleted on one side and registered on the other, unrelated changes,
two promotions into an exclusive stage, one alias moved on both sides, a rename against a
register, an alias against a delete — published by bob through each of the three paths:

- ``sync``: bob's change is published with `modelreg sync`;
- ``merge``: bob commits, `git pull --no-rebase`, then `modelreg merge-continue`, `git push`;
- ``rebase``: bob commits, `git pull --rebase`, then `modelreg merge-continue`, `git push`.

Alice always publishes first (with `--push`). Each test then asserts the concrete end state
on the origin (numbers, stages, aliases), that `modelreg check` exits 0, and that no
history entry of either side was lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modelreg import yamlio
from modelreg.gitsync.trees import read_folder, read_tree
from test_merge_driver import Clone

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

PATHS = ["sync", "merge", "rebase"]
MANUAL = ["merge", "rebase"]
V = "models/churn/versions/{}.yaml"
Tree = dict[str, bytes]


@pytest.fixture(scope="session")
def _origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """origin.git: a format-2 registry with the merge driver's .gitattributes, model churn
    with versions 1 (Production, alias champion), 2 (Staging) and 3 (None)."""
    top = tmp_path_factory.mktemp("scenarios")
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(top / "origin.git")], check=True
    )
    carol = Clone(top / "carol", "carol", top / "scratch")
    subprocess.run(["git", "clone", "-q", str(top / "origin.git"), str(carol.path)], check=True)
    carol.modelreg("init", "registry")
    carol.modelreg("git-setup")
    for number in (1, 2, 3):
        carol.modelreg("register", "churn", f"s3://carol/{number}", "--run-id", f"carol-{number}")
    carol.modelreg("transition", "churn", "1", "Production")
    carol.modelreg("transition", "churn", "2", "Staging")
    carol.modelreg("alias", "churn", "champion", "1")
    (carol.path / "train.py").write_text("print('train')\n")
    carol.commit("a registry")
    carol.git("push", "-q", "origin", "main")
    shutil.rmtree(carol.path)
    return top


class Team:
    def __init__(self, top: Path) -> None:
        self.top = top
        self.origin = top / "origin.git"

    def clone(self, user: str, driver: bool = True) -> Clone:
        clone = Clone(self.top / user, user, self.top / "scratch")
        subprocess.run(["git", "clone", "-q", str(self.origin), str(clone.path)], check=True)
        if driver:
            clone.modelreg("git-setup")
            assert clone.git("status", "--porcelain").stdout == ""
        return clone


@pytest.fixture
def team(_origin: Path, tmp_path: Path) -> Team:
    shutil.copytree(_origin / "origin.git", tmp_path / "origin.git", symlinks=True)
    return Team(tmp_path)


# -- the paths -----------------------------------------------------------------------------


def publish(clone: Clone, path: str, stops: bool | None = None) -> subprocess.CompletedProcess[str]:
    """Publish ``clone``'s registry changes through ``path``. With ``stops`` given, the
    manual paths assert whether git's pull stopped. Returns what modelreg said."""
    if path == "sync":
        return clone.modelreg("sync")
    if clone.git("status", "--porcelain", "--", "registry").stdout:
        clone.commit(f"{clone.user}'s change")
    pulled = clone.pull(path, ok=False)
    if stops is not None:
        assert (pulled.returncode != 0) == stops, pulled.stdout + pulled.stderr
    done = clone.modelreg("merge-continue", ok=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert clone.git("status", "--porcelain").stdout == ""
    clone.git("push", "-q", "origin", "main")
    return done


def work_tree(clone: Clone) -> Tree:
    """The registry files in ``clone``'s work tree: its side, committed or not."""
    return read_folder(clone.path / "registry")


# -- reading the result --------------------------------------------------------------------


def tree_at(clone: Clone, rev: str) -> Tree:
    return read_tree(clone.path, rev, "registry/")


def load(tree: Tree, path: str) -> Any:
    return yamlio.loads(tree[path], Path(path))


def published(clone: Clone) -> Tree:
    """The origin's registry, as ``clone`` (which must be at the origin's tip) sees it."""
    clone.git("fetch", "-q", "origin")
    tip = clone.git("rev-parse", "origin/main").stdout.strip()
    assert clone.head() == tip, "the clone is not at the published tip"
    assert clone.git("status", "--porcelain").stdout == ""
    return tree_at(clone, tip)


def versions(tree: Tree, model: str = "churn") -> dict[int, dict[str, Any]]:
    prefix = f"models/{model}/versions/"
    return {
        int(path[len(prefix) : -5]): load(tree, path) for path in tree if path.startswith(prefix)
    }


def stages(tree: Tree, model: str = "churn") -> dict[int, str]:
    return {number: doc["current_stage"] for number, doc in versions(tree, model).items()}


def alias_target(tree: Tree, alias: str, model: str = "churn") -> int | None:
    path = f"models/{model}/aliases/{alias}.yaml"
    return load(tree, path)["version"] if path in tree else None


# Fields of a history entry that renumbering rewrites (the numbers it names).
NUMBERS = {"version", "previous_version"}


def entry_keys(tree: Tree) -> Counter[str]:
    """Every history entry of every file of the registry, with the version numbers inside
    it left out (a renumbered version's alias entries name its new number)."""
    found: Counter[str] = Counter()
    for path in tree:
        if path.startswith("models/") and path.endswith(".yaml"):
            for entry in load(tree, path).get("history") or []:
                kept = {key: value for key, value in entry.items() if key not in NUMBERS}
                found[json.dumps(kept, sort_keys=True)] += 1
    return found


def assert_nothing_lost(final: Tree, *sides: Tree) -> None:
    """Every history entry of each side is in the final registry (as many times)."""
    have = entry_keys(final)
    for side in sides:
        missing = entry_keys(side) - have
        assert not missing, f"history entries lost: {list(missing)}"


def check(clone: Clone) -> None:
    done = clone.modelreg("check", ok=False)
    assert done.returncode == 0, done.stdout + done.stderr


def same_version(before: dict[str, Any], after: dict[str, Any]) -> None:
    """``after`` is ``before`` renumbered: every field but the number, every entry."""
    for key, value in before.items():
        if key not in ("version", "history", "updated_at"):  # renumbering is a change
            assert after[key] == value, key
    assert all(entry in after["history"] for entry in before["history"])


# -- the scenarios -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_both_register_the_next_version(team: Team, path: str) -> None:
    alice, bob = team.clone("alice"), team.clone("bob")
    alice.modelreg("register", "churn", "s3://alice/4", "--run-id", "alice-4", "--push")
    alices = load(tree_at(alice, "HEAD"), V.format(4))
    bob.modelreg(
        "register",
        "churn",
        "s3://bob/4",
        "--run-id",
        "bob-4",
        "--description",
        "bob's model",
        "--tag",
        "team=bob",
        "--metric",
        "auc=0.91",
        "--param",
        "depth=7",
        "--alias",
        "challenger",
        "--stage",
        "Staging",
    )
    bob.modelreg("request", "churn", "4", "Production", "--comment", "please")
    bob.modelreg("approve", "churn", "4", "Production", "--comment", "fine by me")
    bob.modelreg("comment", "churn", "4", "looks good")
    mine = work_tree(bob)
    bobs = load(mine, V.format(4))  # bob's version 4 as he made it
    said = publish(bob, path, stops=True)
    assert "Renumbered churn version 4 -> 5" in said.stderr
    final = published(bob)
    assert load(final, V.format(4)) == alices  # the published number never changes
    five = load(final, V.format(5))
    same_version(bobs, five)
    assert five["description"] == "bob's model"
    assert five["tags"] == {"team": "bob"}
    assert (five["metrics"], five["params"]) == ({"auc": 0.91}, {"depth": 7})
    assert five["current_stage"] == "Staging"
    assert five["lineage"] == bobs["lineage"] and five["lineage"]
    actions = [entry["action"] for entry in five["history"]]
    assert {"transition_requested", "approved", "commented"} <= set(actions)
    renumbered = five["history"][-1]
    assert renumbered["action"] == "renumbered"
    assert (renumbered["from_version"], renumbered["to_version"]) == (4, 5)
    assert alias_target(final, "challenger") == 5
    assert sorted(versions(final)) == [1, 2, 3, 4, 5]
    assert_nothing_lost(final, tree_at(alice, "HEAD"), mine)
    check(bob)


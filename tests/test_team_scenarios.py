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
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from _team import EVERYTHING, Clone, clone_of, new_origin
from conftest import modelreg_executable
from modelreg import Registry, yamlio
from modelreg.gitsync.trees import read_folder, read_tree

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
    carol = new_origin(top, top / "scratch")
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
        clone = clone_of(self.origin, self.top / user, user, self.top / "scratch")
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


# Fields of a history entry that renumbering rewrites (the numbers it names; an archive
# note's comment names the version that entered the stage).
NUMBERS = {"version", "previous_version", "archived_by"}


def entry_keys(tree: Tree, skip_uids: frozenset[str] = frozenset()) -> Counter[str]:
    """Every history entry of every file of the registry, with the version numbers inside
    it left out (a renumbered version's alias entries name its new number); version files
    whose uid is in ``skip_uids`` are left out."""
    found: Counter[str] = Counter()
    for path in tree:
        if path.startswith("models/") and path.endswith(".yaml"):
            doc = load(tree, path)
            if "/versions/" in path and doc.get("uid") in skip_uids:
                continue
            for entry in doc.get("history") or []:
                kept = {key: value for key, value in entry.items() if key not in NUMBERS}
                if "archived_by" in entry:
                    kept.pop("comment", None)
                found[json.dumps(kept, sort_keys=True)] += 1
    return found


def assert_nothing_lost(final: Tree, *sides: Tree) -> None:
    """Every history entry of each side is in the final registry (as many times), but
    those of a version deleted in the end: its tombstone keeps only the delete."""
    deleted = frozenset(load(final, path)["uid"] for path in final if "/deleted/" in path)
    have = entry_keys(final)
    for side in sides:
        missing = entry_keys(side, deleted) - have
        assert not missing, f"history entries lost: {list(missing)}"


def check(clone: Clone) -> None:
    done = clone.modelreg("check", ok=False)
    assert done.returncode == 0, done.stdout + done.stderr


def both_clean(alice: Clone, bob: Clone) -> None:
    """Alice pulls what bob published (a fast-forward); `check` is clean in both."""
    alice.git("pull", "-q", "--ff-only", "origin", "main")
    assert alice.head() == bob.head()
    check(alice)
    check(bob)


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
    bob.modelreg("register", "churn", "s3://bob/4", "--run-id", "bob-4", *EVERYTHING)
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
    both_clean(alice, bob)


@pytest.mark.parametrize("path", PATHS)
def test_two_commits_register_then_alias_and_promote(team: Team, path: str) -> None:
    """Bob's two commits — register 4; then champion and Production on 4 — land on his
    version (renumbered 5), never on alice's published 4."""
    alice, bob = team.clone("alice"), team.clone("bob")
    alice.modelreg("register", "churn", "s3://alice/4", "--run-id", "alice-4", "--push")
    alices = tree_at(alice, "HEAD")
    bob.modelreg("register", "churn", "s3://bob/4", "--run-id", "bob-4")
    bob.commit("bob registers 4")
    bob.modelreg("alias", "churn", "champion", "4")
    bob.modelreg("transition", "churn", "4", "Production", "--archive-existing")
    bob.commit("bob: champion and Production on 4")
    mine = work_tree(bob)
    said = publish(bob, path, stops=True)
    assert "Renumbered churn version 4 -> 5" in said.stderr
    final = published(bob)
    assert load(final, V.format(4)) == load(alices, V.format(4))  # untouched
    assert load(final, V.format(4))["run_id"] == "alice-4"
    five = load(final, V.format(5))
    same_version(load(mine, V.format(4)), five)
    assert five["run_id"] == "bob-4"
    assert stages(final) == {1: "Archived", 2: "Staging", 3: "None", 4: "None", 5: "Production"}
    assert alias_target(final, "champion") == 5
    note = load(final, V.format(1))["history"][-1]
    assert (note["archived_by"], note["to_stage"]) == (5, "Archived")
    assert note["comment"] == "archived: version 5 entered Production"  # not alice's 4
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)


@pytest.mark.parametrize("path", PATHS)
def test_register_and_delete_against_register(team: Team, path: str) -> None:
    """Alice registers and deletes 4; bob registers 4: his becomes 5, number 4 stays
    deleted with alice's record."""
    alice, bob = team.clone("alice"), team.clone("bob")
    alice.modelreg("register", "churn", "s3://alice/4", "--run-id", "alice-4")
    alice.modelreg("delete", "churn", "4", "--yes", "--push")
    alices = tree_at(alice, "HEAD")
    tombstone = load(alices, "models/churn/deleted/4.yaml")
    bob.modelreg("register", "churn", "s3://bob/4", "--run-id", "bob-4")
    mine = work_tree(bob)
    # Two different files (deleted/4.yaml, versions/4.yaml): git does not stop.
    said = publish(bob, path, stops=False)
    assert "Renumbered churn version 4 -> 5" in said.stderr
    final = published(bob)
    assert V.format(4) not in final
    assert load(final, "models/churn/deleted/4.yaml") == tombstone
    five = load(final, V.format(5))
    same_version(load(mine, V.format(4)), five)
    assert sorted(versions(final)) == [1, 2, 3, 5]
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)
    # The number 4 is never handed out again.
    shown = bob.modelreg("register", "churn", "s3://bob/6", "--format", "plain").stdout
    assert shown.split("\t")[1] == "6"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("driver", [True, False], ids=["driver", "plain-git"])
def test_unrelated_changes_merge_without_conflict(team: Team, path: str, driver: bool) -> None:
    """Alice moves 2 and bob 3, each tags and comments; with the driver both comment on
    the same version too. git merges without stopping, with or without the driver."""
    alice, bob = team.clone("alice", driver), team.clone("bob", driver)
    alice.modelreg("transition", "churn", "2", "Production", "--archive-existing")
    alice.modelreg("comment", "churn", "2", "alice was here")
    alice.modelreg("tag", "churn", "2", "owner=alice")
    alice.modelreg("sync")
    alices = tree_at(alice, "HEAD")
    bob.modelreg("transition", "churn", "3", "Staging")
    bob.modelreg("comment", "churn", "3", "bob was here")
    bob.modelreg("tag", "churn", "3", "owner=bob")
    if driver:
        alice.modelreg("comment", "churn", "3", "alice on 3", "--push")
        alices = tree_at(alice, "HEAD")
    mine = work_tree(bob)
    said = publish(bob, path, stops=False)
    assert "Renumbered" not in said.stderr
    final = published(bob)
    assert stages(final) == {1: "Archived", 2: "Production", 3: "Staging"}
    assert load(final, V.format(2))["tags"] == {"owner": "alice"}
    assert load(final, V.format(3))["tags"] == {"owner": "bob"}
    comments = [e.get("comment") for e in load(final, V.format(3))["history"]]
    assert "bob was here" in comments
    assert ("alice on 3" in comments) == driver
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("later", ["bob", "alice"])
def test_both_promote_a_different_version_to_production(team: Team, path: str, later: str) -> None:
    """Alice promotes 2, bob 3, both with --archive-existing: exactly one version is in
    Production, the one moved later; the other is archived with a history note."""
    alice, bob = team.clone("alice"), team.clone("bob")
    if later == "alice":
        bob.modelreg("transition", "churn", "3", "Production", "--archive-existing")
    alice.modelreg("transition", "churn", "2", "Production", "--archive-existing", "--push")
    alices = tree_at(alice, "HEAD")
    if later == "bob":
        bob.modelreg("transition", "churn", "3", "Production", "--archive-existing")
    mine = work_tree(bob)
    publish(bob, path)
    final = published(bob)
    winner, loser = (3, 2) if later == "bob" else (2, 3)
    assert stages(final) == {1: "Archived", winner: "Production", loser: "Archived"}
    note = load(final, V.format(loser))["history"][-1]
    assert (note["action"], note["to_stage"]) == ("stage_changed", "Archived")
    assert f"version {winner} entered Production later" in note["comment"]
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("later", ["bob", "alice"])
def test_both_move_one_alias(team: Team, path: str, later: str) -> None:
    """Alice moves champion to 2, bob to 3: the later move wins, the other is in the
    alias's history."""
    alice, bob = team.clone("alice"), team.clone("bob")
    if later == "alice":
        bob.modelreg("alias", "churn", "champion", "3")
    alice.modelreg("alias", "churn", "champion", "2", "--push")
    alices = tree_at(alice, "HEAD")
    if later == "bob":
        bob.modelreg("alias", "churn", "champion", "3")
    mine = work_tree(bob)
    publish(bob, path)
    final = published(bob)
    assert alias_target(final, "champion") == (3 if later == "bob" else 2)
    moves = [
        entry["version"]
        for entry in load(final, "models/churn/aliases/champion.yaml")["history"]
        if entry["action"] == "alias_set"
    ]
    assert sorted(moves) == [1, 2, 3]
    assert moves[-1] == alias_target(final, "champion")
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)


RENAME = (
    "from modelreg import Registry; "
    "Registry('registry').rename_registered_model('churn', 'attrition')"
)


@pytest.mark.parametrize("path", PATHS)
def test_rename_against_register(team: Team, path: str) -> None:
    """Alice renames churn to attrition; bob registers churn 4: it lands in attrition."""
    alice, bob = team.clone("alice"), team.clone("bob")
    subprocess.run(
        [str(Path(modelreg_executable()).parent / "python"), "-c", RENAME],
        cwd=alice.path,
        env=alice.env,
        check=True,
    )
    alice.modelreg("sync")
    alices = tree_at(alice, "HEAD")
    bob.modelreg("register", "churn", "s3://bob/4", "--run-id", "bob-4", "--alias", "candidate")
    mine = work_tree(bob)
    publish(bob, path)
    final = published(bob)
    assert not any(p.startswith("models/churn/") for p in final)
    assert sorted(versions(final, "attrition")) == [1, 2, 3, 4]
    four = load(final, "models/attrition/versions/4.yaml")
    assert (four["name"], four["run_id"]) == ("attrition", "bob-4")
    assert alias_target(final, "candidate", "attrition") == 4
    assert alias_target(final, "champion", "attrition") == 1
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("who_deletes", ["alice", "bob"])
def test_alias_against_delete(team: Team, path: str, who_deletes: str) -> None:
    """One side deletes version 3, the other points an alias at it: 3 stays deleted and
    the alias is cleared, with both records in the history."""
    alice, bob = team.clone("alice"), team.clone("bob")
    if who_deletes == "alice":
        alice.modelreg("delete", "churn", "3", "--yes", "--push")
        bob.modelreg("alias", "churn", "challenger", "3")
    else:
        alice.modelreg("alias", "churn", "challenger", "3", "--push")
        bob.modelreg("delete", "churn", "3", "--yes")
    alices = tree_at(alice, "HEAD")
    mine = work_tree(bob)
    publish(bob, path)
    final = published(bob)
    assert sorted(versions(final)) == [1, 2]
    assert "models/churn/deleted/3.yaml" in final
    assert alias_target(final, "challenger") is None
    history = load(final, "models/churn/aliases/challenger.yaml")["history"]
    assert [e["action"] for e in history] == ["alias_set", "alias_deleted"]
    assert_nothing_lost(final, alices, mine)
    both_clean(alice, bob)


# -- random operations on two clones -------------------------------------------------------

# Which base version each clone may move between stages (besides the ones it registered).
OWNS = {"alice": {"carol-1", "carol-2"}, "bob": {"carol-3"}}
STAGES = ["None", "Staging", "Archived"]

Op = tuple[str, str, int, int]  # who, what, a target index, a value

operations = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob"]),
        st.sampled_from(
            ["register", "register", "transition", "tag", "comment", "alias", "unalias", "delete"]
        ),
        st.integers(0, 20),
        st.integers(0, 3),
    ),
    min_size=3,
    max_size=12,
)


def run_op(clone: Clone, op: Op, count: Counter[str]) -> tuple[str, ...] | None:
    """Carry out ``op`` in ``clone`` with the CLI; return it as the replay needs it (the
    target version named by its run id), or None when it has nothing to act on."""
    _, what, index, value = op
    user = clone.user
    here = versions(work_tree(clone))
    if what == "register":
        count[user] += 1
        run = f"{user}-{count[user]}"
        clone.modelreg(
            "register", "churn", f"s3://{user}/{count[user]}", "--run-id", run,
            "--metric", f"auc=0.{value}{count[user]}", "--param", f"depth={value}",
            "--description", f"{user}'s model {count[user]}",
        )  # fmt: skip
        return ("register", run, str(value), str(count[user]))
    if what in ("alias", "unalias"):
        alias = f"{user}_{'champion' if value % 2 else 'challenger'}"
        if what == "unalias":
            if alias_target(work_tree(clone), alias) is None:
                return None
            clone.modelreg("alias", "churn", alias, "--delete")
            return ("unalias", alias)
    candidates = sorted(here)
    if what == "transition":
        candidates = [n for n in candidates if here[n]["run_id"] in OWNS[user]
                      or here[n]["run_id"].startswith(f"{user}-")]  # fmt: skip
    if not candidates:
        return None
    number = candidates[index % len(candidates)]
    run = here[number]["run_id"]
    if what == "alias":
        clone.modelreg("alias", "churn", alias, str(number))
        return ("alias", run, alias)
    if what == "transition":
        stage = STAGES[value % len(STAGES)]
        if here[number]["current_stage"] == stage:
            return None
        clone.modelreg("transition", "churn", str(number), stage)
        return ("transition", run, stage)
    if what == "tag":
        clone.modelreg("tag", "churn", str(number), f"{user}_k{value % 2}={user}{index}")
        return ("tag", run, f"{user}_k{value % 2}", f"{user}{index}")
    if what == "comment":
        clone.modelreg("comment", "churn", str(number), f"{user} says {index}")
        return ("comment", run, f"{user} says {index}")
    clone.modelreg("delete", "churn", str(number), "--yes")
    return ("delete", run)


def replay(registry: Registry, done: list[tuple[str, ...]]) -> None:
    """Apply ``done`` to one registry, in order. A version named by run id that is gone
    (deleted by the other clone) is not acted on — but an alias moved onto it is deleted:
    the documented merge rule for an alias pointing at a version deleted on the other
    side."""

    def number(run: str) -> int | None:
        found = [mv for mv in registry.list_versions("churn") if mv.run_id == run]
        return int(found[0].version) if found else None

    def aliases() -> dict[str, int]:
        return dict(registry.get_registered_model("churn").aliases)

    for step in done:
        what, *rest = step
        if what == "register":
            run, value, n = rest
            user = run.split("-")[0]
            registry.register(
                "churn", f"s3://{user}/{n}", run_id=run, metrics={"auc": float(f"0.{value}{n}")},
                params={"depth": int(value)}, description=f"{user}'s model {n}",
            )  # fmt: skip
            continue
        if what == "unalias":
            if rest[0] in aliases():
                registry.delete_registered_model_alias("churn", rest[0])
            continue
        target = number(rest[0])
        if target is None:
            if what == "alias" and rest[1] in aliases():
                registry.delete_registered_model_alias("churn", rest[1])
            continue
        if what == "alias":
            registry.set_registered_model_alias("churn", rest[1], target)
        elif what == "transition":
            registry.transition("churn", target, rest[1])
        elif what == "tag":
            registry.set_model_version_tag("churn", target, rest[1], rest[2])
        elif what == "comment":
            registry.comment_model_version("churn", target, rest[1])
        else:
            registry.delete_model_version("churn", target)


def outcome(tree: Tree) -> dict[str, Any]:
    """What must be the same: every version (by number) with its run id, metrics, params,
    tags, stage and description; the numbers deleted; each alias's target."""
    return {
        "versions": {
            number: {
                key: doc[key]
                for key in ("run_id", "metrics", "params", "tags", "current_stage", "description")
            }
            for number, doc in versions(tree).items()
        },
        "deleted": sorted(
            load(tree, path)["version"] for path in tree if path.startswith("models/churn/deleted/")
        ),
        "aliases": {
            path.rsplit("/", 1)[1][:-5]: load(tree, path)["version"]
            for path in tree
            if path.startswith("models/churn/aliases/") and load(tree, path)["version"] is not None
        },
    }


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_random_operations_on_two_clones_sync_like_one_registry(
    _origin: Path, tmp_path_factory: pytest.TempPathFactory, ops: list[Op]
) -> None:
    """Alice and bob each change their clone, interleaved in time but never publishing
    in between; then alice syncs (publishes), bob syncs, alice syncs again. Both clones
    end at the same commit, `check` is clean, no history entry of either clone is lost
    (but a deleted version's), alice's published numbers are unchanged, and the result
    is *the same* as alice's operations and then bob's applied to one registry — same
    means: the same numbers, each with the same run id, metrics, params, tags, stage and
    description; the same deleted numbers; every alias at the same number. The clones
    own what the merge settles by time (each its tag keys, aliases and the versions it
    moves between stages, never into exclusive Production), so that published order and
    time order agree."""
    top = tmp_path_factory.mktemp("random")
    shutil.copytree(_origin / "origin.git", top / "origin.git", symlinks=True)
    team = Team(top)
    clones = {user: team.clone(user, driver=False) for user in ("alice", "bob")}
    done: dict[str, list[tuple[str, ...]]] = {"alice": [], "bob": []}
    count: Counter[str] = Counter()
    # Each registers first, so that bob's versions always collide with alice's.
    for op in [("bob", "register", 0, 1), ("alice", "register", 0, 2), *ops]:
        step = run_op(clones[op[0]], op, count)
        if step is not None:
            done[op[0]].append(step)
    alice, bob = clones["alice"], clones["bob"]
    sides = [work_tree(alice), work_tree(bob)]
    alice.modelreg("sync")
    alices = tree_at(alice, "HEAD")
    bob.modelreg("sync")
    alice.modelreg("sync")
    final = published(alice)
    assert bob.head() == alice.head()
    check(alice)
    for number, doc in versions(alices).items():  # published numbers never change
        kept = final.get(V.format(number)) or final[f"models/churn/deleted/{number}.yaml"]
        assert load({"f": kept}, "f")["uid"] == doc["uid"]
    assert_nothing_lost(final, *sides)
    reference = clone_of(team.origin, top / "reference", "reference", top / "scratch")
    first = reference.git("rev-list", "--max-parents=0", "HEAD").stdout.strip()
    reference.git("checkout", "-q", first)
    registry = Registry(reference.path / "registry")
    replay(registry, done["alice"] + done["bob"])
    assert outcome(final) == outcome(work_tree(reference))
    renumbered = any(
        e["action"] == "renumbered" for d in versions(final).values() for e in d["history"]
    )
    event("bob's versions renumbered" if renumbered else "bob deleted his versions")
    event(f"{len(done['alice'])} + {len(done['bob'])} operations carried out")

"""The merge driver with real git: a bare origin on local disk, clones for alice and bob
with `modelreg git-setup` run in each, and changes that git's line merge would conflict on
merged by meaning, with `git pull` (a merge) and `git pull --rebase` alike. Two different
versions under one number still stop the merge or the rebase, with a message."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _team import Clone, clone_of, new_origin
from conftest import modelreg_executable
from modelreg import yamlio
from modelreg.merge_driver import ATTRIBUTE_LINES, driver_command

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

MODES = ["merge", "rebase"]
VERSION_4 = "registry/models/m/versions/4.yaml"


def histories(clone: Clone, rev: str) -> dict[str, list[dict[str, Any]]]:
    """The history of every registry file at ``rev``, by path."""
    listed = clone.git("ls-tree", "-r", "--name-only", rev, "--", "registry/models").stdout
    found = {}
    for path in listed.split():
        data = clone.git("show", f"{rev}:{path}").stdout.encode()
        found[path] = yamlio.loads(data, Path(path))["history"]
    return found


def _keys(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(yamlio.dumps(entry) for entry in entries)


def assert_nothing_lost(clone: Clone, *revs: str) -> None:
    """Every history entry of every file at each of ``revs`` is in HEAD's file, and HEAD
    has no entry that none of them had."""
    merged = histories(clone, "HEAD")
    union: dict[str, Counter[str]] = {}
    for rev in revs:
        for path, entries in histories(clone, rev).items():
            if path not in merged:
                assert _deleted(merged, path), f"{path} of {rev} is gone"
                continue
            missing = _keys(entries) - _keys(merged[path])
            assert not missing, f"{path}: entries of {rev} lost: {list(missing)}"
            union[path] = union.get(path, Counter()) | _keys(entries)
    for path, entries in merged.items():
        # The one entry a merge writes itself: an alias dropped with its deleted version.
        own = [e for e in entries if not str(e.get("comment", "")).startswith("merge: ")]
        assert not _keys(own) - union.get(path, Counter()), f"{path}: invented entries"


def _deleted(merged: dict[str, list[dict[str, Any]]], path: str) -> bool:
    """Whether ``path``, a version file, is gone because its model recorded the delete."""
    folder, _, name = path.partition("/versions/")
    return any(
        entry["action"] == "version_deleted" and f"{entry['version']}.yaml" == name
        for entry in merged.get(f"{folder}/model.yaml", [])
    )


def document(clone: Clone, path: str) -> dict[str, Any]:
    result: dict[str, Any] = yamlio.load(clone.path / path)
    return result


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """origin.git holding a registry with model m, versions 1-3 (3 in Staging, with a
    request for Production), the .gitattributes of `git-setup`; clones for alice and bob
    with the driver installed. Copied for every test."""
    top = tmp_path_factory.mktemp("team")
    scratch = tmp_path_factory.mktemp("team-scratch")
    carol = new_origin(top, scratch)
    carol.modelreg("init", "registry")
    # The driver merges format 1 files (model.yaml holds the aliases and the counter).
    (carol.path / "registry" / "registry.yaml").write_text(
        "modelreg: 1\nstages:\n- None\n- Staging\n- Production\n- Archived\nlock_timeout: 10.0\n"
    )
    carol.modelreg("create", "m", "--description", "the model")
    for number in (1, 2, 3):
        carol.modelreg("register", "m", f"s3://carol/{number}", "--run-id", f"run-{number}")
    carol.modelreg("transition", "m", "3", "Staging")
    carol.modelreg("request", "m", "3", "Production", "--comment", "please")
    carol.modelreg("git-setup")
    carol.commit("a registry")
    carol.git("push", "-q", "origin", "main")
    for user in ("alice", "bob"):
        clone_of(top / "origin.git", top / user, user, scratch).modelreg("git-setup")
    return top


@pytest.fixture
def team(_template: Path, tmp_path: Path) -> tuple[Clone, Clone]:
    shutil.copytree(_template, tmp_path / "team", symlinks=True)
    clones = []
    for user in ("alice", "bob"):
        clone = Clone(tmp_path / "team" / user, user, tmp_path / "scratch")
        clone.git("remote", "set-url", "origin", str(tmp_path / "team" / "origin.git"))
        clones.append(clone)
    return clones[0], clones[1]


Change = Callable[[Clone], None]


def publish_then_integrate(
    team: tuple[Clone, Clone], mode: str, alice_does: Change, bob_does: Change
) -> tuple[str, str]:
    """Alice changes and pushes; bob changes, commits and pulls (merge or rebase), with
    no conflict. Returns the two commits that were integrated."""
    alice, bob = team
    alice_does(alice)
    alices = alice.commit("alice's change")
    alice.git("push", "-q", "origin", "main")
    bob_does(bob)
    bobs = bob.commit("bob's change")
    pulled = bob.pull(mode, ok=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert bob.git("status", "--porcelain").stdout == ""
    checked = bob.modelreg("check", ok=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert_nothing_lost(bob, alices, bobs)
    # Every entry is still the commit's that added it, by its author (check --provenance).
    from modelreg.provenance import verify

    found = verify(bob.path / "registry")
    assert found == [], [each.problem for each in found]
    bob.git("push", "-q", "origin", "main")  # what was merged can be published
    return alices, bobs


@pytest.mark.parametrize("mode", MODES)
def test_moves_of_different_aliases(team: tuple[Clone, Clone], mode: str) -> None:
    publish_then_integrate(
        team,
        mode,
        lambda alice: alice.modelreg("alias", "m", "champion", "2"),
        lambda bob: bob.modelreg("alias", "m", "challenger", "3"),
    )
    assert document(team[1], "registry/models/m/model.yaml")["aliases"] == {
        "champion": 2,
        "challenger": 3,
    }


@pytest.mark.parametrize("mode", MODES)
def test_one_alias_moved_on_both_sides_the_later_move_wins(
    team: tuple[Clone, Clone], mode: str
) -> None:
    publish_then_integrate(
        team,
        mode,
        lambda alice: alice.modelreg("alias", "m", "champion", "1"),
        lambda bob: bob.modelreg("alias", "m", "champion", "3"),  # run after alice's
    )
    model = document(team[1], "registry/models/m/model.yaml")
    assert model["aliases"] == {"champion": 3}
    moves = [e for e in model["history"] if e["action"] == "alias_set"]
    assert [(e["user_id"], e["version"]) for e in moves] == [
        ("alice@example.com", 1),
        ("bob@example.com", 3),
    ]
    resolved = team[1].modelreg("resolve", "m@champion")
    assert resolved.stdout.strip() == "s3://carol/3"


@pytest.mark.parametrize("mode", MODES)
def test_tags_with_different_keys_on_one_version(team: tuple[Clone, Clone], mode: str) -> None:
    publish_then_integrate(
        team,
        mode,
        lambda alice: alice.modelreg("tag", "m", "2", "reviewed=yes"),
        lambda bob: bob.modelreg("tag", "m", "2", "dataset=2026-12"),
    )
    tags = document(team[1], "registry/models/m/versions/2.yaml")["tags"]
    assert tags == {"dataset": "2026-12", "reviewed": "yes"}


@pytest.mark.parametrize("mode", MODES)
def test_comments_and_approvals_on_one_version(team: tuple[Clone, Clone], mode: str) -> None:
    def alice_does(alice: Clone) -> None:
        alice.modelreg("comment", "m", "3", "the f1 is fine")
        alice.modelreg("approve", "m", "3", "Production", "--comment", "ok")

    def bob_does(bob: Clone) -> None:
        bob.modelreg("approve", "m", "3", "Production")
        bob.modelreg("comment", "m", "3", "shipping friday")

    publish_then_integrate(team, mode, alice_does, bob_does)
    history = document(team[1], "registry/models/m/versions/3.yaml")["history"]
    actions = [(e["user_id"].split("@")[0], e["action"]) for e in history[-4:]]
    assert actions == [
        ("alice", "commented"),
        ("alice", "approved"),
        ("bob", "approved"),
        ("bob", "commented"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_transitions_of_different_versions(team: tuple[Clone, Clone], mode: str) -> None:
    publish_then_integrate(
        team,
        mode,
        lambda alice: alice.modelreg("transition", "m", "1", "Archived"),
        lambda bob: bob.modelreg("transition", "m", "2", "Staging"),
    )
    bob = team[1]
    stages = {
        n: document(bob, f"registry/models/m/versions/{n}.yaml")["current_stage"] for n in (1, 2, 3)
    }
    assert stages == {1: "Archived", 2: "Staging", 3: "Staging"}
    model = document(bob, "registry/models/m/model.yaml")
    version_2 = document(bob, "registry/models/m/versions/2.yaml")
    assert model["updated_at"] == version_2["updated_at"]  # bob's, the later write


@pytest.mark.parametrize("mode", MODES)
def test_description_changes(team: tuple[Clone, Clone], mode: str) -> None:
    def alice_does(alice: Clone) -> None:
        alice.modelreg("update", "m", "--description", "alice's words")
        alice.modelreg("update", "m", "1", "--description", "the first one")

    def bob_does(bob: Clone) -> None:
        bob.modelreg("update", "m", "--description", "bob's words")  # the later change
        bob.modelreg("tag", "m", "bob=1")

    publish_then_integrate(team, mode, alice_does, bob_does)
    model = document(team[1], "registry/models/m/model.yaml")
    assert model["description"] == "bob's words"
    assert model["tags"] == {"bob": "1"}
    changes = [e["user_id"] for e in model["history"] if e["action"] == "description_changed"]
    assert changes == ["alice@example.com", "bob@example.com"]
    assert document(team[1], "registry/models/m/versions/1.yaml")["description"] == "the first one"


@pytest.mark.parametrize("mode", MODES)
def test_an_alias_moved_onto_a_version_deleted_on_the_other_branch(
    team: tuple[Clone, Clone], mode: str
) -> None:
    publish_then_integrate(
        team,
        mode,
        lambda alice: alice.modelreg("delete", "m", "2", "--yes"),
        lambda bob: bob.modelreg("alias", "m", "champion", "2"),
    )
    model = document(team[1], "registry/models/m/model.yaml")
    assert model["aliases"] == {}
    assert model["last_version"] == 3
    note = model["history"][-1]
    assert (note["action"], note["alias"], note["version"], note["user_id"]) == (
        "alias_deleted",
        "champion",
        2,
        "alice@example.com",
    )
    assert not (team[1].path / "registry/models/m/versions/2.yaml").exists()


# -- what must still stop -----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_two_clones_registering_version_4_still_conflict(
    team: tuple[Clone, Clone], mode: str
) -> None:
    alice, bob = team
    alice.modelreg("register", "m", "s3://alice/model", "--run-id", "alice-run")
    alice.commit("alice registers")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("register", "m", "s3://bob/model", "--run-id", "bob-run", "--metric", "f1=0.8")
    bob.commit("bob registers")
    pulled = bob.pull(mode, ok=False)
    assert pulled.returncode != 0
    said = pulled.stdout + pulled.stderr
    assert f"error: cannot merge {VERSION_4} by meaning:" in said
    assert "two different versions under number 4 of 'm'" in said
    assert "register the other one's artifact again" in said
    published = "--ours" if mode == "rebase" else "--theirs"
    assert f"git checkout {published} -- {VERSION_4}" in said
    # Nothing is silently lost: git holds both versions 4, the file has conflict markers
    # (modelreg refuses it until resolved), model.yaml merged.
    unmerged = bob.git("diff", "--name-only", "--diff-filter=U").stdout.split()
    assert unmerged == [VERSION_4]
    sources = {
        stage: yamlio.loads(bob.git("show", f":{stage}:{VERSION_4}").stdout.encode(), Path())[
            "source"
        ]
        for stage in (2, 3)
    }
    upstream, local = (2, 3) if mode == "rebase" else (3, 2)
    assert sources == {upstream: "s3://alice/model", local: "s3://bob/model"}
    assert b"<<<<<<< ours" in (bob.path / VERSION_4).read_bytes()
    assert bob.modelreg("check", ok=False).returncode == 7


@pytest.mark.parametrize("mode", MODES)
def test_a_number_deleted_on_one_clone_and_registered_on_the_other_stops(
    team: tuple[Clone, Clone], mode: str
) -> None:
    """Alice registers and deletes version 4; bob registers his version 4. git merges the
    file 4.yaml (only bob has it) without asking; model.yaml is where the driver stops."""
    alice, bob = team
    alice.modelreg("register", "m", "s3://alice/model")
    alice.modelreg("delete", "m", "4", "--yes")
    alice.commit("alice registers and deletes 4")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("register", "m", "s3://bob/model")
    bob.commit("bob registers 4")
    pulled = bob.pull(mode, ok=False)
    assert pulled.returncode != 0
    said = pulled.stdout + pulled.stderr
    model = "registry/models/m/model.yaml"
    assert f"error: cannot merge {model} by meaning:" in said
    assert "and deleted on" in said and "a deleted number would be used again" in said
    published = "--ours" if mode == "rebase" else "--theirs"
    assert f"git checkout {published} -- {model}" in said
    assert "(registry/models/m/versions/4.yaml), `git rm` it and register" in said
    assert bob.git("diff", "--name-only", "--diff-filter=U").stdout.split() == [model]
    kept = yamlio.load(bob.path / VERSION_4)
    assert kept["source"] == "s3://bob/model"  # bob's version is still there to register


def test_a_rebase_of_register_then_promote_onto_another_version_4_stops(
    team: tuple[Clone, Clone],
) -> None:
    """The issue's silent overwrite: bob's two commits (register v4; alias + promote v4)
    replayed onto alice's v4. The first stops; keeping alice's v4 and going on, the second
    (a change of bob's v4) stops too instead of landing on alice's version."""
    alice, bob = team
    alice.modelreg("register", "m", "s3://alice/model")
    alice.commit("alice registers 4")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("register", "m", "s3://bob/model")
    bob.commit("bob registers 4")
    bob.modelreg("alias", "m", "champion", "4")
    bob.modelreg("transition", "m", "4", "Staging")
    bob.commit("bob promotes 4")

    first = bob.pull("rebase", ok=False)
    assert first.returncode != 0
    assert "two different versions under number 4" in first.stdout + first.stderr
    bob.git("checkout", "--ours", "--", VERSION_4)  # alice's, the published one
    bob.git("add", VERSION_4)
    second = bob.git("rebase", "--continue", ok=False)
    assert second.returncode != 0
    said = second.stdout + second.stderr
    assert "base and ours are two different versions under number 4 of 'm'" in said
    assert bob.git("diff", "--name-only", "--diff-filter=U").stdout.split() == [VERSION_4]
    replayed = yamlio.loads(bob.git("show", f":3:{VERSION_4}").stdout.encode(), Path())
    assert (replayed["source"], replayed["current_stage"]) == ("s3://bob/model", "Staging")
    kept = yamlio.loads(bob.git("show", f":2:{VERSION_4}").stdout.encode(), Path())
    assert (kept["source"], kept["current_stage"]) == ("s3://alice/model", "None")


def test_two_clones_creating_one_model_name_stop(team: tuple[Clone, Clone]) -> None:
    alice, bob = team
    alice.modelreg("create", "x", "--description", "alice's")
    alice.commit("alice creates x")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("create", "x", "--tag", "owner=bob")
    bob.commit("bob creates x")
    pulled = bob.pull("merge", ok=False)
    assert pulled.returncode != 0
    said = pulled.stdout + pulled.stderr
    assert "ours and theirs are two different models named 'x'" in said
    assert "git checkout --theirs -- registry/models/x/model.yaml" in said
    assert "redo the other one's description, tags and aliases" in said
    assert bob.git("diff", "--name-only", "--diff-filter=U").stdout.split() == [
        "registry/models/x/model.yaml"
    ]


def test_without_the_driver_the_same_changes_conflict(team: tuple[Clone, Clone]) -> None:
    """What the driver is for: git's line merge stops on these changes."""
    alice, bob = team
    bob.git("config", "--local", "--unset", "merge.modelreg.driver")
    bob.git("config", "--local", "--unset", "merge.modelreg.name")
    alice.modelreg("comment", "m", "3", "from alice")
    alice.commit("alice comments")
    alice.git("push", "-q", "origin", "main")
    bob.modelreg("comment", "m", "3", "from bob")
    bob.commit("bob comments")
    assert bob.pull("merge", ok=False).returncode != 0


# -- git-setup and merge-file themselves --------------------------------------------------


def test_git_setup_is_idempotent_and_keeps_other_attributes(team: tuple[Clone, Clone]) -> None:
    _, bob = team
    attributes = bob.path / "registry" / ".gitattributes"
    attributes.write_text(attributes.read_text() + "*.bin binary\n")
    again = bob.modelreg("git-setup")
    assert "already routes the registry's files to merge=modelreg" in again.stderr
    assert (
        f"Already set: git config merge.modelreg.driver = {driver_command(modelreg_executable())}"
        in again.stderr
    )
    text = attributes.read_text()
    assert all(text.count(line) == 1 for line in ATTRIBUTE_LINES)
    assert text.endswith("*.bin binary\n")
    configured = bob.git("config", "--local", "--get", "merge.modelreg.driver").stdout.strip()
    assert configured == f"{modelreg_executable()} merge-file %O %A %B %P"
    checked = bob.git("check-attr", "merge", "--", VERSION_4, "registry/models/m/model.yaml")
    assert checked.stdout.count("merge: modelreg") == 2


def test_git_setup_outside_a_git_repository_says_so(tmp_path: Path, run_cli: Any) -> None:
    subprocess.run(
        [modelreg_executable(), "init", str(tmp_path / "r")], check=True, capture_output=True
    )
    done = run_cli("--registry", str(tmp_path / "r"), "git-setup")
    assert done.returncode == 3
    assert "is not in a git repository" in done.stderr
    assert not (tmp_path / "r" / ".gitattributes").exists()


def test_merge_file_writes_the_merge_to_ours_in_canonical_yaml(
    team: tuple[Clone, Clone], tmp_path: Path, run_cli: Any
) -> None:
    _, bob = team
    path = "registry/models/m/versions/3.yaml"
    base = (bob.path / path).read_bytes()
    bob.modelreg("comment", "m", "3", "one")
    ours_bytes = (bob.path / path).read_bytes()
    bob.git("checkout", "-q", "--", path)
    bob.modelreg("tag", "m", "3", "k=v")
    theirs_bytes = (bob.path / path).read_bytes()
    files = {}
    for name, data in (("base", base), ("ours", ours_bytes), ("theirs", theirs_bytes)):
        files[name] = tmp_path / name
        files[name].write_bytes(data)
    done = run_cli("merge-file", str(files["base"]), str(files["ours"]), str(files["theirs"]), path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    merged = files["ours"].read_bytes()
    doc = yamlio.loads(merged, Path(path))
    assert doc["tags"]["k"] == "v"
    assert [e["action"] for e in doc["history"][-2:]] == ["commented", "tag_set"]
    assert merged.decode() == yamlio.dumps(doc)


def test_merge_file_on_a_conflict_leaves_markers_and_exits_1(tmp_path: Path, run_cli: Any) -> None:
    base = tmp_path / "base"
    ours = tmp_path / "ours"
    theirs = tmp_path / "theirs"
    base.write_bytes(b"")
    ours.write_text("name: m\n")
    theirs.write_text("name: n\n")
    done = run_cli("merge-file", str(base), str(ours), str(theirs), "registry/models/m/model.yaml")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "error: cannot merge registry/models/m/model.yaml by meaning:\n"
        "  - ours: missing required key 'created_at'\n"
    )
    assert (
        ours.read_text()
        == "<<<<<<< ours\nname: m\n||||||| base\n=======\nname: n\n>>>>>>> theirs\n"
    )


def test_merge_file_and_git_setup_print_their_record_when_asked(
    team: tuple[Clone, Clone], tmp_path: Path, run_cli: Any
) -> None:
    _, bob = team
    setup = bob.modelreg("git-setup", "--format", "plain")
    attributes = (bob.path / "registry" / ".gitattributes").resolve()
    assert setup.stdout == f"{attributes}\t{driver_command(modelreg_executable())}\n"
    for name, text in (("base", ""), ("ours", "name: m\n"), ("theirs", "name: n\n")):
        (tmp_path / name).write_text(text)
    done = run_cli(
        "merge-file",
        *(str(tmp_path / name) for name in ("base", "ours", "theirs")),
        "registry/models/m/model.yaml",
        "--format",
        "json",
    )
    assert done.returncode == 1
    record = json.loads(done.stdout)
    assert (record["path"], record["merged"]) == ("registry/models/m/model.yaml", False)
    assert record["conflicts"][0] == "ours: missing required key 'created_at'"

"""`modelreg sync` and `--push` with real git and real processes: a bare origin on local
disk, clones that publish through it, numbers that never change once published, versions
renumbered with everything they carry, code never published by sync, and hooks that hear
each published change once, with its final number."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from _team import EVERYTHING, Clone, clone_of, new_origin
from conftest import cli_commands, leaf_commands, modelreg_executable
from modelreg import yamlio

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

HOOK_LOG = "hook-deliveries.txt"


def _hooked_config(clone: Clone, log: Path) -> None:
    """A command hook that appends one line per model_version.created to ``log``."""
    path = clone.path / "registry" / "registry.yaml"
    config = yamlio.load(path)
    config["hooks"] = [
        {
            "name": "announce",
            "kind": "command",
            "events": ["model_version.created"],
            "command": f'echo "$MODELREG_EVENT $MODELREG_MODEL_VERSION $MODELREG_RUN_ID" >> {log}',
        }
    ]
    path.write_text(yamlio.dumps(config))


@pytest.fixture(scope="session")
def _origin_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """origin.git with a registry (model churn, version 1) beside a code file, and a hook
    that logs every created version to a file outside the clones."""
    top = tmp_path_factory.mktemp("publish")
    scratch = tmp_path_factory.mktemp("publish-scratch")
    carol = new_origin(top, scratch)
    carol.modelreg("init", "registry")
    _hooked_config(carol, top / HOOK_LOG)
    carol.modelreg("register", "churn", "s3://carol/1", "--run-id", "carol-1")
    (carol.path / "train.py").write_text("print('train')\n")
    carol.commit("a registry and the code")
    carol.git("push", "-q", "origin", "main")
    return top


class Team:
    """A copy of the template: the origin, and clones made on demand."""

    def __init__(self, top: Path, scratch: Path) -> None:
        self.top = top
        self.scratch = scratch
        self.origin = top / "origin.git"
        self.log = top / HOOK_LOG
        # The hook's command names the template's log: point it at this copy's.
        self.template_log: Path | None = None

    def clone(self, user: str) -> Clone:
        clone = clone_of(self.origin, self.top / user, user, self.scratch)
        clone.env["MODELREG_TRUST_HOOKS"] = "1"
        return clone

    def published(self, path: str) -> Any:
        done = subprocess.run(
            ["git", "--git-dir", str(self.origin), "show", f"main:{path}"],
            capture_output=True,
            check=True,
        )
        return yamlio.loads(done.stdout, Path(path))

    def published_versions(self, model: str = "churn") -> dict[int, dict[str, Any]]:
        listed = subprocess.run(
            [
                "git",
                "--git-dir",
                str(self.origin),
                "ls-tree",
                "--name-only",
                "main",
                f"registry/models/{model}/versions/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        found = {}
        for path in listed:
            doc = self.published(path)
            found[doc["version"]] = doc
        return found

    def deliveries(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def team(_origin_template: Path, tmp_path: Path) -> Team:
    top = tmp_path / "team"
    shutil.copytree(_origin_template, top, symlinks=True)
    team = Team(top, tmp_path / "scratch")
    # The hook in the origin's registry.yaml writes to the template's log: re-point it.
    seed = team.clone("seed")
    _hooked_config(seed, team.log)
    seed.commit("hooks log here")
    seed.git("push", "-q", "origin", "main")
    shutil.rmtree(seed.path)
    team.log.unlink(missing_ok=True)
    return team


def test_sync_with_nothing_to_do(team: Team) -> None:
    alice = team.clone("alice")
    before = alice.head()
    done = alice.modelreg("sync", "--format", "json")
    record = json.loads(done.stdout)
    assert record["pushed"] is False
    assert record["commit"] == before
    assert "Nothing to publish: up to date with origin/main" in done.stderr
    assert alice.head() == before
    assert team.deliveries() == []


def test_sync_publishes_a_registration_and_then_fires_the_hook(team: Team) -> None:
    alice = team.clone("alice")
    alice.modelreg("--no-hooks", "register", "churn", "s3://alice/2", "--run-id", "alice-2")
    assert alice.git("status", "--porcelain").stdout != ""
    done = alice.modelreg("sync")
    assert "Published to origin/main" in done.stderr
    assert 2 in team.published_versions()
    assert alice.git("status", "--porcelain").stdout == ""
    assert alice.head() == alice.git("rev-parse", "origin/main").stdout.strip()
    subject = alice.git("log", "-1", "--format=%s").stdout
    assert subject.startswith("modelreg: model_version.created churn version 2")
    assert team.deliveries() == ["model_version.created 2 alice-2"]


def test_a_change_announced_when_it_was_written_is_not_announced_again_by_sync(
    team: Team,
) -> None:
    alice = team.clone("alice")
    alice.modelreg("register", "churn", "s3://alice/2", "--run-id", "alice-2")  # hooks hear it
    assert team.deliveries() == ["model_version.created 2 alice-2"]
    alice.modelreg("sync")
    assert 2 in team.published_versions()
    assert team.deliveries() == ["model_version.created 2 alice-2"]


def test_the_second_clone_is_renumbered_with_everything_it_carries(team: Team) -> None:
    alice, bob = team.clone("alice"), team.clone("bob")
    alice.modelreg("register", "churn", "s3://alice/2", "--run-id", "alice-2", "--push")
    # Bob registers "the next version" too, with everything a version can carry, before
    # he knows of alice's: here it is version 2.
    # (--no-hooks: his writes here are announced when published, not before)
    bob.modelreg("--no-hooks", "register", "churn", "s3://bob/2", "--run-id", "bob-2", *EVERYTHING)
    bob.modelreg("--no-hooks", "request", "churn", "2", "Production", "--comment", "please")
    bob.modelreg("--no-hooks", "comment", "churn", "2", "looks fine")
    done = bob.modelreg("tag", "churn", "2", "reviewed=yes", "--push", "--format", "plain")
    assert done.stdout.split("\t")[:2] == ["churn", "3"]  # the published number
    assert "Renumbered churn version 2 -> 3" in done.stderr
    published = team.published_versions()
    assert published[2]["source"] == "s3://alice/2"  # alice's number never changed
    bobs = published[3]
    assert bobs["source"] == "s3://bob/2"
    assert bobs["run_id"] == "bob-2"
    assert bobs["description"] == "bob's model"
    assert bobs["tags"] == {"team": "bob", "reviewed": "yes"}
    assert bobs["metrics"] == {"auc": 0.91}
    assert bobs["params"] == {"depth": 7}
    assert bobs["current_stage"] == "Staging"
    actions = [entry["action"] for entry in bobs["history"]]
    assert {"stage_changed", "transition_requested", "commented", "renumbered"} <= set(actions)
    renumbered = next(e for e in bobs["history"] if e["action"] == "renumbered")
    assert (renumbered["from_version"], renumbered["to_version"]) == (2, 3)
    alias = team.published("registry/models/churn/aliases/challenger.yaml")
    assert alias["version"] == 3
    # Bob's clone is the published state, and clean by check.
    assert bob.head() == bob.git("rev-parse", "origin/main").stdout.strip()
    assert bob.git("status", "--porcelain").stdout == ""
    bob.modelreg("check")
    # The renumbering moved bob's entries to another file: no provenance finding.
    from modelreg.provenance import verify

    assert verify(bob.path / "registry") == []
    shown = json.loads(bob.modelreg("describe", "churn", "3", "--format", "json").stdout)
    assert shown["source"] == "s3://bob/2"
    # Each version was announced once, after it was published, with its final number.
    assert sorted(team.deliveries()) == [
        "model_version.created 2 alice-2",
        "model_version.created 3 bob-2",
    ]


def test_unpushed_code_commits_are_refused(team: Team) -> None:
    alice = team.clone("alice")
    (alice.path / "train.py").write_text("print('better')\n")
    alice.commit("better training")
    done = alice.modelreg("register", "churn", "s3://alice/2", "--push", ok=False)
    assert done.returncode == 4
    assert "change files outside the registry folder" in done.stderr
    assert "better training" in done.stderr
    assert "push your code yourself" in done.stderr
    assert 2 not in team.published_versions()
    assert team.deliveries() == []
    # Once the code is pushed by hand, sync publishes the registration.
    alice.git("push", "-q", "origin", "main")
    alice.modelreg("sync")
    assert team.published_versions()[2]["source"] == "s3://alice/2"


def test_uncommitted_code_changes_are_left_alone(team: Team) -> None:
    alice, bob = team.clone("alice"), team.clone("bob")
    alice.modelreg("register", "churn", "s3://alice/2", "--push")
    (bob.path / "train.py").write_text("print('work in progress')\n")
    (bob.path / "notes.txt").write_text("untracked\n")
    (bob.path / "staged.py").write_text("x = 1\n")
    bob.git("add", "staged.py")
    bob.modelreg("register", "churn", "s3://bob/2", "--push")
    assert (bob.path / "train.py").read_text() == "print('work in progress')\n"
    assert (bob.path / "notes.txt").read_text() == "untracked\n"
    assert (bob.path / "staged.py").read_text() == "x = 1\n"
    status = bob.git("status", "--porcelain").stdout.splitlines()
    assert sorted(status) == sorted([" M train.py", "?? notes.txt", "A  staged.py"])
    shown = subprocess.run(
        ["git", "--git-dir", str(team.origin), "ls-tree", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "staged.py" not in shown and "notes.txt" not in shown
    assert team.published_versions()[3]["source"] == "s3://bob/2"


def test_a_first_push_of_a_new_branch(team: Team) -> None:
    alice = team.clone("alice")
    alice.git("switch", "-q", "-c", "experiments")
    done = alice.modelreg("register", "churn", "s3://alice/x", "--push", "--format", "plain")
    assert done.stdout.split("\t")[1] == "2"
    remote = subprocess.run(
        ["git", "--git-dir", str(team.origin), "rev-parse", "experiments"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert remote == alice.head()
    assert alice.git("rev-parse", "--abbrev-ref", "@{upstream}").stdout.strip() == (
        "origin/experiments"
    )


def test_no_remote_and_detached_head_are_clear_errors(team: Team, tmp_path: Path) -> None:
    alone = Clone(tmp_path / "alone", "alone", tmp_path / "scratch")
    subprocess.run(["git", "init", "-q", "-b", "main", str(alone.path)], check=True)
    alone.modelreg("init", "registry")
    alone.commit("a registry")
    done = alone.modelreg("sync", ok=False)
    assert done.returncode == 3
    assert "no remote named origin" in done.stderr
    alice = team.clone("alice")
    alice.git("checkout", "-q", "--detach")
    done = alice.modelreg("sync", ok=False)
    assert done.returncode == 2
    assert "HEAD is detached" in done.stderr


def test_every_registry_write_command_takes_push() -> None:
    # Commands with a write's --format that do not change the registry's files (or, for
    # init and git-setup, make it): everything else with one must take --push.
    not_registry_writes = {
        "init",
        "git-setup",
        "merge-file",
        "merge-continue",
        "hooks trust",
        "trust",
        "export mlflow",
        "sync",
        "catalog build",  # writes a site, reads the registry
        "catalog serve",
        "gc",  # the artifact store's files, not the registry's
    }
    commands = cli_commands()
    writes = [
        name
        for name in leaf_commands()
        if any(
            "--format" in getattr(param, "opts", [])
            and (param.help or "").startswith("Also print the record")
            for param in commands[name].params
        )
    ]
    assert "register" in writes and "alias" in writes
    for name in writes:
        opts = {opt for param in commands[name].params for opt in getattr(param, "opts", [])}
        assert ("--push" in opts) != (name in not_registry_writes), name


WORKERS = 8
EACH = 3


@pytest.mark.slow
def test_parallel_clones_pushing_lose_nothing(team: Team) -> None:
    clones = [team.clone(f"ci{n}") for n in range(WORKERS)]
    script = "; ".join(
        f'"{modelreg_executable()}" register churn s3://ci/$W/{i} --run-id $W-{i} '
        f"--metric job=$N --push --format plain >> printed || exit $?"
        for i in range(EACH)
    )
    running = [
        subprocess.Popen(
            ["sh", "-c", script],
            cwd=clone.path,
            env={**clone.env, "W": clone.user, "N": str(n)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, clone in enumerate(clones)
    ]
    for process in running:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    published = team.published_versions()
    assert sorted(published) == list(range(1, 2 + WORKERS * EACH))  # contiguous
    runs = Counter(doc["run_id"] for doc in published.values())
    expected = {f"ci{n}-{i}" for n in range(WORKERS) for i in range(EACH)}
    assert set(runs) == expected | {"carol-1"}
    assert max(runs.values()) == 1  # each exactly once
    for doc in published.values():
        if doc["run_id"] != "carol-1":
            assert doc["metrics"] == {"job": int(doc["run_id"].split("-")[0][2:])}
    # What each process printed is the number its version was published as.
    for clone in clones:
        lines = (clone.path / "printed").read_text().splitlines()
        printed = [int(line.split("\t")[1]) for line in lines]
        assert [published[number]["run_id"] for number in printed] == [
            f"{clone.user}-{i}" for i in range(EACH)
        ]
    checker = team.clone("checker")
    checker.modelreg("check")
    deliveries = Counter(team.deliveries())
    assert deliveries == Counter(
        f"model_version.created {number} {doc['run_id']}"
        for number, doc in published.items()
        if doc["run_id"] != "carol-1"
    )


def test_git_hooks_of_the_clone_still_run(team: Team) -> None:
    alice = team.clone("alice")
    hook = alice.path / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho pushed-through-the-hook >> pre-push.log\n")
    hook.chmod(0o755)
    done = alice.modelreg("register", "churn", "s3://alice/2", "--push", "--format", "json")
    assert json.loads(done.stdout)["version"] == 2
    assert (alice.path / "pre-push.log").read_text() == "pushed-through-the-hook\n"
    # A pre-push hook that refuses is not a lost race: one attempt, git's message, and
    # the change stays committed here for the next sync.
    hook.write_text("#!/bin/sh\necho 'no pushing on fridays' >&2\nexit 1\n")
    refused = alice.modelreg("register", "churn", "s3://alice/3", "--push", ok=False)
    assert refused.returncode == 2  # a git command that failed, as elsewhere in gitsync
    assert "no pushing on fridays" in refused.stderr
    assert 3 not in team.published_versions()
    assert alice.git("status", "--porcelain", "--", "registry").stdout == ""
    assert "modelreg: model_version.created churn version 3" in alice.git("log", "-1").stdout


def test_a_lost_race_is_retried_and_hooks_hear_only_the_push_that_landed(team: Team) -> None:
    alice, bob = team.clone("alice"), team.clone("bob")
    # Bob's pre-push hook makes alice publish first, every time: bob's push loses the race.
    hook = bob.path / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE\n"
        f"cd {alice.path} && git pull -q --ff-only origin main && "
        "git commit -q --allow-empty -m 'alice was faster' && git push -q origin main\n"
    )
    hook.chmod(0o755)
    bob.env["MODELREG_PUSH_ATTEMPTS"] = "3"
    done = bob.modelreg("register", "churn", "s3://bob/2", "--run-id", "bob-2", "--push", ok=False)
    assert done.returncode == 6
    assert "others published first 3 times in a row" in done.stderr
    assert "modelreg sync" in done.stderr
    assert 2 not in team.published_versions()
    assert team.deliveries() == []  # nothing announced for the attempts that lost
    # Alice stops racing after one more win: bob's next sync loses once, then lands.
    hook.write_text(
        "#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE\n"
        f"test -e {bob.path}/.git/raced && exit 0\ntouch {bob.path}/.git/raced\n"
        f"cd {alice.path} && git pull -q --ff-only origin main && "
        "git commit -q --allow-empty -m 'alice was faster' && git push -q origin main\n"
    )
    synced = bob.modelreg("sync", "--format", "json")
    record = json.loads(synced.stdout)
    assert record["pushed"] is True
    assert record["attempts"] == 2
    assert "after 2 attempts" in synced.stderr
    assert team.published_versions()[2]["run_id"] == "bob-2"
    assert team.deliveries() == ["model_version.created 2 bob-2"]

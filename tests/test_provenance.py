"""`check --provenance`: the registry's history verified against real git repositories
whose commits are made by several authors (and signed with SSH keys made here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg import Registry, yamlio
from modelreg.check import Finding
from modelreg.provenance import ProvenanceFinding, verify

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
RULES = {
    "rules": {"stages": {"Production": {"from": ["Staging"], "approvals": 1, "approvers": [BOB]}}}
}


def run_git(repo: Path, *args: str, who: str = ALICE, env: dict[str, str] | None = None) -> str:
    """git in ``repo`` with ``who`` as author and committer."""
    name = who.split("@")[0]
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": who,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": who,
            **(env or {}),
        },
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Team:
    """A git repository with a registry in ``registry/``, written by several people."""

    def __init__(self, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.root = repo / "registry"
        self.monkeypatch = monkeypatch

    def by(self, who: str) -> Registry:
        """The registry, as ``who`` (modelreg writes its entries as them)."""
        self.monkeypatch.setenv("MODELREG_USER", who)
        return Registry(self.root, hooks=False)

    def commit(self, who: str, message: str = "registry", *args: str) -> str:
        run_git(self.repo, "add", "-A", who=who)
        run_git(self.repo, "commit", "-q", "--allow-empty", "-m", message, *args, who=who)
        return run_git(self.repo, "rev-parse", "HEAD")

    def edit(self, relative: str, change: Callable[[dict[str, Any]], None]) -> None:
        """A hand edit of one registry file."""
        path = self.root / relative
        doc = yamlio.load(path)
        change(doc)
        path.write_text(yamlio.dumps(doc))

    def config(self, **keys: Any) -> None:
        self.edit("registry.yaml", lambda doc: doc.update(keys))

    def findings(self, since: str | None = None) -> list[ProvenanceFinding]:
        found: list[Finding] = verify(self.root, since)
        assert all(isinstance(each, ProvenanceFinding) for each in found)
        return [each for each in found if isinstance(each, ProvenanceFinding)]


@pytest.fixture
def team(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    """Alice set up the registry (with the rules: Production needs Bob's approval) and
    registered churn version 1."""
    made = Team(repo, monkeypatch)
    Registry.init(made.root)
    made.config(**RULES)
    made.by(ALICE).register("churn", "s3://m/1", create_model=True, metrics={"acc": 0.9})
    made.commit(ALICE, "churn 1")
    return made


def verdicts(found: list[ProvenanceFinding]) -> list[tuple[str, str, str | None, str]]:
    """(commit, file, the entry's action, the person) of each finding."""
    return [(each.commit, each.path.name, each.entry.get("action"), each.person) for each in found]


def promote_honestly(team: Team) -> None:
    """Alice requests Production for version 1 (after Staging), Bob approves in his
    own commit, Alice moves it."""
    team.by(ALICE).transition("churn", 1, "Staging")
    team.by(ALICE).request_transition("churn", 1, "Production")
    team.commit(ALICE, "staging, request")
    team.by(BOB).approve_transition("churn", 1, "Production")
    team.commit(BOB, "approve")
    team.by(ALICE).transition("churn", 1, "Production")
    team.commit(ALICE, "production")


def test_an_honest_history_made_by_the_commands_has_no_finding(team: Team, run_cli: Any) -> None:
    promote_honestly(team)
    alice = team.by(ALICE)
    alice.set_registered_model_alias("churn", "champion", 1)
    alice.register("churn", "s3://m/2")
    alice.comment_model_version("churn", 2, "not good enough")
    team.commit(ALICE, "alias, version 2")
    team.by(CAROL).delete_model_version("churn", 2)
    team.by(CAROL).set_registered_model_tag("churn", "team", "ml")
    team.commit(CAROL, "delete 2")
    team.by(ALICE).rename_registered_model("churn", "churn-v2")
    team.commit(ALICE, "rename")
    assert team.findings() == []
    done = run_cli("--registry", str(team.root), "check", "--provenance")
    assert done.returncode == 0, done.stderr
    assert "No problems found" in done.stderr
    count = run_git(team.repo, "rev-list", "--count", "HEAD")
    head = run_git(team.repo, "rev-parse", "HEAD")[:12]
    assert f"note: provenance: {count} commit(s) verified; identities as of {head} (HEAD)" in (
        done.stderr
    )


def test_an_approval_written_by_someone_else_names_the_commit_and_the_person(
    team: Team, run_cli: Any
) -> None:
    team.by(ALICE).transition("churn", 1, "Staging")
    team.by(ALICE).request_transition("churn", 1, "Production")
    # Alice types Bob's approval (as a hostile contributor would) and commits it herself.
    team.by(BOB).approve_transition("churn", 1, "Production")
    forged = team.commit(ALICE, "staging, request, 'approval'")
    team.by(ALICE).transition("churn", 1, "Production")
    promoted = team.commit(ALICE, "production")
    # The forged approval, and the promotion it does not make lawful.
    found = team.findings()
    assert verdicts(found) == [
        (forged, "1.yaml", "approved", ALICE),
        (promoted, "1.yaml", "stage_changed", ALICE),
    ]
    assert "needs 1 approval(s) for Production, 1 missing" in found[1].problem
    done = run_cli("--registry", str(team.root), "check", "--provenance", "--format", "json")
    assert done.returncode == 7
    finding = json.loads(done.stdout)[0]
    assert finding["commit"] == forged
    assert finding["path"] == str(team.root / "models/churn/versions/1.yaml")
    assert finding["entry"]["user_id"] == BOB
    assert finding["person"] == ALICE
    assert finding["problem"].startswith(f"commit {forged[:12]} ({ALICE}): added `approved")
    assert f"but the commit's author is {ALICE}" in finding["problem"]


def test_a_hand_written_promotion_breaks_the_rules_at_its_commit(team: Team) -> None:
    team.by(ALICE).transition("churn", 1, "Staging")
    team.commit(ALICE, "staging")

    def promote(doc: dict[str, Any]) -> None:
        doc["current_stage"] = "Production"
        doc["history"].append(
            {
                "timestamp": "2030-01-01T00:00:00.000Z",
                "user_id": ALICE,
                "action": "stage_changed",
                "from_stage": "Staging",
                "to_stage": "Production",
            }
        )

    team.edit("models/churn/versions/1.yaml", promote)
    sneaky = team.commit(ALICE, "production")
    [finding] = team.findings()
    assert (finding.commit, finding.entry.get("to_stage")) == (sneaky, "Production")
    assert "needs 1 approval(s) for Production" in finding.problem
    assert "rules of registry.yaml at this commit" in finding.problem


def test_an_approval_by_someone_the_rules_do_not_name_is_a_finding(team: Team) -> None:
    # `approve` refuses Carol (approvers: Bob); typed in and committed by Carol herself.
    def approve(doc: dict[str, Any]) -> None:
        doc["history"].append(
            {
                "timestamp": "2030-01-01T00:00:00.000Z",
                "user_id": CAROL,
                "action": "approved",
                "stage": "Production",
            }
        )

    team.edit("models/churn/versions/1.yaml", approve)
    carols = team.commit(CAROL, "approve")
    [finding] = team.findings()
    assert (finding.commit, finding.entry["user_id"], finding.person) == (carols, CAROL, CAROL)
    assert f"{CAROL} is not an approver of Production ({BOB})" in finding.problem


def test_the_rules_are_those_of_the_commit_that_added_the_stage_change(team: Team) -> None:
    # Weakened in the same commit as the promotion: the rules at that commit allow it,
    # so the weakening itself is what review (CODEOWNERS on registry.yaml) must catch.
    team.by(ALICE).transition("churn", 1, "Staging")
    team.commit(ALICE, "staging")
    team.config(rules={"allow_force": True})
    team.by(ALICE).transition("churn", 1, "Production", force=True, comment="hotfix")
    team.commit(ALICE, "forced")
    assert team.findings() == []
    # Tightened later: the earlier promotion still stands.
    team.config(rules={"allow_force": False})
    team.commit(ALICE, "no more forcing")
    assert team.findings() == []


def test_a_rewritten_and_a_removed_entry_are_named_with_the_commit(team: Team) -> None:
    team.by(ALICE).comment_model_version("churn", 1, "looks good")
    team.by(ALICE).comment_model_version("churn", 1, "ship it")
    team.commit(ALICE, "comments")

    def rewrite(doc: dict[str, Any]) -> None:
        doc["history"][1]["comment"] = "looks bad"

    team.edit("models/churn/versions/1.yaml", rewrite)
    rewritten = team.commit(BOB, "rewrite")
    team.edit("models/churn/versions/1.yaml", lambda doc: doc["history"].pop())
    removed = team.commit(CAROL, "remove")
    found = team.findings()
    assert verdicts(found) == [
        (rewritten, "1.yaml", "commented", BOB),
        (removed, "1.yaml", "commented", CAROL),
    ]
    assert found[0].entry["comment"] == "looks good"
    assert "changed `commented` entry by alice@example.com" in found[0].problem
    assert found[1].entry["comment"] == "ship it"
    assert f"commit {removed[:12]} ({CAROL}): removed `commented`" in found[1].problem


def test_a_version_file_deleted_by_hand_leaves_no_tombstone(team: Team) -> None:
    (team.root / "models/churn/versions/1.yaml").unlink()
    gone = team.commit(BOB, "gone")
    found = team.findings()
    assert {each.commit for each in found} == {gone}
    assert {each.entry["action"] for each in found} == {"version_registered"}
    assert "without leaving a tombstone" in found[0].problem


def test_a_rebase_that_rewrites_authorship_is_caught(team: Team) -> None:
    team.by(BOB).approve_transition("churn", 1, "Staging")
    team.commit(BOB, "approve")
    team.by(ALICE).comment_model_version("churn", 1, "thanks")
    team.commit(ALICE, "comment")
    assert team.findings() == []
    # Alice rebases with --reset-author: Bob's approval is now in a commit by Alice.
    base = run_git(team.repo, "rev-parse", "HEAD~2")
    run_git(
        team.repo,
        "rebase",
        "-q",
        "--exec",
        "git commit -q --amend --no-edit --reset-author",
        base,
        who=ALICE,
    )
    rewritten = run_git(team.repo, "rev-parse", "HEAD~1")
    assert verdicts(team.findings()) == [(rewritten, "1.yaml", "approved", ALICE)]


def test_merges_attribute_to_the_branch_commit_and_squashes_to_the_squasher(
    team: Team,
) -> None:
    run_git(team.repo, "switch", "-q", "-c", "review")
    team.by(BOB).approve_transition("churn", 1, "Staging")
    team.commit(BOB, "approve")
    run_git(team.repo, "switch", "-q", "main")
    team.by(ALICE).set_registered_model_tag("churn", "team", "ml")
    team.commit(ALICE, "tag")
    start = run_git(team.repo, "rev-parse", "HEAD")
    # A real merge (by Carol): Bob's commit on the branch answers for his approval.
    run_git(team.repo, "merge", "-q", "--no-ff", "-m", "merge", "review", who=CAROL)
    assert team.findings() == []
    # The same as a squash merge: one commit by Alice brings Bob's approval.
    run_git(team.repo, "reset", "-q", "--hard", start)
    run_git(team.repo, "merge", "-q", "--squash", "review", who=ALICE)
    squashed = team.commit(ALICE, "squash")
    assert verdicts(team.findings()) == [(squashed, "1.yaml", "approved", ALICE)]


def test_an_entry_added_by_a_merge_resolution_is_the_merge_authors(team: Team) -> None:
    run_git(team.repo, "switch", "-q", "-c", "side")
    team.by(ALICE).set_registered_model_tag("churn", "side", "1")
    team.commit(ALICE, "side")
    run_git(team.repo, "switch", "-q", "main")
    team.by(ALICE).set_registered_model_tag("churn", "main", "1")
    team.commit(ALICE, "main")
    run_git(team.repo, "merge", "-q", "--no-commit", "-s", "ours", "side", who=CAROL)
    # Carol resolves by keeping main's file and slipping in an approval "by Bob".
    team.by(BOB).approve_transition("churn", 1, "Staging")
    merge = team.commit(CAROL, "merge")
    assert len(run_git(team.repo, "rev-parse", "HEAD^2")) == 40
    found = team.findings()
    assert (merge, "1.yaml", "approved", CAROL) in verdicts(found)
    # "-s ours" dropped the side's tag entry: a removal by the merge.
    dropped = [each for each in found if each.entry.get("action") == "tag_set"]
    assert [(each.commit, each.entry["key"]) for each in dropped] == [(merge, "side")]


def test_identities_map_addresses_and_since_trusts_only_its_base(team: Team) -> None:
    team.by(ALICE).comment_model_version("churn", 1, "from my other address")
    other = team.commit("alice@users.noreply.github.com", "comment")
    assert verdicts(team.findings()) == [
        (other, "1.yaml", "commented", "alice@users.noreply.github.com")
    ]
    # The map added after the fact, in the same range: --since HEAD~1's map has none.
    base = run_git(team.repo, "rev-parse", "HEAD~1")
    team.config(identities={ALICE: ["alice@users.noreply.github.com"]})
    team.commit(ALICE, "identities")
    assert [each.commit for each in team.findings(since=base)] == [other]
    # Reviewed and merged: checked against HEAD's map, the address is Alice's.
    assert team.findings() == []
    assert team.findings(since="HEAD") == []


def test_outside_git_or_with_an_unknown_revision_it_says_so(team: Team, tmp_path: Path) -> None:
    from modelreg.errors import InvalidInputError, NotFoundError

    with pytest.raises(InvalidInputError, match="--since nope: no such commit"):
        team.findings(since="nope")
    elsewhere = Registry.init(tmp_path / "elsewhere").root
    with pytest.raises(NotFoundError, match="not inside a git work tree"):
        verify(elsewhere)


def test_since_covers_only_the_commits_after_it(team: Team, run_cli: Any) -> None:
    team.by(BOB).comment_model_version("churn", 1, "old forgery")
    team.commit(ALICE, "old")
    base = run_git(team.repo, "rev-parse", "HEAD")
    team.by(BOB).comment_model_version("churn", 1, "new")
    team.commit(BOB, "new")
    assert team.findings(since=base) == []
    assert len(team.findings()) == 1
    done = run_cli("--registry", str(team.root), "check", "--since", base)
    assert done.returncode == 2
    assert "--since goes with --provenance" in done.stderr


# -- signatures -------------------------------------------------------------------------


def _key(folder: Path, name: str) -> tuple[Path, str]:
    path = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path, path.with_suffix(".pub").read_text().split()[1]


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_signed_commits_are_verified_against_allowed_signers(team: Team, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    alice_key, alice_pub = _key(keys, "alice")
    bob_key, bob_pub = _key(keys, "bob")
    (team.root / "allowed_signers").write_text(
        f"{ALICE} ssh-ed25519 {alice_pub}\n{BOB} ssh-ed25519 {bob_pub}\n"
    )
    team.config(require_signed=True)
    run_git(team.repo, "config", "gpg.format", "ssh")

    def signed(who: str, key: Path, message: str) -> str:
        run_git(team.repo, "add", "-A", who=who)
        run_git(
            team.repo, "-c", f"user.signingkey={key}", "commit", "-q", "-S", "-m", message, who=who
        )
        return run_git(team.repo, "rev-parse", "HEAD")

    signed(ALICE, alice_key, "signing on")
    base = run_git(team.repo, "rev-parse", "HEAD")
    team.by(BOB).approve_transition("churn", 1, "Staging")
    signed(BOB, bob_key, "approve")
    # The signature decides, not the author a commit states: Alice's key, Bob's name.
    team.by(ALICE).comment_model_version("churn", 1, "signed by alice")
    signed(BOB, alice_key, "alice's entry under bob's name")
    assert team.findings(since=base) == []
    # Unsigned, and signed by Bob's key under Alice's name.
    team.by(ALICE).comment_model_version("churn", 1, "unsigned")
    unsigned = team.commit(ALICE, "unsigned")
    team.by(ALICE).comment_model_version("churn", 1, "bob signs for alice")
    impostor = signed(ALICE, bob_key, "impostor")
    found = team.findings(since=base)
    assert verdicts(found) == [
        (unsigned, "1.yaml", "commented", ALICE),
        (impostor, "1.yaml", "commented", BOB),
    ]
    assert "without a good signature (no signature)" in found[0].problem
    assert "signed by bob@example.com" in found[1].problem
    # A key added to allowed_signers inside the checked range does not vouch for it.
    carol_key, carol_pub = _key(keys, "carol")
    with (team.root / "allowed_signers").open("a") as handle:
        handle.write(f"{CAROL} ssh-ed25519 {carol_pub}\n")
    team.by(CAROL).comment_model_version("churn", 1, "carol")
    carol = signed(CAROL, carol_key, "carol adds herself")
    assert (carol, "1.yaml", "commented", CAROL) in verdicts(team.findings(since=base))


# -- identity at the command line ---------------------------------------------------------


@pytest.fixture
def alices_clone(team: Team) -> Team:
    """The team's repository, where git's user.email is Alice's."""
    run_git(team.repo, "config", "user.email", ALICE)
    return team


def _cli(team: Team, *args: str) -> Any:
    from typer.testing import CliRunner

    from modelreg.cli import app

    return CliRunner().invoke(app, ["--registry", str(team.root), *args])


def test_the_user_defaults_to_gits_email_and_a_different_modelreg_user_is_named(
    alices_clone: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = alices_clone
    monkeypatch.delenv("MODELREG_USER")
    done = _cli(team, "comment", "churn", "1", "mine")
    assert done.exit_code == 0, done.stderr
    assert done.stderr.count("warning") == 0
    monkeypatch.setenv("MODELREG_USER", BOB)
    done = _cli(team, "approve", "churn", "1", "Staging")
    assert done.exit_code == 0, done.stderr
    assert (
        f"warning: $MODELREG_USER is {BOB} but git's user.email is {ALICE}: "
        f"the approval is recorded as {BOB}"
    ) in done.stderr
    history = team.by(ALICE).get_model_version("churn", 1).history
    assert [(e["action"], e["user_id"]) for e in history[-2:]] == [
        ("commented", ALICE),
        ("approved", BOB),
    ]
    # A comment is not an approval: no warning.
    done = _cli(team, "comment", "churn", "1", "as bob")
    assert "warning" not in done.stderr
    # Listed in the identity map, the two agree.
    team.config(identities={BOB: [ALICE]})
    done = _cli(team, "approve", "churn", "1", "Staging")
    assert done.exit_code == 0 and "warning" not in done.stderr


def test_identity_git_refuses_an_approval_or_forced_move_as_someone_else(
    alices_clone: Team, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    team = alices_clone
    team.config(rules={"identity": "git", "allow_force": True})
    before = team.by(ALICE).get_model_version("churn", 1).history
    monkeypatch.setenv("MODELREG_USER", BOB)
    done = run_cli("--registry", str(team.root), "approve", "churn", "1", "Staging")
    assert done.returncode == 5
    assert "the rules say identity: git, so the approval is refused" in done.stderr
    done = _cli(team, "transition", "churn", "1", "Staging", "--force", "--comment", "now")
    assert done.exit_code == 5
    assert "so the forced move is refused" in done.stderr
    assert team.by(BOB).get_model_version("churn", 1).history == before
    # As herself (git's email), Alice may.
    monkeypatch.setenv("MODELREG_USER", ALICE)
    assert _cli(team, "approve", "churn", "1", "Staging").exit_code == 0


# -- one trust for hooks and checks -------------------------------------------------------


def test_checks_run_only_once_trusted_like_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    import sys

    root = Registry.init(tmp_path / "registry").root
    marker = tmp_path / "ran"
    (root / "check.py").write_text(f"open({str(marker)!r}, 'a').write('x')\n")
    config = yamlio.load(root / "registry.yaml")
    config["rules"] = {
        "stages": {"Staging": {"checks": [{"name": "c", "run": f"{sys.executable} check.py"}]}}
    }
    config["hooks"] = [
        {"name": "h", "kind": "command", "events": ["model_version.created"], "command": "true"}
    ]
    (root / "registry.yaml").write_text(yamlio.dumps(config))
    Registry(root, hooks=False).register("churn", "s3://m/1", create_model=True)
    before = Registry(root, hooks=False).get_model_version("churn", 1).history
    done = run_cli("--registry", str(root), "promote", "churn", "1", "Staging")
    assert done.returncode == 5
    assert "validation checks of this registry's rules are not trusted" in done.stderr
    assert "run `modelreg trust` (or set MODELREG_TRUST=1" in done.stderr
    assert not marker.exists()
    assert Registry(root, hooks=False).get_model_version("churn", 1).history == before

    def cli(*args: str) -> Any:
        from typer.testing import CliRunner

        from modelreg.cli import app

        return CliRunner().invoke(app, ["--registry", str(root), *args])

    trusted = cli("trust", "--format", "json")
    assert trusted.exit_code == 0, trusted.stderr
    assert [(h["name"], h["trusted"]) for h in json.loads(trusted.stdout)] == [("h", True)]
    assert "Trusted 1 hook(s)" in trusted.stderr and "the validation checks" in trusted.stderr
    assert "trusted on this machine" in cli("hooks", "list").stderr  # the hooks too
    assert cli("promote", "churn", "1", "Staging").exit_code == 0
    assert marker.read_text() == "x"
    # Any change to the checks needs trust again; `hooks trust` (the alias) gives it.
    config["rules"]["stages"]["Production"] = {"checks": [{"name": "d", "run": "true"}]}
    (root / "registry.yaml").write_text(yamlio.dumps(config))
    assert cli("promote", "churn", "1", "Production").exit_code == 5
    assert cli("hooks", "trust").exit_code == 0
    assert cli("promote", "churn", "1", "Production").exit_code == 0
    # Revoked: refused again, unless the environment trusts everything (CI).
    assert cli("trust", "--revoke").exit_code == 0
    Registry(root, hooks=False).transition("churn", 1, "None")
    assert cli("promote", "churn", "1", "Staging").exit_code == 5
    monkeypatch.setenv("MODELREG_TRUST", "1")
    assert cli("promote", "churn", "1", "Staging").exit_code == 0
    assert marker.read_text() == "xx"


# -- generated histories ------------------------------------------------------------------

PEOPLE = (ALICE, BOB, CAROL)
Step = tuple[str, str, str, int]  # (whose entry / edit, who commits, what, which entry)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.sampled_from(PEOPLE),
        st.sampled_from(("comment", "comment", "remove", "rewrite")),
        st.integers(0, 9),
    ),
    min_size=1,
    max_size=5,
)


def _apply(team: Team, step: Step, at: int) -> tuple[str, str] | None:
    """Make one generated step, commit it; the verdict it deserves: (commit, "added" for an
    entry committed by someone else, "removed", "changed"), or None."""
    actor, committer, what, which = step
    path = "models/churn/versions/1.yaml"
    if what == "comment":
        team.by(actor).comment_model_version("churn", 1, f"note {at}")
        sha = team.commit(committer, f"step {at}")
        return (sha, "added") if actor != committer else None
    comments = [
        index
        for index, entry in enumerate(yamlio.load(team.root / path)["history"])
        if entry["action"] == "commented"
    ]
    if not comments:
        return None
    index = comments[which % len(comments)]

    def edit(doc: dict[str, Any]) -> None:
        if what == "remove":
            del doc["history"][index]
        else:
            doc["history"][index]["comment"] += " (edited)"

    team.edit(path, edit)
    sha = team.commit(committer, f"step {at}")
    return sha, ("removed" if what == "remove" else "changed")


def _verdict(found: ProvenanceFinding) -> tuple[str, str]:
    for word in ("removed", "changed", "added"):
        if f"): {word} " in found.problem:
            return found.commit, word
    raise AssertionError(found.problem)


@pytest.mark.slow  # ~7 s: a git repository per example
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_generated_histories_get_the_verdict_of_what_really_happened(
    steps: list[Step], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path_factory.mktemp("generated")
    run_git(repo, "init", "-q", "-b", "main")
    team = Team(repo, monkeypatch)
    Registry.init(team.root)
    team.by(ALICE).register("churn", "s3://m/1", create_model=True)
    team.commit(ALICE, "churn 1")
    expected = {verdict for at, step in enumerate(steps) if (verdict := _apply(team, step, at))}
    found = team.findings()
    assert {_verdict(each) for each in found} == expected
    assert len(found) == len(expected)  # one finding per forged, removed or changed entry

"""The approval workflow: rules in registry.yaml, enforced transitions, promote with real
validation checks, requests/approvals/rejections/comments, and the audit of the past."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.errors import CorruptFileError, InvalidInputError, RuleViolationError
from modelreg.workflow import audit_version

NAME = "churn-predictor"

# The MLflow guide's approval function, as rules: accuracy >= 0.90 and f1 >= 0.88 to reach
# Production (archiving the version there), otherwise tag validation=failed.
CHECK_SCRIPT = """\
import json, os, sys
metrics = json.loads(open(os.environ["MODELREG_SOURCE"]).read())
print("evaluating", os.environ["MODELREG_NAME"], os.environ["MODELREG_VERSION"],
      os.environ["MODELREG_STAGE"], os.environ["MODELREG_CURRENT_STAGE"])
if metrics.get("crash"):
    sys.exit(3)
if metrics.get("hang"):
    import time; time.sleep(60)
print(json.dumps({"accuracy": metrics["accuracy"], "f1": metrics["f1"]}))
"""


def write_config(root: Path, rules: str) -> None:
    (root / "registry.yaml").write_text(
        "modelreg: 2\nstages: [None, Staging, Production, Archived]\n" + textwrap.dedent(rules)
    )


MLFLOW_GUIDE_RULES = f"""\
rules:
  allow_force: false
  allow_self_approval: false
  stages:
    Staging:
      from: [None]
    Production:
      from: [Staging]
      require: metrics.accuracy >= 0.90 AND metrics.f1 >= 0.88
      approvals: 1
      checks:
      - name: evaluate
        run: {sys.executable} check.py
        timeout: 5
      archive_existing: true
      protected: true
"""


@pytest.fixture
def guided(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A registry with the MLflow guide's rules and a check that reads the 'model'."""
    root = Registry.init(tmp_path / "registry").root
    write_config(root, MLFLOW_GUIDE_RULES)
    (root / "check.py").write_text(CHECK_SCRIPT)
    monkeypatch.setenv("MODELREG_USER", "alice")
    # The checks are this test's own: trusted (`modelreg trust`; test_provenance.py tests it).
    monkeypatch.setenv("MODELREG_TRUST", "1")
    return Registry(root)


def model_file(tmp_path: Path, name: str, **metrics: object) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(metrics))
    return str(path)


def as_user(registry: Registry, user: str, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("MODELREG_USER", user)
    return Registry(registry.root)


def staged(registry: Registry, tmp_path: Path, name: str, **metrics: object) -> int:
    version = registry.register(NAME, model_file(tmp_path, name, **metrics), create_model=True)
    number = version.version.version
    registry.transition_model_version_stage(NAME, number, "Staging")
    return number


def test_a_passing_version_is_promoted_and_archives_the_old_one(
    guided: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = staged(guided, tmp_path, "old", accuracy=0.91, f1=0.89)
    as_user(guided, "bob", monkeypatch).approve_transition(NAME, old, "Production")
    alice = as_user(guided, "alice", monkeypatch)
    alice.promote(NAME, old, "Production")
    new = staged(alice, tmp_path, "new", accuracy=0.95, f1=0.93)
    as_user(guided, "bob", monkeypatch).approve_transition(NAME, new, "Production", "lgtm")
    alice = as_user(guided, "alice", monkeypatch)
    lines: list[str] = []
    moved, results = alice.promote(NAME, new, "Production", on_output=lines.append)
    assert moved.current_stage == "Production"
    assert moved.tags["validation"] == "passed"
    assert moved.metrics == {"accuracy": 0.95, "f1": 0.93}
    assert [(r.name, r.passed, r.exit_code) for r in results] == [("evaluate", True, 0)]
    assert lines[0] == f"evaluating {NAME} {new} Production Staging"
    assert alice.get_model_version(NAME, old).current_stage == "Archived"


def test_a_failing_version_is_refused_tagged_and_the_reasons_recorded(
    guided: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = staged(guided, tmp_path, "weak", accuracy=0.86, f1=0.81)
    as_user(guided, "bob", monkeypatch).approve_transition(NAME, number, "Production")
    alice = as_user(guided, "alice", monkeypatch)
    with pytest.raises(RuleViolationError) as caught:
        alice.promote(NAME, number, "Production")
    assert caught.value.exit_code == 5
    assert caught.value.unmet == [
        "requires metrics.accuracy >= 0.9 (metrics.accuracy is 0.86)",
        "requires metrics.f1 >= 0.88 (metrics.f1 is 0.81)",
    ]
    mv = alice.get_model_version(NAME, number)
    assert mv.current_stage == "Staging"
    assert mv.tags["validation"] == "failed"
    assert mv.metrics == {"accuracy": 0.86, "f1": 0.81}
    failure = [entry for entry in mv.history if entry["action"] == "validation_failed"]
    assert failure[-1]["reasons"] == caught.value.unmet


def test_a_check_that_crashes_or_hangs_fails_the_promotion(
    guided: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash = staged(guided, tmp_path, "crash", crash=True)
    with pytest.raises(RuleViolationError, match="check 'evaluate' exited with status 3"):
        guided.promote(NAME, crash, "Production")
    write_config(guided.root, MLFLOW_GUIDE_RULES.replace("timeout: 5", "timeout: 0.5"))
    hanging = Registry(guided.root)
    hang = staged(hanging, tmp_path, "hang", hang=True)
    with pytest.raises(RuleViolationError, match=r"stopped after its timeout of 0\.5 s"):
        hanging.promote(NAME, hang, "Production")
    assert hanging.get_model_version(NAME, hang).tags["validation"] == "failed"


def test_transition_lists_every_unmet_condition(guided: Registry, tmp_path: Path) -> None:
    version = guided.register(NAME, model_file(tmp_path, "m", accuracy=0.5), create_model=True)
    with pytest.raises(RuleViolationError) as caught:
        guided.transition_model_version_stage(NAME, version.version.version, "Production")
    assert caught.value.unmet == [
        "Production may only be entered from Staging, not from None",
        "requires metrics.accuracy >= 0.9 (metrics.accuracy is missing)",
        "requires metrics.f1 >= 0.88 (metrics.f1 is missing)",
        "needs 1 approval(s) for Production, 1 missing",
        "check 'evaluate' has not passed yet (run `modelreg promote`)",
    ]
    assert str(caught.value).startswith(
        f"cannot move {NAME} version 1 from None to Production:\n  - Production may only"
    )


def test_self_approval_is_refused_and_does_not_count(
    guided: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = staged(guided, tmp_path, "m", accuracy=0.95, f1=0.95)
    with pytest.raises(RuleViolationError, match="forbid self-approval"):
        guided.approve_transition(NAME, number, "Production")
    bob = as_user(guided, "bob", monkeypatch)
    bob.request_transition(NAME, number, "Production", "please")
    with pytest.raises(RuleViolationError, match="bob requested"):
        bob.approve_transition(NAME, number, "Production")
    with pytest.raises(RuleViolationError, match="needs 1 approval"):
        bob.promote(NAME, number, "Production")


def test_an_approval_counts_once_per_user_and_only_for_its_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(
        root,
        """\
        rules:
          stages:
            Production:
              approvals: 2
              approvers: [bob, carol, dave]
        """,
    )
    alice = as_user(Registry(root), "alice", monkeypatch)
    number = alice.register(NAME, "s3://m", create_model=True).version.version
    bob = as_user(alice, "bob", monkeypatch)
    bob.approve_transition(NAME, number, "Production")
    bob.approve_transition(NAME, number, "Production")
    bob.approve_transition(NAME, number, "Staging")  # another stage: does not count
    with pytest.raises(RuleViolationError, match=r"needs 2 approval.*1 missing \(have: bob\)"):
        bob.transition_model_version_stage(NAME, number, "Production")
    eve = as_user(alice, "eve", monkeypatch)
    with pytest.raises(RuleViolationError, match="eve may not approve"):
        eve.approve_transition(NAME, number, "Production")
    as_user(alice, "carol", monkeypatch).approve_transition(NAME, number, "Production")
    moved = alice.transition_model_version_stage(NAME, number, "Production")
    assert moved.current_stage == "Production"


def test_a_rejection_blocks_until_the_same_user_approves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, "rules:\n  stages:\n    Production:\n      approvals: 1\n")
    alice = as_user(Registry(root), "alice", monkeypatch)
    number = alice.register(NAME, "s3://m", create_model=True).version.version
    as_user(alice, "bob", monkeypatch).approve_transition(NAME, number, "Production")
    as_user(alice, "carol", monkeypatch).reject_transition(NAME, number, "Production", "no")
    with pytest.raises(RuleViolationError) as caught:
        alice.transition_model_version_stage(NAME, number, "Production")
    assert caught.value.unmet == ["rejected by carol: no"]
    as_user(alice, "carol", monkeypatch).approve_transition(NAME, number, "Production")
    assert alice.transition_model_version_stage(NAME, number, "Production").current_stage == (
        "Production"
    )


def test_a_stage_change_makes_earlier_approvals_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, "rules:\n  stages:\n    Production:\n      approvals: 1\n")
    alice = as_user(Registry(root), "alice", monkeypatch)
    number = alice.register(NAME, "s3://m", create_model=True).version.version
    as_user(alice, "bob", monkeypatch).approve_transition(NAME, number, "Production")
    alice.transition_model_version_stage(NAME, number, "Staging")
    with pytest.raises(RuleViolationError, match="needs 1 approval"):
        alice.transition_model_version_stage(NAME, number, "Production")


def test_an_approval_of_another_artifact_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, "rules:\n  stages:\n    Production:\n      approvals: 1\n")
    alice = as_user(Registry(root), "alice", monkeypatch)
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"one")
    number = alice.register(NAME, str(artifact), create_model=True).version.version
    as_user(alice, "bob", monkeypatch).approve_transition(NAME, number, "Production")
    version_file = root / "models" / NAME / "versions" / f"{number}.yaml"
    # The artifact changed under the version (and its record with it): the approval
    # was given for other bytes.
    text = version_file.read_text()
    old_sha = alice.get_model_version(NAME, number).artifact_sha256
    assert old_sha is not None
    version_file.write_text(text.replace(f"sha256: {old_sha}", "sha256: " + "f" * 64, 1))
    with pytest.raises(RuleViolationError, match="needs 1 approval"):
        alice.transition_model_version_stage(NAME, number, "Production")


def test_force_needs_permission_and_a_reason_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, "rules:\n  stages:\n    Production:\n      approvals: 1\n")
    alice = as_user(Registry(root), "alice", monkeypatch)
    number = alice.register(NAME, "s3://m", create_model=True).version.version
    with pytest.raises(InvalidInputError, match="needs a reason"):
        alice.transition_model_version_stage(NAME, number, "Production", force=True)
    with pytest.raises(RuleViolationError, match="--force is not allowed"):
        alice.transition_model_version_stage(
            NAME, number, "Production", force=True, comment="hotfix"
        )
    write_config(
        root, "rules:\n  allow_force: true\n  stages:\n    Production:\n      approvals: 1\n"
    )
    forced = as_user(Registry(root), "alice", monkeypatch).transition_model_version_stage(
        NAME, number, "Production", force=True, comment="hotfix"
    )
    last = forced.history[-1]
    assert (last["action"], last["forced"], last["comment"], last["user_id"]) == (
        "stage_changed",
        True,
        "hotfix",
        "alice",
    )


def test_a_protected_stage_refuses_deletion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, "rules:\n  stages:\n    Production:\n      protected: true\n")
    registry = Registry(root)
    number = registry.register(NAME, "s3://m", create_model=True).version.version
    registry.transition_model_version_stage(NAME, number, "Production")
    with pytest.raises(RuleViolationError, match="protect from deletion"):
        registry.delete_model_version(NAME, number)
    with pytest.raises(RuleViolationError, match="versions in protected stages"):
        registry.delete_registered_model(NAME)
    registry.transition_model_version_stage(NAME, number, "Archived")
    registry.delete_model_version(NAME, number)


def test_per_model_rules_replace_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(
        root,
        """\
        rules:
          stages:
            Production:
              approvals: 3
          models:
            easy:
              Production:
                require: tags.ok = 'yes'
        """,
    )
    registry = Registry(root)
    easy = registry.register("easy", "s3://m", tags={"ok": "yes"}, create_model=True)
    assert registry.transition_model_version_stage("easy", 1, "Production").current_stage == (
        "Production"
    )
    assert easy.version.version == 1
    registry.register("hard", "s3://m", tags={"ok": "yes"}, create_model=True)
    with pytest.raises(RuleViolationError, match="needs 3 approval"):
        registry.transition_model_version_stage("hard", 1, "Production")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "rules:\n  stages:\n    Prod:\n      approvals: 1\n",
            "'rules.stages.Prod' names unknown stage 'Prod'",
        ),
        (
            "rules:\n  stages:\n    Production:\n      require: metrics.acc >>= 1\n",
            "'rules.stages.Production.require' is not a valid filter",
        ),
        (
            "rules:\n  stages:\n    Production:\n      approvals: two\n",
            "'rules.stages.Production.approvals' must be a whole number >= 0",
        ),
        (
            "rules:\n  stages:\n    Production:\n      from: [Nowhere]\n",
            "'rules.stages.Production.from' names unknown stage 'Nowhere'",
        ),
        (
            "rules:\n  stages:\n    Production:\n      approval: 1\n",
            "unknown key 'rules.stages.Production.approval'",
        ),
        ("rules:\n  allow_force: maybe\n", "'rules.allow_force' must be true or false"),
        (
            "rules:\n  stages:\n    Production:\n      checks:\n      - name: x\n",
            "'rules.stages.Production.checks[1].run' must be a command line",
        ),
    ],
)
def test_an_invalid_rules_config_is_refused_naming_the_key(
    tmp_path: Path, rules: str, message: str
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, rules)
    registry = Registry(root)  # opening (and reading) still works with broken rules
    assert registry.list_registered_models() == []
    with pytest.raises(CorruptFileError) as caught:
        _ = registry.rules
    assert caught.value.exit_code == 7
    assert message in str(caught.value)
    assert str(root / "registry.yaml") in str(caught.value)


def test_comments_and_decisions_are_in_the_history_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = as_user(Registry.init(tmp_path / "registry"), "alice", monkeypatch)
    registry.register(NAME, "s3://m", create_model=True)
    registry.request_transition(NAME, 1, "staging", "please")
    registry.comment_model_version(NAME, 1, "looks good")
    as_user(registry, "bob", monkeypatch).approve_transition(NAME, 1, "Staging")
    as_user(registry, "bob", monkeypatch).transition_model_version_stage(NAME, 1, "Staging")
    actions = [
        (entry["action"], entry["user_id"], entry.get("stage"), entry.get("comment"))
        for entry in registry.get_model_version(NAME, 1).history
    ]
    assert actions == [
        ("version_registered", "alice", None, None),
        ("transition_requested", "alice", "Staging", "please"),
        ("commented", "alice", None, "looks good"),
        ("approved", "bob", "Staging", None),
        ("stage_changed", "bob", None, None),
    ]


def test_the_audit_catches_a_promotion_faked_by_editing_the_yaml(
    guided: Registry, tmp_path: Path
) -> None:
    number = staged(guided, tmp_path, "m", accuracy=0.99, f1=0.99)
    path = guided.root / "models" / NAME / "versions" / f"{number}.yaml"
    path.write_text(path.read_text().replace("current_stage: Staging", "current_stage: Production"))
    faked = Registry(guided.root)
    mv = faked.get_model_version(NAME, number)
    assert audit_version(faked.rules, mv) == [
        "is in Production but its history's last stage change is to Staging (edited by hand?)"
    ]


def test_the_audit_catches_a_transition_that_bypassed_the_approvals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    registry = Registry(root)
    registry.register(NAME, "s3://m", create_model=True)
    registry.transition_model_version_stage(NAME, 1, "Production")  # no rules yet
    write_config(root, "rules:\n  stages:\n    Production:\n      approvals: 1\n")
    strict = Registry(root)
    assert audit_version(strict.rules, strict.get_model_version(NAME, 1)) == [
        "entered Production without meeting the rules: "
        "needs 1 approval(s) for Production, 1 missing"
    ]


def test_the_audit_accepts_the_workflow_done_properly(
    guided: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = staged(guided, tmp_path, "a", accuracy=0.95, f1=0.95)
    as_user(guided, "bob", monkeypatch).approve_transition(NAME, first, "Production")
    as_user(guided, "alice", monkeypatch).promote(NAME, first, "Production")
    second = staged(guided, tmp_path, "b", accuracy=0.97, f1=0.96)
    as_user(guided, "bob", monkeypatch).approve_transition(NAME, second, "Production")
    as_user(guided, "alice", monkeypatch).promote(NAME, second, "Production")
    fresh = Registry(guided.root)
    for mv in fresh.list_versions(NAME):
        assert audit_version(fresh.rules, mv) == [], mv.version
    assert [mv.current_stage for mv in fresh.list_versions(NAME)] == ["Archived", "Production"]


def test_check_rules_on_the_command_line_fails_a_faked_promotion(
    guided: Registry, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from modelreg.cli import app

    number = staged(guided, tmp_path, "m", accuracy=0.99, f1=0.99)
    runner = CliRunner()
    clean = runner.invoke(app, ["--registry", str(guided.root), "check", "--rules"])
    assert (clean.exit_code, clean.stdout) == (0, "")
    path = guided.root / "models" / NAME / "versions" / f"{number}.yaml"
    path.write_text(path.read_text().replace("current_stage: Staging", "current_stage: Production"))
    plain = runner.invoke(app, ["--registry", str(guided.root), "check", "--format", "plain"])
    # Format 2's plain check already sees a stage that disagrees with its history ...
    assert plain.exit_code == 7
    assert plain.stdout.split("\t")[:2] == [str(path), "problem"]
    assert "current_stage is Production but its last stage change" in plain.stdout
    audited = runner.invoke(
        app, ["--registry", str(guided.root), "check", "--rules", "--format", "plain"]
    )
    # ... and the audit says which rule the promotion bypassed.
    assert audited.exit_code == 7
    assert audited.stdout.splitlines()[-1].split("\t")[:3] == [
        str(path),
        "problem",
        f"{NAME} version {number} is in Production but its history's last stage change is "
        "to Staging (edited by hand?)",
    ]
    assert audited.stderr == f"error: 2 problem(s) found in {guided.root}\n"


def test_check_reports_an_invalid_rules_section(tmp_path: Path) -> None:
    from modelreg.check import check_registry

    root = Registry.init(tmp_path / "registry").root
    write_config(root, "rules:\n  stages:\n    Prod:\n      approvals: 1\n")
    findings = check_registry(root).findings
    assert [(finding.path, finding.problem) for finding in findings] == [
        (
            root / "registry.yaml",
            "'rules.stages.Prod' names unknown stage 'Prod'; the stages are: "
            "None, Staging, Production, Archived",
        )
    ]


def test_promote_tags_passed_validation_even_when_an_approval_is_missing(
    guided: Registry, tmp_path: Path
) -> None:
    # Validation and approval are separate: the missing approval refuses the move, but
    # the version did pass its checks, and is not tagged failed for want of a reviewer.
    number = staged(guided, tmp_path, "m", accuracy=0.95, f1=0.95)
    with pytest.raises(RuleViolationError) as caught:
        guided.promote(NAME, number, "Production")
    assert caught.value.unmet == ["needs 1 approval(s) for Production, 1 missing"]
    mv = guided.get_model_version(NAME, number)
    assert (mv.current_stage, mv.tags["validation"]) == ("Staging", "passed")
    assert [entry["action"] for entry in mv.history].count("validation_failed") == 0


def test_promote_to_the_stage_a_version_is_in_runs_nothing(
    guided: Registry, tmp_path: Path
) -> None:
    number = staged(guided, tmp_path, "m", accuracy=0.95, f1=0.95)
    before = guided.get_model_version(NAME, number).history
    moved, results = guided.promote(NAME, number, "staging")
    assert (moved.current_stage, results) == ("Staging", [])
    assert guided.get_model_version(NAME, number).history == before


SELF_APPROVAL_RULES = """\
rules:
  allow_self_approval: {allowed}
  stages:
    Production:
      approvals: 1
"""


def test_no_requester_in_the_window_nor_the_registrant_may_approve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Registry.init(tmp_path / "registry").root
    write_config(root, SELF_APPROVAL_RULES.format(allowed="false"))
    alice = as_user(Registry(root), "alice", monkeypatch)
    number = alice.register(NAME, "s3://m", run_id="r1", create_model=True).version.version
    alice.request_transition(NAME, number, "Production")
    carol = as_user(alice, "carol", monkeypatch)
    carol.request_transition(NAME, number, "Production")
    bob = as_user(alice, "bob", monkeypatch)
    bob.request_transition(NAME, number, "Production")  # the last request is bob's
    for user in ("alice", "carol", "bob"):  # alice registered and requested; carol requested
        with pytest.raises(RuleViolationError, match="forbid self-approval"):
            as_user(alice, user, monkeypatch).approve_transition(NAME, number, "Production")
    with pytest.raises(RuleViolationError, match="needs 1 approval"):
        bob.transition_model_version_stage(NAME, number, "Production")
    as_user(alice, "dave", monkeypatch).approve_transition(NAME, number, "Production")
    moved = as_user(alice, "alice", monkeypatch).transition_model_version_stage(
        NAME, number, "Production"
    )
    assert moved.current_stage == "Production"
    assert audit_version(Registry(root).rules, moved) == []


def self_approved_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """alice registers and requests, bob requests, alice approves and moves the version to
    Production while self-approval is allowed; then the rules forbid it."""
    root = Registry.init(tmp_path / "registry").root
    write_config(root, SELF_APPROVAL_RULES.format(allowed="true"))
    alice = as_user(Registry(root), "alice", monkeypatch)
    alice.register(NAME, "s3://m", run_id="r1", create_model=True)
    alice.request_transition(NAME, 1, "Production")
    as_user(alice, "bob", monkeypatch).request_transition(NAME, 1, "Production")
    alice = as_user(alice, "alice", monkeypatch)
    alice.approve_transition(NAME, 1, "Production")
    alice.transition_model_version_stage(NAME, 1, "Production")
    write_config(root, SELF_APPROVAL_RULES.format(allowed="false"))
    return Registry(root)


def test_the_audit_flags_a_move_approved_only_by_a_requester(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = self_approved_production(tmp_path, monkeypatch)
    assert audit_version(strict.rules, strict.get_model_version(NAME, 1)) == [
        "entered Production without meeting the rules: "
        "needs 1 approval(s) for Production, 1 missing",
        "entered Production without meeting the rules: approved by alice, who requested or "
        "registered it: self-approval does not count (rules.allow_self_approval is false)",
    ]


def test_check_rules_on_the_command_line_flags_a_self_approved_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from modelreg.cli import app

    strict = self_approved_production(tmp_path, monkeypatch)
    audited = CliRunner().invoke(
        app, ["--registry", str(strict.root), "check", "--rules", "--format", "plain"]
    )
    assert audited.exit_code == 7
    problems = [line.split("\t")[2] for line in audited.stdout.splitlines()]
    assert (
        f"{NAME} version 1 entered Production without meeting the rules: approved by "
        in (problems[-1])
    )
    assert "self-approval does not count" in problems[-1]

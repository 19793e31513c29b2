"""Promotion rules, approvals and validation checks: the approval workflow MLflow leaves
to hand-written scripts, declared in ``registry.yaml`` and enforced on every transition.

The rules live under one ``rules`` key::

    rules:
      allow_force: true            # `transition --force` allowed (recorded as forced)
      allow_self_approval: false   # the requester / registrant may not approve
      failure_tag: {validation: failed}
      stages:
        Production:
          from: [Staging]          # stages a version may come from
          require: metrics.accuracy >= 0.90 AND metrics.f1 >= 0.88
          approvals: 1             # distinct approvals needed
          approvers: [alice@example.com]   # optional: who may approve
          checks:                  # commands `modelreg promote` runs
            - name: holdout
              run: python validate.py
              timeout: 300
          archive_existing: true   # entering the stage archives the versions in it
          protected: true          # versions in this stage cannot be deleted
      models:                      # per-model rules replace the default rule of a stage
        churn-predictor:
          Production: {...}

Approvals, rejections, check runs and stage changes are entries of the version's history.
Everything here is a pure function of a version and its history, so the same code decides a
live transition and audits the past one (``check --rules``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# The history actions the workflow reads.
from modelreg.actions import (
    APPROVED,
    CHECK_RUN,
    REJECTED,
    REQUESTED,
    STAGE_CHANGED,
)
from modelreg.docread import DocReader, Document
from modelreg.entities import HistoryEntry, ModelVersion
from modelreg.errors import FilterSyntaxError

if TYPE_CHECKING:
    # The filter language is imported when a rule needs it: every registry imports this
    # module, and `resolve` should not pay for compiling the tokenizer's patterns.
    from modelreg import filters

DEFAULT_CHECK_TIMEOUT = 600.0
DEFAULT_FAILURE_TAG = ("validation", "failed")

_RULE_KEYS = (
    "from",
    "require",
    "approvals",
    "approvers",
    "checks",
    "archive_existing",
    "protected",
)
_TOP_KEYS = (
    "allow_force",
    "allow_self_approval",
    "failure_tag",
    "stages",
    "models",
    "identity",
)
# rules.identity: "git" refuses an approval or a forced move when $MODELREG_USER is not
# git's user.email; "any" (the default) only warns.
IDENTITY_MODES = ("any", "git")


@dataclass(frozen=True)
class Check:
    """A validation command: passes by exiting 0, may print a JSON object of metrics
    on its last line."""

    name: str
    run: str
    timeout: float = DEFAULT_CHECK_TIMEOUT


@dataclass(frozen=True)
class StageRule:
    stage: str
    from_stages: tuple[str, ...] | None = None  # None: from any stage
    require: filters.Expr | None = None
    approvals: int = 0
    approvers: tuple[str, ...] | None = None  # None: anybody
    checks: tuple[Check, ...] = ()
    archive_existing: bool = False
    protected: bool = False


@dataclass(frozen=True)
class Rules:
    stages: Mapping[str, StageRule] = field(default_factory=dict)
    models: Mapping[str, Mapping[str, StageRule]] = field(default_factory=dict)
    allow_force: bool = False
    allow_self_approval: bool = True
    failure_tag: tuple[str, str] = DEFAULT_FAILURE_TAG
    identity: str = "any"

    def for_stage(self, stage: str, model: str) -> StageRule | None:
        """The rule for entering ``stage``: the model's own, else the default."""
        own = self.models.get(model, {})
        return own[stage] if stage in own else self.stages.get(stage)

    def is_protected(self, stage: str, model: str) -> bool:
        rule = self.for_stage(stage, model)
        return rule is not None and rule.protected


NO_RULES = Rules()


# -- parsing -------------------------------------------------------------------------------


def parse_rules(raw: object, stages: Sequence[str], path: Path) -> Rules:
    """The ``rules`` section of registry.yaml; every problem names its key.

    An empty value of any kind (``stages: []``, ``checks:``) reads as none."""
    if raw is None:
        return NO_RULES
    section = DocReader.of(raw, path, "rules")
    section.known_keys(_TOP_KEYS)
    models = section.section("models", falsy_is_empty=True)
    per_model = {
        str(model): _parse_stage_rules(models.nested(str(model), body, falsy_is_empty=True), stages)
        for model, body in models.doc.items()
    }
    return Rules(
        stages=_parse_stage_rules(section.section("stages", falsy_is_empty=True), stages),
        models=per_model,
        allow_force=section.flag("allow_force", False),
        allow_self_approval=section.flag("allow_self_approval", True),
        failure_tag=_failure_tag(section),
        identity=_identity(section),
    )


def _parse_stage_rules(section: DocReader, stages: Sequence[str]) -> dict[str, StageRule]:
    parsed: dict[str, StageRule] = {}
    for stage_name, body in section.doc.items():
        stage = section.known_stage(str(stage_name), stage_name, stages)
        parsed[stage] = _parse_stage_rule(
            stage, section.nested(str(stage_name), body, falsy_is_empty=True), stages
        )
    return parsed


def _parse_stage_rule(stage: str, body: DocReader, stages: Sequence[str]) -> StageRule:
    body.known_keys(_RULE_KEYS)
    from_stages = None
    if "from" in body:
        items = body.strings("from", problem="must be a list of names")
        from_stages = tuple(body.known_stage("from", item, stages) for item in items)
    require = None
    text = body.optional_text("require", problem="must be a filter expression (text)")
    if text is not None:
        from modelreg import filters

        try:
            require = filters.parse(text)
        except FilterSyntaxError as exc:
            raise body.error("require", f"is not a valid filter: {exc}") from None
    approvals = body.integer("approvals", 0, minimum=0)
    approvers = None
    if body.get("approvers") is not None:
        approvers = tuple(body.strings("approvers", problem="must be a list of names"))
    return StageRule(
        stage=stage,
        from_stages=from_stages,
        require=require,
        approvals=approvals,
        approvers=approvers,
        checks=_parse_checks(body),
        archive_existing=body.flag("archive_existing", False),
        protected=body.flag("protected", False),
    )


def _parse_checks(body: DocReader) -> tuple[Check, ...]:
    checks = []
    for index, item in enumerate(
        body.sequence("checks", falsy_is_empty=True, problem="must be a list of checks"), start=1
    ):
        check = DocReader.of(item, body.path, body.at(f"checks[{index}]"))
        check.known_keys(("name", "run", "timeout"))
        run = check.text("run", "", nonblank=True, problem="must be a command line")
        name = check.text("name", f"check-{index}")
        if not name:
            raise check.error("name", "must be text")
        timeout = check.number(
            "timeout", DEFAULT_CHECK_TIMEOUT, above=0, problem="must be a number of seconds > 0"
        )
        checks.append(Check(name=name, run=run, timeout=timeout))
    names = [check.name for check in checks]
    if len(set(names)) != len(names):
        raise body.error("checks", "has two checks with the same name")
    return tuple(checks)


def _identity(section: DocReader) -> str:
    value = section.doc.get("identity", "any")
    if value not in IDENTITY_MODES:
        raise section.error("identity", "must be 'git' or 'any'")
    return str(value)


def _failure_tag(section: DocReader) -> tuple[str, str]:
    if section.get("failure_tag") is None:
        return DEFAULT_FAILURE_TAG
    body = section.mapping("failure_tag")
    if len(body) != 1 or not all(isinstance(v, str) for v in body.values()):
        raise section.error("failure_tag", "must be one KEY: VALUE pair, e.g. {validation: failed}")
    key, value = next(iter(body.items()))
    return str(key), str(value)


# -- deciding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """What the history says about one attempt to enter ``stage``: the approvals,
    rejections, requesters and check results recorded since the previous stage change."""

    approvers: frozenset[str]
    rejections: Mapping[str, str | None]
    requesters: frozenset[str]
    checks_passed: frozenset[str]
    checks_failed: frozenset[str]


def last_stage_change(history: Sequence[HistoryEntry], before: int | None = None) -> int:
    """Index of the last stage change (before ``before``), or -1."""
    end = len(history) if before is None else before
    for index in range(end - 1, -1, -1):
        if history[index].get("action") == STAGE_CHANGED:
            return index
    return -1


def window(mv: ModelVersion, stage: str, start: int, end: int) -> Window:
    """Approvals and checks for ``stage`` recorded in ``mv.history[start:end]``.

    Only entries made for the version's current artifact count: an approval of a
    different artifact is stale. Each user's latest decision counts once.
    """
    decisions: dict[str, tuple[str, str | None]] = {}
    requesters: set[str] = set()
    checks: dict[str, bool] = {}
    for entry in mv.history[start:end]:
        if entry.get("stage") != stage:
            continue
        if entry.get("artifact_sha256") != mv.artifact_sha256:
            continue
        action = entry.get("action")
        user = str(entry.get("user_id"))
        if action == REQUESTED:
            requesters.add(user)
        elif action in (APPROVED, REJECTED):
            comment = entry.get("comment")
            decisions[user] = (str(action), None if comment is None else str(comment))
        elif action == CHECK_RUN:
            checks[str(entry.get("check"))] = bool(entry.get("passed"))
    return Window(
        approvers=frozenset(user for user, (action, _) in decisions.items() if action == APPROVED),
        rejections={user: note for user, (action, note) in decisions.items() if action == REJECTED},
        requesters=frozenset(requesters),
        checks_passed=frozenset(name for name, passed in checks.items() if passed),
        checks_failed=frozenset(name for name, passed in checks.items() if not passed),
    )


def self_approvers(mv: ModelVersion, state: Window) -> frozenset[str]:
    """Who may not approve the move when self-approval is forbidden: whoever registered
    the version and everyone who requested the move in this window (not only the last)."""
    users = set(state.requesters)
    if mv.user_id:
        users.add(mv.user_id)
    return frozenset(users)


def counted_approvers(rules: Rules, rule: StageRule, mv: ModelVersion, state: Window) -> set[str]:
    counted = set(state.approvers)
    if rule.approvers is not None:
        counted &= set(rule.approvers)
    if not rules.allow_self_approval:
        counted -= self_approvers(mv, state)
    return counted


def unmet_conditions(
    rules: Rules, rule: StageRule, mv: ModelVersion, from_stage: str, state: Window
) -> list[str]:
    """Every reason the rules refuse moving ``mv`` from ``from_stage`` to ``rule.stage``."""
    unmet: list[str] = []
    if rule.from_stages is not None and from_stage not in rule.from_stages:
        unmet.append(
            f"{rule.stage} may only be entered from {', '.join(rule.from_stages)}, "
            f"not from {from_stage}"
        )
    if rule.require is not None:
        unmet.extend(explain_requirement(rule.require, mv.to_dict()))
    if rule.approvals:
        counted = counted_approvers(rules, rule, mv, state)
        if len(counted) < rule.approvals:
            missing = rule.approvals - len(counted)
            have = f" (have: {', '.join(sorted(counted))})" if counted else ""
            unmet.append(
                f"needs {rule.approvals} approval(s) for {rule.stage}, {missing} missing{have}"
            )
            own = sorted(state.approvers & self_approvers(mv, state))
            if own and not rules.allow_self_approval:
                unmet.append(
                    f"approved by {', '.join(own)}, who requested or registered it: "
                    "self-approval does not count (rules.allow_self_approval is false)"
                )
    for user, note in sorted(state.rejections.items()):
        unmet.append(f"rejected by {user}" + (f": {note}" if note else ""))
    for check in rule.checks:
        if check.name in state.checks_failed:
            unmet.append(f"check '{check.name}' failed")
        elif check.name not in state.checks_passed:
            unmet.append(f"check '{check.name}' has not passed yet (run `modelreg promote`)")
    return unmet


def explain_requirement(expr: filters.Expr, record: Mapping[str, object]) -> list[str]:
    """The failing parts of a requirement, each with the values it saw.

    A top-level AND is split so that every unmet comparison is listed, not only the first.
    """
    from modelreg import filters

    parts = expr.operands if isinstance(expr, filters.And) else (expr,)
    failing = []
    for part in parts:
        if filters.evaluate(part, record):
            continue
        seen = ", ".join(
            f"{_field_label(item)} is {_shown(_field_value(item, record))}"
            for item in _fields_of(part)
        )
        failing.append(f"requires {filters.to_string(part)}" + (f" ({seen})" if seen else ""))
    return failing


def _fields_of(expr: filters.Expr) -> list[filters.Field]:
    from modelreg import filters

    if isinstance(expr, (filters.And, filters.Or)):
        found: list[filters.Field] = []
        for operand in expr.operands:
            found.extend(item for item in _fields_of(operand) if item not in found)
        return found
    if isinstance(expr, filters.Not):
        return _fields_of(expr.operand)
    return [expr.field]


def _field_label(item: filters.Field) -> str:
    return item.name if item.key is None else f"{item.name}.{item.key}"


def _field_value(item: filters.Field, record: Mapping[str, object]) -> object:
    value = record.get(item.name)
    if item.key is None:
        return value
    return value.get(item.key) if isinstance(value, Mapping) else None


def _shown(value: object) -> str:
    return "missing" if value is None else repr(value) if isinstance(value, str) else str(value)


def entry_sha(mv: ModelVersion) -> Document:
    """Fields that tie a workflow entry to the artifact it was made for."""
    return {"artifact_sha256": mv.artifact_sha256} if mv.artifact_sha256 else {}


# -- auditing ------------------------------------------------------------------------------


def audit_version(rules: Rules, mv: ModelVersion) -> list[str]:
    """Why ``mv``'s current stage is not backed by its history under ``rules``."""
    last = last_stage_change(mv.history)
    if last < 0:
        if mv.current_stage != "None":
            return [
                f"is in {mv.current_stage} but its history records no stage change "
                "(edited by hand?)"
            ]
        return []
    entry = mv.history[last]
    if entry.get("to_stage") != mv.current_stage:
        return [
            f"is in {mv.current_stage} but its history's last stage change is to "
            f"{entry.get('to_stage')} (edited by hand?)"
        ]
    if entry.get("archived_by") is not None:
        return []  # archived by the registry when another version was promoted
    if entry.get("forced"):
        if rules.allow_force:
            return []
        return [f"entered {mv.current_stage} by force, which the rules no longer allow"]
    rule = rules.for_stage(mv.current_stage, mv.name)
    if rule is None:
        return []
    start = last_stage_change(mv.history, before=last) + 1
    state = window(mv, mv.current_stage, start, last)
    from_stage = str(entry.get("from_stage"))
    return [
        f"entered {mv.current_stage} without meeting the rules: {reason}"
        for reason in unmet_conditions(rules, rule, mv, from_stage, state)
    ]


# -- running checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    exit_code: int | None  # None: stopped after its timeout
    seconds: float
    metrics: dict[str, int | float]
    output_tail: str
    reason: str | None = None

    def to_dict(self) -> Document:
        return {
            "check": self.name,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "metrics": dict(self.metrics),
            "reason": self.reason,
        }


def run_check(
    check: Check,
    env: Mapping[str, str],
    cwd: Path,
    on_output: Callable[[str], None] | None = None,
) -> CheckResult:
    """Run one check command; its output (stdout and stderr) goes line by line to
    ``on_output``. :func:`modelreg.process.run` stops it and anything it started (``make``
    starting ``python``) after its timeout."""
    import time

    from modelreg import process

    started = time.monotonic()
    lines: list[str] = []

    def line(text: str) -> None:
        lines.append(text)
        if on_output is not None:
            on_output(text)

    finished = process.run(
        check.run, cwd=cwd, env=env, timeout=check.timeout, merge_stderr=True, on_line=line
    )
    exit_code = finished.exit_code
    seconds = time.monotonic() - started
    metrics = _metrics_from_last_line(lines)
    if exit_code is None:
        reason = f"stopped after its timeout of {check.timeout:g} s"
    elif exit_code != 0:
        reason = f"exited with status {exit_code}"
    else:
        reason = None
    return CheckResult(
        name=check.name,
        passed=exit_code == 0,
        exit_code=exit_code,
        seconds=seconds,
        metrics=metrics,
        output_tail="\n".join(lines[-20:]),
        reason=reason,
    )


def _metrics_from_last_line(lines: list[str]) -> dict[str, int | float]:
    """The JSON object of numbers a check may print on its last line."""
    import json
    import math

    for line in reversed(lines):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(key): value
            for key, value in data.items()
            # NaN and infinity are not stored (see jsonio): such a metric is left out.
            if isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
        }
    return {}

"""The approval workflow: ``promote`` (run a stage's checks, record the verdict, move the
version under the rules) and the decisions recorded for approvers (request, approve,
reject, comment).

The decisions of a rule are pure functions in :mod:`modelreg.workflow`, shared with
``check --rules``; this module runs them against the registry and records what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from modelreg import actions, sources, workflow
from modelreg import events as ev
from modelreg.entities import ModelVersion
from modelreg.errors import InvalidInputError, RuleViolationError
from modelreg.refs import artifact_location
from modelreg.session import Change, Room
from modelreg.values import version_number
from modelreg.versions import VersionWrites

Output: TypeAlias = Callable[[str], None] | None
"""Where a check's output goes, line by line (None: nowhere)."""

Promoted: TypeAlias = tuple[ModelVersion, list[workflow.CheckResult]]
"""A promoted version and the results of the checks that let it in."""

# The decisions an approver or a requester records, and the event each one makes.
_DECISION_EVENTS = {
    actions.REQUESTED: ev.MODEL_VERSION_TRANSITION_REQUESTED,
    actions.APPROVED: ev.MODEL_VERSION_APPROVED,
    actions.REJECTED: ev.MODEL_VERSION_REJECTED,
}


class Promotion(Room):
    """Promotions and approval decisions on one registry."""

    @property
    def _versions(self) -> VersionWrites:
        return VersionWrites(self._writer, self._config, self._rules, self._root)

    def promote(
        self, name: str, version: int | str, stage: str, comment: str | None, on_output: Output
    ) -> Promoted:
        """See :meth:`modelreg.registry.Registry.promote`.

        Two changes, not one, and no lock while the checks run: a check may take
        minutes, and holding the lock that long would stop every other write. So the
        checks run first, on the version as read then; one change then records their
        outcome and the verdict (the validation tag, and the reasons when it failed);
        the transition is a change of its own, which checks the rules again under the
        lock (an approval may have come or gone meanwhile) and may refuse, leaving the
        verdict recorded."""
        target = self._config.canonical_stage(stage)
        catalog = self._catalog
        mv = catalog.load_version(catalog.load_model(name), version_number(version))
        if mv.current_stage == target:
            return mv, []
        rules = self._rules()
        rule = rules.for_stage(target, mv.name)
        if rule is None:
            return self._versions.transition(
                name, mv.version, target, False, comment, False
            ).version, []
        if rule.checks:
            self._require_trust(rules)
        results = [
            workflow.run_check(check, self._check_env(mv, target), self._root, on_output)
            for check in rule.checks
        ]
        key, value = rules.failure_tag
        with self._writer.change() as change:
            current = catalog.load_version(catalog.load_model(mv.name), mv.version)
            if results:
                self._record_checks(change, current, target, results)
            failures = [
                f"check '{result.name}' {result.reason}" for result in results if not result.passed
            ]
            if rule.require is not None:
                failures += workflow.explain_requirement(rule.require, current.to_dict())
            if failures:
                current.history.append(
                    change.entry(actions.VALIDATION_FAILED, stage=target, reasons=failures)
                )
                change.touch(current)
            tagged = change.tag(current, {key: value if failures else "passed"}, owner=mv.name)
            if results or failures or tagged:
                catalog.save_version(current)
        if failures:
            raise RuleViolationError(
                f"{name} version {mv.version} failed validation for {target}:\n  - "
                + "\n  - ".join(failures)
                + f"\n(tagged {key}={value})",
                failures,
            )
        moved = self._versions.transition(name, mv.version, target, False, comment, False).version
        return moved, results

    def _require_trust(self, rules: workflow.Rules) -> None:
        """The checks are commands from registry.yaml: a cloned folder's run only once this
        machine trusts them, as its hooks (RuleViolationError otherwise, nothing recorded)."""
        from modelreg.hooks.trust import TRUST_ALL_ENV, checks_trusted

        if not checks_trusted(self._root, rules):
            raise RuleViolationError(
                "the validation checks of this registry's rules are not trusted on this "
                "machine: they are commands from registry.yaml; review them (the `checks:` "
                "of `rules` in registry.yaml), then run `modelreg trust` (or set "
                f"{TRUST_ALL_ENV}=1 where the folder is yours, e.g. in CI)"
            )

    def decide(
        self, name: str, version: int | str, stage: str, action: str, comment: str | None
    ) -> ModelVersion:
        """Record a request (``actions.REQUESTED``), an approval or a rejection."""
        target = self._config.canonical_stage(stage)
        number = version_number(version)
        with self._writer.change() as change:
            mv = self._catalog.load_version(self._catalog.load_model(name), number)
            if action != actions.REQUESTED:
                self._check_approver(mv, target, change.user)
            mv.history.append(
                change.entry(action, stage=target, comment=comment, **workflow.entry_sha(mv))
            )
            self._catalog.save_version(mv)
            change.emit(_DECISION_EVENTS[action], mv, stage=target, comment=comment)
        return mv

    def comment(self, name: str, version: int | str, text: str) -> ModelVersion:
        """Add a comment to a version's history."""
        if not text.strip():
            raise InvalidInputError("a comment needs some text")
        number = version_number(version)
        with self._writer.change() as change:
            mv = self._catalog.load_version(self._catalog.load_model(name), number)
            mv.history.append(change.entry(actions.COMMENTED, comment=text))
            self._catalog.save_version(mv)
            change.emit(ev.MODEL_VERSION_COMMENTED, mv, comment=text)
        return mv

    def _check_approver(self, mv: ModelVersion, stage: str, user: str) -> None:
        rules = self._rules()
        rule = rules.for_stage(stage, mv.name)
        if rule is None:
            return
        if rule.approvers is not None and user not in rule.approvers:
            raise RuleViolationError(
                f"{user} may not approve or reject moves to {stage}; the approvers are: "
                + ", ".join(rule.approvers)
            )
        if not rules.allow_self_approval:
            start = workflow.last_stage_change(mv.history) + 1
            state = workflow.window(mv, stage, start, len(mv.history))
            if user in workflow.self_approvers(mv, state):
                raise RuleViolationError(
                    f"{user} requested this move or registered this version and may "
                    "not approve it: the registry's rules forbid self-approval "
                    "(rules.allow_self_approval)"
                )

    def _check_env(self, mv: ModelVersion, stage: str) -> dict[str, str]:
        from modelreg.process import model_environment

        return {
            **model_environment(
                name=mv.name,
                version=str(mv.version),
                current_stage=mv.current_stage,
                from_stage=mv.current_stage,
                to_stage=stage,
                source=artifact_location(
                    sources.artifact_of(mv, self._catalog.resolve_version).source, self._root
                ),
                run_id=mv.run_id or "",
                registry=self._root,
            ),
            "MODELREG_STAGE": stage,  # a check's old name for the target stage
        }

    @staticmethod
    def _record_checks(
        change: Change, mv: ModelVersion, stage: str, results: list[workflow.CheckResult]
    ) -> None:
        """Write the check runs into the history and their metrics onto the version."""
        for result in results:
            mv.metrics.update(result.metrics)
            mv.history.append(
                change.entry(
                    actions.CHECK_RUN,
                    stage=stage,
                    check=result.name,
                    passed=result.passed,
                    exit_code=result.exit_code,
                    seconds=round(result.seconds, 3),
                    metrics=dict(result.metrics) or None,
                    reason=result.reason,
                    **workflow.entry_sha(mv),
                )
            )
        change.touch(mv)
        for result in results:
            change.emit(ev.MODEL_VERSION_CHECK_COMPLETED, mv, stage=stage, **result.to_dict())

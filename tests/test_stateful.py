"""Model-based test: Hypothesis drives the API (create, register, tag, transition, alias,
delete, rename) against an in-memory model of the registry, and after every step a
freshly opened Registry on the same folder must agree with the model exactly."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from _safety import RefModel, apply_op, facts, snapshot
from modelreg import Registry
from modelreg.check import check_registry
from modelreg.errors import ConflictError, InvalidInputError, NotFoundError

NAMES = st.sampled_from(["churn", "fraud-detector", "demand.v2", "x_1"])
STAGES = st.sampled_from(["None", "Staging", "Production", "Archived", "production"])
ALIASES = st.sampled_from(["champion", "challenger", "shadow_1"])
TAG_KEYS = st.sampled_from(["team", "validated", "note with spaces", "ünïcode"])
# Any text a user may type: YAML must give it back unchanged.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


class RegistryMachine(RuleBasedStateMachine):
    """The real registry and the reference model, step by step."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="modelreg-stateful-"))
        self.model = RefModel()
        self.sources = 0

    @initialize()
    def open_registry(self) -> None:
        self.root = Registry.init(self.folder / "registry").root
        self.registry = Registry(self.root)

    def teardown(self) -> None:
        try:
            if hasattr(self, "root"):
                assert check_registry(self.root).findings == ()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------

    def do(self, op: dict[str, Any]) -> None:
        """Apply ``op`` to both; the version numbers handed out must agree too."""
        after = self.model.copy()
        expected = after.apply(op)
        assert apply_op(self.registry, op) == expected
        self.model = after

    def has_models(self) -> bool:
        return bool(self.model.models)

    def has_versions(self) -> bool:
        return any(model.versions for model in self.model.models.values())

    def pick_model(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.model.models)))

    def pick_version(self, data: st.DataObject) -> tuple[str, int]:
        names = sorted(name for name, model in self.model.models.items() if model.versions)
        name = data.draw(st.sampled_from(names))
        return name, data.draw(st.sampled_from(sorted(self.model.models[name].versions)))

    # -- rules ---------------------------------------------------------------------

    @rule(name=NAMES, tags=st.dictionaries(TAG_KEYS, TEXT, max_size=2), description=TEXT)
    def create(self, name: str, tags: dict[str, str], description: str) -> None:
        op = {"op": "create", "name": name, "tags": tags, "description": description}
        if name in self.model.models:
            with pytest.raises(ConflictError):
                apply_op(self.registry, op)
        else:
            self.do(op)

    @rule(name=NAMES)
    def register(self, name: str) -> None:
        self.sources += 1
        source = f"s3://bucket/{name}/{self.sources}"
        self.do({"op": "register", "name": name, "source": source, "create": True})

    @precondition(has_models)
    @rule(data=st.data(), key=TAG_KEYS, value=TEXT)
    def model_tag(self, data: st.DataObject, key: str, value: str) -> None:
        self.do({"op": "model_tag", "name": self.pick_model(data), "key": key, "value": value})

    @precondition(has_versions)
    @rule(data=st.data(), key=TAG_KEYS, value=TEXT)
    def version_tag(self, data: st.DataObject, key: str, value: str) -> None:
        name, number = self.pick_version(data)
        op = {"op": "version_tag", "name": name, "version": number, "key": key, "value": value}
        self.do(op)

    @precondition(has_versions)
    @rule(data=st.data(), stage=STAGES, archive=st.booleans())
    def transition(self, data: st.DataObject, stage: str, archive: bool) -> None:
        name, number = self.pick_version(data)
        canonical = stage.capitalize()
        op = {"op": "transition", "name": name, "version": number, "stage": stage}
        if archive and canonical not in ("Staging", "Production"):
            with pytest.raises(InvalidInputError):
                apply_op(self.registry, {**op, "archive": True})
            return
        # Input is case-insensitive; the model holds the canonical spelling.
        after = self.model.copy()
        after.apply({**op, "stage": canonical, "archive": archive})
        apply_op(self.registry, {**op, "archive": archive})
        self.model = after

    @precondition(has_versions)
    @rule(data=st.data(), alias=ALIASES)
    def alias(self, data: st.DataObject, alias: str) -> None:
        name, number = self.pick_version(data)
        self.do({"op": "alias", "name": name, "alias": alias, "version": number})

    @precondition(has_models)
    @rule(data=st.data(), alias=ALIASES)
    def delete_alias(self, data: st.DataObject, alias: str) -> None:
        name = self.pick_model(data)
        op = {"op": "delete_alias", "name": name, "alias": alias}
        if alias in self.model.models[name].aliases:
            self.do(op)
        else:
            apply_op(self.registry, op)  # nothing to do, as in MLflow (checked by the invariant)

    @precondition(has_models)
    @rule(data=st.data(), description=TEXT)
    def model_description(self, data: st.DataObject, description: str) -> None:
        op = {"op": "model_description", "name": self.pick_model(data)}
        self.do({**op, "description": description})

    @precondition(has_versions)
    @rule(data=st.data(), description=TEXT)
    def version_description(self, data: st.DataObject, description: str) -> None:
        name, number = self.pick_version(data)
        op = {"op": "version_description", "name": name, "version": number}
        self.do({**op, "description": description})

    @precondition(has_versions)
    @rule(data=st.data())
    def delete_version(self, data: st.DataObject) -> None:
        name, number = self.pick_version(data)
        self.do({"op": "delete_version", "name": name, "version": number})

    @precondition(has_models)
    @rule(data=st.data(), new=NAMES)
    def rename(self, data: st.DataObject, new: str) -> None:
        name = self.pick_model(data)
        op = {"op": "rename", "name": name, "new": new}
        if new == name:
            apply_op(self.registry, op)  # renaming to itself changes nothing
        elif new in self.model.models:
            with pytest.raises(ConflictError):
                apply_op(self.registry, op)
        else:
            self.do(op)

    @precondition(has_models)
    @rule(data=st.data())
    def delete_model(self, data: st.DataObject) -> None:
        self.do({"op": "delete_model", "name": self.pick_model(data)})

    @rule(name=NAMES)
    def missing_things_are_not_found(self, name: str) -> None:
        if name not in self.model.models:
            with pytest.raises(NotFoundError):
                self.registry.get_registered_model(name)
        else:
            missing = self.model.models[name].last + 1
            with pytest.raises(NotFoundError):
                self.registry.get_model_version(name, missing)

    # -- what must hold after every step -------------------------------------------

    @invariant()
    def a_fresh_registry_agrees(self) -> None:
        if hasattr(self, "root"):
            assert facts(snapshot(self.root)) == facts(self.model.models)


def run(max_examples: int, steps: int) -> None:
    run_state_machine_as_test(
        RegistryMachine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )


def test_registry_agrees_with_the_model() -> None:
    run(max_examples=30, steps=20)


@pytest.mark.slow
def test_registry_agrees_with_the_model_longer() -> None:
    run(max_examples=40, steps=30)

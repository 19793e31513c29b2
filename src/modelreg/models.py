"""The writes of a registered model: create, rename, describe, delete, tag it, and point
its aliases at versions. Each is one change (:mod:`modelreg.session`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from modelreg import actions
from modelreg import events as ev
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import NotFoundError, RuleViolationError
from modelreg.names import validate_alias, validate_model_name, validate_tag, validate_tag_key
from modelreg.session import Room
from modelreg.values import version_number


class ModelWrites(Room):
    """The model-level writes of one registry."""

    def create(
        self, name: str, tags: Mapping[str, object] | None, description: str | None
    ) -> RegisteredModel:
        validate_model_name(name)
        clean_tags = dict(validate_tag(key, value) for key, value in (tags or {}).items())
        with self._writer.change() as change:
            self._catalog.check_name_free(name)
            model = change.new_model(name, description)
            model.tags = clean_tags
            change.create_model(model)
        return model

    def rename(self, name: str, new_name: str) -> None:
        validate_model_name(new_name)
        catalog = self._catalog
        with self._writer.change() as change:
            model = catalog.load_model(name)
            if new_name == name:
                return
            catalog.check_name_free(new_name, renaming=name)
            versions = catalog.versions(model)
            catalog.store.rename_model_dir(name, new_name)
            model.name = new_name
            change.touch(model)
            model.history.append(
                change.entry(actions.MODEL_RENAMED, **{"from": name, "to": new_name})
            )
            catalog.save_model(model)
            for version in versions:
                version.name = new_name
                catalog.save_version(version)
            change.emit(ev.REGISTERED_MODEL_RENAMED, model, old_name=name)

    def describe(self, name: str, description: str | None) -> None:
        with self._writer.change() as change:
            model = self._catalog.load_model(name)
            if change.describe(model, description):
                self._catalog.save_model(model)
                change.emit(ev.REGISTERED_MODEL_DESCRIPTION_CHANGED, model)

    def delete(self, name: str) -> None:
        with self._writer.change() as change:
            model = self._catalog.load_model(name)
            protected = [
                mv
                for mv in self._catalog.versions(model)
                if self._rules().is_protected(mv.current_stage, name)
            ]
            if protected:
                raise RuleViolationError(
                    f"model '{name}' has versions in protected stages ("
                    + ", ".join(f"version {mv.version} in {mv.current_stage}" for mv in protected)
                    + "); move them to another stage first"
                )
            self._catalog.store.remove_model_dir(name)
            change.emit(ev.REGISTERED_MODEL_DELETED, model)

    def tag(
        self, name: str, tags: Mapping[str, object], remove: Iterable[str] = ()
    ) -> RegisteredModel:
        clean = dict(validate_tag(key, value) for key, value in tags.items())
        with self._writer.change() as change:
            model = self._catalog.load_model(name)
            if change.tag(model, clean, remove, owner=name):
                self._catalog.save_model(model)
        return model

    def untag(self, name: str, key: str) -> None:
        """Remove one tag; a tag that is not there is nothing to do (as in MLflow)."""
        validate_tag_key(key)
        with self._writer.change() as change:
            model = self._catalog.load_model(name)
            if key not in model.tags:
                return
            change.tag(model, {}, [key], owner=name)
            self._catalog.save_model(model)

    def set_alias(
        self, name: str, alias: str, version: int | str, comment: str | None
    ) -> ModelVersion:
        validate_alias(alias)
        number = version_number(version)
        catalog = self._catalog
        with self._writer.change() as change:
            model = catalog.load_model(name)
            target = catalog.load_version(model, number)  # the version must exist
            previous = model.aliases.get(alias)
            if previous != number:
                model.aliases[alias] = number
                entry = change.entry(
                    actions.ALIAS_SET, alias=alias, version=number, comment=comment
                )
                if previous is not None:
                    entry["previous_version"] = previous
                model.history.append(entry)
                change.touch(model)
                catalog.save_model(model)
                target = catalog.load_version(model, number)
                change.emit(
                    ev.MODEL_VERSION_ALIAS_CREATED, target, alias=alias, previous_version=previous
                )
        return target

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias; one that is not there is nothing to do (as in MLflow), unless
        it could not be an alias at all (InvalidInputError)."""
        catalog = self._catalog
        with self._writer.change() as change:
            model = catalog.load_model(name)
            if alias not in model.aliases:
                validate_alias(alias)
                return
            number = model.aliases.pop(alias)
            model.history.append(change.entry(actions.ALIAS_DELETED, alias=alias, version=number))
            change.touch(model)
            catalog.save_model(model)
            # An alias left pointing at a missing version (a hand edit, an interrupted
            # delete) is still deleted; its event then carries the model.
            target: RegisteredModel | ModelVersion = model
            with contextlib.suppress(NotFoundError):
                target = catalog.load_version(model, number)
            change.emit(ev.MODEL_VERSION_ALIAS_DELETED, target, alias=alias, version=number)

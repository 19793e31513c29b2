"""The entities of a registry folder: models and versions read from their files (through
the cache of parsed version files) and written back, and the questions asked of them
(which versions a model has, its newest, its next free number, whether a name is free).

No lock is taken here: reads need none, and writes run inside a write session
(:mod:`modelreg.session`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelreg.config import Config
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import ConflictError, CorruptFileError, InvalidInputError
from modelreg.index import VersionIndex
from modelreg.names import validate_model_name
from modelreg.store import Store


class Catalog:
    """Models and versions of the folder ``store`` keeps."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.index = VersionIndex(store)

    # -- reading -----------------------------------------------------------------------

    def load_model(self, name: str) -> RegisteredModel:
        validate_model_name(name)
        doc = self.store.read_model(name)
        model = RegisteredModel.from_doc(doc, self.store.model_file(name))
        # The folder is the name: a rename interrupted between renaming the folder and
        # rewriting the files leaves the old name inside them (`check --repair` fixes it).
        model.name = name
        return model

    def load_version(self, model: RegisteredModel, number: int) -> ModelVersion:
        # One parser for single reads and for the cache: the same checks either way.
        fields, _ = self.index.parse_version(model.name, number)
        aliases = sorted(alias for alias, target in model.aliases.items() if target == number)
        return ModelVersion(**fields, aliases=aliases)

    def versions(
        self, model: RegisteredModel, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        """Every version of ``model`` (through the cache of parsed files)."""
        aliases = aliases_by_version(model)
        return [
            ModelVersion(**fields, aliases=aliases.get(fields["version"], []))
            for fields in self.index.fields(model.name, errors)
        ]

    def version_records(
        self,
        errors: list[CorruptFileError] | None = None,
        names: frozenset[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The fields of every version (of the models ``names``, when given) but its
        history, streamed model by model for search, without building entities (the
        cache's fields plus the model's aliases)."""
        for name in self.store.model_names():
            if names is not None and name not in names:
                continue
            try:
                model_fields, versions = self.index.read(name, errors, history=False)
            except CorruptFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
                continue
            aliases = aliases_by_version(RegisteredModel(**model_fields))
            for fields in versions:
                fields["aliases"] = aliases.get(fields["version"], [])
                yield fields

    def newest_version(self, model: RegisteredModel) -> ModelVersion | None:
        numbers = self.store.version_numbers(model.name)
        return self.load_version(model, numbers[-1]) if numbers else None

    def next_version_number(self, model: RegisteredModel) -> int:
        # last_version is a counter kept so numbers are never reused; a version file
        # above it (a crash between the two writes) is stepped over, never overwritten.
        number = model.last_version + 1
        while self.store.version_file(model.name, number).exists():
            number += 1
        return number

    def latest_per_stage(self, versions: list[ModelVersion]) -> list[ModelVersion]:
        latest: dict[str, ModelVersion] = {}
        for mv in versions:
            if mv.current_stage not in latest or mv.version > latest[mv.current_stage].version:
                latest[mv.current_stage] = mv
        order = {stage: index for index, stage in enumerate(self.config.stages)}
        return sorted(latest.values(), key=lambda mv: (order.get(mv.current_stage, 99), mv.version))

    def check_name_free(self, name: str, renaming: str | None = None) -> None:
        """Raise unless a new model (or ``renaming`` renamed) may take ``name``."""
        for existing in self.store.model_names():
            if existing == renaming:
                continue
            if existing == name:
                raise ConflictError(f"registered model '{name}' already exists")
            if existing.lower() == name.lower():
                raise InvalidInputError(
                    f"model name '{name}' differs from existing model '{existing}' only in "
                    "case; the folder would clash on macOS and Windows checkouts"
                )
        # A folder without model.yaml is an interrupted create and is reused, unless it
        # still holds versions: they are someone's data (`modelreg check` reports it).
        if self.store.version_numbers(name):
            raise ConflictError(
                f"the folder of model '{name}' holds versions but no model.yaml; restore "
                f"{self.store.model_file(name)} (e.g. from git) or run `modelreg check`"
            )

    # -- writing (under the lock) -------------------------------------------------------

    def save_model(self, model: RegisteredModel) -> None:
        self.store.write(self.store.model_file(model.name), model.to_doc())

    def save_version(self, mv: ModelVersion) -> None:
        self.store.write(self.store.version_file(mv.name, mv.version), mv.to_doc())


def aliases_by_version(model: RegisteredModel) -> dict[int, list[str]]:
    by_version: dict[int, list[str]] = {}
    for alias, number in sorted(model.aliases.items()):
        by_version.setdefault(number, []).append(alias)
    return by_version

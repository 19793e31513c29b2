"""Importing: write a model and its versions as another registry recorded them (``modelreg
import`` from an mlruns folder or an MLflow server, see :mod:`modelreg.mlflow_io`).

One import of one model is one change (:mod:`modelreg.session`): it is written whole or,
interrupted, completed by running it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from modelreg import actions, structs
from modelreg import events as ev
from modelreg.datalineage import resolve_all
from modelreg.entities import ModelVersion, RegisteredModel, new_uid
from modelreg.errors import ConflictError, InvalidInputError
from modelreg.names import validate_alias, validate_model_name, validate_tag
from modelreg.session import Change, Room
from modelreg.values import checked_metrics, checked_params, shown, version_number

_V = TypeVar("_V")


@dataclass(frozen=True)
class ImportResult:
    """What ``import_model`` did to one model: whether it created the model or changed
    anything, and the version numbers it wrote, replaced, found already here with the
    same data, and left out because this registry deleted them."""

    name: str
    created: bool
    changed: bool
    imported: tuple[int, ...]
    replaced: tuple[int, ...]
    unchanged: tuple[int, ...]
    deleted_here: tuple[int, ...]


# What an import compares to decide that a version is already here: what the origin
# records. History, lineage and the last-update time belong to this registry.
_IMPORTED_FIELDS = (
    "source",
    "run_id",
    "run_link",
    "description",
    "current_stage",
    "status",
    "user_id",
    "tags",
    "metrics",
    "params",
    "datasets",
    "creation_timestamp",
)


class Importer(Room):
    """Imports models into one registry."""

    def import_model(
        self,
        model: RegisteredModel,
        versions: Sequence[ModelVersion],
        origin: str | None,
        source_name: str | None,
        replace: bool,
    ) -> ImportResult:
        """Write a model and its versions as another registry recorded them: their own
        version numbers, stages, aliases, tags, descriptions, users and timestamps.

        ``origin`` (where they come from) and ``source_name`` (the model's name there,
        when it differs) go into the history entry ``imported``.

        ``model.last_version`` may exceed the highest version given: numbers the origin
        handed out and deleted are never handed out here either. Idempotent: a version
        already here with the same data is left alone. A version, tag, alias or
        description that differs raises ConflictError (nothing is written) unless
        ``replace``, which makes the imported values win; what exists only here is kept.
        A number this registry used and deleted is never brought back. Stage rules and
        approvals do not apply: the import records stages the origin already decided.
        """
        catalog = self._catalog
        name = validate_model_name(model.name)
        incoming = sorted(
            (self._imported_version(name, mv) for mv in versions), key=lambda mv: mv.version
        )
        numbers = [mv.version for mv in incoming]
        if len(set(numbers)) != len(numbers):
            raise InvalidInputError(f"import of model '{name}' lists a version number twice")
        tags = dict(validate_tag(key, value) for key, value in model.tags.items())
        aliases = {validate_alias(alias): version_number(n) for alias, n in model.aliases.items()}
        with self._writer.change() as change:
            created = not catalog.store.model_exists(name)
            if created:
                catalog.check_name_free(name)
                current = structs.replace(
                    model, tags={}, aliases={}, latest_versions=[], last_version=0, history=[]
                )
            else:
                current = catalog.load_model(name)
            present = set(catalog.store.version_numbers(name))
            for alias, number in aliases.items():
                if number not in present and number not in numbers:
                    raise InvalidInputError(
                        f"alias {alias!r} of model '{name}' points at version {number}, "
                        "which is neither imported nor in the registry"
                    )
            conflicts: list[str] = []
            if created or current.description is None:
                new_description = model.description
            else:
                new_description = _merge_value(
                    current.description, model.description, "description", replace, conflicts
                )
            new_tags = _merge_mapping(current.tags, tags, "tag", replace, conflicts)
            new_aliases = _merge_mapping(current.aliases, aliases, "alias", replace, conflicts)
            writes: list[ModelVersion] = []
            imported: list[int] = []
            replaced: list[int] = []
            unchanged: list[int] = []
            deleted_here: list[int] = []
            for mv in incoming:
                if mv.version in present:
                    existing = catalog.load_version(current, mv.version)
                    differences = _version_differences(existing, mv)
                    if not differences:
                        unchanged.append(mv.version)
                    elif replace:
                        mv.uid = existing.uid
                        mv.history = [
                            *existing.history,
                            change.entry(actions.IMPORTED, origin=origin, replaced=differences),
                        ]
                        mv.lineage = {**existing.lineage, **mv.lineage}
                        mv.artifact_sha256 = mv.artifact_sha256 or existing.artifact_sha256
                        mv.artifact_size = mv.artifact_size or existing.artifact_size
                        writes.append(mv)
                        replaced.append(mv.version)
                    else:
                        conflicts.append(
                            f"version {mv.version}: "
                            + ", ".join(
                                f"{key} {shown(getattr(existing, key))} here, "
                                f"{shown(getattr(mv, key))} imported"
                                for key in differences
                            )
                        )
                elif mv.version <= current.last_version:
                    deleted_here.append(mv.version)
                else:
                    mv.history = [change.entry(actions.IMPORTED, origin=origin)]
                    writes.append(mv)
                    imported.append(mv.version)
            if conflicts:
                raise ConflictError(
                    f"model '{name}' here differs from the one being imported: "
                    f"{'; '.join(conflicts)} (--replace, or replace=True, lets the import win)",
                    error_code="RESOURCE_CONFLICT",
                )
            last_version = max([current.last_version, model.last_version, *numbers])
            model_changed = (
                new_description != current.description
                or new_tags != current.tags
                or new_aliases != current.aliases
                or last_version != current.last_version
            )
            result = ImportResult(
                name=name,
                created=created,
                changed=created or model_changed or bool(writes),
                imported=tuple(imported),
                replaced=tuple(replaced),
                unchanged=tuple(unchanged),
                deleted_here=tuple(deleted_here),
            )
            if not result.changed:
                return result
            entry = change.entry(
                actions.IMPORTED,
                origin=origin,
                source_name=source_name,
                versions=[mv.version for mv in writes] or None,
            )
            if created:
                # model.yaml first, without aliases and with no numbers taken, so that an
                # interrupted import leaves a model that the same import completes.
                current.history = [entry]
                change.create_model(current)
            else:
                current.history.append(entry)
            for mv in writes:
                catalog.save_version(mv)
                if mv.version in imported:
                    change.emit(ev.MODEL_VERSION_CREATED, mv, imported_from=origin)
            current.description = new_description
            current.tags = new_tags
            current.aliases = new_aliases
            current.last_version = last_version
            if catalog.split:
                # Format 2 keeps a number taken by its tombstone: one for each number
                # the origin handed out and deleted before the import.
                self._record_deleted_at_origin(current, present | set(numbers), change, origin)
            if current.history[0].get("action") == actions.IMPORTED:
                # Created by an import: the origin's times are the model's times.
                current.creation_timestamp = model.creation_timestamp
                current.last_updated_timestamp = max(
                    model.last_updated_timestamp, current.last_updated_timestamp
                )
            else:
                change.touch(current)
            catalog.save_model(current)
        return result

    def _imported_version(self, name: str, mv: ModelVersion) -> ModelVersion:
        """A checked copy of an imported version: canonical stage, valid tags, no aliases
        (they live in model.yaml)."""
        if not isinstance(mv.source, str):
            raise InvalidInputError(f"version {mv.version} of '{name}' has no source")
        return structs.replace(
            mv,
            name=name,
            version=version_number(mv.version),
            current_stage=self._config.canonical_stage(mv.current_stage),
            tags=dict(validate_tag(key, value) for key, value in mv.tags.items()),
            aliases=[],
            metrics=checked_metrics(mv.metrics),
            params=checked_params(mv.params),
            # Recorded as given (an import measures nothing): names and fields checked.
            datasets=resolve_all(mv.datasets, self._root),
            lineage=dict(mv.lineage),
            history=[],
            uid=new_uid() if self._catalog.split else None,
        )

    def _record_deleted_at_origin(
        self, model: RegisteredModel, live: set[int], change: Change, origin: str | None
    ) -> None:
        recorded = {
            entry.get("version")
            for entry in model.history
            if entry.get("action") == actions.VERSION_DELETED
        }
        for number in range(1, model.last_version + 1):
            if number not in live and number not in recorded:
                model.history.append(
                    change.entry(
                        actions.VERSION_DELETED,
                        version=number,
                        comment=f"deleted in the origin before the import ({origin or '?'})",
                    )
                )


def _version_differences(existing: ModelVersion, imported: ModelVersion) -> list[str]:
    return [key for key in _IMPORTED_FIELDS if getattr(existing, key) != getattr(imported, key)]


def _merge_value(
    current: str | None, imported: str | None, what: str, replace: bool, conflicts: list[str]
) -> str | None:
    if imported is None or imported == current:
        return current
    if not replace:
        conflicts.append(f"{what} {current!r} here, {imported!r} imported")
        return current
    return imported


def _merge_mapping(
    current: Mapping[str, _V],
    imported: Mapping[str, _V],
    what: str,
    replace: bool,
    conflicts: list[str],
) -> dict[str, _V]:
    """``current`` with what only the import has added; differing values are conflicts
    (or, with ``replace``, the imported value)."""
    merged = dict(current)
    for key, value in imported.items():
        if key in merged and merged[key] != value and not replace:
            conflicts.append(f"{what} {key!r} is {merged[key]!r} here, {value!r} imported")
            continue
        merged[key] = value
    return dict(sorted(merged.items()))

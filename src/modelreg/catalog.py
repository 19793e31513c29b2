"""The entities of a registry folder: models and versions read from their files (through
the cache of parsed version files) and written back, and the questions asked of them
(which versions a model has, its newest, its next free number, whether a name is free).

No lock is taken here: reads need none, and writes run inside a write session
(:mod:`modelreg.session`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from modelreg import layout
from modelreg.config import Config
from modelreg.entities import HistoryEntry, ModelVersion, RegisteredModel
from modelreg.errors import ConflictError, CorruptFileError, InvalidInputError, NotFoundError
from modelreg.index import VersionIndex, VersionRecord, marshallable, unmarshalled
from modelreg.names import validate_model_name
from modelreg.refs import Ref
from modelreg.store import Store

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from modelreg.filters import FilePrefilter


class Catalog:
    """Models and versions of the folder ``store`` keeps."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.index = VersionIndex(store, split=self.split)

    @property
    def split(self) -> bool:
        """Whether the registry keeps a model in several files (format 2, see layout.py)."""
        return self.config.format >= 2

    # -- reading -----------------------------------------------------------------------

    def load_model(self, name: str) -> RegisteredModel:
        validate_model_name(name)
        if self.split:
            model = layout.load(self.store, name)
        else:
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
        prefilter: FilePrefilter | None = None,
    ) -> VersionScan:
        """The fields of every version (of the models ``names``, when given) but its
        history, for search, without building entities (the cache's fields plus the
        model's aliases): iterated model by model, or filtered by
        :meth:`VersionScan.matching` on every core. The records share the index's memory:
        a caller copies what it returns (see ``Registry.search_version_records``).
        ``matching`` leaves out the versions whose files ``prefilter`` refuses, unread
        (see ``VersionIndex.read``)."""
        wanted = [name for name in self.store.model_names() if names is None or name in names]
        return VersionScan(self, wanted, errors, prefilter)

    def _records(
        self,
        names: list[str],
        errors: list[CorruptFileError] | None,
        prefilter: FilePrefilter | None = None,
    ) -> Iterator[VersionRecord]:
        for name in names:
            try:
                model_fields, versions = self.index.read(
                    name, errors, history=False, shared=True, prefilter=prefilter
                )
            except CorruptFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
                continue
            aliases = aliases_by_version(RegisteredModel(**model_fields))
            for fields in versions:
                yield {**fields, "aliases": aliases.get(fields["version"], [])}

    def model(self, name: str) -> RegisteredModel:
        """A model with its latest version per stage."""
        model = self.load_model(name)
        return self._with_versions(model, self.versions(model))

    def _with_versions(
        self, model: RegisteredModel, versions: list[ModelVersion]
    ) -> RegisteredModel:
        model.latest_versions = self.latest_per_stage(versions)
        if self.split:  # the model was last updated when anything of it was
            layout.with_versions(model, [mv.last_updated_timestamp for mv in versions])
        return model

    def models(self, errors: list[CorruptFileError] | None = None) -> list[RegisteredModel]:
        """Every model (see ``Registry.list_registered_models``)."""
        if errors is None:
            return [self.model(name) for name in self.store.model_names()]
        errors.extend(self._symlinked_folders())
        models = []
        for name in self.store.model_names():
            try:
                model = self.load_model(name)
            except CorruptFileError as exc:
                errors.append(exc)
                continue
            models.append(self._with_versions(model, self.versions(model, errors)))
        return models

    def all_versions(self, errors: list[CorruptFileError] | None = None) -> list[ModelVersion]:
        """Every version of every model (see ``Registry.all_versions``)."""
        versions: list[ModelVersion] = []
        if errors is not None:
            errors.extend(self._symlinked_folders())
        for name in self.store.model_names():
            try:
                versions.extend(self.versions(self.load_model(name), errors))
            except CorruptFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
        return versions

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        if self.split:
            return self._version_by_alias_file(name, alias)
        return self._version_by_model_aliases(name, alias)

    def _version_by_model_aliases(self, name: str, alias: str) -> ModelVersion:
        model = self.load_model(name)
        if alias not in model.aliases:
            raise NotFoundError(f"model '{name}' has no alias {alias!r}")
        number = model.aliases[alias]
        try:
            return self.load_version(model, number)
        except NotFoundError:
            raise _dangling(name, alias, number) from None

    def _version_by_alias_file(self, name: str, alias: str) -> ModelVersion:
        """``NAME@ALIAS`` in format 2: the alias's file and the version's, then the other
        alias files (for the version's ``aliases``); never the model's whole history."""
        validate_model_name(name)
        if not self.store.model_exists(name):
            raise NotFoundError(f"registered model '{name}' not found")
        try:
            found = layout.read_alias(self.store, name, alias)
        except InvalidInputError:
            raise NotFoundError(f"model '{name}' has no alias {alias!r}") from None
        if found is None:
            # No file: no alias, unless model.yaml is still unsplit (an interrupted
            # upgrade), which the whole model's reading understands.
            return self._version_by_model_aliases(name, alias)
        if found.version is None:
            raise NotFoundError(f"model '{name}' has no alias {alias!r}")
        number = found.version
        try:
            fields, _ = self.index.parse_version(name, number)
        except NotFoundError:
            raise _dangling(name, alias, number) from None
        aliases = layout.read_aliases(self.store, name)
        pointing = sorted(a for a, each in aliases.items() if each.version == number)
        return ModelVersion(**fields, aliases=pointing)

    def resolve(self, ref: Ref) -> RegisteredModel | ModelVersion:
        """The model or version ``ref`` names (see ``Registry.resolve``)."""
        if ref.selector is None:
            return self.model(ref.name)
        selector = ref.selector
        if isinstance(selector, str) and selector.startswith("@"):
            return self.version_by_alias(ref.name, selector[1:])
        model = self.load_model(ref.name)
        if isinstance(selector, int):
            return self.load_version(model, selector)
        if selector == "latest":
            newest = self.newest_version(model)
            if newest is None:
                raise NotFoundError(f"model '{ref.name}' has no versions")
            return newest
        stage = self.config.canonical_stage(selector)
        in_stage = [mv for mv in self.versions(model) if mv.current_stage == stage]
        if not in_stage:
            raise NotFoundError(f"model '{ref.name}' has no version in stage {stage}")
        return max(in_stage, key=lambda mv: mv.version)

    def resolve_version(self, ref: Ref) -> ModelVersion:
        """The version ``ref`` names; a bare model name means its newest version."""
        found = self.resolve(ref if ref.selector is not None else Ref(ref.name, "latest"))
        assert isinstance(found, ModelVersion)
        return found

    def history(self, name: str, mv: ModelVersion | None = None) -> list[HistoryEntry]:
        """Everything recorded about model ``name`` (or only about its version ``mv``),
        oldest first."""
        model = self.load_model(name)
        if mv is None:
            entries = list(model.history)
            for each in self.versions(model):
                entries.extend({**entry, "version": each.version} for entry in each.history)
        else:
            entries = [entry for entry in model.history if entry.get("version") == mv.version]
            entries.extend({**entry, "version": mv.version} for entry in mv.history)
        return sorted(entries, key=lambda entry: str(entry.get("timestamp", "")))

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

    def _symlinked_folders(self) -> list[CorruptFileError]:
        return [
            CorruptFileError(path, "is a symlink; refusing to follow it")
            for path in self.store.symlinked_model_folders()
        ]

    # -- writing (under the lock) -------------------------------------------------------

    def save_model(self, model: RegisteredModel) -> None:
        if self.split:
            layout.save(self.store, model)
        else:
            self.store.write(self.store.model_file(model.name), model.to_doc())

    def save_version(self, mv: ModelVersion) -> None:
        self.store.write(self.store.version_file(mv.name, mv.version), mv.to_doc())


def _dangling(name: str, alias: str, number: int) -> NotFoundError:
    # A dangling alias (a hand edit, an interrupted delete): say which alias.
    return NotFoundError(
        f"alias '{alias}' of model '{name}' points to version {number}, which does not exist"
    )


def aliases_by_version(model: RegisteredModel) -> dict[int, list[str]]:
    by_version: dict[int, list[str]] = {}
    for alias, number in sorted(model.aliases.items()):
        by_version.setdefault(number, []).append(alias)
    return by_version


class VersionScan:
    """The version records of the models ``names``, in their order, for a search.

    Iterated, it reads them here. :meth:`matching` shares the models this process has not
    read before out over the cores (:mod:`modelreg.forking`): each child reads its share
    (parsing and caching what the cache lacks: the first search after a clone), filters
    it, and sends back only what matches."""

    def __init__(
        self,
        catalog: Catalog,
        names: list[str],
        errors: list[CorruptFileError] | None,
        prefilter: FilePrefilter | None,
    ) -> None:
        self._catalog = catalog
        self._names = names
        self._errors = errors
        self._prefilter = prefilter

    def __iter__(self) -> Iterator[VersionRecord]:
        return self._catalog._records(self._names, self._errors)

    def matching(self, keep: Callable[[VersionRecord], bool]) -> list[VersionRecord]:
        """The records ``keep`` accepts, in no particular order. A corrupt file is raised,
        or reported in the order of the models, as by a read here."""
        from modelreg import forking

        index = self._catalog.index
        # Models read before are read here, so that this second read keeps them (from the
        # third on, a search in a loop answers from memory); the others are shared out.
        here = [name for name in self._names if index.has_read(name)]
        shared = [name for name in self._names if not index.has_read(name)]
        collect = self._errors is not None

        def work(names: list[str]) -> _Found:
            records: list[VersionRecord] = []
            problems: list[tuple[str, str, str]] = []
            for name in names:
                errors: list[CorruptFileError] | None = [] if collect else None
                records.extend(
                    marshallable(record)
                    for record in self._catalog._records([name], errors, self._prefilter)
                    if keep(record)
                )
                problems.extend((name, str(exc.path), exc.problem) for exc in errors or ())
            return records, problems

        results = [*forking.map_shares(shared, work, _MODELS_PER_CHILD), work(here)]
        index.read_elsewhere(shared)  # the next read here is their second: kept
        if self._errors is not None:
            order = {name: position for position, name in enumerate(self._names)}
            problems = sorted(
                (problem for _, each in results for problem in each),
                key=lambda problem: order[problem[0]],
            )
            self._errors.extend(CorruptFileError(Path(path), what) for _, path, what in problems)
        return [unmarshalled(record) for records, _ in results for record in records]


# What a share of a scan found: the matching records (marshallable), and the corrupt files
# (model, path, problem).
_Found = tuple[list[VersionRecord], list[tuple[str, str, str]]]
# A child process is worth its fork only with this many models to read.
_MODELS_PER_CHILD = 8

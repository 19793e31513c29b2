"""The registry API: MLflow's registry methods (same names, parameters and meaning) over a
folder, plus what MLflow lacks (metrics, params, lineage, history).

Every write takes the registry's lock, re-reads what it changes, and writes each file
atomically; reads take no lock. No printing and no formatting happens here.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from modelreg import events as ev
from modelreg import workflow
from modelreg.config import ARCHIVING_STAGES, Config, effective_lock_timeout, parse_config
from modelreg.entities import (
    HistoryEntry,
    ModelVersion,
    RegisteredModel,
    iso_to_ms,
    now_iso,
)
from modelreg.errors import (
    ConflictError,
    CorruptFileError,
    InvalidInputError,
    NotFoundError,
    RegistryError,
    RuleViolationError,
)
from modelreg.index import VersionIndex
from modelreg.names import validate_alias, validate_model_name, validate_tag
from modelreg.refs import Ref, artifact_location, as_ref, local_artifact_path, parse_uri
from modelreg.store import CONFIG_FILE, GITIGNORE, Store, _crash_point, atomic_write, find_root

if TYPE_CHECKING:
    from modelreg.hooks import DeliveryResult

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _consistent(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Make a read method see no write half-applied (see ``Store.consistent``): it runs
    again when a write changed files while it read."""

    @functools.wraps(method)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        registry = args[0]
        assert isinstance(registry, Registry)
        # A read run again must not report a corrupt file twice: the only lists a read
        # adds to are the caller's ``errors``, so every list argument is cut back to
        # what it held before each attempt.
        lists = [(arg, len(arg)) for arg in (*args, *kwargs.values()) if isinstance(arg, list)]

        def attempt() -> _T:
            for arg, length in lists:
                del arg[length:]
            return method(*args, **kwargs)

        return registry._store.consistent(attempt)

    return read


@dataclass(frozen=True)
class RegisterResult:
    """What ``register`` did: the version, and whether it was created or already existed."""

    version: ModelVersion
    created: bool


class Registry:
    """A model registry in a folder.

    ``Registry(path)`` opens one: ``path``, else ``$MODELREG_REGISTRY``, else the nearest
    folder at or above the working directory that holds ``registry.yaml``. Its hooks
    hear every write (``hooks=False``: none); ``on_hook_result`` hears each delivery,
    ``on_hooks_untrusted`` the hooks skipped because this machine has not trusted them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float | None = None,
        hooks: bool = True,
        on_hook_result: Callable[[DeliveryResult], None] | None = None,
        on_hooks_untrusted: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.root = find_root(path)
        self.config = parse_config(Store(self.root).read_config(), self.root / CONFIG_FILE)
        timeout = lock_timeout if lock_timeout is not None else effective_lock_timeout(self.config)
        self._store = Store(self.root, timeout)
        self._index = VersionIndex(self._store)
        self._user: str | None = None
        self._rules: workflow.Rules | None = None
        # Called with every event once its change is durable: all the registry knows of
        # notifications. With ``hooks``, the hooks of registry.yaml subscribe here, for
        # Python code and the command line alike (only once this machine trusts them);
        # skipped hooks are a UserWarning unless ``on_hooks_untrusted`` says otherwise.
        self.subscribers: list[Callable[[ev.Event], None]] = []
        if hooks and self.config.raw.get("hooks"):
            from modelreg import hooks as hooks_module  # one direction: hooks never imports us

            hooks_module.attach(
                self,
                on_result=on_hook_result,
                on_untrusted=on_hooks_untrusted or hooks_module.warn_untrusted,
            )

    @classmethod
    def init(
        cls, path: str | os.PathLike[str] = ".", *, stages: Sequence[str] | None = None
    ) -> Registry:
        """Create a registry folder at ``path`` (which may exist and be empty or not)."""
        root = Path(path)
        if (root / CONFIG_FILE).exists():
            raise ConflictError(f"{root} is already a registry (it has {CONFIG_FILE})")
        config = Config(stages=tuple(stages)) if stages else Config()
        if stages:
            parse_config(config.to_doc(), root / CONFIG_FILE)
        root.mkdir(parents=True, exist_ok=True)
        (root / "models").mkdir(exist_ok=True)
        from modelreg import yamlio

        atomic_write(root / ".gitignore", GITIGNORE.encode())
        atomic_write(root / CONFIG_FILE, yamlio.dumps(config.to_doc()).encode())
        return cls(root)

    @property
    def rules(self) -> workflow.Rules:
        """The promotion rules of registry.yaml (checked when first needed, so that a
        broken rules section does not stop reads; `check` reports it)."""
        if self._rules is None:
            self._rules = workflow.parse_rules(
                self.config.raw.get("rules"), self.config.stages, self.root / CONFIG_FILE
            )
        return self._rules

    @property
    def lock_path(self) -> Path:
        return self._store.lock_path

    @property
    def user(self) -> str:
        if self._user is None:
            from modelreg.lineage import current_user  # subprocess, getpass: writes only

            self._user = current_user()
        return self._user

    # -- registered models -------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model; ConflictError if it exists."""
        validate_model_name(name)
        clean_tags = dict(validate_tag(key, value) for key, value in (tags or {}).items())
        with self._writing() as events:
            self._check_name_free(name)
            stamp = now_iso()
            model = RegisteredModel(
                name=name,
                creation_timestamp=iso_to_ms(stamp),
                last_updated_timestamp=iso_to_ms(stamp),
                description=description,
                user_id=self.user,
                tags=clean_tags,
                history=[self._entry(stamp, "model_created")],
            )
            self._store.ensure_model_dirs(name)
            self._save_model(model)
            events.append(self._event(ev.REGISTERED_MODEL_CREATED, model, stamp))
        return model

    @_consistent
    def get_registered_model(self, name: str) -> RegisteredModel:
        model = self._load_model(name)
        model.latest_versions = self._latest_per_stage(name, self._versions(model))
        return model

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(new_name)
        with self._writing() as events:
            model = self._load_model(name)
            if new_name == name:
                return self.get_registered_model(name)
            self._check_name_free(new_name, renaming=name)
            versions = self._versions(model)
            self._store.rename_model_dir(name, new_name)
            stamp = now_iso()
            model.name = new_name
            self._touch(model, stamp)
            model.history.append(
                self._entry(stamp, "model_renamed", **{"from": name, "to": new_name})
            )
            self._save_model(model)
            for version in versions:
                version.name = new_name
                self._save_version(version)
            events.append(self._event(ev.REGISTERED_MODEL_RENAMED, model, stamp, old_name=name))
        return self.get_registered_model(new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        with self._writing() as events:
            model = self._load_model(name)
            if description is not None and description != model.description:
                stamp = now_iso()
                model.description = description
                self._touch(model, stamp)
                model.history.append(self._entry(stamp, "description_changed"))
                self._save_model(model)
                events.append(self._event(ev.REGISTERED_MODEL_DESCRIPTION_CHANGED, model, stamp))
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        with self._writing() as events:
            model = self._load_model(name)
            protected = [
                mv
                for mv in self._versions(model)
                if self.rules.is_protected(mv.current_stage, name)
            ]
            if protected:
                raise RuleViolationError(
                    f"model '{name}' has versions in protected stages ("
                    + ", ".join(f"version {mv.version} in {mv.current_stage}" for mv in protected)
                    + "); move them to another stage first"
                )
            self._store.remove_model_dir(name)
            events.append(self._event(ev.REGISTERED_MODEL_DELETED, model, now_iso()))

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.set_registered_model_tags(name, {key: value})

    def set_registered_model_tags(
        self, name: str, tags: Mapping[str, Any], remove: Iterable[str] = ()
    ) -> RegisteredModel:
        """Set and remove several tags of a model in one write."""
        clean = dict(validate_tag(key, value) for key, value in tags.items())
        with self._writing() as events:
            model = self._load_model(name)
            stamp = now_iso()
            changes = self._apply_tags(model.tags, model.history, clean, remove, stamp, name)
            if changes:
                self._touch(model, stamp)
                self._save_model(model)
            events.extend(self._tag_events(model, stamp, changes, model_level=True))
        return model

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self._writing() as events:
            model = self._load_model(name)
            if key not in model.tags:
                raise NotFoundError(f"model '{name}' has no tag {key!r}")
            stamp = now_iso()
            changes = self._apply_tags(model.tags, model.history, {}, [key], stamp, name)
            self._touch(model, stamp)
            self._save_model(model)
            events.extend(self._tag_events(model, stamp, changes, model_level=True))

    @_consistent
    def list_registered_models(
        self, errors: list[CorruptFileError] | None = None
    ) -> list[RegisteredModel]:
        """Every model, by name, with its latest version per stage.

        With ``errors``, a corrupt model or version file (or a symlinked model folder) is
        appended there and skipped instead of raised, so everything healthy is listed.
        """
        if errors is None:
            return [self.get_registered_model(name) for name in self._store.model_names()]
        errors.extend(
            CorruptFileError(path, "is a symlink; refusing to follow it")
            for path in self._store.symlinked_model_folders()
        )
        models = []
        for name in self._store.model_names():
            try:
                model = self._load_model(name)
            except CorruptFileError as exc:
                errors.append(exc)
                continue
            model.latest_versions = self._latest_per_stage(name, self._versions(model, errors))
            models.append(model)
        return models

    @_consistent
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        *,
        errors: list[CorruptFileError] | None = None,
    ) -> Any:
        """Models matching the filter, as a list with ``.token`` for the next page.

        With ``errors``, corrupt files are collected there and skipped instead of raised."""
        from modelreg import search

        models = {model.name: model for model in self.list_registered_models(errors)}
        page = search.search(
            (model.to_dict() for model in models.values()),
            filter_string,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            kind="model",
        )
        return search.Page([models[record["name"]] for record in page], page.token)

    # -- model versions ----------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        *,
        metrics: Mapping[str, int | float] | None = None,
        params: Mapping[str, Any] | None = None,
        lineage: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Register a new version of an existing model (MLflow's semantics: never deduplicated)."""
        return self.register(
            name,
            source,
            run_id=run_id,
            tags=tags,
            run_link=run_link,
            description=description,
            metrics=metrics,
            params=params,
            lineage=lineage,
            allow_duplicate=True,
        ).version

    def register(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        metrics: Mapping[str, int | float] | None = None,
        params: Mapping[str, Any] | None = None,
        lineage: Mapping[str, Any] | None = None,
        allow_duplicate: bool = False,
        create_model: bool = False,
    ) -> RegisterResult:
        """Register ``source`` as the next version of ``name``.

        A local artifact gets its sha256 and size recorded. Unless ``allow_duplicate``,
        a re-run of the model's newest registration returns that version instead of
        creating another: the same local artifact (same source, same sha256), or for a
        remote source (``s3://``...) the same source *and* the same ``run_id`` (without a
        run id a remote source is always a new version: its content may have changed).
        A re-run that asks for details the version does not have (another tag value,
        metric, param, description, run id or link) raises ConflictError and changes
        nothing: it is never applied in part.
        """
        validate_model_name(name)
        if not isinstance(source, str) or not source:
            raise InvalidInputError("a version needs a source: the path or URI of its artifact")
        clean_tags = dict(validate_tag(key, value) for key, value in (tags or {}).items())
        clean_metrics = _numbers(metrics or {}, "metric")
        clean_params = _params(params or {})
        # Work that needs no lock (hashing, git) is done before taking it.
        stored_source, artifact = self._artifact(source)
        from modelreg.lineage import git_lineage

        # Looked up on every registration: a script may edit or commit code between two.
        recorded = {"user": self.user, **git_lineage(Path.cwd(), self.root)}
        recorded.update(lineage or {})
        with self._writing() as events:
            if create_model and not self._store.model_exists(name):
                self._check_name_free(name)
                events.append(self._create_model_unlocked(name))
            model = self._load_model(name)
            newest = None if allow_duplicate else self._newest_version(model)
            if newest is not None and _same_registration(newest, stored_source, artifact, run_id):
                differences = _unapplied_details(
                    newest,
                    {"run id": run_id, "run link": run_link, "description": description},
                    {"tag": clean_tags, "metric": clean_metrics, "param": clean_params},
                )
                if differences:
                    raise ConflictError(
                        f"{name} version {newest.version} is already registered from this "
                        f"artifact ({_sameness(newest)}) with other details, which a re-run "
                        "does not change:\n  - "
                        + "\n  - ".join(differences)
                        + "\nNothing was registered or changed. Change them on version "
                        f"{newest.version} (modelreg tag / update), or register a new "
                        "version (--allow-duplicate)."
                    )
                return RegisterResult(newest, created=False)
            number = self._next_version_number(model)
            stamp = now_iso()
            version = ModelVersion(
                name=name,
                version=number,
                creation_timestamp=iso_to_ms(stamp),
                last_updated_timestamp=iso_to_ms(stamp),
                description=description,
                user_id=self.user,
                source=stored_source,
                run_id=run_id,
                run_link=run_link,
                tags=clean_tags,
                metrics=clean_metrics,
                params=clean_params,
                artifact_sha256=artifact[0] if artifact else None,
                artifact_size=artifact[1] if artifact else None,
                lineage=recorded,
                history=[self._entry(stamp, "version_registered", version=number)],
            )
            # The version file first: a crash before model.yaml is updated leaves a
            # version above last_version, which the next write skips over and
            # `check --repair` records; never a counter pointing at nothing.
            self._save_version(version)
            _crash_point("register:version_written")
            model.last_version = number
            self._touch(model, stamp)
            self._save_model(model)
            events.append(self._event(ev.MODEL_VERSION_CREATED, version, stamp))
        return RegisterResult(version, created=True)

    def register_model(
        self, model_uri: str, name: str, tags: Mapping[str, Any] | None = None
    ) -> ModelVersion:
        """``mlflow.register_model``: create the model if needed, then a version of it.

        The run id is taken from ``runs:/RUN_ID/path`` URIs.
        """
        return self.register(
            name,
            model_uri,
            run_id=run_id_of(model_uri),
            tags=tags,
            allow_duplicate=True,
            create_model=True,
        ).version

    @_consistent
    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        model = self._load_model(name)
        return self._load_version(model, _version_number(version))

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            mv = self._load_version(model, number)
            if description is not None and description != mv.description:
                stamp = now_iso()
                mv.description = description
                mv.last_updated_timestamp = iso_to_ms(stamp)
                mv.history.append(self._entry(stamp, "description_changed"))
                self._save_version(mv)
                events.append(self._event(ev.MODEL_VERSION_DESCRIPTION_CHANGED, mv, stamp))
        return mv

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        comment: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        """Move a version to ``stage``; with ``archive_existing_versions`` the other
        versions in that stage move to Archived (only for Staging and Production).

        The registry's rules for the target stage must be met (RuleViolationError lists
        every unmet condition); ``force`` bypasses them when the rules allow forcing,
        and is recorded in the history with ``comment`` as the reason."""
        target = self.config.canonical_stage(stage)
        if force and not comment:
            raise InvalidInputError("a forced transition needs a reason: give a comment")
        if archive_existing_versions and target not in ARCHIVING_STAGES:
            raise InvalidInputError(
                f"archive_existing_versions can only be used when moving to "
                f"{' or '.join(ARCHIVING_STAGES)}, not {target}"
            )
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            mv = self._load_version(model, number)
            stamp = now_iso()
            previous = mv.current_stage
            forced = False
            rule = self.rules.for_stage(target, mv.name)
            if rule is not None and previous != target:
                forced = self._enforce_rules(rule, mv, previous, force)
                archive_existing_versions = archive_existing_versions or rule.archive_existing
            if previous != target and not archive_existing_versions:
                self._refuse_second_in_exclusive_stage(model, mv, target)
            # The others leave the stage before this version enters it: at no instant
            # (for a reader, or after a crash half-way) does the stage hold two versions
            # the caller wanted alone there.
            archived: list[ModelVersion] = []
            if archive_existing_versions:
                for other in self._versions(model):
                    if other.version != number and other.current_stage == target:
                        self._set_stage(
                            other,
                            "Archived",
                            stamp,
                            f"archived: version {number} entered {target}",
                            archived_by=number,
                        )
                        self._save_version(other)
                        _crash_point("transition:archived_one")
                        archived.append(other)
            if previous != target:
                self._set_stage(mv, target, stamp, comment, forced=forced or None)
                self._save_version(mv)
            # A transition that changes nothing must not rewrite model.yaml.
            if previous != target or archived:
                self._touch(model, stamp)
                self._save_model(model)
            if previous != target:
                events.append(
                    self._event(
                        ev.MODEL_VERSION_STAGE_CHANGED,
                        mv,
                        stamp,
                        from_stage=previous,
                        to_stage=target,
                        archived_versions=[other.version for other in archived],
                        comment=comment,
                    )
                )
            events.extend(
                self._event(
                    ev.MODEL_VERSION_STAGE_CHANGED,
                    other,
                    stamp,
                    from_stage=target,
                    to_stage="Archived",
                    archived_by=number,
                )
                for other in archived
            )
        return mv

    def delete_model_version(self, name: str, version: int | str) -> None:
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            deleted = self._load_version(model, number)
            if self.rules.is_protected(deleted.current_stage, name):
                raise RuleViolationError(
                    f"{name} version {number} is in {deleted.current_stage}, which the "
                    "registry's rules protect from deletion; move it to another stage first"
                )
            if model.last_version < number:
                # Record the number as handed out before its file goes, so that a crash
                # below can never let the next register reuse it.
                model.last_version = number
                self._save_model(model)
            # The rename into .trash is the delete; only then are the aliases dropped. A
            # crash in between leaves aliases pointing at a trashed version, which
            # `check --repair` finishes; never a live version that lost its aliases.
            trashed = self._store.trash_version_file(name, number)
            stamp = now_iso()
            dropped = [alias for alias, target in model.aliases.items() if target == number]
            for alias in dropped:
                del model.aliases[alias]
                model.history.append(
                    self._entry(stamp, "alias_deleted", alias=alias, version=number)
                )
            model.history.append(self._entry(stamp, "version_deleted", version=number))
            self._touch(model, stamp)
            self._save_model(model)
            _crash_point("delete_version:model_saved")
            self._store.discard(trashed)
            events.extend(
                self._event(ev.MODEL_VERSION_ALIAS_DELETED, deleted, stamp, alias=alias)
                for alias in dropped
            )
            events.append(self._event(ev.MODEL_VERSION_DELETED, deleted, stamp))

    @_consistent
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        *,
        errors: list[CorruptFileError] | None = None,
    ) -> Any:
        """Versions matching the filter, as a list with ``.token`` for the next page.

        With ``errors``, corrupt files are collected there and skipped instead of raised."""
        from modelreg import search

        page = self.search_version_records(
            filter_string, max_results, order_by, page_token, errors=errors
        )
        versions = [ModelVersion(**record) for record in page]
        histories: dict[str, dict[int, list[HistoryEntry]]] = {}
        for mv in versions:
            if mv.name not in histories:
                fields = self._index.fields(mv.name)
                histories[mv.name] = {item["version"]: item["history"] for item in fields}
            mv.history = histories[mv.name].get(mv.version, [])
        return search.Page(versions, page.token)

    @_consistent
    def search_version_records(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        *,
        errors: list[CorruptFileError] | None = None,
    ) -> Any:
        """:meth:`search_model_versions` as the versions' fields without their history,
        for callers that print them (``ModelVersion(**record)`` builds one)."""
        from modelreg import filters, search

        pinned = None
        if isinstance(filter_string, str) and filter_string.strip():
            # A filter that names its models reads only their folders.
            pinned = filters.names_required(filters.parse(filter_string))
        return search.search(
            self._version_records(errors, pinned),
            filter_string,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            kind="version",
        )

    @_consistent
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each stage (of ``stages``, or of every stage)."""
        model = self._load_model(name)
        latest = self._latest_per_stage(name, self._versions(model))
        if not stages:
            return latest
        wanted = {self.config.canonical_stage(stage) for stage in stages}
        return [mv for mv in latest if mv.current_stage in wanted]

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self.set_model_version_tags(name, version, {key: value})

    def set_model_version_tags(
        self,
        name: str,
        version: int | str,
        tags: Mapping[str, Any],
        remove: Iterable[str] = (),
    ) -> ModelVersion:
        """Set and remove several tags of a version in one write."""
        clean = dict(validate_tag(key, value) for key, value in tags.items())
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            mv = self._load_version(model, number)
            stamp = now_iso()
            changes = self._apply_tags(
                mv.tags, mv.history, clean, remove, stamp, f"{name} {number}"
            )
            if changes:
                mv.last_updated_timestamp = iso_to_ms(stamp)
                self._save_version(mv)
            events.extend(self._tag_events(mv, stamp, changes, model_level=False))
        return mv

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            mv = self._load_version(model, number)
            if key not in mv.tags:
                raise NotFoundError(f"version {number} of model '{name}' has no tag {key!r}")
            stamp = now_iso()
            changes = self._apply_tags(mv.tags, mv.history, {}, [key], stamp, name)
            mv.last_updated_timestamp = iso_to_ms(stamp)
            self._save_version(mv)
            events.extend(self._tag_events(mv, stamp, changes, model_level=False))

    # -- aliases -----------------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, comment: str | None = None
    ) -> ModelVersion:
        validate_alias(alias)
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            target = self._load_version(model, number)  # the version must exist
            previous = model.aliases.get(alias)
            if previous != number:
                stamp = now_iso()
                model.aliases[alias] = number
                entry = self._entry(
                    stamp, "alias_set", alias=alias, version=number, comment=comment
                )
                if previous is not None:
                    entry["previous_version"] = previous
                model.history.append(entry)
                self._touch(model, stamp)
                self._save_model(model)
                target = self._load_version(model, number)
                events.append(
                    self._event(
                        ev.MODEL_VERSION_ALIAS_CREATED,
                        target,
                        stamp,
                        alias=alias,
                        previous_version=previous,
                    )
                )
        return target

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        with self._writing() as events:
            model = self._load_model(name)
            if alias not in model.aliases:
                raise NotFoundError(f"model '{name}' has no alias {alias!r}")
            stamp = now_iso()
            number = model.aliases.pop(alias)
            model.history.append(self._entry(stamp, "alias_deleted", alias=alias, version=number))
            self._touch(model, stamp)
            self._save_model(model)
            # An alias left pointing at a missing version (a hand edit, an interrupted
            # delete) is still deleted; its event then carries the model.
            target: RegisteredModel | ModelVersion = model
            with contextlib.suppress(NotFoundError):
                target = self._load_version(model, number)
            events.append(
                self._event(
                    ev.MODEL_VERSION_ALIAS_DELETED, target, stamp, alias=alias, version=number
                )
            )

    @_consistent
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        model = self._load_model(name)
        if alias not in model.aliases:
            raise NotFoundError(f"model '{name}' has no alias {alias!r}")
        number = model.aliases[alias]
        try:
            return self._load_version(model, number)
        except NotFoundError:
            # A dangling alias (a hand edit, an interrupted delete): say which alias.
            raise NotFoundError(
                f"alias '{alias}' of model '{name}' points to version {number}, "
                "which does not exist"
            ) from None

    @_consistent
    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self.artifact_location(self.get_model_version(name, version))

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy a version (``models:/...``) to the next version of ``dst_name`` (created
        if needed), keeping its source, run, tags, metrics and params."""
        if not isinstance(src_model_uri, str):
            raise InvalidInputError(f"expected a models:/ URI, not {src_model_uri!r}")
        src = self.resolve_version(parse_uri(src_model_uri))
        return self.register(
            dst_name,
            src.source,
            run_id=src.run_id,
            tags=src.tags,
            run_link=src.run_link,
            description=src.description,
            metrics=src.metrics,
            params=src.params,
            lineage={**src.lineage, "copied_from": f"models:/{src.name}/{src.version}"},
            allow_duplicate=True,
            create_model=True,
        ).version

    # -- approval workflow (beyond MLflow) ---------------------------------------------

    def request_transition(
        self, name: str, version: int | str, stage: str, comment: str | None = None
    ) -> ModelVersion:
        """Ask for ``version`` to be moved to ``stage`` (recorded for approvers)."""
        return self._record_decision(
            name, version, stage, workflow.REQUESTED, ev.MODEL_VERSION_TRANSITION_REQUESTED, comment
        )

    def approve_transition(
        self, name: str, version: int | str, stage: str, comment: str | None = None
    ) -> ModelVersion:
        """Approve moving ``version`` to ``stage``; counts once per user, for this version,
        stage and artifact, until the version changes stage."""
        return self._record_decision(
            name, version, stage, workflow.APPROVED, ev.MODEL_VERSION_APPROVED, comment
        )

    def reject_transition(
        self, name: str, version: int | str, stage: str, comment: str | None = None
    ) -> ModelVersion:
        """Reject moving ``version`` to ``stage``; blocks it until the same user approves."""
        return self._record_decision(
            name, version, stage, workflow.REJECTED, ev.MODEL_VERSION_REJECTED, comment
        )

    def comment_model_version(self, name: str, version: int | str, text: str) -> ModelVersion:
        """Add a comment to a version's history."""
        if not text.strip():
            raise InvalidInputError("a comment needs some text")
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            mv = self._load_version(model, number)
            stamp = now_iso()
            mv.history.append(self._entry(stamp, workflow.COMMENTED, comment=text))
            self._save_version(mv)
            events.append(self._event(ev.MODEL_VERSION_COMMENTED, mv, stamp, comment=text))
        return mv

    def promote(
        self,
        name: str,
        version: int | str,
        stage: str,
        *,
        comment: str | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> tuple[ModelVersion, list[workflow.CheckResult]]:
        """Validate a version for ``stage`` and move it there under the rules.

        Runs the stage's checks and records their outcome and metrics, then evaluates the
        rule's requirement. When validation fails the version is tagged with the rules'
        failure tag (``validation=failed``), the reasons are recorded, and
        RuleViolationError is raised; when it passes it is tagged ``validation=passed``
        and the transition follows, which still needs the approvals the rules ask for.
        A version already in ``stage`` is left as it is, and no check runs."""
        target = self.config.canonical_stage(stage)
        mv = self.get_model_version(name, version)
        if mv.current_stage == target:
            return mv, []
        rule = self.rules.for_stage(target, mv.name)
        if rule is None:
            moved = self.transition_model_version_stage(name, mv.version, target, comment=comment)
            return moved, []
        results = [
            workflow.run_check(check, self._check_env(mv, target), self.root, on_output)
            for check in rule.checks
        ]
        if results:
            mv = self._record_checks(mv, target, results)
        failures = [
            f"check '{result.name}' {result.reason}" for result in results if not result.passed
        ]
        if rule.require is not None:
            failures += workflow.explain_requirement(rule.require, mv.to_dict())
        key, value = self.rules.failure_tag
        if failures:
            self._record_validation_failure(mv, target, failures)
            raise RuleViolationError(
                f"{name} version {mv.version} failed validation for {target}:\n  - "
                + "\n  - ".join(failures)
                + f"\n(tagged {key}={value})",
                failures,
            )
        self.set_model_version_tags(name, mv.version, {key: "passed"})
        moved = self.transition_model_version_stage(name, mv.version, target, comment=comment)
        return moved, results

    def _refuse_second_in_exclusive_stage(
        self, model: RegisteredModel, mv: ModelVersion, stage: str
    ) -> None:
        if stage not in self.config.exclusive_stages:
            return
        holders = [
            other.version
            for other in self._versions(model)
            if other.current_stage == stage and other.version != mv.version
        ]
        if holders:
            listed = ", ".join(str(number) for number in holders)
            raise RuleViolationError(
                f"{stage} holds one version per model (exclusive_stages in registry.yaml) "
                f"and {mv.name} version {listed} is already there: archive it first, or "
                "move with --archive-existing (archive_existing_versions=True)"
            )

    def _enforce_rules(
        self, rule: workflow.StageRule, mv: ModelVersion, previous: str, force: bool
    ) -> bool:
        """Raise unless the rules allow the move; True when it goes ahead by force."""
        start = workflow.last_stage_change(mv.history) + 1
        state = workflow.window(mv, rule.stage, start, len(mv.history))
        unmet = workflow.unmet_conditions(self.rules, rule, mv, previous, state)
        if not unmet:
            return False
        if force and self.rules.allow_force:
            return True
        listing = "\n  - ".join(unmet)
        hint = (
            "\n(--force is not allowed by this registry's rules: rules.allow_force)"
            if force
            else ""
        )
        raise RuleViolationError(
            f"cannot move {mv.name} version {mv.version} from {previous} to {rule.stage}:"
            f"\n  - {listing}{hint}",
            unmet,
        )

    def _record_decision(
        self,
        name: str,
        version: int | str,
        stage: str,
        action: str,
        event_type: str,
        comment: str | None,
    ) -> ModelVersion:
        target = self.config.canonical_stage(stage)
        number = _version_number(version)
        with self._writing() as events:
            model = self._load_model(name)
            mv = self._load_version(model, number)
            if action != workflow.REQUESTED:
                self._check_approver(mv, target)
            stamp = now_iso()
            mv.history.append(
                self._entry(stamp, action, stage=target, comment=comment, **workflow.entry_sha(mv))
            )
            self._save_version(mv)
            events.append(self._event(event_type, mv, stamp, stage=target, comment=comment))
        return mv

    def _check_approver(self, mv: ModelVersion, stage: str) -> None:
        rule = self.rules.for_stage(stage, mv.name)
        if rule is None:
            return
        if rule.approvers is not None and self.user not in rule.approvers:
            raise RuleViolationError(
                f"{self.user} may not approve or reject moves to {stage}; the approvers are: "
                + ", ".join(rule.approvers)
            )
        if not self.rules.allow_self_approval:
            start = workflow.last_stage_change(mv.history) + 1
            state = workflow.window(mv, stage, start, len(mv.history))
            if self.user in workflow.self_approvers(mv, state):
                raise RuleViolationError(
                    f"{self.user} requested this move or registered this version and may "
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
                source=self.artifact_location(mv),
                run_id=mv.run_id or "",
                registry=self.root,
            ),
            "MODELREG_STAGE": stage,  # a check's old name for the target stage
        }

    def _record_checks(
        self, mv: ModelVersion, stage: str, results: list[workflow.CheckResult]
    ) -> ModelVersion:
        """Write the check runs into the history and their metrics onto the version."""
        with self._writing() as events:
            model = self._load_model(mv.name)
            current = self._load_version(model, mv.version)
            stamp = now_iso()
            for result in results:
                current.metrics.update(result.metrics)
                current.history.append(
                    self._entry(
                        stamp,
                        workflow.CHECK_RUN,
                        stage=stage,
                        check=result.name,
                        passed=result.passed,
                        exit_code=result.exit_code,
                        seconds=round(result.seconds, 3),
                        metrics=dict(result.metrics) or None,
                        reason=result.reason,
                        **workflow.entry_sha(current),
                    )
                )
            current.last_updated_timestamp = iso_to_ms(stamp)
            self._save_version(current)
            events.extend(
                self._event(
                    ev.MODEL_VERSION_CHECK_COMPLETED,
                    current,
                    stamp,
                    stage=stage,
                    **result.to_dict(),
                )
                for result in results
            )
        return current

    def _record_validation_failure(self, mv: ModelVersion, stage: str, reasons: list[str]) -> None:
        key, value = self.rules.failure_tag
        with self._writing() as events:
            model = self._load_model(mv.name)
            current = self._load_version(model, mv.version)
            stamp = now_iso()
            current.history.append(
                self._entry(stamp, workflow.VALIDATION_FAILED, stage=stage, reasons=reasons)
            )
            changes = self._apply_tags(
                current.tags, current.history, {key: value}, (), stamp, mv.name
            )
            current.last_updated_timestamp = iso_to_ms(stamp)
            self._save_version(current)
            events.extend(self._tag_events(current, stamp, changes, model_level=False))

    # -- references, listing, history (beyond MLflow) ----------------------------------

    @_consistent
    def resolve(self, ref: Ref | str) -> RegisteredModel | ModelVersion:
        """The model or version a reference names: a :class:`Ref` or a string as the
        command line takes it (``NAME``, ``NAME@ALIAS``, ``models:/NAME/VERSION``,
        ``models:/NAME/STAGE``, ``models:/NAME/latest``)."""
        ref = as_ref(ref)
        if ref.selector is None:
            return self.get_registered_model(ref.name)
        model = self._load_model(ref.name)
        selector = ref.selector
        if isinstance(selector, int):
            return self._load_version(model, selector)
        if selector.startswith("@"):
            return self.get_model_version_by_alias(ref.name, selector[1:])
        if selector == "latest":
            newest = self._newest_version(model)
            if newest is None:
                raise NotFoundError(f"model '{ref.name}' has no versions")
            return newest
        stage = self.config.canonical_stage(selector)
        in_stage = [mv for mv in self._versions(model) if mv.current_stage == stage]
        if not in_stage:
            raise NotFoundError(f"model '{ref.name}' has no version in stage {stage}")
        return max(in_stage, key=lambda mv: mv.version)

    @_consistent
    def resolve_version(self, ref: Ref | str) -> ModelVersion:
        """Like :meth:`resolve`, but a bare model name means its newest version."""
        ref = as_ref(ref)
        if ref.selector is None:
            ref = Ref(ref.name, "latest")
        found = self.resolve(ref)
        assert isinstance(found, ModelVersion)
        return found

    def artifact_location(self, ref: ModelVersion | Ref | str) -> str:
        """Where a version's artifact is — exactly what ``modelreg resolve`` prints: an
        absolute path for a local source, else the URI. ``ref`` is a version, or a
        reference as :meth:`resolve_version` takes it (``"churn@champion"``)."""
        mv = ref if isinstance(ref, ModelVersion) else self.resolve_version(ref)
        return artifact_location(mv.source, self.root)

    @_consistent
    def list_versions(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        """Every version of one model, ascending.

        With ``errors``, corrupt version files are appended there and skipped instead of
        raised (a corrupt model.yaml still raises: without it no version can be read).
        """
        return self._versions(self._load_model(name), errors)

    @_consistent
    def all_versions(self, errors: list[CorruptFileError] | None = None) -> list[ModelVersion]:
        """Every version of every model; ``errors`` as in :meth:`list_registered_models`."""
        versions: list[ModelVersion] = []
        if errors is not None:
            errors.extend(
                CorruptFileError(path, "is a symlink; refusing to follow it")
                for path in self._store.symlinked_model_folders()
            )
        for name in self._store.model_names():
            try:
                versions.extend(self.list_versions(name, errors))
            except CorruptFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
        return versions

    @_consistent
    def history(self, ref: Ref | str) -> list[HistoryEntry]:
        """Everything recorded about a model or a version, oldest first; ``ref`` as
        :meth:`resolve` takes it."""
        ref = as_ref(ref)
        model = self._load_model(ref.name)
        if ref.selector is None:
            entries = list(model.history)
            for mv in self._versions(model):
                entries.extend({**entry, "version": mv.version} for entry in mv.history)
        else:
            mv = self.resolve_version(ref)
            entries = [entry for entry in model.history if entry.get("version") == mv.version]
            entries.extend({**entry, "version": mv.version} for entry in mv.history)
        return sorted(entries, key=lambda entry: str(entry.get("timestamp", "")))

    # -- internals ---------------------------------------------------------------------

    def _entry(self, stamp: str, action: str, **fields: Any) -> HistoryEntry:
        entry: HistoryEntry = {"timestamp": stamp, "user_id": self.user, "action": action}
        entry.update({key: value for key, value in fields.items() if value is not None})
        return entry

    def _touch(self, model: RegisteredModel, stamp: str) -> None:
        model.last_updated_timestamp = iso_to_ms(stamp)

    def _set_stage(
        self, mv: ModelVersion, stage: str, stamp: str, comment: str | None, **extra: Any
    ) -> None:
        mv.history.append(
            self._entry(
                stamp,
                "stage_changed",
                from_stage=mv.current_stage,
                to_stage=stage,
                comment=comment,
                **extra,
            )
        )
        mv.current_stage = stage
        mv.last_updated_timestamp = iso_to_ms(stamp)

    def _apply_tags(
        self,
        target: dict[str, str],
        history: list[HistoryEntry],
        tags: Mapping[str, str],
        remove: Iterable[str],
        stamp: str,
        owner: str,
    ) -> list[tuple[str, str | None]]:
        """Apply tag changes; returns them as (key, new value or None when deleted)."""
        changes: list[tuple[str, str | None]] = []
        for key in remove:
            if key not in target:
                raise NotFoundError(f"{owner} has no tag {key!r}")
            del target[key]
            history.append(self._entry(stamp, "tag_deleted", key=key))
            changes.append((key, None))
        for key, value in tags.items():
            if target.get(key) != value:
                target[key] = value
                history.append(self._entry(stamp, "tag_set", key=key, value=value))
                changes.append((key, value))
        return changes

    def _tag_events(
        self,
        entity: RegisteredModel | ModelVersion,
        stamp: str,
        changes: list[tuple[str, str | None]],
        *,
        model_level: bool,
    ) -> list[ev.Event]:
        set_type = ev.REGISTERED_MODEL_TAG_SET if model_level else ev.MODEL_VERSION_TAG_SET
        deleted_type = (
            ev.REGISTERED_MODEL_TAG_DELETED if model_level else ev.MODEL_VERSION_TAG_DELETED
        )
        return [
            self._event(deleted_type, entity, stamp, key=key)
            if value is None
            else self._event(set_type, entity, stamp, key=key, value=value)
            for key, value in changes
        ]

    @contextlib.contextmanager
    def _writing(self) -> Iterator[list[ev.Event]]:
        """Hold the lock for one write; publish its events once it is durable.

        Events are delivered after the lock is released, so a slow or failing subscriber
        never holds up other writers and never undoes the change."""
        events: list[ev.Event] = []
        with self._store.lock():
            yield events
        for event in events:
            for subscriber in self.subscribers:
                subscriber(event)

    def _event(
        self, kind: str, entity: RegisteredModel | ModelVersion, stamp: str, **data: Any
    ) -> ev.Event:
        return ev.Event(
            type=kind,
            entity=entity.to_dict(),
            user=self.user,
            timestamp=stamp,
            data={key: value for key, value in data.items() if value is not None},
        )

    def _check_name_free(self, name: str, renaming: str | None = None) -> None:
        for existing in self._store.model_names():
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
        if self._store.version_numbers(name):
            raise ConflictError(
                f"the folder of model '{name}' holds versions but no model.yaml; restore "
                f"{self._store.model_file(name)} (e.g. from git) or run `modelreg check`"
            )

    def _create_model_unlocked(self, name: str) -> ev.Event:
        stamp = now_iso()
        model = RegisteredModel(
            name=name,
            creation_timestamp=iso_to_ms(stamp),
            last_updated_timestamp=iso_to_ms(stamp),
            user_id=self.user,
            history=[self._entry(stamp, "model_created")],
        )
        self._store.ensure_model_dirs(name)
        self._save_model(model)
        return self._event(ev.REGISTERED_MODEL_CREATED, model, stamp)

    def _load_model(self, name: str) -> RegisteredModel:
        validate_model_name(name)
        doc = self._store.read_model(name)
        model = RegisteredModel.from_doc(doc, self._store.model_file(name))
        # The folder is the name: a rename interrupted between renaming the folder and
        # rewriting the files leaves the old name inside them (`check --repair` fixes it).
        model.name = name
        return model

    def _load_version(self, model: RegisteredModel, number: int) -> ModelVersion:
        # One parser for single reads and for the cache: the same checks either way.
        fields, _ = self._index.parse_version(model.name, number)
        aliases = sorted(alias for alias, target in model.aliases.items() if target == number)
        return ModelVersion(**fields, aliases=aliases)

    def _versions(
        self, model: RegisteredModel, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        """Every version of ``model`` (through the cache of parsed files)."""
        aliases = self._aliases_by_version(model)
        return [
            ModelVersion(**fields, aliases=aliases.get(fields["version"], []))
            for fields in self._index.fields(model.name, errors)
        ]

    def _version_records(
        self,
        errors: list[CorruptFileError] | None = None,
        names: frozenset[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The fields of every version (of the models ``names``, when given) but its
        history, streamed model by model for search, without building entities (the
        cache's fields plus the model's aliases)."""
        for name in self._store.model_names():
            if names is not None and name not in names:
                continue
            try:
                model_fields, versions = self._index.read(name, errors, history=False)
            except CorruptFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
                continue
            aliases = self._aliases_by_version(RegisteredModel(**model_fields))
            for fields in versions:
                fields["aliases"] = aliases.get(fields["version"], [])
                yield fields

    @staticmethod
    def _aliases_by_version(model: RegisteredModel) -> dict[int, list[str]]:
        by_version: dict[int, list[str]] = {}
        for alias, number in sorted(model.aliases.items()):
            by_version.setdefault(number, []).append(alias)
        return by_version

    def _newest_version(self, model: RegisteredModel) -> ModelVersion | None:
        numbers = self._store.version_numbers(model.name)
        return self._load_version(model, numbers[-1]) if numbers else None

    def _next_version_number(self, model: RegisteredModel) -> int:
        # last_version is a counter kept so numbers are never reused; a version file
        # above it (a crash between the two writes) is stepped over, never overwritten.
        number = model.last_version + 1
        while self._store.version_file(model.name, number).exists():
            number += 1
        return number

    def _latest_per_stage(self, name: str, versions: list[ModelVersion]) -> list[ModelVersion]:
        latest: dict[str, ModelVersion] = {}
        for mv in versions:
            if mv.current_stage not in latest or mv.version > latest[mv.current_stage].version:
                latest[mv.current_stage] = mv
        order = {stage: index for index, stage in enumerate(self.config.stages)}
        return sorted(latest.values(), key=lambda mv: (order.get(mv.current_stage, 99), mv.version))

    def _save_model(self, model: RegisteredModel) -> None:
        self._store.write(self._store.model_file(model.name), model.to_doc())

    def _save_version(self, mv: ModelVersion) -> None:
        self._store.write(self._store.version_file(mv.name, mv.version), mv.to_doc())

    def _artifact(self, source: str) -> tuple[str, tuple[str, int] | None]:
        """The source as stored, and (sha256, size) when it is an existing local path.

        A local path inside the folder that holds the registry is stored relative to
        the registry, so clones on other machines resolve it; `resolve` prints it
        absolute."""
        local = local_artifact_path(source)
        if local is None:
            return source, None
        if not local.exists():
            return source, None
        absolute = local.resolve()
        from modelreg.lineage import artifact_digest

        digest = artifact_digest(absolute)
        project = self.root.resolve().parent
        if absolute.is_relative_to(project):
            return os.path.relpath(absolute, self.root.resolve()), digest
        return str(absolute), digest

    # -- import (modelreg import mlruns / mlflow) ---------------------------------------

    def import_model(
        self,
        model: RegisteredModel,
        versions: Sequence[ModelVersion],
        *,
        origin: str | None = None,
        source_name: str | None = None,
        replace: bool = False,
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
        import dataclasses

        name = validate_model_name(model.name)
        incoming = sorted(
            (self._imported_version(name, mv) for mv in versions), key=lambda mv: mv.version
        )
        numbers = [mv.version for mv in incoming]
        if len(set(numbers)) != len(numbers):
            raise InvalidInputError(f"import of model '{name}' lists a version number twice")
        tags = dict(validate_tag(key, value) for key, value in model.tags.items())
        aliases = {validate_alias(alias): _version_number(n) for alias, n in model.aliases.items()}
        with self._writing() as events:
            stamp = now_iso()
            created = not self._store.model_exists(name)
            if created:
                self._check_name_free(name)
                current = dataclasses.replace(
                    model, tags={}, aliases={}, latest_versions=[], last_version=0, history=[]
                )
            else:
                current = self._load_model(name)
            present = set(self._store.version_numbers(name))
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
                    existing = self._load_version(current, mv.version)
                    differences = _version_differences(existing, mv)
                    if not differences:
                        unchanged.append(mv.version)
                    elif replace:
                        mv.history = [
                            *existing.history,
                            self._entry(stamp, "imported", origin=origin, replaced=differences),
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
                                f"{key} {_shown(getattr(existing, key))} here, "
                                f"{_shown(getattr(mv, key))} imported"
                                for key in differences
                            )
                        )
                elif mv.version <= current.last_version:
                    deleted_here.append(mv.version)
                else:
                    mv.history = [self._entry(stamp, "imported", origin=origin)]
                    writes.append(mv)
                    imported.append(mv.version)
            if conflicts:
                raise ConflictError(
                    f"model '{name}' here differs from the one being imported: "
                    f"{'; '.join(conflicts)} (--replace, or replace=True, lets the import win)"
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
            entry = self._entry(
                stamp,
                "imported",
                origin=origin,
                source_name=source_name,
                versions=[mv.version for mv in writes] or None,
            )
            if created:
                # model.yaml first, without aliases and with no numbers taken, so that an
                # interrupted import leaves a model that the same import completes.
                current.history = [entry]
                self._store.ensure_model_dirs(name)
                self._save_model(current)
                events.append(self._event(ev.REGISTERED_MODEL_CREATED, current, stamp))
            else:
                current.history.append(entry)
            for mv in writes:
                self._save_version(mv)
                if mv.version in imported:
                    events.append(
                        self._event(ev.MODEL_VERSION_CREATED, mv, stamp, imported_from=origin)
                    )
            current.description = new_description
            current.tags = new_tags
            current.aliases = new_aliases
            current.last_version = last_version
            if current.history[0].get("action") == "imported":
                # Created by an import: the origin's times are the model's times.
                current.creation_timestamp = model.creation_timestamp
                current.last_updated_timestamp = max(
                    model.last_updated_timestamp, current.last_updated_timestamp
                )
            else:
                self._touch(current, stamp)
            self._save_model(current)
        return result

    def _imported_version(self, name: str, mv: ModelVersion) -> ModelVersion:
        """A checked copy of an imported version: canonical stage, valid tags, no aliases
        (they live in model.yaml)."""
        import dataclasses

        if not isinstance(mv.source, str):
            raise InvalidInputError(f"version {mv.version} of '{name}' has no source")
        return dataclasses.replace(
            mv,
            name=name,
            version=_version_number(mv.version),
            current_stage=self.config.canonical_stage(mv.current_stage),
            tags=dict(validate_tag(key, value) for key, value in mv.tags.items()),
            aliases=[],
            metrics=_numbers(mv.metrics, "metric"),
            params=_params(mv.params),
            lineage=dict(mv.lineage),
            history=[],
        )


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
    "creation_timestamp",
)


def _same_registration(
    newest: ModelVersion, source: str, artifact: tuple[str, int] | None, run_id: str | None
) -> bool:
    """Whether registering ``source`` again is a re-run of ``newest``'s registration."""
    if newest.source != source:
        return False
    if artifact is not None:
        return newest.artifact_sha256 == artifact[0]
    return run_id is not None and newest.artifact_sha256 is None and newest.run_id == run_id


def _sameness(mv: ModelVersion) -> str:
    return "same source and sha256" if mv.artifact_sha256 else "same source and run id"


def _unapplied_details(
    mv: ModelVersion,
    fields: Mapping[str, Any],
    mappings: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """What a re-run of ``register`` asks for that ``mv`` does not already have."""
    recorded = {"run id": mv.run_id, "run link": mv.run_link, "description": mv.description}
    found = [
        f"{what}: {_shown(value)} given, {_shown(recorded[what])} recorded"
        for what, value in fields.items()
        if value is not None and value != recorded[what]
    ]
    have: dict[str, Mapping[str, Any]] = {
        "tag": mv.tags,
        "metric": mv.metrics,
        "param": mv.params,
    }
    for kind, given in mappings.items():
        for key, value in given.items():
            if key not in have[kind]:
                found.append(f"{kind} {key!r}: {_shown(value)} given, none recorded")
            elif have[kind][key] != value:
                found.append(
                    f"{kind} {key!r}: {_shown(value)} given, {_shown(have[kind][key])} recorded"
                )
    return found


def _version_differences(existing: ModelVersion, imported: ModelVersion) -> list[str]:
    return [key for key in _IMPORTED_FIELDS if getattr(existing, key) != getattr(imported, key)]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _merge_value(
    current: Any, imported: Any, what: str, replace: bool, conflicts: list[str]
) -> Any:
    if imported is None or imported == current:
        return current
    if not replace:
        conflicts.append(f"{what} {current!r} here, {imported!r} imported")
        return current
    return imported


def _merge_mapping(
    current: Mapping[str, Any],
    imported: Mapping[str, Any],
    what: str,
    replace: bool,
    conflicts: list[str],
) -> dict[str, Any]:
    """``current`` with what only the import has added; differing values are conflicts
    (or, with ``replace``, the imported value)."""
    merged = dict(current)
    for key, value in imported.items():
        if key in merged and merged[key] != value and not replace:
            conflicts.append(f"{what} {key!r} is {merged[key]!r} here, {value!r} imported")
            continue
        merged[key] = value
    return dict(sorted(merged.items()))


def run_id_of(model_uri: str) -> str | None:
    """The run id of a ``runs:/RUN_ID/path`` URI, else None."""
    if model_uri.startswith("runs:/"):
        run_id = model_uri.removeprefix("runs:/").lstrip("/").split("/", 1)[0]
        return run_id or None
    return None


def _version_number(version: int | str) -> int:
    if isinstance(version, bool):
        raise InvalidInputError(f"invalid version {version!r}: expected a positive integer")
    if isinstance(version, int):
        number = version
    else:
        text = str(version).strip()
        if not text.isdigit():
            raise InvalidInputError(f"invalid version {version!r}: expected a positive integer")
        number = int(text)
    if number < 1:
        raise InvalidInputError(f"invalid version {version!r}: expected a positive integer")
    return number


def _numbers(values: Mapping[str, Any], kind: str) -> dict[str, int | float]:
    result: dict[str, int | float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"{kind} {key!r} must be a number, not {value!r}")
        result[str(key)] = _finite(value, kind, key)
    return result


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters are text or numbers; a number must be finite, like a metric."""
    return {str(key): _finite(value, "param", key) for key, value in values.items()}


def _finite(value: Any, kind: str, key: Any) -> Any:
    # NaN and infinity (also 1e999, which overflows) have no JSON form: refused here so
    # that every JSON modelreg writes stays strict (see jsonio).
    from modelreg.jsonio import is_finite_number

    if not is_finite_number(value):
        raise InvalidInputError(
            f"{kind} {key!r} must be a finite number, not {value!r} "
            "(NaN and infinity cannot be stored)"
        )
    return value


__all__ = ["RegisterResult", "Registry", "RegistryError", "run_id_of"]

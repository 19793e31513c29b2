"""The writes of a version's life: register it, describe and tag it, move it between
stages, delete it.

Each is one change (:mod:`modelreg.session`): one lock, one time, one publication of
its events. Registering with a stage or an alias (the command line's ``register
--stage/--alias``) is deliberately successive changes, not one: the version stays
registered when the rules then refuse the stage (exit 5), and a re-run applies the rest;
a reader may see the new version before its alias, never a change half-made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from modelreg import actions, sources, workflow
from modelreg import events as ev
from modelreg.config import ARCHIVING_STAGES
from modelreg.datasets import Dataset
from modelreg.docread import JSONValue
from modelreg.entities import HistoryEntry, ModelVersion, RegisteredModel, iso_to_ms, new_uid
from modelreg.errors import ConflictError, InvalidInputError, RuleViolationError
from modelreg.names import validate_model_name, validate_tag, validate_tag_key
from modelreg.pointintime import lifetime
from modelreg.session import Room
from modelreg.store import _crash_point
from modelreg.values import checked_metrics, checked_params, shown, version_number


@dataclass(frozen=True)
class Details:
    """What a registration records besides its artifact, as the caller gave it (checked
    by ``register``)."""

    run_id: str | None
    tags: Mapping[str, object] | None
    run_link: str | None
    description: str | None
    metrics: Mapping[str, int | float] | None
    params: Mapping[str, JSONValue] | None
    lineage: Mapping[str, JSONValue] | None
    model_id: str | None = None
    # Name -> a path or URI to measure, or a Dataset recorded as given (modelreg.datasets).
    datasets: Mapping[str, str | Dataset] | None = None


@dataclass(frozen=True)
class RegisterResult:
    """What ``register`` did: the version, and whether it was created or already existed."""

    version: ModelVersion
    created: bool
    # What the caller should hear about (the artifact will not travel with a clone).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransitionResult:
    """What ``transition`` did: the version as it is now, and the other versions it moved
    out of the target stage to Archived, ascending (none when it changed nothing)."""

    version: ModelVersion
    archived: tuple[ModelVersion, ...]


class VersionWrites(Room):
    """Register, describe, tag, transition and delete the versions of one registry."""

    def register(
        self,
        name: str,
        source: str,
        details: Details,
        *,
        allow_duplicate: bool,
        create_model: bool,
        must_exist: bool = False,
    ) -> RegisterResult:
        """See :meth:`modelreg.registry.Registry.register`. ``must_exist``: a local path
        must name an existing file or folder (MLflow's own methods accept any source)."""
        validate_model_name(name)
        if not isinstance(source, str) or not source:
            raise InvalidInputError("a version needs a source: the path or URI of its artifact")
        clean_tags = dict(validate_tag(key, value) for key, value in (details.tags or {}).items())
        clean_metrics = checked_metrics(details.metrics or {})
        clean_params = checked_params(details.params or {})
        if details.model_id is not None and (
            not isinstance(details.model_id, str) or not details.model_id.strip()
        ):
            raise InvalidInputError(f"invalid model_id {details.model_id!r}: expected an id")
        # Work that needs no lock (hashing, git, the upload) is done before taking it: an
        # upload interrupted leaves the registry as it was.
        from modelreg.datalineage import resolve_all

        datasets = resolve_all(details.datasets, self._root)
        stored_source, artifact, uri, warnings = self._artifact(source, must_exist)
        from modelreg.lineage import git_lineage

        # Looked up on every registration: a script may edit or commit code between two.
        recorded: dict[str, JSONValue] = {
            "user": self._writer.user,
            **git_lineage(Path.cwd(), self._root),
        }
        recorded.update(details.lineage or {})
        catalog = self._catalog
        with self._writer.change() as change:
            if create_model and not catalog.store.model_exists(name):
                catalog.check_name_free(name)
                change.create_model(change.new_model(name))
            model = catalog.load_model(name)
            named = sources.version_named_by(stored_source)
            if named is not None:
                # Another version's artifact: pin it now (see modelreg.sources).
                origin = sources.artifact_of(
                    catalog.resolve_version(named), catalog.resolve_version
                )
                recorded[sources.STORAGE_LOCATION] = origin.source
                if origin.sha256 is not None and origin.size is not None:
                    artifact = (origin.sha256, origin.size)
                uri = uri or origin.uri  # its stored copy: `pull` of a copy gets it
            newest = None if allow_duplicate else catalog.newest_version(model)
            if newest is not None and _same_registration(
                newest, stored_source, artifact, details.run_id
            ):
                differences = _unapplied_details(
                    newest,
                    {
                        "run id": details.run_id,
                        "run link": details.run_link,
                        "description": details.description,
                        "model id": details.model_id,
                    },
                    {
                        "tag": clean_tags,
                        "metric": clean_metrics,
                        "param": clean_params,
                        "data set": _dataset_shown(datasets),
                    },
                )
                if differences:
                    raise ConflictError(
                        f"{name} version {newest.version} is already registered from this "
                        f"artifact ({_sameness(newest)}) with other details, which a re-run "
                        "does not change:\n  - "
                        + "\n  - ".join(differences)
                        + "\nNothing was registered or changed. Change them on version "
                        f"{newest.version} (modelreg tag / update), or register a new "
                        "version (--allow-duplicate).",
                        error_code="RESOURCE_CONFLICT",
                    )
                return RegisterResult(newest, created=False, warnings=warnings)
            number = catalog.next_version_number(model)
            # The history says what it was trained on: name -> digest (else source).
            trained_on: dict[str, JSONValue] = {
                key: each.digest or each.source for key, each in sorted(datasets.items())
            }
            version = ModelVersion(
                name=name,
                version=number,
                creation_timestamp=iso_to_ms(change.stamp),
                last_updated_timestamp=iso_to_ms(change.stamp),
                description=details.description,
                user_id=change.user,
                source=stored_source,
                run_id=details.run_id,
                run_link=details.run_link,
                model_id=details.model_id,
                tags=clean_tags,
                metrics=clean_metrics,
                params=clean_params,
                artifact_sha256=artifact[0] if artifact else None,
                artifact_size=artifact[1] if artifact else None,
                artifact_uri=uri,
                lineage=recorded,
                datasets=datasets,
                history=[
                    change.entry(
                        actions.VERSION_REGISTERED, version=number, datasets=trained_on or None
                    )
                ],
                # Format 1 files keep their shape; format 2 versions carry their identity.
                uid=new_uid() if catalog.split else None,
            )
            # The version file first: a crash before model.yaml is updated leaves a
            # version above last_version, which the next write skips over and
            # `check --repair` records; never a counter pointing at nothing.
            catalog.save_version(version)
            _crash_point("register:version_written")
            model.last_version = number
            change.touch(model)
            catalog.save_model(model)
            change.emit(ev.MODEL_VERSION_CREATED, version)
        return RegisterResult(version, created=True, warnings=warnings)

    def transition(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive: bool,
        comment: str | None,
        force: bool,
    ) -> TransitionResult:
        """See :meth:`modelreg.registry.Registry.transition`."""
        target = self._config.canonical_stage(stage)
        if force and not comment:
            raise InvalidInputError("a forced transition needs a reason: give a comment")
        if archive and target not in ARCHIVING_STAGES:
            raise InvalidInputError(
                f"archive_existing_versions can only be used when moving to "
                f"{' or '.join(ARCHIVING_STAGES)}, not {target}"
            )
        number = version_number(version)
        catalog = self._catalog
        with self._writer.change() as change:
            model = catalog.load_model(name)
            mv = catalog.load_version(model, number)
            previous = mv.current_stage
            forced = False
            rule = self._rules().for_stage(target, mv.name)
            if rule is not None and previous != target:
                forced = self._enforce_rules(rule, mv, previous, force)
                archive = archive or rule.archive_existing
            # A stage that holds one version per model takes the new one and archives
            # the one there (as a merge of two such moves does: the later move wins).
            archive = archive or target in self._config.exclusive_stages
            # The others leave the stage before this version enters it: at no instant
            # (for a reader, or after a crash half-way) does the stage hold two versions
            # the caller wanted alone there.
            archived: list[ModelVersion] = []
            if archive:
                for other in catalog.versions(model):
                    if other.version != number and other.current_stage == target:
                        change.set_stage(
                            other,
                            "Archived",
                            f"archived: version {number} entered {target}",
                            archived_by=number,
                        )
                        catalog.save_version(other)
                        _crash_point("transition:archived_one")
                        archived.append(other)
            if previous != target:
                change.set_stage(mv, target, comment, forced=forced or None)
                catalog.save_version(mv)
            # A transition that changes nothing must not rewrite model.yaml.
            if previous != target or archived:
                change.touch(model)
                catalog.save_model(model)
            if previous != target:
                change.emit(
                    ev.MODEL_VERSION_STAGE_CHANGED,
                    mv,
                    from_stage=previous,
                    to_stage=target,
                    archived_versions=[other.version for other in archived],
                    comment=comment,
                )
            for other in archived:
                change.emit(
                    ev.MODEL_VERSION_STAGE_CHANGED,
                    other,
                    from_stage=target,
                    to_stage="Archived",
                    archived_by=number,
                )
        return TransitionResult(mv, tuple(archived))

    def delete(self, name: str, version: int | str) -> None:
        """See :meth:`modelreg.registry.Registry.delete_model_version`."""
        number = version_number(version)
        catalog = self._catalog
        with self._writer.change() as change:
            model = catalog.load_model(name)
            deleted = catalog.load_version(model, number)
            if self._rules().is_protected(deleted.current_stage, name):
                raise RuleViolationError(
                    f"{name} version {number} is in {deleted.current_stage}, which the "
                    "registry's rules protect from deletion; move it to another stage first"
                )
            if model.last_version < number:
                # Record the number as handed out before its file goes, so that a crash
                # below can never let the next register reuse it.
                model.last_version = number
                catalog.save_model(model)
            # The rename into .trash is the delete; only then are the aliases dropped. A
            # crash in between leaves aliases pointing at a trashed version, which
            # `check --repair` finishes (with record_deleted, as here); never a live
            # version that lost its aliases.
            trashed = catalog.store.trash_version_file(name, number)
            dropped = record_deleted(
                model, number, change.entry, uid=deleted.uid, life=lifetime(deleted)
            )
            change.touch(model)
            catalog.save_model(model)
            _crash_point("delete_version:model_saved")
            catalog.store.discard(trashed)
            for alias in dropped:
                change.emit(ev.MODEL_VERSION_ALIAS_DELETED, deleted, alias=alias)
            change.emit(ev.MODEL_VERSION_DELETED, deleted)

    def describe(self, name: str, version: int | str, description: str | None) -> ModelVersion:
        number = version_number(version)
        with self._writer.change() as change:
            mv = self._catalog.load_version(self._catalog.load_model(name), number)
            if change.describe(mv, description):
                self._catalog.save_version(mv)
                change.emit(ev.MODEL_VERSION_DESCRIPTION_CHANGED, mv)
        return mv

    def tag(
        self, name: str, version: int | str, tags: Mapping[str, object], remove: Iterable[str]
    ) -> ModelVersion:
        clean = dict(validate_tag(key, value) for key, value in tags.items())
        number = version_number(version)
        with self._writer.change() as change:
            mv = self._catalog.load_version(self._catalog.load_model(name), number)
            if change.tag(mv, clean, remove, owner=f"{name} {number}"):
                self._catalog.save_version(mv)
        return mv

    def untag(self, name: str, version: int | str, key: str) -> None:
        """Remove one tag; a tag that is not there is nothing to do (as in MLflow)."""
        validate_tag_key(key)
        number = version_number(version)
        with self._writer.change() as change:
            mv = self._catalog.load_version(self._catalog.load_model(name), number)
            if key not in mv.tags:
                return
            change.tag(mv, {}, [key], owner=name)
            self._catalog.save_version(mv)

    def _enforce_rules(
        self, rule: workflow.StageRule, mv: ModelVersion, previous: str, force: bool
    ) -> bool:
        """Raise unless the rules allow the move; True when it goes ahead by force."""
        rules = self._rules()
        start = workflow.last_stage_change(mv.history) + 1
        state = workflow.window(mv, rule.stage, start, len(mv.history))
        unmet = workflow.unmet_conditions(rules, rule, mv, previous, state)
        if not unmet:
            return False
        if force and rules.allow_force:
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

    def _artifact(
        self, source: str, must_exist: bool
    ) -> tuple[str, tuple[str, int] | None, str | None, tuple[str, ...]]:
        """The source as stored, (sha256, size) when it is an existing local path, the
        stored copy's URI when the registry has an artifact store, and warnings.

        A local path inside the project that holds the registry is stored relative to
        the registry, so clones on other machines resolve it; `resolve` prints it
        absolute (see :func:`modelreg.artifacts.local.find_local`)."""
        from modelreg.artifacts.local import find_local, travel_warning

        local = find_local(source, self._root, must_exist=must_exist)
        if isinstance(local, str):
            return local, None, None, ()
        store = self._config.artifact_store
        if store is None:
            warning = travel_warning(local, self._root) if must_exist else None
            return local.stored, local.digest, None, (warning,) if warning else ()
        from modelreg.artifacts.store import ArtifactStore

        uri = ArtifactStore(store, self._root).upload(local.path, *local.digest)
        return local.stored, local.digest, uri, ()


def record_deleted(
    model: RegisteredModel,
    number: int,
    entry: Callable[..., HistoryEntry],
    *,
    unless_recorded: bool = False,
    uid: str | None = None,
    life: Mapping[str, JSONValue] | None = None,
) -> list[str]:
    """Record in ``model`` that its version ``number`` is gone: drop the aliases that
    point at it, record the delete in its history and keep the number handed out.
    Returns the aliases dropped. ``entry(action, **fields)`` makes the entries.

    The one way a delete is recorded: by ``delete_model_version``, and by ``check
    --repair`` finishing a delete interrupted after the file went (``unless_recorded``:
    the delete may have recorded itself before it was interrupted). ``uid`` is the
    deleted version's, recorded in format 2 (None is left out of the entry); ``life``,
    when and in which stages it lived (:func:`modelreg.pointintime.lifetime`), too."""
    dropped = [alias for alias, target in model.aliases.items() if target == number]
    for alias in dropped:
        del model.aliases[alias]
        model.history.append(entry(actions.ALIAS_DELETED, alias=alias, version=number))
    recorded = unless_recorded and any(
        item.get("action") == actions.VERSION_DELETED and item.get("version") == number
        for item in model.history
    )
    if not recorded:
        # The deleted version's uid (format 2) goes to its tombstone (layout.py).
        extra = {**(life or {}), **({} if uid is None else {"uid": uid})}
        model.history.append(entry(actions.VERSION_DELETED, version=number, **extra))
    model.last_version = max(model.last_version, number)
    return dropped


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
    fields: Mapping[str, object],
    mappings: Mapping[str, Mapping[str, object]],
) -> list[str]:
    """What a re-run of ``register`` asks for that ``mv`` does not already have."""
    recorded: dict[str, object] = {
        "run id": mv.run_id,
        "run link": mv.run_link,
        "description": mv.description,
        "model id": mv.model_id,
    }
    found = [
        f"{what}: {shown(value)} given, {shown(recorded[what])} recorded"
        for what, value in fields.items()
        if value is not None and value != recorded[what]
    ]
    have: dict[str, Mapping[str, object]] = {
        "tag": mv.tags,
        "metric": mv.metrics,
        "param": mv.params,
        "data set": _dataset_shown(mv.datasets),
    }
    for kind, given in mappings.items():
        for key, value in given.items():
            if key not in have[kind]:
                found.append(f"{kind} {key!r}: {shown(value)} given, none recorded")
            elif have[kind][key] != value:
                found.append(
                    f"{kind} {key!r}: {shown(value)} given, {shown(have[kind][key])} recorded"
                )
    return found


def _dataset_shown(datasets: Mapping[str, Dataset]) -> dict[str, str]:
    """Data sets as a re-run of ``register`` compares them: source and digest."""
    return {
        name: f"{each.source} ({each.digest or 'no digest'})" for name, each in datasets.items()
    }

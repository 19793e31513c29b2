"""Moving to and from MLflow.

* :class:`MlrunsSource` reads MLflow's ``mlruns/models`` file store directly, without
  MLflow: the store MLflow 3.13 stopped opening unless ``MLFLOW_ALLOW_FILE_STORE=true``.
* :class:`MlflowSource` reads any registry MLflow's client can open (a server, a
  database), and :func:`export_models` writes to one; both need the ``mlflow`` extra,
  imported only inside the functions that use it.
* :func:`import_models` writes what a source yields into a :class:`Registry` with the
  same version numbers, stages, aliases, tags, descriptions, users and timestamps, and
  the dataset inputs of each version's run as its data sets (:mod:`modelreg.mlflow_datasets`).

The layout of a file store (``mlflow/store/model_registry/file_store.py``)::

    mlruns/models/NAME/meta.yaml                  name, description, timestamps (epoch ms)
    mlruns/models/NAME/tags/KEY                   the tag's value is the file's text;
                                                  a key with '/' is a nested path
    mlruns/models/NAME/aliases/ALIAS              the version number, as text
    mlruns/models/NAME/version-N/meta.yaml        source, run_id, run_link, current_stage,
                                                  user_id, status, timestamps, model_id
    mlruns/models/NAME/version-N/tags/KEY

A deleted version keeps its folder with ``current_stage: Deleted_Internal``; MLflow
numbers the next version after the highest folder, deleted or not, and so does modelreg.
A version's run is ``mlruns/EXPERIMENT/RUN_ID`` (see :meth:`MlrunsSource._run_inputs`).

Nothing here prints: progress and messages go to a :class:`Reporter` the caller gives.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import socket
import sys
import unicodedata
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from modelreg import actions, jsonio, refs, sources, structs, yamlio
from modelreg.docread import Document
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import (
    ConflictError,
    CorruptFileError,
    InvalidInputError,
    NotFoundError,
    RegistryError,
)
from modelreg.lineage import artifact_digest
from modelreg.mlflow_datasets import LINEAGE_KEY, RunInput, datasets_of_run, run_inputs_of
from modelreg.names import (
    MAX_NAME_LENGTH,
    is_valid_model_name,
    validate_alias,
    validate_model_name,
)
from modelreg.registry import Registry

MLFLOW_EXTRA = "pip install 'modelreg[mlflow]'"
DELETED_STAGE = "Deleted_Internal"  # how MLflow marks a deleted (soft-deleted) version
PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow 3 keeps prompts as registered models
# Export: the modelreg version an MLflow version holds when their numbers differ.
SOURCE_VERSION_TAG = "modelreg.source_version"
# Export: a version created only to use up a number modelreg deleted; deleted again.
PLACEHOLDER_TAG = "modelreg.placeholder"
PLACEHOLDER_SOURCE = "modelreg://placeholder/deleted"
# Export: a stage MLflow cannot hold (a custom stage, or a MLflow without stages).
STAGE_TAG = "modelreg.stage"
MLFLOW_STAGES = ("None", "Staging", "Production", "Archived")
# Export: a local artifact is uploaded to a run in this experiment (as MLflow's log_model
# would); the MLflow version's source is the uploaded copy, and these tags keep the
# version's own source and run id here, which an import maps back.
EXPORT_EXPERIMENT = "modelreg-export"
LOCAL_SOURCE_TAG = "modelreg.source"
LOCAL_RUN_ID_TAG = "modelreg.run_id"
# Export: the tags of an upload run, by which a re-run finds it instead of making another.
RUN_MODEL_TAG = "modelreg.model"
RUN_VERSION_TAG = "modelreg.version"
RUN_SHA256_TAG = "modelreg.sha256"
UPLOAD_FOLDER = "model"  # in the run's artifacts, as MLflow's log_model(artifact_path=...)


# -- reporting -----------------------------------------------------------------------------


class Reporter(Protocol):
    """Where a long run reports its progress and its messages for people."""

    def start(self, total: int) -> None: ...

    def advance(self, label: str) -> None:
        """Start on the next item, ``label`` (the one before it is done)."""

    def note(self, text: str) -> None: ...


class SilentReporter:
    """No progress; the notes go to ``note`` (or nowhere)."""

    def __init__(self, note: Callable[[str], None] | None = None) -> None:
        self._note = note

    def start(self, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass

    def note(self, text: str) -> None:
        if self._note is not None:
            self._note(text)


class _ProgressReporter:
    """A Rich progress bar on stderr, one step per model."""

    def __init__(self, progress: Any, note: Callable[[str], None]) -> None:
        self._progress = progress
        self._task: Any = None
        self._started = 0
        self._note = note

    def start(self, total: int) -> None:
        self._task = self._progress.add_task("", total=total)

    def advance(self, label: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=self._started, description=label)
            self._started += 1

    def note(self, text: str) -> None:
        self._note(text)


@contextlib.contextmanager
def progress_reporter(note: Callable[[str], None]) -> Iterator[Reporter]:
    """A progress bar on stderr when stderr is a terminal; in a pipe, only the notes."""
    if not sys.stderr.isatty():
        yield SilentReporter(note)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True, markup=False, highlight=False)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield _ProgressReporter(progress, note)


# -- the summary -------------------------------------------------------------------------


@dataclass
class Summary:
    """What an import or an export did, model by model; printed at the end."""

    action: str  # "import" or "export"
    origin: str
    target: str
    dry_run: bool = False
    interrupted: bool = False
    models: list[str] = field(default_factory=list)
    versions: int = 0  # written (import) or created (export)
    unchanged: int = 0  # already there with the same data
    replaced: int = 0  # import --replace: versions overwritten
    skipped: list[Document] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)
    remapped: list[Document] = field(default_factory=list)
    failed: list[Document] = field(default_factory=list)
    _errors: list[RegistryError] = field(default_factory=list, repr=False)

    def skip(self, model: str, version: int | None, reason: str) -> None:
        self.skipped.append({"model": model, "version": version, "reason": reason})

    def fail(self, model: str, error: RegistryError) -> None:
        self.failed.append({"model": model, "error": error.message})
        self._errors.append(error)

    def fail_version(self, model: str, version: int, error: RegistryError) -> None:
        """One version that could not be moved (the rest of its model was)."""
        self.failed.append({"model": model, "version": version, "error": error.message})
        named = RegistryError(f"'{model}' version {version}: {error.message}")
        named.exit_code = error.exit_code
        self._errors.append(named)

    def to_dict(self) -> Document:
        return {
            "action": self.action,
            "origin": self.origin,
            "target": self.target,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "models": len(self.models),
            "versions": self.versions,
            "unchanged": self.unchanged,
            "replaced": self.replaced,
            "skipped": list(self.skipped),
            "renamed": list(self.renamed),
            "remapped": list(self.remapped),
            "failed": list(self.failed),
        }

    def error(self) -> RegistryError | None:
        """One error for the models that failed (with the first one's exit code)."""
        if not self._errors:
            return None
        first = self._errors[0]
        versions = sum(1 for item in self.failed if item.get("version") is not None)
        models = len(self.failed) - versions
        counts = [
            f"{count} {what}{'s' if count > 1 else ''}"
            for count, what in ((models, "model"), (versions, "version"))
            if count
        ]
        error = RegistryError(
            f"{' and '.join(counts)} could not be {self.action}ed "
            f"(listed under 'failed'); the first: {first.message}"
        )
        error.exit_code = first.exit_code
        return error


# -- names -----------------------------------------------------------------------------


def propose_name(name: str) -> str:
    """The folder-safe name an MLflow name that the folder cannot hold is imported as.

    Deterministic: letters lose their accents (``ü`` → ``u``), every run of other
    characters becomes one ``-``, leading and trailing ``-``, ``.`` and ``_`` go, the
    result is cut to the maximum length, an empty result is ``model``, and a Windows
    reserved name (``CON``, ``nul.v1``) gets ``_`` after its first part.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-._")
    text = text[:MAX_NAME_LENGTH].rstrip("-._") or "model"
    if not is_valid_model_name(text):  # still invalid: only a Windows reserved name remains
        head, dot, rest = text.partition(".")
        text = (head + "_" + dot + rest)[:MAX_NAME_LENGTH].rstrip("-.")
    return text


@dataclass
class NamePlan:
    """The registry name of every source model: kept, renamed or skipped (with why)."""

    targets: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def plan_names(
    names: Sequence[str],
    renames: Mapping[str, str] | None = None,
    *,
    skip_invalid: bool = False,
) -> NamePlan:
    """Give every MLflow name a registry name, deterministically.

    ``renames`` (``--rename OLD=NEW``) come first; then every name the folder can hold
    keeps it, in sorted order; then the others get :func:`propose_name`, with ``-2``,
    ``-3``... when that is taken (names that differ only in case count as taken: the
    folder must work on macOS and Windows). With ``skip_invalid`` those are skipped.
    """
    plan = NamePlan()
    claimed: dict[str, str] = {}  # lower-case registry name -> the source name holding it
    for old, new in (renames or {}).items():
        if old not in names:
            raise InvalidInputError(f"--rename {old}={new}: there is no model named '{old}'")
        validate_model_name(new)
        holder = claimed.get(new.lower())
        if holder is not None:
            raise InvalidInputError(
                f"--rename {old}={new}: '{holder}' is already imported as '{plan.targets[holder]}'"
            )
        claimed[new.lower()] = old
        plan.targets[old] = new
        if new != old:
            plan.renamed[old] = new
    pending: list[str] = []
    for name in sorted(names):
        if name in plan.targets:
            continue
        if is_valid_model_name(name) and name.lower() not in claimed:
            claimed[name.lower()] = name
            plan.targets[name] = name
        else:
            pending.append(name)
    for name in pending:
        base = propose_name(name)
        candidate, counter = base, 1
        while candidate.lower() in claimed:
            counter += 1
            suffix = f"-{counter}"
            candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if skip_invalid:
            plan.skipped[name] = _name_problem(name) + f" (it would be imported as '{candidate}')"
            continue
        claimed[candidate.lower()] = name
        plan.targets[name] = candidate
        plan.renamed[name] = candidate
    return plan


def _name_problem(name: str) -> str:
    try:
        validate_model_name(name)
    except InvalidInputError as exc:
        return exc.message
    return f"model name '{name}' differs from another one only in case"


# -- what a source yields ------------------------------------------------------------------


@dataclass
class SourceModel:
    """One MLflow model as modelreg entities, under its MLflow name.

    ``model.last_version`` counts the deleted versions too: their numbers are never
    handed out again. ``problems`` are parts that could not be imported (an invalid
    alias, a dangling one), each reported."""

    model: RegisteredModel
    versions: list[ModelVersion]
    deleted: list[int] = field(default_factory=list)
    skip_reason: str | None = None
    problems: list[str] = field(default_factory=list)


class Source(Protocol):
    origin: str

    def names(self) -> list[str]: ...

    def read(self, name: str) -> SourceModel: ...


def _text(value: Any) -> str | None:
    """MLflow's optional strings: absent, null and empty all mean "none"."""
    if value is None:
        return None
    text = str(value)
    return text or None


def _millis(value: Any, fallback: int) -> int:
    if isinstance(value, bool):
        return fallback
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def _finish(
    name: str,
    meta: Mapping[str, Any],
    tags: dict[str, str],
    aliases: Mapping[str, Any],
    versions: list[ModelVersion],
    deleted: list[int],
) -> SourceModel:
    """Build the SourceModel: aliases checked against our rules and the live versions."""
    live = {mv.version for mv in versions}
    problems: list[str] = []
    for mv in versions:
        problems.extend(_drop_non_finite(mv))
    clean_aliases: dict[str, int] = {}
    for alias, target in sorted(aliases.items()):
        try:
            validate_alias(alias)
            number = int(str(target).strip())
        except (InvalidInputError, ValueError) as exc:
            problems.append(f"alias {alias!r} not imported: {exc}")
            continue
        if number not in live:
            problems.append(f"alias {alias!r} not imported: version {number} does not exist")
            continue
        clean_aliases[alias] = number
    created = _millis(meta.get("creation_timestamp"), 0)
    updated = _millis(meta.get("last_updated_timestamp"), created)
    model = RegisteredModel(
        name=name,
        creation_timestamp=created,
        last_updated_timestamp=max(updated, created),
        description=_text(meta.get("description")),
        user_id=_text(meta.get("user_id")),
        tags=tags,
        aliases=clean_aliases,
        last_version=max([0, *live, *deleted]),
    )
    skip = "an MLflow prompt, not a model" if tags.get(PROMPT_TAG) == "true" else None
    return SourceModel(model, versions, sorted(deleted), skip, problems)


def _drop_non_finite(mv: ModelVersion) -> list[str]:
    """Leave out metrics and params that are NaN or infinite (MLflow logs them; modelreg
    refuses them, see jsonio) and say which."""
    problems = []
    for kind, values in (("metric", mv.metrics), ("param", mv.params)):
        for key, value in list(values.items()):
            if not jsonio.is_finite_number(value):
                del values[key]
                problems.append(
                    f"version {mv.version}: {kind} {key!r} not imported: {value!r} "
                    "is not a finite number"
                )
    return problems


def _version_entity(
    name: str,
    meta: Mapping[str, Any],
    tags: dict[str, str],
    inputs: Sequence[RunInput] = (),
) -> ModelVersion:
    """A version as MLflow shows it; ``inputs``: the dataset inputs of its run."""
    created = _millis(meta.get("creation_timestamp"), 0)
    lineage: dict[str, Any] = {}
    datasets, kept = datasets_of_run(inputs)
    if kept:
        lineage[LINEAGE_KEY] = kept
    # Where MLflow resolved a models:/ source to: the artifact itself, for `resolve`.
    location = _text(meta.get("storage_location"))
    if location and location != meta.get("source"):
        lineage["mlflow_storage_location"] = location
    source = str(meta.get("source") or "")
    run_id = _text(meta.get("run_id"))
    if LOCAL_SOURCE_TAG in tags:
        # Exported from a registry with its local artifact uploaded: that registry's
        # source and run come back; MLflow's copy of the artifact stays known.
        tags = dict(tags)
        if source and source != tags[LOCAL_SOURCE_TAG]:
            lineage["mlflow_storage_location"] = source
        source = tags.pop(LOCAL_SOURCE_TAG)
        run_id = _text(tags.pop(LOCAL_RUN_ID_TAG, None))
    return ModelVersion(
        name=name,
        version=int(meta["version"]),
        creation_timestamp=created,
        last_updated_timestamp=max(_millis(meta.get("last_updated_timestamp"), created), created),
        current_stage=_text(meta.get("current_stage")) or "None",
        description=_text(meta.get("description")),
        user_id=_text(meta.get("user_id")),
        source=source,
        run_id=run_id,
        run_link=_text(meta.get("run_link")),
        model_id=_text(meta.get("model_id")),
        status=_text(meta.get("status")) or "READY",
        tags=tags,
        metrics=dict(meta.get("metrics") or {}),
        params=dict(meta.get("params") or {}),
        lineage=lineage,
        datasets=datasets,
    )


# -- the mlruns file store, read without MLflow ---------------------------------------------


class MlrunsSource:
    """MLflow's ``mlruns`` file store: ``PATH`` is the ``mlruns`` folder (with a
    ``models`` folder), the ``models`` folder itself, or a ``file:`` URI of either."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        text = os.fspath(path)
        if text.startswith("file:"):
            parsed = urllib.parse.urlparse(text)
            text = urllib.parse.unquote(parsed.path)
        root = Path(text).expanduser()
        if (root / "models").is_dir():
            models = root / "models"
        elif root.name == "models" and root.is_dir():
            models = root
        elif root.exists():
            raise NotFoundError(f"{root} is not an MLflow file store: it has no 'models' folder")
        else:
            raise NotFoundError(f"no MLflow file store at {root}")
        self.models_dir = models.resolve()
        self.origin = self.models_dir.parent.as_uri()
        self._folders: dict[str, Path] | None = None
        self._experiments: list[Path] | None = None

    def _model_folders(self) -> dict[str, Path]:
        if self._folders is None:
            folders: dict[str, Path] = {}
            for folder in sorted(self.models_dir.iterdir()):
                if folder.is_symlink() or not (folder / "meta.yaml").is_file():
                    continue
                meta = _read_meta(folder / "meta.yaml")
                folders[str(meta.get("name") or folder.name)] = folder
            self._folders = folders
        return self._folders

    def names(self) -> list[str]:
        return sorted(self._model_folders())

    def read(self, name: str) -> SourceModel:
        folder = self._model_folders()[name]
        meta = _read_meta(folder / "meta.yaml")
        versions: list[ModelVersion] = []
        deleted: list[int] = []
        for version_dir in sorted(folder.glob("version-*")):
            if not version_dir.is_dir() or version_dir.is_symlink():
                continue
            version_meta = _read_meta(version_dir / "meta.yaml")
            if not str(version_meta.get("version", "")).isdigit():
                raise CorruptFileError(version_dir / "meta.yaml", "'version' must be a number")
            if version_meta.get("current_stage") == DELETED_STAGE:
                deleted.append(int(str(version_meta["version"])))
                continue
            inputs = self._run_inputs(_text(version_meta.get("run_id")))
            tags = _read_values(version_dir / "tags")
            versions.append(_version_entity(name, version_meta, tags, inputs))
        versions.sort(key=lambda mv: mv.version)
        # The aliases folder is the truth (MLflow reads it, not the copy in meta.yaml).
        aliases = _read_values(folder / "aliases")
        return _finish(name, meta, _read_values(folder / "tags"), aliases, versions, deleted)

    def _run_inputs(self, run_id: str | None) -> list[RunInput]:
        """The dataset inputs of a run of this store (none when it is not here)::

        mlruns/EXPERIMENT/RUN_ID/inputs/INPUT_ID/meta.yaml    source_type DATASET,
                                                              source_id, tags
        mlruns/EXPERIMENT/datasets/SOURCE_ID/meta.yaml        name, digest, source_type,
                                                              source, schema, profile
        """
        if run_id is None or not _FILE_ID.fullmatch(run_id):
            return []
        if self._experiments is None:
            root = self.models_dir.parent
            self._experiments = sorted(
                path for path in root.iterdir() if path.is_dir() and path != self.models_dir
            )
        for experiment in self._experiments:
            run_dir = experiment / run_id
            if (run_dir / "meta.yaml").is_file():
                return _mlruns_inputs(experiment, run_dir / "inputs")
        return []


# The ids the file store names folders with (run ids, dataset ids): nothing else is
# joined to a path.
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _mlruns_inputs(experiment: Path, folder: Path) -> list[RunInput]:
    if not folder.is_dir():
        return []
    found: list[RunInput] = []
    for input_dir in sorted(folder.iterdir()):
        if not (input_dir / "meta.yaml").is_file():
            continue
        edge = _read_meta(input_dir / "meta.yaml")
        dataset_id = str(edge.get("source_id") or "")
        if edge.get("source_type") != "DATASET" or not _FILE_ID.fullmatch(dataset_id):
            continue  # a model input (MLflow 3), or not one MLflow wrote
        dataset_file = experiment / "datasets" / dataset_id / "meta.yaml"
        if not dataset_file.is_file():
            continue  # MLflow skips it too (with a warning)
        dataset = _read_meta(dataset_file)
        tags = edge.get("tags")
        found.append(
            RunInput.of(
                dataset.get("name"),
                dataset.get("digest"),
                dataset.get("source_type"),
                dataset.get("source"),
                dataset.get("schema"),
                dataset.get("profile"),
                tags if isinstance(tags, Mapping) else None,
            )
        )
    return found


def _read_meta(path: Path) -> Document:
    if not path.is_file():
        raise CorruptFileError(path, "missing: not an MLflow model or version folder")
    doc = yamlio.load(path)
    if not isinstance(doc, dict):
        raise CorruptFileError(path, "expected a mapping of keys to values")
    return doc


def _read_values(folder: Path) -> dict[str, str]:
    """``tags/`` or ``aliases/``: one file per key (nested for keys with '/'), the value
    its text."""
    values: dict[str, str] = {}
    if not folder.is_dir():
        return values
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CorruptFileError(path, f"cannot be read as text: {exc}") from None
            values[path.relative_to(folder).as_posix()] = text
    return values


# -- MLflow's client (the `mlflow` extra) -------------------------------------------------


def _mlflow() -> Any:
    """The ``mlflow`` module, or a one-line error naming the extra to install."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mlflow
    except ImportError as exc:
        if getattr(exc, "name", None) in (None, "mlflow"):
            problem = "MLflow is not installed: install the extra with"
        else:  # MLflow is there, but one of its own dependencies is not
            problem = f"MLflow cannot be imported ({exc}): reinstall the extra with"
        raise InvalidInputError(f"{problem} {MLFLOW_EXTRA}") from None
    return mlflow


@contextlib.contextmanager
def _calling_mlflow() -> Iterator[None]:
    """Around every use of MLflow's client: its errors become ours (by MLflow's error
    code), and its INFO lines (database setup, "waiting for model version") and
    warnings (deprecated stages) stay off the command's stderr."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except _mlflow_error() as exc:
        kind = _ERRORS_BY_CODE.get(_error_code(exc), RegistryError)
        raise kind(f"MLflow: {_short(exc)}") from exc
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


_ERRORS_BY_CODE: dict[str, type[RegistryError]] = {
    "RESOURCE_DOES_NOT_EXIST": NotFoundError,
    "INVALID_PARAMETER_VALUE": InvalidInputError,
    "RESOURCE_ALREADY_EXISTS": ConflictError,
}


def _short(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc).strip().splitlines()[0]


def redact_uri(uri: str) -> str:
    """A tracking URI without a password, fit for history and messages."""
    parsed = urllib.parse.urlsplit(uri)
    if parsed.password is None and parsed.username is None:
        return uri
    host = parsed.hostname or ""
    if parsed.port:
        host += f":{parsed.port}"
    return urllib.parse.urlunsplit(parsed._replace(netloc=host))


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(urllib.parse.unquote(uri.removeprefix("sqlite:///").split("?", 1)[0]))


def _check_reachable(uri: str) -> None:
    """Fail fast on a server that is not there (MLflow's client retries for minutes)."""
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=5).close()
    except OSError as exc:
        raise NotFoundError(
            f"cannot reach the MLflow server at {redact_uri(uri)}: {exc.strerror or exc}"
        ) from None


def _client(tracking_uri: str, registry_uri: str | None, *, must_exist: bool) -> Any:
    mlflow = _mlflow()
    database = _sqlite_path(registry_uri or tracking_uri)
    if must_exist and database is not None and not database.is_file():
        raise NotFoundError(f"no MLflow database at {database}")
    _check_reachable(registry_uri or tracking_uri)
    with _calling_mlflow():
        return mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)


def _mlflow_error() -> type[Exception]:
    from mlflow.exceptions import MlflowException

    exception: type[Exception] = MlflowException
    return exception


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", "") or "")


def _paged(search: Callable[..., Any], **kwargs: Any) -> Iterator[Any]:
    token = None
    while True:
        page = search(page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _name_filter(name: str) -> str | None:
    """MLflow's filter for one model name, or None when no quoting can hold it."""
    if "'" not in name:
        return f"name='{name}'"
    if '"' not in name:
        return f'name="{name}"'
    return None


def _mlflow_versions(client: Any, name: str) -> list[Any]:
    query = _name_filter(name)
    found = _paged(client.search_model_versions, filter_string=query, max_results=10_000)
    return [mv for mv in found if mv.name == name]


def _aliases_of(model: Any) -> dict[str, str]:
    aliases = getattr(model, "aliases", None) or {}
    if isinstance(aliases, Mapping):
        return {str(key): str(value) for key, value in aliases.items()}
    return {str(item.alias): str(item.version) for item in aliases}


def _tags_of(entity: Any) -> dict[str, str]:
    tags = getattr(entity, "tags", None) or {}
    if isinstance(tags, Mapping):
        return {str(key): "" if value is None else str(value) for key, value in tags.items()}
    return {str(tag.key): str(tag.value) for tag in tags}


def _pairs(items: Any) -> Document:
    """MLflow 3 metrics and params of a version (from its logged model), as a mapping."""
    if not items:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    return {str(item.key): item.value for item in items}


class MlflowSource:
    """Any registry MLflow's client opens: ``http(s)://`` servers, ``sqlite:///``,
    ``postgresql://``, ``databricks``... Deleted versions are invisible through the
    client; for ``sqlite:///`` their numbers are read from the database itself."""

    def __init__(self, tracking_uri: str, registry_uri: str | None = None) -> None:
        self.client = _client(tracking_uri, registry_uri, must_exist=True)
        self.origin = redact_uri(registry_uri or tracking_uri)
        self._deleted = _sqlite_deleted(registry_uri or tracking_uri)
        self._inputs: dict[str, list[RunInput]] = {}  # by run id

    def names(self) -> list[str]:
        with _calling_mlflow():
            models = _paged(self.client.search_registered_models, max_results=1000)
            return sorted({model.name for model in models})

    def read(self, name: str) -> SourceModel:
        with _calling_mlflow():
            model = self.client.get_registered_model(name)
            found = _mlflow_versions(self.client, name)
        versions = [self._version(name, mv) for mv in found]
        versions.sort(key=lambda mv: mv.version)
        live = {mv.version for mv in versions}
        # A number below the highest that the client does not show was deleted.
        deleted = {n for n in range(1, max(live, default=0)) if n not in live}
        deleted.update(self._deleted.get(name, ()))
        meta = {
            "description": model.description,
            "creation_timestamp": model.creation_timestamp,
            "last_updated_timestamp": model.last_updated_timestamp,
        }
        return _finish(
            name, meta, _tags_of(model), _aliases_of(model), versions, sorted(deleted - live)
        )

    def _version(self, name: str, mv: Any) -> ModelVersion:
        meta = {
            "version": mv.version,
            "creation_timestamp": mv.creation_timestamp,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "current_stage": mv.current_stage,
            "description": mv.description,
            "user_id": mv.user_id,
            "source": mv.source,
            "run_id": mv.run_id,
            "run_link": mv.run_link,
            "status": mv.status,
            "model_id": getattr(mv, "model_id", None),
            "storage_location": self._storage_location(name, mv),
            "metrics": _pairs(getattr(mv, "metrics", None)),
            "params": _pairs(getattr(mv, "params", None)),
        }
        return _version_entity(name, meta, _tags_of(mv), self._run_inputs(mv.run_id or None))

    def _run_inputs(self, run_id: str | None) -> list[RunInput]:
        """The dataset inputs of a run (none when the tracking store does not have it:
        a version may name a run of another MLflow)."""
        if not run_id:
            return []
        if run_id not in self._inputs:
            try:
                with _calling_mlflow():
                    run = self.client.get_run(run_id)
            except (NotFoundError, InvalidInputError):
                self._inputs[run_id] = []
            else:
                self._inputs[run_id] = _inputs_of_run(run)
        return self._inputs[run_id]

    def _storage_location(self, name: str, mv: Any) -> str | None:
        """Where a ``models:/`` source is (MLflow resolved it when registering)."""
        if not str(mv.source or "").startswith("models:/"):
            return None
        with contextlib.suppress(RegistryError), _calling_mlflow():
            location: str = self.client.get_model_version_download_uri(name, mv.version)
            return location
        return None


def _inputs_of_run(run: Any) -> list[RunInput]:
    """The dataset inputs of a run MLflow's client returned."""
    found = getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []
    return [
        RunInput.of(
            item.dataset.name,
            item.dataset.digest,
            item.dataset.source_type,
            item.dataset.source,
            item.dataset.schema,
            item.dataset.profile,
            {str(tag.key): tag.value for tag in item.tags or ()},
        )
        for item in found
    ]


def _mlflow_inputs(inputs: Sequence[RunInput]) -> list[Any]:
    """Inputs as MLflow's client logs them (``DatasetInput`` entities)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    return [
        DatasetInput(
            Dataset(
                item.name, item.digest, item.source_type, item.source, item.schema, item.profile
            ),
            [InputTag(key, value) for key, value in item.tags],
        )
        for item in inputs
    ]


def _log_missing_inputs(client: Any, run: Any, inputs: Sequence[RunInput]) -> None:
    """Log the inputs a run does not have yet (MLflow knows an input by its dataset's
    name and digest: logging it again would change nothing)."""
    there = {(item.name, item.digest) for item in _inputs_of_run(run)}
    missing = [item for item in inputs if (item.name, item.digest) not in there]
    if missing:
        client.log_inputs(str(run.info.run_id), datasets=_mlflow_inputs(missing))


def open_mlflow(tracking_uri: str, registry_uri: str | None = None) -> Source:
    """The source for a tracking (or registry) URI: a file store (``file:`` or a folder)
    is read directly, without MLflow; anything else through MLflow's client."""
    uri = registry_uri or tracking_uri
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme == "file" or (scheme == "" and Path(uri).expanduser().is_dir()):
        return MlrunsSource(uri)
    return MlflowSource(tracking_uri, registry_uri)


def _sqlite_deleted(uri: str) -> dict[str, list[int]]:
    """Numbers of deleted versions in an MLflow SQLite database, read-only; {} when the
    URI is not one or the schema is not the expected one."""
    path = _sqlite_path(uri)
    if path is None or not path.is_file():
        return {}
    import sqlite3

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT name, version FROM model_versions WHERE current_stage = ?",
                (DELETED_STAGE,),
            ).fetchall()
        finally:
            connection.close()
    except sqlite3.Error:
        return {}
    deleted: dict[str, list[int]] = {}
    for name, version in rows:
        deleted.setdefault(str(name), []).append(int(version))
    return deleted


# -- import ----------------------------------------------------------------------------


def import_models(
    registry: Registry,
    source: Source,
    *,
    models: Sequence[str] = (),
    renames: Mapping[str, str] | None = None,
    skip_invalid_names: bool = False,
    replace: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Import every model of ``source`` (or those named in ``models``, by MLflow name).

    A model that cannot be imported (a conflict with the registry, a corrupt file) is
    recorded under ``failed`` and the others go on; an interrupted import is finished by
    running it again. ``summary`` is filled as it goes, so a caller that catches
    KeyboardInterrupt still has what was done."""
    report = reporter or SilentReporter()
    summary = summary or Summary("import", source.origin, str(registry.root))
    summary.dry_run = dry_run
    names = source.names()
    unknown = [name for name in models if name not in names]
    if unknown:
        raise NotFoundError(f"no model named {', '.join(map(repr, unknown))} in {source.origin}")
    selected = sorted(set(models)) if models else names
    # Planned over every name, so that a model gets the same name with or without --model.
    plan = plan_names(names, renames, skip_invalid=skip_invalid_names)
    for old, new in sorted(plan.renamed.items()):
        if old not in selected:
            continue
        summary.renamed.append({"mlflow_name": old, "name": new})
        if old in (renames or {}):
            report.note(f"importing '{old}' as '{new}', as asked")
            continue
        report.note(
            f"'{old}' cannot be a folder name: importing it as '{new}' "
            "(choose another with --rename, or skip it with --skip-invalid-names)"
        )
    for old, reason in sorted(plan.skipped.items()):
        if old not in selected:
            continue
        summary.skip(old, None, reason)
        report.note(f"skipping '{old}': {reason}")
    report.start(len(selected))
    for name in selected:
        report.advance(name)
        target = plan.targets.get(name)
        if target is not None:
            _import_one(registry, source, name, target, replace, dry_run, report, summary)
    return summary


def _import_one(
    registry: Registry,
    source: Source,
    name: str,
    target: str,
    replace: bool,
    dry_run: bool,
    report: Reporter,
    summary: Summary,
) -> None:
    try:
        found = source.read(name)
    except RegistryError as exc:
        summary.fail(name, exc)
        report.note(f"'{name}' not imported: {exc.message}")
        return
    if found.skip_reason is not None:
        summary.skip(name, None, found.skip_reason)
        return
    for problem in found.problems:
        summary.skip(target, None, problem)
        report.note(f"{target}: {problem}")
    for number in found.deleted:
        summary.skip(target, number, "deleted in MLflow; its number stays used here too")
    model = structs.replace(found.model, name=target)
    versions = [structs.replace(mv, name=target) for mv in found.versions]
    if dry_run:
        summary.models.append(target)
        summary.versions += len(versions)
        return
    origin = f"{source.origin}, model '{name}'"
    try:
        result = registry.import_model(
            model,
            versions,
            origin=origin,
            source_name=name if name != target else None,
            replace=replace,
        )
    except RegistryError as exc:
        summary.fail(name, exc)
        report.note(f"'{name}' not imported: {exc.message}")
        return
    summary.models.append(target)
    summary.versions += len(result.imported)
    summary.replaced += len(result.replaced)
    summary.unchanged += len(result.unchanged)
    for number in result.deleted_here:
        summary.skip(target, number, "deleted in this registry; its number is not reused")


# -- export ----------------------------------------------------------------------------


def export_models(
    registry: Registry,
    tracking_uri: str,
    *,
    registry_uri: str | None = None,
    models: Sequence[str] = (),
    experiment: str = EXPORT_EXPERIMENT,
    reporter: Reporter | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Create the registry's models and versions in MLflow, in order, so that version
    numbers match on a target that does not have the model yet.

    A version whose artifact is a local file or folder is uploaded first, as MLflow's
    ``log_model`` + ``register_model`` would: to a run it creates in ``experiment``, and
    the MLflow version's source is the uploaded copy, with the run's id; the tags
    ``modelreg.source`` and ``modelreg.run_id`` keep what the version had here. A version
    that cannot be exported (its local artifact missing or changed, MLflow refusing it)
    is listed under ``failed``; its number is used up (like a deleted one) only when a
    later version is created, so failed versions at the end keep theirs for a re-run.

    A version's data sets are logged as the dataset inputs of its run
    (:mod:`modelreg.mlflow_datasets` says how): of its upload run, of its own run when
    the target has it, else of a run made for it in ``experiment`` (found again by its
    tags, as an upload run is), and then the MLflow version has that run, with the tags
    ``modelreg.source`` and ``modelreg.run_id``. A version already there gets the inputs
    its run lacks.

    Numbers this registry deleted are used up on the target by a placeholder version,
    created and deleted again (MLflow never reuses a number either). When a number
    cannot match, the MLflow version gets the tag ``modelreg.source_version`` and the
    pair is listed under ``remapped``. Stages, aliases, tags and descriptions follow.
    Running it again changes nothing that is already there: a version counts as there
    when it carries that tag, or has the same number, source and run id (an uploaded
    one: in its ``modelreg.source`` and ``modelreg.run_id`` tags); an upload run is
    found again by its tags instead of being made twice.
    """
    report = reporter or SilentReporter()
    client = _client(tracking_uri, registry_uri, must_exist=False)
    target = redact_uri(registry_uri or tracking_uri)
    hidden = _sqlite_deleted(registry_uri or tracking_uri)
    summary = summary or Summary("export", str(registry.root), target)
    names = list(models) or [model.name for model in registry.list_registered_models()]
    for name in names:
        registry.get_registered_model(name)  # every named model exists, before any write
    uploads = _Uploads(client, registry, experiment)
    report.start(len(names))
    for name in names:
        report.advance(name)
        try:
            with _calling_mlflow():
                _Exporter(client, registry, name, summary, report, hidden, uploads).run()
        except RegistryError as exc:
            summary.fail(name, exc)
            report.note(f"'{name}' not exported: {exc.message}")
    return summary


class _Exporter:
    """The export of one model: its versions in number order, then what follows them."""

    def __init__(
        self,
        client: Any,
        registry: Registry,
        name: str,
        summary: Summary,
        report: Reporter,
        hidden: Mapping[str, Sequence[int]],
        uploads: _Uploads,
    ) -> None:
        self.client = client
        self.uploads = uploads
        self.root = registry.root
        self.name = name
        self.model = registry.get_registered_model(name)
        self.remote = mlflow_name(self.model)  # the model's name in MLflow
        self.versions = {mv.version: mv for mv in registry.list_versions(name)}
        self.summary = summary
        self.report = report
        self.target: dict[int, Any] = {}  # MLflow's versions by number
        # Numbers MLflow deleted, when its database shows them (SQLite).
        self.hidden: set[int] = set(hidden.get(self.remote, ()))
        self.mapping: dict[int, int] = {}  # modelreg number -> MLflow number
        self.placeholders: list[int] = []
        self.created = False  # the model is new on the target: no number is used there yet
        self.pending: set[int] = set()  # our versions not on the target yet
        self.failed: list[int] = []  # ours that could not be exported, numbers not used up

    def run(self) -> None:
        if self.remote != self.name:
            self.summary.renamed.append({"name": self.name, "mlflow_name": self.remote})
            self.report.note(f"exporting '{self.name}' as '{self.remote}', its name in MLflow")
        self._ensure_model()
        for mv in _mlflow_versions(self.client, self.remote):
            self.target[int(mv.version)] = mv
        by_tag = {
            int(tags[SOURCE_VERSION_TAG]): int(mv.version)
            for mv in self.target.values()
            if (tags := _tags_of(mv)).get(SOURCE_VERSION_TAG, "").isdigit()
        }
        self.placeholders = [
            number
            for number, mv in self.target.items()
            if _tags_of(mv).get(PLACEHOLDER_TAG) == "true"
        ]
        there = {number: by_tag[number] for number in self.versions if number in by_tag}
        there.update(
            (number, number)
            for number, mv in self.versions.items()
            if number not in there
            and number in self.target
            and _same_version(self.target[number], mv)
        )
        self.pending = set(self.versions) - set(there)
        highest = max([self.model.last_version, *self.versions])
        for number in range(1, highest + 1):
            mv = self.versions.get(number)
            if mv is None:
                self._use_up_failed()
                self._use_up(number)
            elif number in there:
                self.mapping[number] = there[number]
                self.summary.unchanged += 1
            else:
                self._create(mv)
        for number, mlflow_number in sorted(self.mapping.items()):
            self._sync_version(self.versions[number], mlflow_number)
        self._sync_aliases()
        for number in self.placeholders:
            self.client.delete_model_version(self.remote, str(number))
        self.summary.models.append(self.name)

    def _ensure_model(self) -> None:
        error = _mlflow_error()
        try:
            existing = self.client.get_registered_model(self.remote)
        except error as exc:
            if _error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
                raise
            self.client.create_registered_model(
                self.remote, tags=dict(self.model.tags) or None, description=self.model.description
            )
            self.created = True
            return
        if self.model.description and self.model.description != (existing.description or None):
            self.client.update_registered_model(self.remote, description=self.model.description)
        there = _tags_of(existing)
        for key, value in sorted(self.model.tags.items()):
            if there.get(key) != value:
                self.client.set_registered_model_tag(self.remote, key, value)

    def _next_number(self) -> int:
        return max([0, *self.target, *self.hidden]) + 1

    def _use_up(self, number: int) -> None:
        """A number deleted here: burn it on the target so later numbers still match.

        A server hides deleted versions, so a number burned by an earlier export is
        invisible; it is burned only while that cannot have happened: on a model new on
        the target, or below a version of ours not yet there (an earlier export stopped
        before it, and its placeholders are deleted only once the model is complete)."""
        if number in self.target or number in self.hidden or self._next_number() > number:
            return
        if not (self.created or any(later > number for later in self.pending)):
            return
        placeholder = self.client.create_model_version(
            self.remote,
            PLACEHOLDER_SOURCE,
            tags={PLACEHOLDER_TAG: "true"},
            description=f"placeholder for version {number}, deleted in modelreg",
            await_creation_for=0,
        )
        got = int(placeholder.version)
        self.target[got] = placeholder
        self.placeholders.append(got)

    def _create(self, mv: ModelVersion) -> None:
        error = _mlflow_error()
        tags = dict(mv.tags)
        source, run_id = _export_source(mv), mv.run_id
        inputs = self._inputs(mv)
        try:
            local = self.uploads.local_artifact(mv)
            if local is not None:
                source, run_id = self.uploads.upload(self.remote, mv, local, inputs)
            elif inputs:
                run_id = self._log_inputs(mv, inputs)
            if run_id != mv.run_id:  # a run of the export's: these tags keep ours
                tags[LOCAL_SOURCE_TAG] = mv.source
                if mv.run_id:
                    tags[LOCAL_RUN_ID_TAG] = mv.run_id
            self._use_up_failed()
            created = self.client.create_model_version(
                self.remote,
                source,
                run_id=run_id,
                tags=tags or None,
                run_link=mv.run_link,
                description=mv.description,
                await_creation_for=0,
            )
        except RegistryError as exc:
            self._not_exported(mv, exc)
            return
        except error as exc:
            if _error_code(exc) in _FATAL_CODES:
                raise
            kind = _ERRORS_BY_CODE.get(_error_code(exc), RegistryError)
            self._not_exported(mv, kind(f"MLflow refused it: {_short(exc)}"))
            return
        got = int(created.version)
        self.target[got] = created
        self.mapping[mv.version] = got
        self.summary.versions += 1
        if got != mv.version:
            self.client.set_model_version_tag(
                self.remote, str(got), SOURCE_VERSION_TAG, str(mv.version)
            )
            self.summary.remapped.append(
                {"model": self.name, "version": mv.version, "mlflow_version": got}
            )
            self.report.note(
                f"{self.name} version {mv.version} is version {got} in MLflow (the number "
                f"was taken there); tagged {SOURCE_VERSION_TAG}={mv.version}"
            )

    def _inputs(self, mv: ModelVersion) -> list[RunInput]:
        return run_inputs_of(mv.datasets, mv.lineage.get(LINEAGE_KEY), self.root)

    def _log_inputs(self, mv: ModelVersion, inputs: Sequence[RunInput]) -> str:
        """Log a version's data sets as the inputs of its run, when the target has that
        run; else of a run the export makes for it (as for an upload). The run's id."""
        run = self._target_run(mv.run_id)
        if run is None:
            return self.uploads.inputs_run(self.remote, mv, inputs)
        _log_missing_inputs(self.client, run, inputs)
        return str(run.info.run_id)

    def _target_run(self, run_id: str | None) -> Any:
        """The run ``run_id`` on the target, when it is there and not deleted."""
        if not run_id:
            return None
        error = _mlflow_error()
        try:
            run = self.client.get_run(run_id)
        except error as exc:
            if _error_code(exc) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return run if run.info.lifecycle_stage == "active" else None

    def _sync_inputs(self, mv: ModelVersion, version: str, run_id: str | None) -> None:
        """A version already in MLflow: its run gets the data sets it lacks."""
        inputs = self._inputs(mv)
        if not inputs:
            return
        run = self._target_run(run_id)
        if run is None:
            reason = "data sets not exported: " + (
                f"the run {run_id} of MLflow's version {version} is not there"
                if run_id
                else f"MLflow's version {version} has no run"
            )
            self.summary.skip(self.name, mv.version, reason)
            self.report.note(f"{self.name} version {mv.version}: {reason}")
            return
        _log_missing_inputs(self.client, run, inputs)

    def _not_exported(self, mv: ModelVersion, exc: RegistryError) -> None:
        """A version that cannot be exported: a failure (the export exits non-zero)."""
        self.summary.fail_version(self.name, mv.version, exc)
        self.report.note(f"{self.name} version {mv.version} not exported: {exc.message}")
        self.failed.append(mv.version)

    def _use_up_failed(self) -> None:
        """Use up the numbers of the versions that failed, before a later number is
        created, so that it still matches. Failed versions at the end keep their numbers
        free: exported once they can be, they get them (a re-run burns none)."""
        for number in self.failed:
            self._use_up(number)
        self.failed.clear()

    def _sync_version(self, mv: ModelVersion, number: int) -> None:
        there = self.target[number]
        version = str(number)
        if mv.description and mv.description != (there.description or None):
            self.client.update_model_version(self.remote, version, description=mv.description)
        tags = _tags_of(there)
        for key, value in sorted(mv.tags.items()):
            if tags.get(key) != value:
                self.client.set_model_version_tag(self.remote, version, key, value)
        if mv.current_stage != (there.current_stage or "None"):
            self._set_stage(mv, version, tags)
        self._sync_inputs(mv, version, there.run_id or None)

    def _set_stage(self, mv: ModelVersion, version: str, tags: Mapping[str, str]) -> None:
        error = _mlflow_error()
        if mv.current_stage in MLFLOW_STAGES:
            try:
                self.client.transition_model_version_stage(self.remote, version, mv.current_stage)
                return
            except (error, AttributeError) as exc:  # AttributeError: a MLflow without stages
                problem = _short(exc)
        else:
            problem = "MLflow knows only the stages " + ", ".join(MLFLOW_STAGES)
        if tags.get(STAGE_TAG) != mv.current_stage:
            self.client.set_model_version_tag(self.remote, version, STAGE_TAG, mv.current_stage)
            self.report.note(
                f"{self.name} version {mv.version}: stage {mv.current_stage} recorded as the "
                f"tag {STAGE_TAG} ({problem})"
            )

    def _sync_aliases(self) -> None:
        there = _aliases_of(self.client.get_registered_model(self.remote))
        for alias, number in sorted(self.model.aliases.items()):
            mlflow_number = self.mapping.get(number)
            if mlflow_number is None:
                self.summary.skip(
                    self.name, number, f"alias {alias!r} not exported: its version was not"
                )
            elif there.get(alias) != str(mlflow_number):
                self.client.set_registered_model_alias(self.remote, alias, str(mlflow_number))


# Errors that are about the connection or the model, not about one version's data.
_FATAL_CODES = frozenset(
    {
        "RESOURCE_DOES_NOT_EXIST",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
        "TEMPORARILY_UNAVAILABLE",
        "REQUEST_LIMIT_EXCEEDED",
    }
)


def mlflow_name(model: RegisteredModel) -> str:
    """A model's name in MLflow: the name it was imported from (one the folder could not
    hold, or changed with --rename), unless it was renamed here since; else its own."""
    remote: str | None = None
    for entry in model.history:
        if entry.get("action") == actions.IMPORTED and entry.get("source_name"):
            remote = str(entry["source_name"])
        elif entry.get("action") == actions.MODEL_RENAMED:
            remote = None
    return remote or model.name


def _same_version(there: Any, mv: ModelVersion) -> bool:
    tags = _tags_of(there)
    if LOCAL_SOURCE_TAG in tags:  # uploaded by an export: the tags hold what it had here
        return (
            tags[LOCAL_SOURCE_TAG] == mv.source
            and (tags.get(LOCAL_RUN_ID_TAG) or None) == mv.run_id
        )
    return (there.source or "") == _export_source(mv) and (there.run_id or None) == mv.run_id


class _Uploads:
    """The runs of one export, in one experiment: a version's local artifact is
    uploaded to a run of its own, as MLflow's ``log_model`` would (a server accepts a
    local path as a version's source only inside the artifact folder of the version's
    run); a version with data sets whose run the target does not have gets one too, to
    hold them as its inputs."""

    def __init__(self, client: Any, registry: Registry, experiment: str) -> None:
        self.client = client
        self.registry = registry
        self.experiment = experiment
        self._experiment_id: str | None = None

    def local_artifact(self, mv: ModelVersion) -> Path | None:
        """The version's artifact when its source is a local path (None for a URI),
        checked: it exists, and has the sha256 recorded when it was registered."""
        if not mv.source or refs.local_artifact_path(mv.source) is None:
            return None
        path = Path(self.registry.artifact_location(mv))
        if not path.exists():
            raise NotFoundError(f"its local artifact {path} does not exist: nothing to upload")
        if mv.artifact_sha256:
            digest, _ = artifact_digest(path)
            if digest != mv.artifact_sha256:
                raise CorruptFileError(
                    path,
                    f"changed since version {mv.version} was registered (sha256 "
                    f"{mv.artifact_sha256} recorded, {digest} now): not uploaded",
                )
        return path

    def upload(
        self, remote: str, mv: ModelVersion, path: Path, inputs: Sequence[RunInput] = ()
    ) -> tuple[str, str]:
        """Upload ``path`` to the folder ``model`` of the version's run, which gets the
        version's data sets as its inputs; MLflow's source for it (that folder, as
        ``register_model`` of ``runs:/RUN/model`` records it) and the run id. A file goes
        into the folder: MLflow's versions are folders (``download_artifacts
        ("models:/NAME/N")`` of a file's URI gives an empty one)."""
        from mlflow.utils import uri as mlflow_uri

        joined: Callable[[str, str], str] = mlflow_uri.append_to_uri_path
        run = self._run(remote, mv)
        run_id = str(run.info.run_id)
        try:
            if path.is_dir():
                self.client.log_artifacts(run_id, str(path), UPLOAD_FOLDER)
            else:
                self.client.log_artifact(run_id, str(path), UPLOAD_FOLDER)
            self._log_inputs(run_id, inputs)
        except OSError as exc:
            self._finish(run_id, "FAILED")
            raise RegistryError(f"cannot upload {path}: {exc.strerror or exc}") from None
        except Exception:
            self._finish(run_id, "FAILED")
            raise
        self._finish(run_id, "FINISHED")
        return joined(run.info.artifact_uri, UPLOAD_FOLDER), run_id

    def inputs_run(self, remote: str, mv: ModelVersion, inputs: Sequence[RunInput]) -> str:
        """A run of the version's own (as an upload's, found again by its tags) holding
        its data sets as inputs, for a version whose run the target does not have."""
        run_id = str(self._run(remote, mv).info.run_id)
        try:
            self._log_inputs(run_id, inputs)
        except Exception:
            self._finish(run_id, "FAILED")
            raise
        self._finish(run_id, "FINISHED")
        return run_id

    def _log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        if inputs:  # the run as it is now (one found by a search may lack its inputs)
            _log_missing_inputs(self.client, self.client.get_run(run_id), inputs)

    def _finish(self, run_id: str, status: str) -> None:
        # The upload's own error is the one to report; MLflow's "View run" line would mix
        # with the summary on stdout.
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            self.client.set_terminated(run_id, status)

    def _run(self, remote: str, mv: ModelVersion) -> Any:
        """The version's upload run: the one an earlier export made (found by its tags,
        also when it stopped half-way), or a new one."""
        experiment_id = self._experiment()
        wanted = {
            RUN_MODEL_TAG: remote,
            RUN_VERSION_TAG: str(mv.version),
            LOCAL_SOURCE_TAG: mv.source,
        }
        earlier = _paged(
            self.client.search_runs,
            experiment_ids=[experiment_id],
            filter_string=f"tags.`{RUN_VERSION_TAG}` = '{mv.version}'",
            order_by=["attributes.start_time ASC"],
            max_results=1000,
        )
        for run in earlier:
            if all(run.data.tags.get(key) == value for key, value in wanted.items()):
                return run
        tags = dict(wanted)
        if mv.artifact_sha256:
            tags[RUN_SHA256_TAG] = mv.artifact_sha256
        return self.client.create_run(
            experiment_id, tags=tags, run_name=f"{remote} version {mv.version}"
        )

    def _experiment(self) -> str:
        if self._experiment_id is None:
            self._experiment_id = self._find_or_create_experiment()
        return self._experiment_id

    def _find_or_create_experiment(self) -> str:
        error = _mlflow_error()
        for _attempt in range(2):
            found = self.client.get_experiment_by_name(self.experiment)
            if found is not None:
                if found.lifecycle_stage != "active":
                    raise InvalidInputError(
                        f"the MLflow experiment '{self.experiment}' that holds the uploads "
                        "is deleted: restore it in MLflow, or choose another with --experiment"
                    )
                return str(found.experiment_id)
            try:
                return str(self.client.create_experiment(self.experiment))
            except error as exc:  # another export created it meanwhile: found next time
                if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise
        raise ConflictError(f"the MLflow experiment '{self.experiment}' cannot be created")


def _export_source(mv: ModelVersion) -> str:
    """The source MLflow gets: for a version registered from another (a copy, source
    ``models:/SRC/N``), the artifact it names, as the version numbers may differ there.
    (A version imported from MLflow goes back with the source MLflow gave it.)"""
    pinned = mv.lineage.get(sources.STORAGE_LOCATION)
    return pinned if isinstance(pinned, str) and pinned else mv.source

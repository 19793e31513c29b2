"""Point-in-time answers: the registry as it was at a date, or at a git revision
(``resolve/describe/list --at WHEN``).

``WHEN`` is a date when it starts like one (``YYYY-MM-DD``: an ISO 8601 date or date and
time; a date alone is 00:00 UTC, a time without an offset is UTC) or a time ago (``7d``,
read by :func:`modelreg.history.time_ago`); anything else is a git
revision of the repository that holds the registry (``HEAD~3``, a tag, a branch, a sha),
so a branch named like a date is given as ``refs/heads/2026-11-01``.

At a revision, the registry folder's files at that commit are copied out of git (one
``ls-tree``, one ``cat-file --batch``; never the work tree, the index or a ref) into a
temporary folder that the normal read code answers from, removed afterwards.

At a date, the answer is rebuilt from the recorded histories: a version existed from its
creation (or until its ``version_deleted`` entry), its stage at the time is the last
``stage_changed`` entry by then (the auto-archive of an exclusive stage is one), an alias
pointed where its last ``alias_set``/``alias_deleted`` entry by then said, a tag or a metric
had the value its last entry by then gave. What the history does not record is shown as
it is now, and each such value is named in :attr:`PastView.notes`: a description changed
since (its old text is not recorded), a tag or metric whose only recorded changes came
later (the value it was registered with is not recorded), what an import replaced, and
a deleted version's details (its delete records its creation and stages, see
:func:`lifetime`; not its source; a delete recorded before that keeps only its number:
its stage shows as ``unknown``, its creation as the earliest it can have been).
"""

from __future__ import annotations

import abc
import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol, TypeVar

from modelreg import actions
from modelreg.docread import JSONValue
from modelreg.entities import (
    HistoryEntry,
    ModelVersion,
    RegisteredModel,
    iso_to_datetime,
    iso_to_ms,
    ms_to_iso,
)
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError
from modelreg.history import time_ago
from modelreg.refs import Ref, artifact_location, as_ref
from modelreg.structs import replace

if TYPE_CHECKING:
    from modelreg.catalog import Catalog

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNKNOWN_STAGE = "unknown"  # a deleted version's stage: its file, with its history, is gone
_V = TypeVar("_V")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class When:
    """A moment asked for: a date (``ms``) or a git revision (``commit``), and its text."""

    text: str
    ms: int | None = None
    commit: str | None = None

    def __str__(self) -> str:
        if self.commit is None:
            return self.text
        return f"{self.text} (commit {self.commit[:12]})"


def parse_date(text: str) -> int | None:
    """Epoch milliseconds of a date-looking ``text`` or a time ago (``7d``, as ``history
    --since`` reads it); None when it looks like neither; InvalidInputError when it looks
    like a date but is not a valid ISO 8601 time."""
    text = text.strip()
    moment = time_ago(text)
    if moment is None:
        if not _DATE.match(text):
            return None
        try:
            moment = iso_to_datetime(text)
        except ValueError:
            raise InvalidInputError(
                f"invalid date {text!r}: give an ISO 8601 date or time, e.g. 2026-11-01 or "
                "2026-11-01T12:00Z (UTC unless it has an offset), a time ago such as 7d, "
                "or a git revision"
            ) from None
    # Whole milliseconds, rounded down: an event stamped in the asked-for millisecond
    # has happened by then.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def parse_when(text: str, root: Path) -> When:
    """``text`` as a date, else as a git revision of the repository holding ``root``
    (InvalidInputError, exit 2, when it is neither)."""
    ms = parse_date(text)
    if ms is not None:
        return When(text, ms=ms)
    from modelreg.gitsync import trees

    if not text.strip() or text.startswith("-"):
        raise InvalidInputError(f"invalid --at {text!r}: give a date or a git revision")
    if not trees.inside_work_tree(root):
        raise InvalidInputError(
            f"--at {text!r} is not a date, and the registry at {root} is not in a git "
            "repository, so it cannot be a git revision; give an ISO 8601 date such as "
            "2026-11-01T12:00Z"
        )
    commit = trees.rev_parse(trees.place(root).top, text)
    if commit is None:
        raise InvalidInputError(
            f"--at {text!r} is neither a date (ISO 8601, e.g. 2026-11-01T12:00Z) nor a "
            "revision of the registry's git repository"
        )
    return When(text, commit=commit)


# -- what every past view answers --------------------------------------------------------


class PastView(abc.ABC):
    """The registry's reads as they would have answered at :attr:`when` (the methods of
    :class:`~modelreg.registry.Registry` of the same names); :attr:`notes` name what is
    shown as of now because no record says what it was then."""

    def __init__(self, when: When) -> None:
        self.when = when
        self.notes: list[str] = []

    def resolve(self, ref: Ref | str) -> RegisteredModel | ModelVersion:
        found, notes = self._find(as_ref(ref))
        self._add(notes)
        return found

    def resolve_version(self, ref: Ref | str) -> ModelVersion:
        """The version ``ref`` named (a model: its newest then). No notes: what ``resolve``
        prints of it (its number, source and location) never changes."""
        ref = as_ref(ref)
        found, _ = self._find(Ref(ref.name, "latest") if ref.is_model else ref)
        assert isinstance(found, ModelVersion)
        return found

    @abc.abstractmethod
    def _find(self, ref: Ref) -> tuple[RegisteredModel | ModelVersion, list[str]]:
        """What ``ref`` named then, and the notes about it."""

    @abc.abstractmethod
    def list_registered_models(
        self, errors: list[CorruptFileError] | None = None
    ) -> list[RegisteredModel]:
        raise NotImplementedError

    @abc.abstractmethod
    def list_versions(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        raise NotImplementedError

    @abc.abstractmethod
    def artifact_location(self, mv: ModelVersion) -> str:
        raise NotImplementedError

    def _missing(self, ref: Ref, why: str) -> NotFoundError:
        return NotFoundError(f"{ref} did not exist at {self.when}: {why}")

    def _add(self, notes: Iterable[str]) -> None:
        self.notes.extend(note for note in notes if note and note not in self.notes)


class Reads(Protocol):
    """The reads a registry answers (:class:`~modelreg.registry.Registry`'s, which is
    above this module)."""

    def resolve(self, ref: Ref | str) -> RegisteredModel | ModelVersion: ...

    def list_registered_models(
        self, errors: list[CorruptFileError] | None = None
    ) -> list[RegisteredModel]: ...

    def list_versions(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]: ...


# Opens the registry copied into a folder (first argument), its cache in the second.
OpenCopy = Callable[[Path, Path], Reads]


@contextlib.contextmanager
def as_of(root: Path, catalog: Catalog, text: str, open_copy: OpenCopy) -> Iterator[PastView]:
    """The registry at ``root`` as it was at ``text`` (a date or a git revision; see the
    module), read-only."""
    when = parse_when(text, root)
    if when.commit is None:
        yield _HistoryView(when, root, catalog)
        return
    with _checkout(root, when, open_copy) as past:
        yield _RevisionView(when, root, past)


# -- at a git revision -------------------------------------------------------------------


@contextlib.contextmanager
def _checkout(root: Path, when: When, open_copy: OpenCopy) -> Iterator[Reads]:
    """The registry folder's files at ``when.commit``, as a registry in a temporary
    folder (removed afterwards)."""
    import tempfile

    from modelreg.gitsync import trees
    from modelreg.store import CONFIG_FILE

    assert when.commit is not None
    where = trees.place(root)
    files = trees.read_tree(where.top, when.commit, where.prefix)
    if CONFIG_FILE not in files:
        raise NotFoundError(
            f"the registry did not exist at {when}: that commit has no {where.prefix}{CONFIG_FILE}"
        )
    with tempfile.TemporaryDirectory(prefix="modelreg-at-") as folder:
        base = Path(folder) / "registry"
        for relative, data in files.items():
            parts = PurePosixPath(relative).parts
            if ".." in parts or PurePosixPath(relative).is_absolute():
                continue  # git never stores such paths; never write outside the folder
            target = base.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        # Its files are gone once this returns: nothing of them belongs in the cache.
        yield open_copy(base, Path(folder) / "cache")


class _RevisionView(PastView):
    """The normal reads of the registry copied out of a commit."""

    def __init__(self, when: When, root: Path, past: Reads) -> None:
        super().__init__(when)
        self._root = root
        self._past = past

    def _find(self, ref: Ref) -> tuple[RegisteredModel | ModelVersion, list[str]]:
        try:
            return self._past.resolve(ref), []
        except NotFoundError as exc:
            raise self._missing(ref, str(exc)) from None

    def list_registered_models(
        self, errors: list[CorruptFileError] | None = None
    ) -> list[RegisteredModel]:
        return self._past.list_registered_models(errors)

    def list_versions(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        try:
            return self._past.list_versions(name, errors)
        except NotFoundError as exc:
            raise self._missing(Ref(name), str(exc)) from None

    def artifact_location(self, mv: ModelVersion) -> str:
        # A relative source is relative to the registry folder: the real one.
        return artifact_location(mv.source, self._root)


# -- at a date: rebuilt from the histories -----------------------------------------------


def _stamp(entry: HistoryEntry) -> int | None:
    try:
        return iso_to_ms(str(entry.get("timestamp")))
    except ValueError:
        return None  # a hand-edited stamp (`check` names it): no time to place it at


def _timeline(entries: Iterable[HistoryEntry], *wanted: str) -> list[tuple[int, HistoryEntry]]:
    """The entries of the ``wanted`` actions with their times, oldest first (stable)."""
    timed = [
        (stamp, entry)
        for entry in entries
        if entry.get("action") in wanted and (stamp := _stamp(entry)) is not None
    ]
    return sorted(timed, key=lambda item: item[0])


def keyed_at(
    current: Mapping[str, _V], changes: list[tuple[int, str, _V | None]], ms: int
) -> tuple[dict[str, _V], list[str]]:
    """A mapping (tags, metrics) at ``ms`` from its value now and its recorded changes,
    oldest first; and the keys whose value then is not recorded (shown as now): those
    whose only changes came later."""
    result = dict(current)
    unknown: list[str] = []
    for key in dict.fromkeys(key for _, key, _ in changes):
        mine = [(when, value) for when, each, value in changes if each == key]
        if all(when <= ms for when, _ in mine):
            continue  # nothing changed since: the value now is the value then
        before = [value for when, value in mine if when <= ms]
        if not before:
            unknown.append(key)
        elif before[-1] is None:
            result.pop(key, None)
        else:
            result[key] = before[-1]
    return dict(sorted(result.items())), unknown


def aliases_at(history: list[HistoryEntry], current: Mapping[str, int], ms: int) -> dict[str, int]:
    """Where each alias pointed at ``ms``: its last move by then; an alias first moved
    later pointed where that move's entry says it came from (an import sets aliases
    without entries); one never moved on record pointed where it points now."""
    moves: dict[str, list[tuple[int, HistoryEntry]]] = {}
    for when, entry in _timeline(history, actions.ALIAS_SET, actions.ALIAS_DELETED):
        alias = entry.get("alias")
        if isinstance(alias, str):
            moves.setdefault(alias, []).append((when, entry))
    result = {alias: number for alias, number in current.items() if alias not in moves}
    for alias, timed in moves.items():
        before = [entry for when, entry in timed if when <= ms]
        if before:
            last = before[-1]
            target = last.get("version") if last.get("action") == actions.ALIAS_SET else None
        else:
            first = timed[0][1]
            set_first = first.get("action") == actions.ALIAS_SET
            target = first.get("previous_version") if set_first else first.get("version")
        if isinstance(target, int) and not isinstance(target, bool):
            result[alias] = target
    return dict(sorted(result.items()))


def stage_at(mv: ModelVersion, ms: int) -> str:
    """The stage of ``mv`` at ``ms``: its last stage change by then, else the stage its
    first change left, else (never changed) the stage it has now."""
    changes = _timeline(mv.history, actions.STAGE_CHANGED)
    before = [entry for when, entry in changes if when <= ms]
    if before:
        return str(before[-1].get("to_stage"))
    if changes:
        return str(changes[0][1].get("from_stage", mv.current_stage))
    return mv.current_stage


def lifetime(mv: ModelVersion) -> dict[str, JSONValue]:
    """What a delete records of a version's life, so that ``--at`` still knows it: when it
    was created, and each stage it entered (``"TIME STAGE"``, from its creation on)."""
    changes = _timeline(mv.history, actions.STAGE_CHANGED)
    first = str(changes[0][1].get("from_stage", mv.current_stage)) if changes else mv.current_stage
    stages: list[JSONValue] = [f"{ms_to_iso(mv.creation_timestamp)} {first}"]
    stages.extend(f"{ms_to_iso(when)} {entry.get('to_stage')}" for when, entry in changes)
    return {"created_at": ms_to_iso(mv.creation_timestamp), "stages": stages}


def _life_at(entry: HistoryEntry, ms: int) -> tuple[int, str] | None:
    """From a ``version_deleted`` entry with the version's :func:`lifetime`: its creation
    and its stage at ``ms``; None when the entry has no such record."""
    created = _stamp({"timestamp": entry.get("created_at")})
    stages = entry.get("stages")
    if created is None or not isinstance(stages, list):
        return None
    stage = UNKNOWN_STAGE
    for item in stages:
        when, _, name = str(item).partition(" ")
        stamp = _stamp({"timestamp": when})
        if stamp is not None and stamp <= ms and name:
            stage = name
    return created, stage


def _tag_changes(history: list[HistoryEntry]) -> list[tuple[int, str, str | None]]:
    changes: list[tuple[int, str, str | None]] = []
    for when, entry in _timeline(history, actions.TAG_SET, actions.TAG_DELETED):
        key = entry.get("key")
        if isinstance(key, str):
            value = entry.get("value") if entry.get("action") == actions.TAG_SET else None
            changes.append((when, key, None if value is None else str(value)))
    return changes


def _metric_changes(history: list[HistoryEntry]) -> list[tuple[int, str, int | float | None]]:
    """The metrics check runs recorded onto a version (promote), oldest first."""
    changes: list[tuple[int, str, int | float | None]] = []
    for when, entry in _timeline(history, actions.CHECK_RUN):
        metrics = entry.get("metrics")
        if isinstance(metrics, dict):
            changes.extend(
                (when, key, value)
                for key, value in metrics.items()
                if isinstance(value, (int, float)) and not isinstance(value, bool)
            )
    return changes


def _later(history: list[HistoryEntry], ms: int, *wanted: str) -> list[HistoryEntry]:
    return [entry for when, entry in _timeline(history, *wanted) if when > ms]


def _undocumented(history: list[HistoryEntry], ms: int, unknown: list[str]) -> list[str]:
    """``unknown`` plus the description (changed later) and what later imports replaced."""
    fields = list(unknown)
    if _later(history, ms, actions.DESCRIPTION_CHANGED):
        fields.insert(0, "description")
    for entry in _later(history, ms, actions.IMPORTED):
        replaced = entry.get("replaced")
        if isinstance(replaced, list):
            fields.extend(str(item) for item in replaced if str(item) not in fields)
    return fields


def _last_update(created: int, history: list[HistoryEntry], ms: int) -> int:
    return max([created, *(when for entry in history if (when := _stamp(entry) or 0) <= ms)])


def _until(history: list[HistoryEntry], ms: int) -> list[HistoryEntry]:
    return [entry for entry in history if (_stamp(entry) or 0) <= ms]


@dataclass
class _Model:
    """One model at the moment, its versions then, and what of them is shown as now."""

    model: RegisteredModel
    versions: list[ModelVersion]
    notes: list[str]  # about the model itself
    version_notes: dict[int, str]


class _HistoryView(PastView):
    """The registry at a date, rebuilt from the histories of the files as they are now."""

    def __init__(self, when: When, root: Path, catalog: Catalog) -> None:
        super().__init__(when)
        assert when.ms is not None
        self.ms = when.ms
        self._root = root
        self._catalog = catalog

    # -- the reads ---------------------------------------------------------------------

    def _find(self, ref: Ref) -> tuple[RegisteredModel | ModelVersion, list[str]]:
        found = self._catalog.store.consistent(lambda: self._model(ref.name, ref))
        if ref.selector is None:
            latest = [found.version_notes.get(mv.version, "") for mv in found.model.latest_versions]
            return found.model, [*found.notes, *latest]
        chosen = self._select(found, ref)
        return chosen, [found.version_notes.get(chosen.version, "")]

    def list_registered_models(
        self, errors: list[CorruptFileError] | None = None
    ) -> list[RegisteredModel]:
        def read() -> list[_Model]:
            models = []
            for name in self._catalog.store.model_names():
                try:
                    models.append(self._model(name, None))
                except NotFoundError:
                    continue  # created later
                except CorruptFileError as exc:
                    if errors is None:
                        raise
                    errors.append(exc)
            return models

        found = self._catalog.store.consistent(read)
        for each in found:
            self._add(each.notes)
        return [each.model for each in found]

    def list_versions(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        found = self._catalog.store.consistent(lambda: self._model(name, Ref(name), errors))
        self._add(list(found.version_notes.values()))
        return found.versions

    def artifact_location(self, mv: ModelVersion) -> str:
        if not mv.source:  # only a deleted version has none
            raise NotFoundError(
                f"{mv.name} version {mv.version} existed at {self.when} but was deleted "
                "since, and a deleted version's artifact location is not recorded"
            )
        return artifact_location(mv.source, self._root)

    # -- rebuilding --------------------------------------------------------------------

    def _shown_as_now(self, owner: str, fields: list[str]) -> str:
        if not fields:
            return ""
        return (
            f"{owner}: {', '.join(fields)} shown as now (the history does not record "
            f"the value at {self.when})"
        )

    def _select(self, found: _Model, ref: Ref) -> ModelVersion:
        """The version ``ref`` named then."""
        versions = {mv.version: mv for mv in found.versions}
        selector, name = ref.selector, ref.name
        if isinstance(selector, str) and selector.startswith("@"):
            alias = selector[1:]
            number = found.model.aliases.get(alias)
            if number is None:
                raise self._missing(ref, f"model '{name}' had no alias {alias!r} then")
            if number not in versions:
                why = f"alias '{alias}' pointed to version {number}, which did not exist then"
                raise self._missing(ref, why)
            return versions[number]
        if isinstance(selector, int):
            if selector not in versions:
                raise self._missing(ref, f"model '{name}' had no version {selector} then")
            return versions[selector]
        if selector == "latest":
            if not found.versions:
                raise self._missing(ref, f"model '{name}' had no versions then")
            return found.versions[-1]
        stage = self._catalog.config.canonical_stage(str(selector))
        in_stage = [mv for mv in found.versions if mv.current_stage == stage]
        if not in_stage:
            raise self._missing(ref, f"no version of '{name}' was in {stage} then")
        return in_stage[-1]

    def _model(
        self, name: str, ref: Ref | None, errors: list[CorruptFileError] | None = None
    ) -> _Model:
        """Model ``name`` as it was (NotFoundError, naming ``ref``, when it was not yet)."""
        ms = self.ms
        try:
            now = self._catalog.load_model(name)
        except NotFoundError:
            raise self._missing(ref or Ref(name), f"there is no model '{name}'") from None
        if now.creation_timestamp > ms:
            why = f"model '{name}' was created at {ms_to_iso(now.creation_timestamp)}"
            raise self._missing(ref or Ref(name), why)
        aliases = aliases_at(now.history, now.aliases, ms)
        by_version: dict[int, list[str]] = {}
        for alias, number in aliases.items():
            by_version.setdefault(number, []).append(alias)
        notes: dict[int, str] = {}
        live = self._catalog.versions(now, errors)
        versions = []
        for mv in live:
            if mv.creation_timestamp <= ms:
                past, fields = self._version_at(mv, by_version.get(mv.version, []))
                versions.append(past)
                notes[mv.version] = self._shown_as_now(f"{name} version {mv.version}", fields)
        for past, deleted, recorded in self._deleted_versions(now, live, by_version):
            versions.append(past)
            kept = (
                "its creation, stages and deletion are recorded (not its source or details)"
                if recorded
                else "its number and deletion are recorded (its stage shows as unknown, "
                "its creation time as the earliest it can have been)"
            )
            notes[past.version] = (
                f"{name} version {past.version} was deleted at {deleted}: only {kept}"
            )
        versions.sort(key=lambda mv: mv.version)
        tags, unknown = keyed_at(now.tags, _tag_changes(now.history), ms)
        model = replace(
            now,
            aliases=aliases,
            tags=tags,
            latest_versions=self._catalog.latest_per_stage(
                [mv for mv in versions if mv.current_stage != UNKNOWN_STAGE]
            ),
            history=_until(now.history, ms),
        )
        model.last_updated_timestamp = max(
            [
                _last_update(now.creation_timestamp, now.history, ms),
                *(mv.last_updated_timestamp for mv in versions),
            ]
        )
        fields = _undocumented(now.history, ms, [f"tags.{key}" for key in unknown])
        model_notes = [self._shown_as_now(f"model {name}", fields)]
        renamed = _later(now.history, ms, actions.MODEL_RENAMED)
        if renamed:
            model_notes.append(
                f"model {name} was named {renamed[0].get('from')!r} then; shown by its name now"
            )
        return _Model(model, versions, model_notes, notes)

    def _version_at(self, mv: ModelVersion, aliases: list[str]) -> tuple[ModelVersion, list[str]]:
        """``mv`` as it was, and the fields shown as now."""
        ms = self.ms
        tags, unknown_tags = keyed_at(mv.tags, _tag_changes(mv.history), ms)
        metrics, unknown_metrics = keyed_at(mv.metrics, _metric_changes(mv.history), ms)
        past = replace(
            mv,
            current_stage=stage_at(mv, ms),
            aliases=sorted(aliases),
            tags=tags,
            metrics=metrics,
            last_updated_timestamp=_last_update(mv.creation_timestamp, mv.history, ms),
            history=_until(mv.history, ms),
        )
        fields = [f"tags.{key}" for key in unknown_tags]
        fields += [f"metrics.{key}" for key in unknown_metrics]
        return past, _undocumented(mv.history, ms, fields)

    def _deleted_versions(
        self, now: RegisteredModel, live: list[ModelVersion], aliases: dict[int, list[str]]
    ) -> list[tuple[ModelVersion, str, bool]]:
        """The versions deleted since that existed then (from their tombstones), each with
        the time of its deletion and whether the delete recorded its life."""
        ms = self.ms
        numbers = {mv.version for mv in live}
        found = []
        for when, entry in _timeline(now.history, actions.VERSION_DELETED):
            number = entry.get("version")
            if when <= ms or not isinstance(number, int) or number in numbers:
                continue
            life = _life_at(entry, ms)
            recorded = life is not None
            if life is None:
                # Deleted before deletes recorded its life. Numbers are handed out in
                # order: it was created after the model and every version below it.
                created = max(
                    [
                        now.creation_timestamp,
                        *(mv.creation_timestamp for mv in live if mv.version < number),
                    ]
                )
                life = created, UNKNOWN_STAGE
            created, stage = life
            if created > ms:
                continue
            numbers.add(number)
            uid = entry.get("uid")
            past = ModelVersion(
                name=now.name,
                version=number,
                creation_timestamp=created,
                last_updated_timestamp=created,
                current_stage=stage,
                aliases=sorted(aliases.get(number, [])),
                uid=uid if isinstance(uid, str) else None,
            )
            found.append((past, ms_to_iso(when), recorded))
        return found

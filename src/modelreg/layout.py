"""Format 2 on disk: one registered model in several files, so that git merges changes
that do not conflict in meaning without any set-up.

::

    models/M/model.yaml        name, description, user_id, created_at, tags, and the
                               model's own history (created, described, tagged, renamed)
    models/M/versions/N.yaml   one version (with its ``uid``), as in format 1
    models/M/aliases/A.yaml    alias A: the version it points at (null once deleted) and
                               the history of its moves
    models/M/deleted/N.yaml    the tombstone of deleted version N: its uid and the
                               ``version_deleted`` entry; the number is never handed out again

Nothing that every write changes is stored: a model's ``aliases``, ``last_version`` and
``last_updated_timestamp`` are derived when it is read, and its ``history`` is the union of
model.yaml's, the alias files' and the tombstones' entries. So a transition, a tag, a
comment or an approval touches only its version's file, an alias move only that alias's
file, a delete writes a tombstone and the alias files it nulls: two clones doing such
things to different versions or aliases change different files, and git merges them.

In memory nothing changes (:class:`~modelreg.entities.RegisteredModel` as in format 1):
:func:`load` composes it from the files and :func:`save` splits it back, writing only the
files whose content changed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from modelreg import actions
from modelreg.docread import Document, JSONValue
from modelreg.entities import (
    HistoryEntry,
    RegisteredModel,
    iso_to_ms,
    ms_to_iso,
    read_history,
    read_timestamp,
    record_reader,
)
from modelreg.errors import CorruptFileError, NotFoundError
from modelreg.names import validate_alias
from modelreg.store import Store, read_mapping
from modelreg.structs import field, fields, struct

ALIASES_DIR = "aliases"
DELETED_DIR = "deleted"
# The keys of each file, in the order they are written (check compares with them).
MODEL_KEYS = ("name", "description", "user_id", "created_at", "tags", "history")
ALIAS_KEYS = ("alias", "version", "history")
TOMBSTONE_KEYS = ("name", "version", "uid", "history")
ALIAS_ACTIONS = (actions.ALIAS_SET, actions.ALIAS_DELETED)


@struct
class AliasFile:
    """aliases/A.yaml: where alias A points (None: deleted) and how it got there."""

    alias: str
    version: int | None
    history: list[HistoryEntry] = field(default_factory=list)

    def to_doc(self) -> Document:
        return {"alias": self.alias, "version": self.version, "history": list(self.history)}


@struct
class Tombstone:
    """deleted/N.yaml: version N was deleted; ``uid`` is the deleted version's (None when
    it is not known: a delete recorded in format 1)."""

    name: str
    version: int
    uid: str | None
    history: list[HistoryEntry] = field(default_factory=list)

    def to_doc(self) -> Document:
        # The fields in their order, as the file has them.
        return {name: getattr(self, name) for name in fields(self)}


# -- paths -----------------------------------------------------------------------------


def aliases_dir(store: Store, name: str) -> Path:
    return store.model_dir(name) / ALIASES_DIR


def deleted_dir(store: Store, name: str) -> Path:
    return store.model_dir(name) / DELETED_DIR


def alias_file(store: Store, name: str, alias: str) -> Path:
    return aliases_dir(store, name) / f"{validate_alias(alias)}.yaml"


def tombstone_file(store: Store, name: str, number: int) -> Path:
    return deleted_dir(store, name) / f"{int(number)}.yaml"


# -- parsing one file ------------------------------------------------------------------


def parse_model(doc: Mapping[str, JSONValue], path: Path) -> RegisteredModel:
    """model.yaml of format 2 (its derived fields are filled in by :func:`compose`)."""
    read = record_reader(doc, path)
    created = read_timestamp(read, "created_at")
    return RegisteredModel(
        name=read.text("name"),
        creation_timestamp=created,
        last_updated_timestamp=created,
        description=read.optional_text("description"),
        user_id=read.optional_text("user_id"),
        tags=read.text_mapping("tags"),
        history=read_history(read),
    )


def parse_alias(doc: Mapping[str, JSONValue], path: Path) -> AliasFile:
    read = record_reader(doc, path)
    alias = read.text("alias")
    if f"{alias}.yaml" != path.name:
        raise CorruptFileError(path, f"says alias {alias!r} but is named {path.name}")
    version = read.optional_integer("version", problem="must be a version number or null")
    return AliasFile(alias, version, read_history(read))


def parse_tombstone(doc: Mapping[str, JSONValue], path: Path) -> Tombstone:
    read = record_reader(doc, path)
    number = read.integer("version", minimum=1)
    if f"{number}.yaml" != path.name:
        raise CorruptFileError(path, f"says version {number} but is named {path.name}")
    return Tombstone(read.text("name"), number, read.optional_text("uid"), read_history(read))


def numbered_files(folder: Path) -> list[tuple[int, Path]]:
    """The files ``N.yaml`` of ``folder`` (no leading zeros), ascending by N."""
    found = []
    for entry in _listing(folder):
        stem, dot, ext = entry.partition(".")
        if dot and ext == "yaml" and stem.isdigit() and stem == str(int(stem)):
            found.append((int(stem), folder / entry))
    return sorted(found)


def alias_files(folder: Path) -> list[Path]:
    """The files ``A.yaml`` of an aliases folder (temporary files and others skipped)."""
    return sorted(
        folder / entry
        for entry in _listing(folder)
        if entry.endswith(".yaml") and not entry.startswith(".")
    )


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)  # noqa: PTH208 - names only, as Store.version_numbers
    except (FileNotFoundError, NotADirectoryError):
        return []


# -- reading a model -------------------------------------------------------------------


def read_aliases(store: Store, name: str) -> dict[str, AliasFile]:
    """Every alias file of model ``name`` (deleted aliases too), by alias."""
    folder = aliases_dir(store, name)
    store.refuse_symlinks(folder)
    found = {}
    for path in alias_files(folder):
        parsed = parse_alias(read_mapping(path), path)
        found[parsed.alias] = parsed
    return found


def read_alias(store: Store, name: str, alias: str) -> AliasFile | None:
    """aliases/ALIAS.yaml alone (None when there is none): resolving ``NAME@ALIAS``
    reads this file and the version's, nothing else of the model."""
    path = alias_file(store, name, alias)
    store.refuse_symlinks(path.parent)
    try:
        doc = read_mapping(path)
    except FileNotFoundError:
        return None
    return parse_alias(doc, path)


def read_tombstones(store: Store, name: str) -> dict[int, Tombstone]:
    folder = deleted_dir(store, name)
    store.refuse_symlinks(folder)
    return {
        number: parse_tombstone(read_mapping(path), path) for number, path in numbered_files(folder)
    }


def load(store: Store, name: str) -> RegisteredModel:
    """The model ``name`` composed from its files (see the module's docstring); its
    ``last_updated_timestamp`` leaves out the versions' (see :func:`with_versions`)."""
    path = store.model_file(name)
    store.refuse_symlinks(path.parent)
    try:
        doc = read_mapping(path)
    except FileNotFoundError:
        raise NotFoundError(f"registered model '{name}' not found") from None
    numbers = store.version_numbers(name)
    if is_unsplit(doc):
        # An upgrade from format 1 interrupted before this model's turn (`check --repair`
        # finishes it; so does the next write of the model, which saves it split).
        model = RegisteredModel.from_doc(doc, path)
        model.last_version = max([model.last_version, *numbers])
        return model
    model = parse_model(doc, path)
    return compose(model, read_aliases(store, name), read_tombstones(store, name), numbers)


def is_unsplit(doc: Mapping[str, JSONValue]) -> bool:
    """Whether a model.yaml is still in format 1's shape (counter, aliases, updated_at)."""
    return "last_version" in doc or "updated_at" in doc


def compose(
    model: RegisteredModel,
    aliases: dict[str, AliasFile],
    tombstones: dict[int, Tombstone],
    numbers: list[int],
) -> RegisteredModel:
    """Fill in ``model`` (as parsed from model.yaml) with what its other files say."""
    model.aliases = {
        alias: each.version for alias, each in sorted(aliases.items()) if each.version is not None
    }
    entries = list(model.history)
    for _, each in sorted(aliases.items()):
        entries.extend(each.history)
    for _, stone in sorted(tombstones.items()):
        entries.extend(stone.history)
    # One timeline, as format 1 kept it; equal stamps keep the order above (stable sort).
    model.history = sorted(entries, key=lambda entry: str(entry.get("timestamp", "")))
    model.last_version = max([0, *numbers, *tombstones])
    model.last_updated_timestamp = max(
        [model.creation_timestamp, *(_ms(entry) for entry in model.history)]
    )
    return model


def with_versions(model: RegisteredModel, updated: list[int]) -> RegisteredModel:
    """``model`` whose ``last_updated_timestamp`` counts its versions' too (``updated``:
    their ``last_updated_timestamp``)."""
    model.last_updated_timestamp = max([model.last_updated_timestamp, *updated])
    return model


def _ms(entry: HistoryEntry) -> int:
    try:
        return iso_to_ms(str(entry.get("timestamp")))
    except ValueError:
        return 0  # a hand-edited stamp: `check` names it, reads go on


# -- writing a model -------------------------------------------------------------------


def split(
    model: RegisteredModel,
) -> tuple[Document, dict[str, AliasFile], dict[int, Tombstone]]:
    """model.yaml's document, the alias files and the tombstones that hold ``model``."""
    own: list[HistoryEntry] = []
    aliases = {alias: AliasFile(alias, number) for alias, number in sorted(model.aliases.items())}
    tombstones: dict[int, Tombstone] = {}
    for entry in model.history:
        action = entry.get("action")
        alias = entry.get("alias")
        number = entry.get("version")
        if action in ALIAS_ACTIONS and isinstance(alias, str):
            aliases.setdefault(alias, AliasFile(alias, None)).history.append(entry)
        elif action == actions.VERSION_DELETED and isinstance(number, int) and number > 0:
            stone = tombstones.setdefault(number, Tombstone(model.name, number, None))
            stone.history.append(entry)
            uid = entry.get("uid")
            if isinstance(uid, str):
                stone.uid = uid
        else:
            own.append(entry)
    doc: Document = {
        "name": model.name,
        "description": model.description,
        "user_id": model.user_id,
        "created_at": ms_to_iso(model.creation_timestamp),
        "tags": dict(sorted(model.tags.items())),
        "history": own,
    }
    return doc, aliases, tombstones


def save(store: Store, model: RegisteredModel) -> None:
    """Write ``model`` in format 2: only the files whose content changed are replaced
    (an alias file or a tombstone no longer in ``model`` is left as it is)."""
    doc, aliases, tombstones = split(model)
    store.write(store.model_file(model.name), doc)
    if aliases:
        store.ensure_folder(aliases_dir(store, model.name))
    for alias, each in aliases.items():
        store.write(alias_file(store, model.name, alias), each.to_doc())
    if tombstones:
        store.ensure_folder(deleted_dir(store, model.name))
    for number, stone in tombstones.items():
        path = tombstone_file(store, model.name, number)
        if stone.uid is None:
            # The entries of a tombstone someone else wrote (an upgrade, a merge) may not
            # carry the uid its file does: keep the file's.
            with contextlib.suppress(FileNotFoundError, CorruptFileError):
                stone.uid = parse_tombstone(read_mapping(path), path).uid
        store.write(path, stone.to_doc())

"""The events between two registry trees: what hooks would have heard from the writes
that turned ``old`` into ``new``.

Every history entry is a change someone made, so :func:`events_between` derives the
events from the entries present in ``new`` and not in ``old`` — matched by content and by
whose history holds them, never by position, so a merge that interleaves entries or a
renumbering that moves a file does not repeat anything. The events have the shape a write
emits (:class:`modelreg.events.Event`: the same types and ``data``), with the entity as
it is in ``new`` (final numbers, final stage), the entry's user and time, ordered by time.
Their ``delivery_id`` is derived from the change (:class:`modelreg.events.Event`), so the
same change has the same id whoever announces it: the write that made it, a ``sync``
after its push, a CI job running ``changes``.

What has no history entry is no event: a model deleted with its folder is not reported.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg import actions
from modelreg import events as ev
from modelreg.entities import ModelVersion, RegisteredModel, iso_to_ms
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError
from modelreg.gitsync._files import Doc, load
from modelreg.gitsync.integrate import content_identity, locate

Tree = Mapping[str, bytes]


@dataclass(frozen=True)
class _Found:
    """One history entry, whose history it is in (``owner``), and its file."""

    owner: str
    entry: Doc
    path: str
    model: str


def events_between(old: Tree, new: Tree) -> list[ev.Event]:
    """The events of the history entries in ``new`` that ``old`` does not have."""
    before = Counter(_key(found) for found in _entries(old))
    view = _View(old, new)
    made: list[tuple[int, int, int, ev.Event]] = []
    for at, found in enumerate(_entries(new)):
        key = _key(found)
        if before[key]:
            before[key] -= 1
            continue
        event = view.event(found)
        if event is not None:
            # Within one change, a move comes before the versions it archived (as the
            # write emits them).
            follows = int("archived_by" in found.entry)
            made.append((_ms(found.entry.get("timestamp")), follows, at, event))
    return [item[-1] for item in sorted(made, key=lambda item: item[:3])]


def _entries(tree: Tree, *, lenient: bool = False) -> list[_Found]:
    """Every history entry of ``tree``; ``lenient``: files that cannot be read (conflict
    markers, broken YAML) are skipped instead of raising CorruptFileError."""
    owners = _model_owners(tree, lenient)
    found: list[_Found] = []
    for path in sorted(tree):
        located = locate(path)
        if located is None:
            continue
        model, kind, _ = located
        try:
            doc = load(tree[path], path)
        except CorruptFileError:
            if lenient:
                continue
            raise
        owner = content_identity(doc) if kind == "version" else owners.get(model, "model:" + model)
        history = doc.get("history")
        for entry in history if isinstance(history, list) else []:
            if isinstance(entry, dict):
                found.append(_Found(owner, entry, path, model))
    return found


def _model_owners(tree: Tree, lenient: bool = False) -> dict[str, str]:
    """Folder name -> the model's identity (its creation time and creator), which
    survives a rename and the format upgrade."""
    owners = {}
    for path, data in tree.items():
        located = locate(path)
        if located is not None and located[1] == "model":
            try:
                doc = load(data, path)
            except CorruptFileError:
                if lenient:
                    continue
                raise
            owners[located[0]] = "model:" + json.dumps([doc.get("created_at"), doc.get("user_id")])
    return owners


def _key(found: _Found) -> str:
    return found.owner + "\0" + json.dumps(found.entry, sort_keys=True, default=str)


def _ms(stamp: Any) -> int:
    try:
        return iso_to_ms(stamp) if isinstance(stamp, str) else 0
    except ValueError:
        return 0


# -- entities and events ------------------------------------------------------------------

# action -> (event type, fields of the entry that become the event's data)
_VERSION_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    actions.VERSION_REGISTERED: (ev.MODEL_VERSION_CREATED, ()),
    actions.STAGE_CHANGED: (
        ev.MODEL_VERSION_STAGE_CHANGED,
        ("from_stage", "to_stage", "comment", "archived_by"),
    ),
    actions.DESCRIPTION_CHANGED: (ev.MODEL_VERSION_DESCRIPTION_CHANGED, ()),
    actions.TAG_SET: (ev.MODEL_VERSION_TAG_SET, ("key", "value")),
    actions.TAG_DELETED: (ev.MODEL_VERSION_TAG_DELETED, ("key",)),
    actions.COMMENTED: (ev.MODEL_VERSION_COMMENTED, ("comment",)),
    actions.REQUESTED: (ev.MODEL_VERSION_TRANSITION_REQUESTED, ("stage", "comment")),
    actions.APPROVED: (ev.MODEL_VERSION_APPROVED, ("stage", "comment")),
    actions.REJECTED: (ev.MODEL_VERSION_REJECTED, ("stage", "comment")),
    actions.CHECK_RUN: (
        ev.MODEL_VERSION_CHECK_COMPLETED,
        ("stage", "check", "passed", "exit_code", "seconds", "metrics", "reason"),
    ),
}
_MODEL_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    actions.MODEL_CREATED: (ev.REGISTERED_MODEL_CREATED, ()),
    actions.DESCRIPTION_CHANGED: (ev.REGISTERED_MODEL_DESCRIPTION_CHANGED, ()),
    actions.TAG_SET: (ev.REGISTERED_MODEL_TAG_SET, ("key", "value")),
    actions.TAG_DELETED: (ev.REGISTERED_MODEL_TAG_DELETED, ("key",)),
}


class _View:
    """The entities of ``new`` (and of ``old``, for versions that are gone), built once."""

    def __init__(self, old: Tree, new: Tree) -> None:
        self.old, self.new = old, new
        self._models: dict[str, Doc] = {}

    def event(self, found: _Found) -> ev.Event | None:
        entry = found.entry
        action = entry.get("action")
        kind = locate(found.path)
        assert kind is not None
        make: Callable[..., ev.Event] = lambda kind_, entity, **data: ev.Event(  # noqa: E731
            type=kind_,
            entity=entity,
            user=str(entry.get("user_id") or ""),
            timestamp=str(entry.get("timestamp") or ""),
            data={key: value for key, value in data.items() if value is not None},
        )
        if kind[1] == "version":
            entity = self.version(found.model, int(kind[2]), self.new)
            if action == actions.IMPORTED:
                first = load(self.new[found.path], found.path).get("history", [None])[0]
                if first != entry:
                    return None
                return make(ev.MODEL_VERSION_CREATED, entity, imported_from=entry.get("origin"))
            if action not in _VERSION_EVENTS:
                return None
            kind_, fields = _VERSION_EVENTS[str(action)]
            data = {key: entry.get(key) for key in fields}
            if action == actions.STAGE_CHANGED and entry.get("archived_by") is None:
                data["archived_versions"] = self._archived_with(found)
            elif action == actions.STAGE_CHANGED:
                del data["comment"]  # an archiving's event says archived_by, as a write's
            if action == actions.CHECK_RUN and data.get("metrics") is None:
                data["metrics"] = {}
            return make(kind_, entity, **data)
        model = self.model(found.model)
        if action in _MODEL_EVENTS:
            kind_, fields = _MODEL_EVENTS[str(action)]
            return make(kind_, model, **{key: entry.get(key) for key in fields})
        if action == actions.MODEL_RENAMED:
            return make(ev.REGISTERED_MODEL_RENAMED, model, old_name=entry.get("from"))
        number = entry.get("version")
        if action == actions.ALIAS_SET:
            return make(
                ev.MODEL_VERSION_ALIAS_CREATED,
                self.version_or_model(found.model, number),
                alias=entry.get("alias"),
                previous_version=entry.get("previous_version"),
            )
        if action == actions.ALIAS_DELETED:
            return make(
                ev.MODEL_VERSION_ALIAS_DELETED,
                self.version_or_model(found.model, number),
                alias=entry.get("alias"),
                version=number,
            )
        if action == actions.VERSION_DELETED:
            return make(ev.MODEL_VERSION_DELETED, self.version_or_model(found.model, number))
        return None

    def model(self, name: str) -> dict[str, Any]:
        path = f"models/{name}/model.yaml"
        doc = dict(load(self.new[path], path)) if path in self.new else {"name": name}
        doc.setdefault("created_at", "1970-01-01T00:00:00.000Z")
        doc.setdefault("updated_at", self._latest(name) or doc["created_at"])
        model = RegisteredModel.from_doc(doc, Path(path))
        model.name = name
        if "aliases" not in _load_or_empty(self.new, path):
            model.aliases = self._alias_files(name)
        return model.to_dict()

    def version(self, name: str, number: int, tree: Tree) -> dict[str, Any]:
        path = f"models/{name}/versions/{number}.yaml"
        aliases = sorted(alias for alias, at in self._aliases(name).items() if at == number)
        return ModelVersion.from_doc(load(tree[path], path), Path(path), aliases).to_dict()

    def version_or_model(self, name: str, number: Any) -> dict[str, Any]:
        """The version (as in ``new``, else as it was in ``old``), else the model."""
        if isinstance(number, int):
            for tree in (self.new, self.old):
                if f"models/{name}/versions/{number}.yaml" in tree:
                    return self.version(name, number, tree)
        return self.model(name)

    def _aliases(self, name: str) -> dict[str, int]:
        path = f"models/{name}/model.yaml"
        doc = _load_or_empty(self.new, path)
        if isinstance(doc.get("aliases"), dict):
            return {str(key): value for key, value in doc["aliases"].items()}
        return self._alias_files(name)

    def _alias_files(self, name: str) -> dict[str, int]:
        found = {}
        for path, data in self.new.items():
            located = locate(path)
            if located and located[0] == name and located[1] == "alias":
                doc = load(data, path)
                if isinstance(doc.get("version"), int):
                    found[str(doc.get("alias", located[2]))] = doc["version"]
        return found

    def _latest(self, name: str) -> str | None:
        stamps = [
            str(entry.get("timestamp"))
            for found in _entries(
                {p: d for p, d in self.new.items() if p.startswith(f"models/{name}/")}
            )
            for entry in (found.entry,)
            if isinstance(entry.get("timestamp"), str)
        ]
        return max(stamps, key=_ms, default=None)

    def _archived_with(self, found: _Found) -> list[int]:
        """The versions that one move archived (their entries say ``archived_by``)."""
        located = locate(found.path)
        assert located is not None
        number = int(located[2])
        archived = []
        for path, data in self.new.items():
            other = locate(path)
            if not other or other[0] != found.model or other[1] != "version":
                continue
            for entry in load(data, path).get("history") or []:
                if (
                    isinstance(entry, dict)
                    and entry.get("archived_by") == number
                    and entry.get("timestamp") == found.entry.get("timestamp")
                ):
                    archived.append(int(other[2]))
        return sorted(archived)


def _load_or_empty(tree: Tree, path: str) -> Doc:
    return load(tree[path], path) if path in tree else {}


@dataclass(frozen=True)
class Vanished:
    """A history entry of ``old`` that ``new`` lost, though what held it is still there."""

    path: str
    entry: Mapping[str, object]


def vanished(old: Tree, new: Tree) -> list[Vanished]:
    """The history entries of ``old`` missing from ``new`` whose model or version still
    exists in ``new`` (a deleted version takes its history with it; a renamed model or a
    renumbered version keeps it, so neither counts). Files of ``new`` that cannot be read
    are left to the caller's other checks."""
    after = Counter(_key(found) for found in _entries(new, lenient=True))
    owners = {found.owner for found in _entries(new, lenient=True)}
    lost = []
    for found in _entries(old, lenient=True):
        key = _key(found)
        if after[key]:
            after[key] -= 1
        elif found.owner in owners:
            lost.append(Vanished(found.path, found.entry))
    return lost


def vanished_since(root: Path) -> list[tuple[str, str, Vanished]]:
    """The history entries that the registry folder ``root`` lost against ``HEAD`` (and,
    in a merge or rebase git stopped, against ``MERGE_HEAD`` / ``REBASE_HEAD``):
    (revision, repository path, entry). Nothing when ``root`` is not in a git work tree
    or git cannot answer."""
    from modelreg.gitsync import trees

    if not trees.inside_work_tree(root):
        return []
    try:
        where = trees.place(root)
        folder = trees.git_dir(where.top)
        revs = [
            "HEAD",
            *(name for name in ("MERGE_HEAD", "REBASE_HEAD") if (folder / name).is_file()),
        ]
        now = trees.read_folder(root)
        found = []
        for rev in revs:
            if trees.rev_parse(where.top, rev) is None:
                continue
            for lost in vanished(trees.read_tree(where.top, rev, where.prefix), now):
                found.append((rev, where.path(lost.path), lost))
    except (InvalidInputError, NotFoundError, CorruptFileError):
        return []
    return found

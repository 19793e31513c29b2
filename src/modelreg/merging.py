"""Three-way merge of registry documents by meaning, for git's merge driver.

:func:`merge_documents` takes the parsed ``model.yaml`` or ``versions/N.yaml`` of the common
ancestor (``base``, None when both sides added the file) and of both sides, and returns the
merged document or the reasons it cannot merge. It is pure: no git, no files. The rules:

- **History** is the union of both sides' entries: an entry present on both sides appears
  once, nothing either side recorded is lost, and the entries new on each side are
  interleaved by timestamp (each side's own order is kept).
- **Tags, aliases, metrics, params**, key by key, and **description** and
  **current_stage**: a change made on one side only is taken. Changed on both sides to
  different values, the later change wins, judged by the timestamps of the history
  entries that recorded the changes (``tag_set``/``tag_deleted``, ``alias_set``/
  ``alias_deleted``, ``description_changed``, ``stage_changed``, ``imported``); both
  entries stay in the history. When the history cannot tell, it is a conflict.
- ``updated_at`` is the later of both sides and ``last_version`` the higher.
- **Identity**: a version file whose sides hold *different* versions under one number
  (another creation time, user, source, artifact checksum or run id: two clones that
  registered "the next version", or a rebase replaying a change of one clone's version 4
  onto another clone's version 4) is never merged: it is a conflict that says so. Two
  different models under one name (created apart) likewise.
- A number that one side registered and deleted while the other side registered its own
  version under it (both count up from the base's ``last_version``) is a collision too:
  merged, the deleted number would be used again.
- An alias that one side pointed at a version that the other side deleted is dropped, as
  the delete drops it, with an ``alias_deleted`` entry saying so.
- Any other key changed on both sides to different values is a conflict.

The rules are symmetric: swapping ``ours`` and ``theirs`` (as a rebase does) gives the same
document, up to the order of keys that modelreg does not write.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal

from modelreg import actions, yamlio
from modelreg.datasets import Dataset
from modelreg.docread import Document
from modelreg.entities import ModelVersion, RegisteredModel, iso_to_ms
from modelreg.errors import CorruptFileError

Kind = Literal["model", "version", "alias", "deleted"]
# The merge's working form inside this module; its public signatures take docread.Document.
Doc = dict[str, Any]

MODEL_KEYS = tuple(RegisteredModel("x", 0, 0).to_doc())
# Format 2 writes a version's ``uid`` right after its number.
VERSION_KEYS = tuple(
    key
    for written in ModelVersion(
        "x", 1, 0, 0, model_id="x", datasets={"x": Dataset("x", "x")}
    ).to_doc()
    for key in ((written, "uid") if written == "version" else (written,))
)
# What makes a version that version: two files that differ in any of these are two
# versions under one number, whatever else they share.
IDENTITY_KEYS: tuple[tuple[str, ...], ...] = (
    ("created_at",),
    ("user_id",),
    ("source",),
    ("run_id",),
    ("artifact", "sha256"),
)
MODEL_IDENTITY_KEYS: tuple[tuple[str, ...], ...] = (("created_at",), ("user_id",))
_VERSION_FILE = re.compile(r"[1-9][0-9]*\.yaml")
_ALIAS_FILE = re.compile(r"[^/]+\.yaml")
# Format 2's per-number folders of a model: versions/N.yaml, deleted/N.yaml (tombstones).
_NUMBERED_FOLDERS: dict[str, Kind] = {"versions": "version", "deleted": "deleted"}


class _Missing:
    """A key absent from a document (distinct from a key whose value is null)."""

    def __repr__(self) -> str:
        return "(absent)"


MISSING: Final = _Missing()


@dataclass(frozen=True)
class MergeResult:
    """The merged document, or ``conflicts``: why it could not be merged (one reason a line).

    ``collision`` is true when the sides hold two different versions (or models) under one
    number (or name)."""

    document: Document | None
    conflicts: tuple[str, ...] = ()
    collision: bool = False
    # Numbers one side deleted and the other registered again (model.yaml only).
    reused: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.conflicts


def document_kind(path: str) -> Kind | None:
    """``model`` for ``.../models/NAME/model.yaml``, ``version`` for
    ``.../models/NAME/versions/N.yaml``, ``alias`` for ``.../models/NAME/aliases/A.yaml``,
    ``deleted`` for a tombstone ``.../models/NAME/deleted/N.yaml``, None for any other."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if len(parts) >= 3 and parts[-1] == "model.yaml" and parts[-3] == "models":
        return "model"
    if len(parts) < 4 or parts[-4] != "models":
        return None
    if parts[-2] in _NUMBERED_FOLDERS and _VERSION_FILE.fullmatch(parts[-1]):
        return _NUMBERED_FOLDERS[parts[-2]]
    if parts[-2] == "aliases" and _ALIAS_FILE.fullmatch(parts[-1]):
        return "alias"
    return None


def merge_texts(base: bytes, ours: bytes, theirs: bytes, path: str) -> MergeResult:
    """Parse the three sides of ``path`` (an empty ``base``: both sides added the file) and
    merge them; anything unreadable (conflict markers, invalid YAML, a broken schema) is a
    conflict naming the side."""
    kind = document_kind(path)
    if kind is None:
        return _conflict(
            f"{path} is not a registry document (models/NAME/model.yaml, "
            "models/NAME/versions/N.yaml, models/NAME/aliases/A.yaml or "
            "models/NAME/deleted/N.yaml)"
        )
    docs: dict[str, Doc | None] = {}
    problems: list[str] = []
    for side, data in (("base", base), ("ours", ours), ("theirs", theirs)):
        if side == "base" and not data.strip():
            docs[side] = None
            continue
        try:
            docs[side] = parse_document(data, path, kind)
        except CorruptFileError as exc:
            problems.append(f"{side}: {exc.problem}")
    if problems:
        return MergeResult(None, tuple(problems))
    ours_doc, theirs_doc = docs["ours"], docs["theirs"]
    assert ours_doc is not None and theirs_doc is not None
    return merge_documents(kind, docs["base"], ours_doc, theirs_doc)


def parse_document(data: bytes, path: str, kind: Kind) -> Document:
    """One side's document, checked against the schema (CorruptFileError otherwise)."""
    where = Path(path)
    doc = yamlio.loads(data, where)
    if not isinstance(doc, dict):
        raise CorruptFileError(where, "expected a mapping of keys to values at the top")
    if kind == "model":
        # Format 2 derives updated_at instead of storing it (format2-spec.md).
        RegisteredModel.from_doc({"updated_at": doc.get("created_at"), **doc}, where)
    elif kind == "version":
        ModelVersion.from_doc(doc, where, [])
    else:
        _check_record(doc, where, kind)
    return doc


def _check_record(doc: Doc, where: Path, kind: Kind) -> None:
    """An alias file or a tombstone: its number (or alias) and a list of history entries."""
    history = doc.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("action"), str) for entry in history
    ):
        raise CorruptFileError(where, "'history' must be a list of entries with an 'action'")
    number = doc.get("version")
    if kind == "alias":
        if not isinstance(doc.get("alias"), str):
            raise CorruptFileError(where, "'alias' must be the alias's name")
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
            raise CorruptFileError(where, "'version' must be a version number or null")
    elif not isinstance(number, int) or isinstance(number, bool):
        raise CorruptFileError(where, "'version' must be the deleted version's number")


def merge_documents(
    kind: Kind, base: Document | None, ours: Document, theirs: Document
) -> MergeResult:
    """Merge two sides of one ``model.yaml`` (``kind="model"``), version file, alias file
    or tombstone."""
    if kind in ("alias", "deleted"):
        return _merge_record(kind, base, ours, theirs)
    collision = _identity_conflicts(kind, base, ours, theirs)
    if collision:
        return MergeResult(None, tuple(collision), collision=True)
    if kind == "model":
        reused = _reused_numbers(base, ours, theirs)
        if reused:
            reasons = tuple(reason for _, reason in reused)
            numbers = tuple(sorted({number for number, _ in reused}))
            return MergeResult(None, reasons, collision=True, reused=numbers)
    old = base or {}
    history = merge_histories(_history(old), _history(ours), _history(theirs))
    merge = _Merge(old, ours, theirs)
    merged: Doc = {}
    order = MODEL_KEYS if kind == "model" else VERSION_KEYS
    extra = [key for doc in (ours, theirs, old) for key in doc if key not in order]
    for key in dict.fromkeys([*order, *extra]):
        if key == "history":
            value: Any = history
        elif key == "updated_at":
            value = _latest_time(ours.get(key, MISSING), theirs.get(key, MISSING))
        elif key == "last_version":
            value = _highest(ours.get(key, MISSING), theirs.get(key, MISSING))
        elif key in _RECORDERS[kind]:
            value = merge.recorded(key, _RECORDERS[kind][key])
        else:
            value = merge.plain(key)
        merge.keep(merged, key, value)
    if kind == "model" and not merge.conflicts:
        _drop_aliases_of_deleted_versions(merged, ours, theirs)
    return merge.result(merged)


def _merge_record(kind: Kind, base: Doc | None, ours: Doc, theirs: Doc) -> MergeResult:
    """An alias file (format 2): the union of both histories, and the alias points where
    the latest entry (by timestamp) put it — the later move wins, the other stays in the
    history. A tombstone: the union of both histories; two tombstones of different
    versions (uids) under one number are a collision."""
    old = base or {}
    if kind == "deleted" and _uid(ours) != _uid(theirs):
        return MergeResult(
            None,
            (
                f"two different deleted versions under number {ours.get('version')} of "
                f"{ours.get('name')!r} (uids {_uid(ours)} and {_uid(theirs)})",
            ),
            collision=True,
        )
    history = merge_histories(_history(old), _history(ours), _history(theirs))
    merge = _Merge(old, ours, theirs)
    merged: Doc = {}
    for key in dict.fromkeys([*ours, *theirs, *old]):
        if key == "history":
            merged[key] = history
        elif key == "version" and kind == "alias":
            merged[key] = _alias_target(merge, history)
        else:
            merge.keep(merged, key, merge.plain(key))
    return merge.result(merged)


def _alias_target(merge: _Merge, history: Sequence[Mapping[str, Any]]) -> Any:
    """Where an alias points after a merge: one side's move taken as it is, else the
    target of the latest alias_set / alias_deleted entry."""
    decided = _one_side_changed(
        merge.base.get("version", MISSING),
        merge.ours.get("version", MISSING),
        merge.theirs.get("version", MISSING),
    )
    if decided is not _UNDECIDED:
        return decided
    moves = [
        entry
        for entry in history
        if entry.get("action") in (actions.ALIAS_SET, actions.ALIAS_DELETED)
    ]
    if not moves:
        merge.conflicts.append(
            f"'version' changed on both sides: ours {_shown(merge.ours.get('version'))}, "
            f"theirs {_shown(merge.theirs.get('version'))}, and the history does not say "
            "which change came later"
        )
        return merge.ours.get("version")
    latest = max(
        enumerate(moves), key=lambda item: (_time(item[1].get("timestamp")) or 0, item[0])
    )[1]
    return latest.get("version") if latest.get("action") == actions.ALIAS_SET else None


def _uid(doc: Mapping[str, Any]) -> Any:
    return doc.get("uid")


def _drop_aliases_of_deleted_versions(merged: Doc, ours: Doc, theirs: Doc) -> None:
    """An alias one side pointed at a version the other side deleted is dropped, as the
    delete would have dropped it, with an ``alias_deleted`` entry saying why: a deleted
    number is never used again, so the alias could never be right."""
    aliases, history = merged.get("aliases"), merged.get("history")
    if not isinstance(aliases, dict) or not isinstance(history, list):
        return
    deletes = {
        entry["version"]: entry
        for entry in history
        if entry.get("action") == actions.VERSION_DELETED and isinstance(entry.get("version"), int)
    }
    for alias, number in sorted(aliases.items()):
        delete = deletes.get(number)
        if delete is None or any(_says(side, alias, number) for side in (ours, theirs)):
            continue
        moves = [
            entry
            for entry in history
            if entry.get("action") == actions.ALIAS_SET
            and entry.get("alias") == alias
            and entry.get("version") == number
        ]
        stamps = [delete, *moves]
        latest = max(stamps, key=lambda entry: _time(entry.get("timestamp")) or 0)
        del aliases[alias]
        history.append(
            {
                "timestamp": latest.get("timestamp"),
                "user_id": delete.get("user_id"),
                "action": actions.ALIAS_DELETED,
                "alias": alias,
                "version": number,
                "comment": f"merge: version {number} was deleted on the other branch",
            }
        )


def _says(side: Doc, alias: str, number: int) -> bool:
    """Whether ``side`` itself has ``alias`` on ``number`` and the number's delete (a hand
    edit, left for `check` to report rather than changed by a merge)."""
    aliases = side.get("aliases")
    return (
        isinstance(aliases, dict)
        and aliases.get(alias) == number
        and any(
            entry.get("action") == actions.VERSION_DELETED and entry.get("version") == number
            for entry in _history(side)
        )
    )


def merge_histories(
    base: Sequence[Mapping[str, object]],
    ours: Sequence[Mapping[str, object]],
    theirs: Sequence[Mapping[str, object]],
) -> list[Document]:
    """Every entry of ``ours`` and ``theirs``, an entry on both sides once (as many times as
    the side with more copies has it); each side's own order is kept and the two are
    interleaved by timestamp, ties by content, so the result does not depend on which side
    is "ours". ``base`` is not needed: the registry's histories only grow, and an entry
    that one side dropped is kept rather than lost."""
    del base  # unions need no ancestor; the parameter keeps the three-way signature
    keys_o = [_entry_key(entry) for entry in ours]
    keys_t = [_entry_key(entry) for entry in theirs]
    seen_o: Counter[str] = Counter()
    seen_t: Counter[str] = Counter()
    emitted: Counter[str] = Counter()
    merged: list[dict[str, Any]] = []

    def take(entry: Mapping[str, Any], key: str, count: int) -> None:
        if count > emitted[key]:
            emitted[key] += 1
            merged.append(dict(entry))

    i = j = 0
    while i < len(ours) or j < len(theirs):
        if i < len(ours) and j < len(theirs) and keys_o[i] == keys_t[j]:
            seen_o[keys_o[i]] += 1
            seen_t[keys_t[j]] += 1
            take(ours[i], keys_o[i], max(seen_o[keys_o[i]], seen_t[keys_t[j]]))
            i, j = i + 1, j + 1
        elif j >= len(theirs) or (
            i < len(ours) and _entry_order(ours[i], keys_o[i]) < _entry_order(theirs[j], keys_t[j])
        ):
            seen_o[keys_o[i]] += 1
            take(ours[i], keys_o[i], seen_o[keys_o[i]])
            i += 1
        else:
            seen_t[keys_t[j]] += 1
            take(theirs[j], keys_t[j], seen_t[keys_t[j]])
            j += 1
    return merged


# -- recorded changes: which history entries changed which key -------------------------

# For a field, a function (entry, key) -> whether ``entry`` records a change of ``key`` of
# that field (``key`` is None for a field with one value, like the description).
Recorder = Callable[[Mapping[str, Any], "str | None"], bool]


def _imported(field: str) -> Recorder:
    """An import that replaced the field (a version's import lists what it replaced)."""

    def records(entry: Mapping[str, Any], key: str | None) -> bool:
        if entry.get("action") != actions.IMPORTED:
            return False
        replaced = entry.get("replaced")
        return not isinstance(replaced, list) or field in replaced

    return records


def _by_action(field: str, actions: tuple[str, ...], key_field: str | None) -> Recorder:
    imported = _imported(field)

    def records(entry: Mapping[str, Any], key: str | None) -> bool:
        if entry.get("action") in actions:
            return key_field is None or entry.get(key_field) == key
        return imported(entry, key)

    return records


_TAGS = _by_action("tags", (actions.TAG_SET, actions.TAG_DELETED), "key")
_DESCRIPTION = _by_action("description", (actions.DESCRIPTION_CHANGED,), None)
_RECORDERS: dict[Kind, dict[str, Recorder]] = {
    "model": {
        "tags": _TAGS,
        "aliases": _by_action("aliases", (actions.ALIAS_SET, actions.ALIAS_DELETED), "alias"),
        "description": _DESCRIPTION,
    },
    "version": {
        "tags": _TAGS,
        "metrics": _imported("metrics"),
        "params": _imported("params"),
        "description": _DESCRIPTION,
        "current_stage": _by_action("current_stage", (actions.STAGE_CHANGED,), None),
    },
}
# Fields whose value is a mapping merged key by key (the others are one value).
_PER_KEY = frozenset({"tags", "aliases", "metrics", "params"})


class _Merge:
    """The three documents, the history entries new on each side, and the conflicts found."""

    def __init__(self, base: Doc, ours: Doc, theirs: Doc) -> None:
        self.base, self.ours, self.theirs = base, ours, theirs
        self.new_ours = _new_entries(_history(base), _history(ours))
        self.new_theirs = _new_entries(_history(base), _history(theirs))
        self.conflicts: list[str] = []

    @staticmethod
    def keep(merged: Doc, key: str, value: Any) -> None:
        """Put ``value`` under ``key``, unless the merge left the key out (MISSING)."""
        if value is not MISSING:
            merged[key] = value

    def result(self, merged: Doc) -> MergeResult:
        """``merged``, or the conflicts found on the way there."""
        if self.conflicts:
            return MergeResult(None, tuple(self.conflicts))
        return MergeResult(merged)

    def plain(self, key: str) -> Any:
        """A key without recorded changes: one side's change is taken, recursively in
        mappings; two different changes are a conflict."""
        return self._three_way(
            key,
            self.base.get(key, MISSING),
            self.ours.get(key, MISSING),
            self.theirs.get(key, MISSING),
        )

    def _three_way(self, where: str, base: Any, ours: Any, theirs: Any) -> Any:
        decided = _one_side_changed(base, ours, theirs)
        if decided is not _UNDECIDED:
            return decided
        if all(isinstance(value, dict) for value in (ours, theirs)) and isinstance(
            base, (dict, _Missing)
        ):
            old = base if isinstance(base, dict) else {}
            merged: dict[str, Any] = {}
            for item in dict.fromkeys([*ours, *theirs]):
                value = self._three_way(
                    f"{where}.{item}",
                    old.get(item, MISSING),
                    ours.get(item, MISSING),
                    theirs.get(item, MISSING),
                )
                if value is not MISSING:
                    merged[item] = value
            return merged
        self.conflicts.append(
            f"'{where}' changed on both sides: ours {_shown(ours)}, theirs {_shown(theirs)}"
        )
        return ours

    def recorded(self, field: str, recorder: Recorder) -> Any:
        """A field whose changes the history records: the later change wins."""
        base, ours, theirs = (
            doc.get(field, MISSING) for doc in (self.base, self.ours, self.theirs)
        )
        if field not in _PER_KEY:
            return self._later(field, None, base, ours, theirs, recorder)
        if not all(
            isinstance(value, (dict, _Missing)) or value is None for value in (base, ours, theirs)
        ):
            return self._three_way(field, base, ours, theirs)
        old, mine, other = (
            value if isinstance(value, dict) else {} for value in (base, ours, theirs)
        )
        merged: dict[str, Any] = {}
        for key in sorted({*mine, *other, *old}, key=str):
            value = self._later(
                field,
                key,
                old.get(key, MISSING),
                mine.get(key, MISSING),
                other.get(key, MISSING),
                recorder,
            )
            if value is not MISSING:
                merged[key] = value
        if not merged and ours in (None, MISSING) and theirs in (None, MISSING):
            return ours
        return merged

    def _later(
        self, field: str, key: str | None, base: Any, ours: Any, theirs: Any, recorder: Recorder
    ) -> Any:
        decided = _one_side_changed(base, ours, theirs)
        if decided is not _UNDECIDED:
            return decided
        when_ours = _last_time(entry for entry in self.new_ours if recorder(entry, key))
        when_theirs = _last_time(entry for entry in self.new_theirs if recorder(entry, key))
        if when_ours is not None and when_theirs is not None and when_ours != when_theirs:
            return ours if when_ours > when_theirs else theirs
        what = field if key is None else f"{field}.{key}"
        self.conflicts.append(
            f"'{what}' changed on both sides: ours {_shown(ours)}, theirs {_shown(theirs)}, "
            "and the history does not say which change came later"
        )
        return ours


# -- identity ---------------------------------------------------------------------------


def _identity_conflicts(kind: Kind, base: Doc | None, ours: Doc, theirs: Doc) -> list[str]:
    keys = IDENTITY_KEYS if kind == "version" else MODEL_IDENTITY_KEYS
    if kind == "version" and all(doc.get("uid") for doc in (ours, theirs)):
        # Format 2: the uid is the identity; it survives a renumbering and an edit.
        keys = (("uid",),)
    sides = [("ours", ours), ("theirs", theirs)]
    if base is not None:
        sides.insert(0, ("base", base))
    for at, (first, one) in enumerate(sides):
        for second, other in sides[at + 1 :]:
            differences = [".".join(path) for path in keys if _dig(one, path) != _dig(other, path)]
            if kind == "version" and one.get("version") != other.get("version"):
                differences.insert(0, "version")
            if differences:
                return [_collision_reason(kind, first, one, second, other, differences)]
    return []


def _reused_numbers(base: Doc | None, ours: Doc, theirs: Doc) -> list[tuple[int, str]]:
    """A number one side handed out and deleted, that the other side handed out too (to
    its own version: both count up from the base's ``last_version``): merged, the other
    side's file would silently reuse a deleted number. git merges that file without the
    driver (only one side has it), so model.yaml is where it is seen."""
    start = _last_version(base) if base is not None else 0
    reasons: list[tuple[int, str]] = []
    for name, side, other_name, other in (
        ("ours", ours, "theirs", theirs),
        ("theirs", theirs, "ours", ours),
    ):
        known = {_entry_key(entry) for entry in _history(other)}
        for entry in _new_entries(_history(base or {}), _history(side)):
            number = entry.get("version")
            if (
                entry.get("action") == actions.VERSION_DELETED
                and isinstance(number, int)
                and start < number <= _last_version(other)
                and _entry_key(entry) not in known
            ):
                reasons.append(
                    (
                        number,
                        f"version {number} of {side.get('name')!r} was registered and deleted on "
                        f"{name}'s side ({entry.get('timestamp')} by {entry.get('user_id')}), and "
                        f"{other_name} registered another version {number}: merged, a deleted "
                        "number would be used again",
                    ),
                )
    return reasons


def _last_version(doc: Doc) -> int:
    value = doc.get("last_version")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _collision_reason(
    kind: Kind, first: str, one: Doc, second: str, other: Doc, differences: list[str]
) -> str:
    if kind == "model":
        return (
            f"{first} and {second} are two different models named {one.get('name')!r} "
            f"(created {_who(one)} and {_who(other)}; they differ in {', '.join(differences)})"
        )
    return (
        f"{first} and {second} are two different versions under number "
        f"{one.get('version')} of {one.get('name')!r}: {first} {_version_label(one)}; "
        f"{second} {_version_label(other)} (they differ in {', '.join(differences)})"
    )


def _who(doc: Doc) -> str:
    return f"{doc.get('created_at')} by {doc.get('user_id')}"


def _version_label(doc: Doc) -> str:
    run = f", run {doc.get('run_id')}" if doc.get("run_id") else ""
    return f"registered {_who(doc)} from {doc.get('source')}{run}"


def _dig(doc: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = doc
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value


# -- small helpers ----------------------------------------------------------------------


def _conflict(reason: str) -> MergeResult:
    return MergeResult(None, (reason,))


def _history(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = doc.get("history")
    return (
        [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []
    )


def _new_entries(
    base: Iterable[Mapping[str, Any]], side: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The entries of ``side`` that ``base`` does not have (as a multiset)."""
    left = Counter(_entry_key(entry) for entry in base)
    new: list[Mapping[str, Any]] = []
    for entry in side:
        key = _entry_key(entry)
        if left[key]:
            left[key] -= 1
        else:
            new.append(entry)
    return new


def _entry_key(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, default=str)


def _time(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return iso_to_ms(value)
    except ValueError:
        return None


def _entry_order(entry: Mapping[str, Any], key: str) -> tuple[int, str]:
    # Entries without a readable time sort first among the new ones, by content.
    when = _time(entry.get("timestamp"))
    return (when if when is not None else -(2**62), key)


def _last_time(entries: Iterable[Mapping[str, Any]]) -> int | None:
    times = [when for entry in entries if (when := _time(entry.get("timestamp"))) is not None]
    return max(times, default=None)


def _latest_time(ours: Any, theirs: Any) -> Any:
    when_ours, when_theirs = _time(ours), _time(theirs)
    if when_ours is None or when_theirs is None:
        return ours if when_theirs is None else theirs
    if when_ours != when_theirs:
        return ours if when_ours > when_theirs else theirs
    return min(ours, theirs)  # the same instant written two ways: either, but symmetric


def _highest(ours: Any, theirs: Any) -> Any:
    numbers = [value for value in (ours, theirs) if isinstance(value, int)]
    return max(numbers) if numbers else ours


# What _one_side_changed returns when both sides changed a value, each differently.
_UNDECIDED = object()


def _one_side_changed(base: Any, ours: Any, theirs: Any) -> Any:
    """The merged value when the sides agree or only one side changed it; else _UNDECIDED."""
    if _same(ours, theirs):
        return ours
    if _same(base, ours):
        return theirs
    if _same(base, theirs):
        return ours
    return _UNDECIDED


def _same(one: Any, other: Any) -> bool:
    if one is MISSING or other is MISSING:
        return one is other
    return bool(type(one) is type(other) and one == other) or (
        _is_number(one) and _is_number(other) and one == other
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

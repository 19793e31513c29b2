"""The three-way merge of whole registry trees by meaning: what others published, what
this clone did since, and their common ancestor, into one registry where nothing is lost.

:func:`integrate` is pure (no files, no repository; git's line merge is run on
``registry.yaml`` and other text files only). A tree maps registry-relative POSIX paths to
file bytes (:mod:`modelreg.gitsync.trees`). The steps:

1. **Renames.** A model renamed on one side (its folder moved, its ``model.yaml`` records
   ``model_renamed``) takes the other side's changes of the old name along: a version
   registered under the old name on the other side lands in the renamed model. Renamed
   to two different names on the two sides is a conflict.
2. **Renumbering** (format 2). A model created on both sides under one name is one
   model: the published ``model.yaml`` is kept (this side's later tags and description
   on top) and this side's versions follow the published ones. A version (or
   tombstone) created on the local, unpublished side whose number is taken on the
   published side — a version file of another ``uid``, or a tombstone — gets a new
   number, and so does every version created locally after it (the creation order
   stays, and numbers stay contiguous): the next numbers above every number either side
   uses. It carries everything: its file, stage, the aliases this side moved onto it
   (alias files changed locally that point at the old number, and the alias history
   entries added locally), and a ``renumbered`` history entry. Published numbers never
   change.
3. **Each file** by its kind (:mod:`modelreg.merging`): model.yaml and version files by
   meaning, alias files by the later move, tombstones by union, ``registry.yaml`` and
   other text by git's line merge. A version deleted on one side and changed on the other
   stays deleted (with a note).
4. **Whole-tree fixups.** Two versions in an exclusive stage (``exclusive_stages`` of the
   merged ``registry.yaml``) after the merge, where neither side alone had two: the later
   ``stage_changed`` wins and the other versions are archived with a history entry. An
   alias (format 2) that points at a version deleted on the other side is cleared with an
   ``alias_deleted`` entry.

Format 1 registries (``modelreg: 1``) merge file by file with the same rules but are not
renumbered: their versions carry no ``uid``, and their numbers live in ``model.yaml``
(``last_version``, ``aliases``) too. Two versions under one number there stop with a
ConflictError that says to upgrade (``modelreg check --repair``) or resolve by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelreg import actions, merging
from modelreg.entities import iso_to_ms, now_iso
from modelreg.errors import ConflictError
from modelreg.gitsync._files import Doc, dump, load

Tree = Mapping[str, bytes]

CONFIG_FILE = "registry.yaml"
ARCHIVED = "Archived"


@dataclass
class Integration:
    """The merged registry tree (every file), the versions renumbered (model, from, to),
    and notes for people (what a merge decided that someone should know)."""

    files: dict[str, bytes]
    renumbered: list[tuple[str, int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def integrate(
    base: Tree,
    published: Tree,
    local: Tree,
    *,
    stamp: str | None = None,
    user: str | None = None,
) -> Integration:
    """Merge ``local`` (this clone's unpublished work) with ``published`` (what the remote
    holds) since their common ancestor ``base``, by meaning.

    ``stamp`` and ``user`` go into the history entries the merge itself writes
    (``renumbered``): by default now, and the renumbered version's own user.
    ConflictError when something cannot be merged by meaning, saying what to do."""
    result = Integration(files={})
    fmt = _format(base, published, local)
    base, published, local = _follow_renames(dict(base), dict(published), dict(local))
    if fmt >= 2:
        local = _adopt_twin_models(base, published, local, result)
        local = _renumber(base, published, local, stamp or now_iso(), user, result)
    for path in sorted({*base, *published, *local}):
        merged = _merge_file(path, base.get(path), published.get(path), local.get(path), result)
        if merged is not None:
            result.files[path] = merged
    _refuse_orphans(result.files, published, local)
    _settle_exclusive_stages(result, published, local)
    if fmt >= 2:
        _clear_aliases_of_deleted(result)
    return result


# -- paths and documents -----------------------------------------------------------------


def locate(path: str) -> tuple[str, str, str] | None:
    """``(model, kind, key)`` of a registry file: kind ``model`` (key ""), ``version`` or
    ``deleted`` (key: the number), ``alias`` (key: the alias); None for other files."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "models" and parts[2] == "model.yaml":
        return parts[1], "model", ""
    if len(parts) == 4 and parts[0] == "models" and parts[3].endswith(".yaml"):
        kind = merging.document_kind(path)
        if kind is not None:
            return parts[1], kind, parts[3].removesuffix(".yaml")
    return None


def _format(base: Tree, published: Tree, local: Tree) -> int:
    """The registry format of the merge (the highest); ConflictError when the two sides
    differ (one side upgraded and the other did not)."""
    formats = [_format_of(tree) for tree in (base, published, local)]
    sides = {value for value in formats[1:] if value is not None}
    if len(sides) > 1:
        raise ConflictError(
            "one side of this merge is registry format 1 and the other format 2: upgrade the "
            "format-1 side first (`modelreg check --repair` there, commit), then merge again"
        )
    return max((value for value in formats if value is not None), default=1)


def _format_of(tree: Tree) -> int | None:
    data = tree.get(CONFIG_FILE)
    if data is None:
        return None
    value = load(data, CONFIG_FILE).get("modelreg", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def identity(doc: Mapping[str, object]) -> str:
    """What makes a version (or tombstone) that version: its ``uid`` (format 2), else the
    content merging.py compares (creation time, user, source, run id, checksum)."""
    uid = doc.get("uid")
    if isinstance(uid, str) and uid:
        return "uid:" + uid
    return content_identity(doc)


def content_identity(doc: Mapping[str, object]) -> str:
    """A version's identity from what it was registered with (creation time, user,
    source, run id, checksum): the same before and after the format upgrade gave it a
    ``uid``, and after a renumbering."""
    values = [merging._dig(doc, path) for path in merging.IDENTITY_KEYS]
    return "content:" + json.dumps(values, default=str)


def _entry_key(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, default=str)


def _history(doc: Mapping[str, Any]) -> list[Doc]:
    value = doc.get("history")
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _time(entry: Mapping[str, Any]) -> int:
    stamp = entry.get("timestamp")
    try:
        return iso_to_ms(stamp) if isinstance(stamp, str) else 0
    except ValueError:
        return 0


# -- 1. renames --------------------------------------------------------------------------


def _follow_renames(base: Doc, published: Doc, local: Doc) -> tuple[Doc, Doc, Doc]:
    """Move the other side's (and base's) files of a model one side renamed to its new
    name, so that every later step compares like with like."""
    models = {
        path.split("/")[1] for path in base if (found := locate(path)) and found[1] == "model"
    }
    moves: dict[str, str] = {}
    for name in sorted(models):
        targets = {
            side: _renamed_to(tree, name)
            for side, tree in (("published", published), ("local", local))
        }
        names = {target for target in targets.values() if target is not None}
        if len(names) > 1:
            raise ConflictError(
                f"model {name!r} was renamed to {targets['published']!r} on the published "
                f"side and to {targets['local']!r} here: rename it here to "
                f"{targets['published']!r} (`modelreg rename`) and integrate again"
            )
        if names:
            moves[name] = names.pop()
    if not moves:
        return base, published, local
    return _moved(base, moves), _moved(published, moves), _moved(local, moves)


def _renamed_to(tree: Mapping[str, bytes], name: str) -> str | None:
    """The name model ``name`` has in ``tree`` after the renames it records, None when it
    was not renamed there (or is gone)."""
    if f"models/{name}/model.yaml" in tree:
        return None
    renames: dict[str, str] = {}
    for path, data in tree.items():
        located = locate(path)
        if located is None or located[1] != "model":
            continue
        for entry in _history(load(data, path)):
            if entry.get("action") == actions.MODEL_RENAMED:
                renames[str(entry.get("from"))] = str(entry.get("to"))
    current, seen = name, set()
    while current in renames and current not in seen:
        seen.add(current)
        current = renames[current]
    return current if current != name and f"models/{current}/model.yaml" in tree else None


def _moved(tree: Doc, moves: Mapping[str, str]) -> Doc:
    moved: Doc = {}
    for path, data in tree.items():
        located = locate(path)
        if located is None or located[0] not in moves or f"models/{located[0]}/" not in path:
            moved[path] = data
            continue
        old, new = located[0], moves[located[0]]
        target = f"models/{new}/" + path.removeprefix(f"models/{old}/")
        if target in tree:  # already there on this side (renamed here): keep that one
            continue
        doc = load(data, path)
        if doc.get("name") == old:
            doc["name"] = new
            data = dump(doc)
        moved[target] = data
    return moved


def _adopt_twin_models(base: Doc, published: Doc, local: Doc, result: Integration) -> Doc:
    """A model created on both sides under one name (two CI jobs registering the first
    versions of a new model) is one model: the published ``model.yaml`` is kept, with the
    model-level entries made here after the creation (tags, description) on top; the
    versions made here are then renumbered after the published ones (step 2)."""
    for model in _models(local):
        path = f"models/{model}/model.yaml"
        if path in base or path not in published or path not in local:
            continue
        theirs, mine = load(published[path], path), load(local[path], path)
        if merging._identity_conflicts("model", None, mine, theirs) == []:
            continue
        adopted = dict(theirs)
        extra = [e for e in _history(mine) if e.get("action") != actions.MODEL_CREATED]
        adopted["history"] = [*_history(theirs), *extra]
        for entry in extra:
            if entry.get("action") == actions.TAG_SET and isinstance(entry.get("key"), str):
                adopted["tags"] = {**(adopted.get("tags") or {}), entry["key"]: entry.get("value")}
            elif entry.get("action") == actions.DESCRIPTION_CHANGED:
                adopted["description"] = mine.get("description")
        local = {**local, path: dump(adopted)}
        result.notes.append(
            f"{model}: created here and on the published side; this side's versions join "
            "the published model"
        )
    return local


# -- 2. renumbering ----------------------------------------------------------------------


def _numbered(tree: Mapping[str, bytes], model: str) -> dict[int, tuple[str, str]]:
    """Number -> (``version`` or ``deleted``, identity) of one model's files in ``tree``."""
    found: dict[int, tuple[str, str]] = {}
    for path, data in tree.items():
        located = locate(path)
        if located is None or located[0] != model or located[1] not in ("version", "deleted"):
            continue
        number = int(located[2])
        if located[1] == "version" or number not in found:
            found[number] = (located[1], identity(load(data, path)))
    return found


def _models(*trees: Tree) -> list[str]:
    return sorted(
        {located[0] for tree in trees for path in tree if (located := locate(path)) is not None}
    )


def _renumber(
    base: Doc, published: Doc, local: Doc, stamp: str, user: str | None, result: Integration
) -> Doc:
    """``local`` with its new versions that collide with published numbers renumbered."""
    for model in _models(local):
        mine = _numbered(local, model)
        theirs = _numbered(published, model)
        known = {ident for _, ident in _numbered(base, model).values()}
        published_idents = {ident for _, ident in theirs.values()}
        created = sorted(
            number
            for number, (_, ident) in mine.items()
            if ident not in known and ident not in published_idents
        )
        colliding = [number for number in created if number in theirs]
        if not colliding:
            continue
        first = colliding[0]
        moving = [number for number in created if number >= first]
        staying = [number for number in mine if number not in moving]
        start = max([*theirs, *staying, 0]) + 1
        renumbering = {old: start + at for at, old in enumerate(moving)}
        local = _apply_renumbering(base, local, model, renumbering, stamp, user)
        result.renumbered.extend((model, old, new) for old, new in renumbering.items())
    return local


def _apply_renumbering(
    base: Doc,
    local: Doc,
    model: str,
    renumbering: Mapping[int, int],
    stamp: str,
    user: str | None,
) -> Doc:
    moved: Doc = {}
    prefix = f"models/{model}/"
    for path, data in local.items():
        located = locate(path)
        if located is None or located[0] != model:
            moved[path] = data
            continue
        _, kind, key = located
        if kind in ("version", "deleted") and int(key) in renumbering:
            old = int(key)
            new = renumbering[old]
            doc = load(data, path)
            doc["version"] = new
            history = _history(doc)
            if kind == "deleted":
                for entry in history:
                    if (
                        entry.get("action") == actions.VERSION_DELETED
                        and entry.get("version") == old
                    ):
                        entry["version"] = new
            history.append(
                {
                    "timestamp": stamp,
                    "user_id": user or doc.get("user_id") or _last_user(history),
                    "action": actions.RENUMBERED,
                    "from_version": old,
                    "to_version": new,
                }
            )
            doc["history"] = history
            if kind == "version" and "updated_at" in doc:
                doc["updated_at"] = stamp
            folder = "versions" if kind == "version" else "deleted"
            moved[f"{prefix}{folder}/{new}.yaml"] = dump(doc)
        elif kind in ("alias", "version") and base.get(path) != data:
            moved[path] = _entries_followed(data, base.get(path), path, renumbering)
        else:
            moved[path] = data
    return moved


def _last_user(history: list[Doc]) -> Any:
    return history[-1].get("user_id") if history else None


# The fields of history entries that name another version by number: in an alias file,
# the target and the previous one; in a version file, the version whose move archived it.
_NUMBER_FIELDS = {"alias": ("version", "previous_version"), "version": ("archived_by",)}


def _entries_followed(
    data: bytes, base: bytes | None, path: str, renumbering: Mapping[int, int]
) -> bytes:
    """A file changed here (an alias file; another version's file) with the numbers its
    entries added here name — and an alias file's target — moved to the new numbers."""
    located = locate(path)
    assert located is not None
    doc = load(data, path)
    old_entries = {_entry_key(entry) for entry in _history(load(base, path))} if base else set()
    changed = False
    for entry in _history(doc):
        if _entry_key(entry) in old_entries:
            continue
        for key in _NUMBER_FIELDS[located[1]]:
            if entry.get(key) in renumbering:
                old, entry[key] = entry[key], renumbering[entry[key]]
                changed = True
                # The note a transition wrote names it too (versions.transition): the
                # archived version left the stage the other one entered.
                stage = entry.get("from_stage")
                if entry.get("comment") == f"archived: version {old} entered {stage}":
                    entry["comment"] = f"archived: version {entry[key]} entered {stage}"
    if located[1] == "alias" and doc.get("version") in renumbering:
        doc["version"] = renumbering[doc["version"]]
        changed = True
    return dump(doc) if changed else data


# -- 3. each file ------------------------------------------------------------------------


def _merge_file(
    path: str, base: bytes | None, published: bytes | None, local: bytes | None, result: Integration
) -> bytes | None:
    if published == local:
        return published
    if base == published:
        return local
    if base == local:
        return published
    located = locate(path)
    kind = located[1] if located else None
    if published is None or local is None:
        return _modified_and_deleted(path, kind, published, local, result)
    if kind is None:
        return _text_merge(path, base, published, local)
    docs = {
        side: load(data, path) if data is not None else None
        for side, data in (("base", base), ("published", published), ("local", local))
    }
    assert docs["published"] is not None and docs["local"] is not None
    merged = merging.merge_documents(kind, docs["base"], docs["local"], docs["published"])  # type: ignore[arg-type]
    if not merged.ok:
        raise ConflictError(_cannot_merge(path, merged))
    return dump(merged.document)


def _modified_and_deleted(
    path: str, kind: str | None, published: bytes | None, local: bytes | None, result: Integration
) -> bytes | None:
    if kind == "version":
        located = locate(path)
        assert located is not None
        side = "published side" if published is None else "local side"
        other = "here" if published is None else "on the published side"
        result.notes.append(
            f"{located[0]}: version {located[2]} was deleted on the {side}; the changes made "
            f"to it {other} went with it"
        )
        return None
    kept = "published" if local is None else "local"
    raise ConflictError(
        f"{path} was deleted on one side and changed on the other (kept on the {kept} "
        "side): decide which is right, restore or delete it by hand, `modelreg check`, "
        "and commit"
    )


def _text_merge(path: str, base: bytes | None, published: bytes, local: bytes) -> bytes:
    from modelreg.merge_driver import text_merge

    merged = text_merge(base or b"", local, published)
    if merged is None:
        raise ConflictError(
            f"{path} was changed on both sides and the changes overlap: edit it by hand "
            f"keeping both sides' meaning, `modelreg check`, `git add {path}`, and run the "
            "command again"
        )
    return merged


def _cannot_merge(path: str, merged: merging.MergeResult) -> str:
    reasons = "\n  - ".join(merged.conflicts)
    located = locate(path)
    if merged.collision and located is not None and located[1] == "model":
        hint = (
            f"Two different models named {located[0]!r} were created on the two sides: "
            "keep the published one; rename yours in your clone before merging "
            "(`git merge --abort`, `modelreg rename`, commit) and integrate again."
        )
    elif merged.collision:
        hint = (
            "This registry is format 1, which cannot renumber a version: upgrade it "
            "(`modelreg check --repair` on a clean checkout of each side, commit) and "
            "integrate again, or keep the published file and register the other version "
            "again."
        )
    else:
        hint = (
            f"Edit {path} keeping what both sides meant and every history entry of both, "
            "then `modelreg check` and commit."
        )
    return f"cannot merge {path} by meaning:\n  - {reasons}\n{hint}"


def _refuse_orphans(files: Mapping[str, bytes], published: Tree, local: Tree) -> None:
    """A model deleted on one side (its folder gone) while the other side added to it."""
    for model in _models(files):
        if f"models/{model}/model.yaml" in files:
            continue
        side = "published side" if f"models/{model}/model.yaml" not in published else "local side"
        raise ConflictError(
            f"model {model!r} was deleted on the {side} while the other side changed it: "
            "decide whether it stays (restore its folder from the side that kept it) or goes "
            f"(`git rm -r` what is left of models/{model}), then commit"
        )


# -- 4. whole-tree fixups ----------------------------------------------------------------


def exclusive_stages(files: Mapping[str, bytes]) -> tuple[str, ...]:
    data = files.get(CONFIG_FILE)
    if data is None:
        return ()
    value = load(data, CONFIG_FILE).get("exclusive_stages")
    return tuple(str(stage) for stage in value) if isinstance(value, list) else ()


def _stage_holders(files: Tree, model: str, stage: str) -> dict[int, Doc]:
    found = {}
    for path, data in files.items():
        located = locate(path)
        if located and located[0] == model and located[1] == "version":
            doc = load(data, path)
            if doc.get("current_stage") == stage:
                found[int(located[2])] = doc
    return found


def _settle_exclusive_stages(result: Integration, published: Tree, local: Tree) -> None:
    """Where the merge put two versions in an exclusive stage, the later move wins."""
    for stage in exclusive_stages(result.files):
        for model in _models(result.files):
            holders = _stage_holders(result.files, model, stage)
            if len(holders) < 2 or any(
                len(_stage_holders(side, model, stage)) > 1 for side in (published, local)
            ):
                continue  # not made by this merge: `check` reports it

            def entered(item: tuple[int, Doc], stage: str = stage) -> tuple[int, int]:
                moves = [
                    entry
                    for entry in _history(item[1])
                    if entry.get("action") == actions.STAGE_CHANGED
                    and entry.get("to_stage") == stage
                ]
                return (max((_time(entry) for entry in moves), default=0), item[0])

            ordered = sorted(holders.items(), key=entered)
            winner, winner_doc = ordered[-1]
            move = max(
                (
                    entry
                    for entry in _history(winner_doc)
                    if entry.get("action") == actions.STAGE_CHANGED
                    and entry.get("to_stage") == stage
                ),
                key=_time,
                default={},
            )
            for number, doc in ordered[:-1]:
                comment = f"archived by merge: version {winner} entered {stage} later"
                doc["current_stage"] = ARCHIVED
                doc["history"] = [
                    *_history(doc),
                    {
                        "timestamp": move.get("timestamp") or now_iso(),
                        "user_id": move.get("user_id"),
                        "action": actions.STAGE_CHANGED,
                        "from_stage": stage,
                        "to_stage": ARCHIVED,
                        "comment": comment,
                        "archived_by": winner,
                    },
                ]
                if "updated_at" in doc and move.get("timestamp"):
                    doc["updated_at"] = max(
                        (doc["updated_at"], move["timestamp"]), key=lambda s: iso_to_ms(str(s))
                    )
                result.files[f"models/{model}/versions/{number}.yaml"] = dump(doc)
                result.notes.append(
                    f"{model}: version {number} archived: version {winner} entered {stage} later"
                )


def _clear_aliases_of_deleted(result: Integration) -> None:
    """An alias file left pointing at a deleted version (format 2) is cleared."""
    for path, data in sorted(result.files.items()):
        located = locate(path)
        if located is None or located[1] != "alias":
            continue
        doc = load(data, path)
        number = doc.get("version")
        model = located[0]
        if not isinstance(number, int) or f"models/{model}/versions/{number}.yaml" in result.files:
            continue
        tombstone = result.files.get(f"models/{model}/deleted/{number}.yaml")
        if tombstone is None:
            continue  # a dangling alias not made by a delete: `check` reports it
        deletes = [
            entry
            for entry in _history(load(tombstone, "deleted"))
            if entry.get("action") == actions.VERSION_DELETED
        ]
        moves = [
            entry
            for entry in _history(doc)
            if entry.get("action") == actions.ALIAS_SET and entry.get("version") == number
        ]
        latest = max([*deletes, *moves], key=_time, default={})
        doc["version"] = None
        doc["history"] = [
            *_history(doc),
            {
                "timestamp": latest.get("timestamp") or now_iso(),
                "user_id": (deletes[-1] if deletes else latest).get("user_id"),
                "action": actions.ALIAS_DELETED,
                "alias": doc.get("alias", located[2]),
                "version": number,
                "comment": f"merge: version {number} was deleted on the other branch",
            },
        ]
        result.files[path] = dump(doc)
        result.notes.append(
            f"{model}: alias {doc.get('alias', located[2])} cleared: version {number} was deleted"
        )


def changed_paths(old: Tree, new: Tree) -> Iterable[str]:
    """The paths whose bytes differ between two trees (added, changed or removed)."""
    return sorted(path for path in {*old, *new} if old.get(path) != new.get(path))

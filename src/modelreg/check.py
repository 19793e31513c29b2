"""``modelreg check``: read the whole registry folder, report every problem, and repair
what can be repaired without losing anything anyone wrote.

The checker walks the tree itself instead of going through the registry's loaders, which
stop at the first problem: each file is read on its own, never through a symlink, and
each problem becomes one :class:`Finding` that names the file, says what is wrong and how
to fix it. With ``repair=True`` it also fixes

- temporary files left by interrupted writes (deleted),
- interrupted deletes, i.e. whatever is in ``.trash/`` (finished),
- empty folders left by an interrupted create (removed),
- derived data: ``last_version`` below a version that exists or existed (raised), and
  the ``name`` written in the files of a model whose folder was renamed (rewritten);

and says what it did. It never deletes a version record and never guesses: two files
claiming one version number, a version file under the wrong number, a corrupt file or an
alias pointing at nothing are left for a person, with the fix spelled out.

The whole check holds the registry's write lock (with its timeout), so it sees the folder
between two writes, never in the middle of one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg import actions, layout, workflow, yamlio
from modelreg.config import FORMAT_VERSION, Config, effective_lock_timeout, parse_config
from modelreg.datasets import Dataset
from modelreg.docread import Document, JSONValue
from modelreg.entities import ModelVersion, RegisteredModel, iso_to_ms, new_uid, now_iso
from modelreg.errors import CorruptFileError, RegistryError
from modelreg.names import validate_model_name
from modelreg.pointintime import lifetime
from modelreg.store import (
    CARD_FILE,
    CONFIG_FILE,
    MODEL_FILE,
    MODELS_DIR,
    TRASH_DIR,
    TRASH_VERSION_SEP,
    VERSIONS_DIR,
    Store,
    atomic_write,
    fsync_dir,
    read_mapping,
)
from modelreg.versions import record_deleted

# `.<file>.<12 hex digits>.tmp`, as store.atomic_write names its temporary files.
_TEMP_RE = re.compile(r"\.(?P<target>.+)\.[0-9a-f]{12}\.tmp\Z")
_VERSION_FILE_RE = re.compile(r"(?P<number>[1-9][0-9]*)\.yaml\Z")
_MODEL_KEYS = tuple(RegisteredModel("x", 0, 0).to_doc())
_VERSION_KEYS = tuple(
    ModelVersion("x", 1, 0, 0, uid="x", model_id="x", datasets={"x": Dataset("x", "x")}).to_doc()
)
# Format 1 files have no uid (and may have one, once an upgrade began); model_id is
# written only for a version registered from an MLflow 3 logged model, datasets only for
# one registered with data sets.
_OPTIONAL_UID = ("uid", "model_id", "datasets")
_REPAIR_HINT = "`modelreg check --repair` does this"
_RESTORE = "fix it by hand or restore a good copy (e.g. `git restore -- {path}`)"


@dataclass(frozen=True)
class Finding:
    """One problem: the file (or folder) it is in, what is wrong, and how to fix it.

    ``repaired`` findings were fixed by ``check --repair`` and ``fix`` says what it did;
    ``repairable`` ones would be.
    """

    path: Path
    problem: str
    fix: str
    repaired: bool = False
    repairable: bool = False

    def to_dict(self) -> Document:
        return {
            "path": str(self.path),
            "problem": self.problem,
            "fix": self.fix,
            "repaired": self.repaired,
        }


@dataclass(frozen=True)
class CheckReport:
    """Everything ``check`` found (and, with repair, what it fixed)."""

    root: Path
    findings: tuple[Finding, ...]
    # Things worth saying that are not problems (e.g. "format 1: upgrade with --repair").
    notes: tuple[str, ...] = ()

    @property
    def problems(self) -> list[Finding]:
        """The findings that remain: the registry is clean when there are none."""
        return [finding for finding in self.findings if not finding.repaired]

    @property
    def repairs(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.repaired]

    @property
    def clean(self) -> bool:
        return not self.problems


def check_registry(
    root: Path,
    repair: bool = False,
    *,
    lock_timeout: float | None = None,
    rules: bool = False,
) -> CheckReport:
    """Check the registry at ``root``; with ``repair``, fix what is safe to fix; with
    ``rules``, also that every version's stage is backed by its history under the
    registry's promotion rules (see :func:`modelreg.workflow.audit_version`).

    Holds the registry's lock for the whole check (BusyError when it cannot be had in
    time). A plain check of a folder where the lock cannot even be created (a read-only
    checkout) runs without it.
    """
    root = Path(root)
    timeout = lock_timeout if lock_timeout is not None else _lock_timeout(root)
    notes: list[str] = []
    with _holding_lock(Store(root, timeout), required=repair):
        checker = _Checker(root, repair)
        findings = checker.run()
        old_format = checker.config.format < FORMAT_VERSION and checker.has_config
        if repair:
            # What the repairs left is what a fresh check finds now.
            remaining = _Checker(root, repair=False).run()
            if old_format and not remaining:
                findings.append(_upgrade(root))
                # The upgrade's own check: interrupted steps are finished by its repairs.
                findings += [f for f in _Checker(root, repair=True).run() if f.repaired]
                remaining = _Checker(root, repair=False).run()
            elif old_format:
                notes.append(
                    f"not upgraded to format {FORMAT_VERSION} while problems remain: fix them, "
                    "then run `modelreg check --repair` again"
                )
            findings = [finding for finding in findings if finding.repaired] + remaining
        elif old_format:
            notes.append(
                f"this registry is in format {checker.config.format}; `modelreg check --repair` "
                f"upgrades it to format {FORMAT_VERSION}, whose files git merges without "
                "conflicts (README: 'The folder')"
            )
        if rules:
            findings += audit_rules(root)
        findings += vanished_history(root)
    return CheckReport(root, tuple(findings), tuple(notes))


def vanished_history(root: Path) -> list[Finding]:
    """History entries that a git merge (or an edit) dropped: each file's entries are
    compared with the committed file (``HEAD``, and ``MERGE_HEAD`` / ``REBASE_HEAD`` in a
    stopped merge or rebase).
    Outside a git work tree this costs a few ``stat`` calls and no git process."""
    from modelreg.gitsync.trees import inside_work_tree

    if not inside_work_tree(root):
        return []
    from modelreg.gitsync.changes import vanished_since

    findings = []
    for rev, repo_path, lost in vanished_since(root):
        entry = lost.entry
        findings.append(
            Finding(
                root / lost.path,
                f"history entry '{entry.get('action')}' of {entry.get('timestamp')} by "
                f"{entry.get('user_id')} is in {rev} but not in this file: a merge or an "
                "edit dropped it",
                f"copy it back from `git show {rev}:{repo_path}` into the history (in time "
                "order), then `modelreg check`",
            )
        )
    return findings


@contextlib.contextmanager
def _holding_lock(store: Store, required: bool) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.lock())
        except OSError:
            if required:
                raise
        else:
            if required:
                store.begin_change()  # repairs change files: readers wait for the end
        yield


def _lock_timeout(root: Path) -> float:
    try:
        config = parse_config(read_mapping(root / CONFIG_FILE), root / CONFIG_FILE)
    except (OSError, CorruptFileError):
        config = Config()
    return effective_lock_timeout(config)


@dataclass(frozen=True)
class _ReadModel:
    """A model folder whose model.yaml could be read: what the checks of its numbers and
    aliases look at (``versions``: by number, None where the file is corrupt)."""

    name: str
    file: Path
    model: RegisteredModel
    versions: dict[int, ModelVersion | None]


class _Checker:
    """One pass over the folder, collecting findings (and repairing, if asked)."""

    def __init__(self, root: Path, repair: bool) -> None:
        self.root = root
        self.repair = repair
        self.findings: list[Finding] = []
        self.config = Config()
        self.has_config = False
        self._split_guess: bool | None = None
        # (model, version) of versions whose delete was interrupted after the trash step.
        self.trashed_versions: set[tuple[str, int]] = set()
        self._user: str | None = None

    def run(self) -> list[Finding]:
        self._check_config()
        for entry in self._entries(self.root) or []:
            self._is_temp_file(entry)
        self._check_trash()
        self._check_models()
        return self.findings

    # -- reporting -----------------------------------------------------------------

    def _report(
        self,
        path: Path,
        problem: str,
        fix: str,
        repair: Callable[[], str] | None = None,
        *,
        repairable: bool = False,
    ) -> None:
        """Record a finding; with repair mode and a ``repair`` action, run it first.

        ``repairable`` marks a finding that the repair of another one fixes."""
        if repair is None:
            self.findings.append(Finding(path, problem, fix, repairable=repairable))
        elif not self.repair:
            self.findings.append(Finding(path, problem, f"{fix} ({_REPAIR_HINT})", repairable=True))
        else:
            try:
                done = repair()
            except (OSError, RegistryError) as exc:
                self.findings.append(Finding(path, problem, f"{fix} (the repair failed: {exc})"))
            else:
                self.findings.append(Finding(path, problem, done, repaired=True))

    def _report_corrupt(self, exc: CorruptFileError) -> None:
        if "conflict marker" in exc.problem:
            fix = (
                "finish the git merge or rebase with `modelreg merge-continue`, which "
                "merges registry files by meaning and renumbers a version two branches "
                "both registered (README: 'After a manual merge or rebase: `modelreg "
                "merge-continue`'); resolve by hand only what it cannot (README: 'Other "
                "merge conflicts')"
            )
        else:
            fix = _RESTORE.format(path=exc.path)
        self._report(exc.path, exc.problem, fix)

    def _entries(self, folder: Path) -> list[os.DirEntry[str]] | None:
        try:
            with os.scandir(folder) as iterator:
                return sorted(iterator, key=lambda entry: entry.name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._report(folder, f"cannot be read: {exc.strerror}", "fix its permissions")
            return None

    def _is_temp_file(self, entry: os.DirEntry[str]) -> bool:
        match = _TEMP_RE.match(entry.name)
        if match is None or entry.is_dir(follow_symlinks=False):
            return False
        path = Path(entry.path)
        self._report(
            path,
            f"temporary file left by an interrupted write of {match['target']}",
            "delete it",
            functools.partial(_delete_file, path),
        )
        return True

    # -- registry.yaml ---------------------------------------------------------------

    def _check_config(self) -> None:
        path = self.root / CONFIG_FILE
        try:
            self.config = parse_config(read_mapping(path), path)
            self.has_config = True
            # The rules and the hooks are parsed only when needed at run time; a broken
            # section must still be found here, before it stops a promotion.
            workflow.parse_rules(self.config.raw.get("rules"), self.config.stages, path)
            if self.config.raw.get("hooks"):
                from modelreg import hooks

                hooks.load(self.config.raw, self.root)
        except FileNotFoundError:
            self._report(path, "is missing", "restore it, or create a registry: modelreg init")
        except CorruptFileError as exc:
            self._report(
                exc.path,
                exc.problem,
                f"{_RESTORE.format(path=path)}; until then the default stages are assumed",
            )

    # -- .trash ----------------------------------------------------------------------

    def _check_trash(self) -> None:
        trash = self.root / TRASH_DIR
        if not os.path.lexists(trash):
            return
        if trash.is_symlink() or not trash.is_dir():
            self._report(
                trash,
                "is not a folder (modelreg keeps interrupted deletes there)",
                "remove it",
                functools.partial(_delete_file, trash),
            )
            return
        for entry in self._entries(trash) or []:
            path = Path(entry.path)
            version = _trashed_version(entry.name)
            if version is not None and entry.is_file(follow_symlinks=False):
                name, number = version
                self.trashed_versions.add(version)
                self._report(
                    path,
                    f"interrupted delete of version {number} of model '{name}'",
                    "finish it: drop the aliases that point at that version and record "
                    "the delete in model.yaml, then delete this file",
                    functools.partial(self._finish_version_delete, name, number, path),
                )
            else:
                what = entry.name.rsplit(".", 1)[0]
                self._report(
                    path,
                    f"interrupted delete of model '{what}' (left in .trash)",
                    "delete it",
                    functools.partial(_delete_tree, path),
                )

    def _finish_version_delete(self, name: str, number: int, trashed: Path) -> str:
        model_file = self.root / MODELS_DIR / name / MODEL_FILE
        version_file = self.root / MODELS_DIR / name / VERSIONS_DIR / f"{number}.yaml"
        done = "deleted the trashed version file"
        if self.split and _is_real_file(model_file) and not os.path.lexists(version_file):
            store = Store(self.root)
            model = layout.load(store, name)
            uid = read_mapping(trashed).get("uid")
            dropped = record_deleted(
                model,
                number,
                functools.partial(self._entry, now_iso()),
                unless_recorded=True,
                uid=uid if isinstance(uid, str) else None,
                life=_trashed_life(trashed),
            )
            layout.save(store, model)
            done = f"finished the delete in {model_file.parent}"
            if dropped:
                done += f" (dropped alias {', '.join(dropped)})"
            done += ", then deleted the trashed version file"
        elif _is_real_file(model_file) and not os.path.lexists(version_file):
            model = RegisteredModel.from_doc(read_mapping(model_file), model_file)
            stamp = now_iso()
            before = (len(model.history), model.last_version)
            # What delete_model_version records, with the same code.
            dropped = record_deleted(
                model,
                number,
                functools.partial(self._entry, stamp),
                unless_recorded=True,
                life=_trashed_life(trashed),
            )
            if (len(model.history), model.last_version) != before:
                model.last_updated_timestamp = iso_to_ms(stamp)
                _write_doc(model_file, model.to_doc())
                done = f"finished the delete in {model_file}"
                if dropped:
                    done += f" (dropped alias {', '.join(dropped)})"
                done += ", then deleted the trashed version file"
        _delete_file(trashed)
        return done

    def _entry(self, stamp: str, action: str, **fields: Any) -> Document:
        if self._user is None:
            from modelreg.lineage import current_user

            self._user = current_user()
        return {
            "timestamp": stamp,
            "user_id": self._user,
            "action": action,
            **fields,
            "comment": "finished by modelreg check --repair",
        }

    # -- models/ ---------------------------------------------------------------------

    def _check_models(self) -> None:
        models = self.root / MODELS_DIR
        if models.is_symlink():
            self._report(
                models,
                "is a symlink; modelreg never follows it",
                "replace it with a real folder holding the models",
            )
            return
        if os.path.lexists(models) and not models.is_dir():
            self._report(models, "is not a folder", "move it away and run `modelreg init`")
            return
        seen: dict[str, str] = {}
        for entry in self._entries(models) or []:
            path = Path(entry.path)
            if self._is_temp_file(entry) or entry.name.startswith("."):
                continue
            if entry.is_symlink():
                self._report(
                    path,
                    f"model folder is a symlink (to {path.readlink()}); modelreg never "
                    "reads or writes through it",
                    "replace the symlink with the model's folder itself, or remove it",
                )
                continue
            if not entry.is_dir():
                self._report(
                    path,
                    "unexpected file: models/ holds only model folders",
                    "move it out of the registry",
                )
                continue
            try:
                validate_model_name(entry.name)
            except ValueError as exc:
                self._report(path, f"the folder name is not a model name: {exc}", "rename it")
                continue
            twin = seen.get(entry.name.lower())
            if twin is not None:
                self._report(
                    path,
                    f"differs from model folder '{twin}' only in case; the two clash on "
                    "macOS and Windows checkouts",
                    "rename or merge one of them",
                )
            seen[entry.name.lower()] = entry.name
            self._check_model(entry.name, path)

    @property
    def split(self) -> bool:
        """Whether models are kept in several files (format 2, see layout.py)."""
        if not self.has_config and self._split_guess is not None:
            return self._split_guess
        return self.config.format >= 2

    def _guess_format(self, folder: Path) -> None:
        """Without a readable registry.yaml, each model is checked in the format its
        folder looks like (format 1's model.yaml has updated_at; format 2 has aliases/)."""
        if self.has_config:
            return
        try:
            data = (folder / MODEL_FILE).read_bytes()
        except OSError:
            data = b""
        self._split_guess = (
            (folder / layout.ALIASES_DIR).is_dir()
            or (folder / layout.DELETED_DIR).is_dir()
            or (bool(data) and b"\nupdated_at:" not in data)
        )

    def _check_model(self, name: str, folder: Path) -> None:
        self._guess_format(folder)
        entries = self._entries(folder) or []
        model_file = folder / MODEL_FILE
        kept: tuple[str, ...] = (MODEL_FILE, CARD_FILE, VERSIONS_DIR)
        if self.split:
            kept += (layout.ALIASES_DIR, layout.DELETED_DIR)
        for entry in entries:
            if entry.name in kept or self._is_temp_file(entry):
                continue
            if not entry.name.startswith("."):
                self._report(
                    Path(entry.path),
                    "unexpected file: a model folder holds only "
                    + ", ".join(f"{each}/" if each != MODEL_FILE else each for each in kept),
                    "move it out of the registry",
                )
        versions = self._check_versions(name, folder / VERSIONS_DIR)
        if not any(entry.name == MODEL_FILE for entry in entries):
            self._check_orphan_folder(folder, model_file, versions)
            return
        if self.split:
            self._check_split_model(name, folder, versions)
            return
        try:
            doc = read_mapping(model_file)
            model = RegisteredModel.from_doc(doc, model_file)
        except CorruptFileError as exc:
            self._report_corrupt(exc)
            return
        self._check_keys(model_file, doc, _MODEL_KEYS)
        self._check_name(name, model_file, doc)
        found = _ReadModel(name, model_file, model, versions)
        self._check_numbers(found)
        self._check_aliases(found)
        self._check_exclusive_stages(name, folder, versions)

    # -- format 2 --------------------------------------------------------------------

    def _check_split_model(
        self, name: str, folder: Path, versions: dict[int, ModelVersion | None]
    ) -> None:
        model_file = folder / MODEL_FILE
        try:
            doc = read_mapping(model_file)
            if layout.is_unsplit(doc):
                RegisteredModel.from_doc(doc, model_file)  # readable, so it can be split
            else:
                layout.parse_model(doc, model_file)
        except CorruptFileError as exc:
            self._report_corrupt(exc)
            return
        if layout.is_unsplit(doc):
            self._report(
                model_file,
                "is still in format 1 (an upgrade to format 2 that was interrupted)",
                "split it into model.yaml, aliases/ and deleted/",
                functools.partial(self._split_model, name),
            )
            return
        self._check_keys(model_file, doc, layout.MODEL_KEYS)
        self._check_name(name, model_file, doc)
        aliases = self._read_parts(folder / layout.ALIASES_DIR, layout.parse_alias, aliases=True)
        stones = self._read_parts(folder / layout.DELETED_DIR, layout.parse_tombstone)
        tombstones = {s.version: s for s in stones if isinstance(s, layout.Tombstone)}
        alias_files = {a.alias: a for a in aliases if isinstance(a, layout.AliasFile)}
        self._check_reused_numbers(name, folder, versions, tombstones)
        self._check_uids(folder, versions, tombstones)
        self._check_alias_files(name, folder, alias_files, versions, tombstones)
        self._check_exclusive_stages(name, folder, versions)

    def _read_parts(
        self, folder: Path, parse: Callable[[dict[str, Any], Path], object], aliases: bool = False
    ) -> list[object]:
        """Parse every file of an aliases/ or deleted/ folder, reporting the bad ones."""
        if folder.is_symlink():
            self._report(folder, "is a symlink; modelreg never follows it", "replace it")
            return []
        found = []
        for entry in self._entries(folder) or []:
            if self._is_temp_file(entry) or entry.name.startswith("."):
                continue
            path = Path(entry.path)
            named = (
                entry.name.endswith(".yaml")
                if aliases
                else bool(_VERSION_FILE_RE.match(entry.name))
            )
            if not named or not entry.is_file(follow_symlinks=False):
                what = "A.yaml (A the alias)" if aliases else "N.yaml (N a deleted version)"
                self._report(
                    path,
                    f"unexpected file: {folder.name}/ holds only files named {what}",
                    "move it out of the registry",
                )
                continue
            try:
                doc = read_mapping(path)
                found.append(parse(doc, path))
            except CorruptFileError as exc:
                self._report_corrupt(exc)
                continue
            self._check_keys(path, doc, layout.ALIAS_KEYS if aliases else layout.TOMBSTONE_KEYS)
        return found

    def _check_reused_numbers(
        self,
        name: str,
        folder: Path,
        versions: dict[int, ModelVersion | None],
        tombstones: dict[int, layout.Tombstone],
    ) -> None:
        for number in sorted(set(tombstones) & set(versions)):
            stone = tombstones[number]
            mv = versions[number]
            path = folder / VERSIONS_DIR / f"{number}.yaml"
            tomb = folder / layout.DELETED_DIR / f"{number}.yaml"
            who = _who_when(stone.history)
            if mv is not None and stone.uid is not None and mv.uid == stone.uid:
                self._report(
                    path,
                    f"version {number} of '{name}' was deleted ({tomb.relative_to(self.root)}: "
                    f"{who}) but its file is back (a merge of the delete with a change of the "
                    "version, or a delete undone by hand)",
                    f"delete it again (modelreg delete {name} {number}), or, to undo the "
                    f"delete, remove {tomb.relative_to(self.root)}",
                )
                continue
            self._report(
                path,
                f"version {number} of '{name}' was deleted ({tomb.relative_to(self.root)}: "
                f"{who}) and this file is another version under the same number (the number "
                "was reused, e.g. by a clone that did not know of the delete)",
                "give this version the next free number, moving the aliases that point at "
                "it, and record the renumbering in its history",
                functools.partial(self._renumber, name, folder, number),
            )

    def _renumber(self, name: str, folder: Path, number: int) -> str:
        path = folder / VERSIONS_DIR / f"{number}.yaml"
        doc = read_mapping(path)
        taken = [n for n, _ in layout.numbered_files(folder / VERSIONS_DIR)]
        taken += [n for n, _ in layout.numbered_files(folder / layout.DELETED_DIR)]
        new = max(taken) + 1
        stamp = now_iso()
        note = (
            f"number {number} was taken by a deleted version; renumbered by modelreg check --repair"
        )
        entry = self._entry(stamp, actions.RENUMBERED, from_version=number, to_version=new) | {
            "comment": note
        }
        doc["version"] = new
        doc["updated_at"] = stamp
        doc["history"] = _appended(doc.get("history"), entry)
        _write_doc(folder / VERSIONS_DIR / f"{new}.yaml", doc)
        _delete_file(path)
        done = f"renumbered it to version {new} ({VERSIONS_DIR}/{new}.yaml)"
        moved = []
        for alias_path in layout.alias_files(folder / layout.ALIASES_DIR):
            alias_doc = read_mapping(alias_path)
            if alias_doc.get("version") != number:
                continue
            alias = alias_doc.get("alias")
            alias_doc["version"] = new
            moved_entry = self._entry(
                stamp, actions.ALIAS_SET, alias=alias, version=new, previous_version=number
            ) | {"comment": f"followed version {number}, renumbered to {new}"}
            alias_doc["history"] = _appended(alias_doc.get("history"), moved_entry)
            _write_doc(alias_path, alias_doc)
            moved.append(str(alias))
        if moved:
            done += f" and moved alias {', '.join(moved)} with it"
        return done

    def _check_uids(
        self,
        folder: Path,
        versions: dict[int, ModelVersion | None],
        tombstones: dict[int, layout.Tombstone],
    ) -> None:
        holders: dict[str, list[Path]] = {}
        for number, mv in sorted(versions.items()):
            if mv is not None and mv.uid is not None:
                holders.setdefault(mv.uid, []).append(folder / VERSIONS_DIR / f"{number}.yaml")
        for number, stone in sorted(tombstones.items()):
            if stone.uid is not None and number not in versions:
                holders.setdefault(stone.uid, []).append(
                    folder / layout.DELETED_DIR / f"{number}.yaml"
                )
        for uid, paths in holders.items():
            if len(paths) < 2:
                continue
            shown = ", ".join(str(path.relative_to(self.root)) for path in paths)
            self._report(
                paths[0],
                f"uid {uid} is held by {len(paths)} files: {shown}; one version is recorded "
                "under two numbers (a copied file, or a version renumbered on one side of a "
                "merge and not on the other)",
                "keep the one whose history is complete and remove the other (if both "
                "changed, apply the other's changes to the kept one with modelreg)",
            )

    def _check_alias_files(
        self,
        name: str,
        folder: Path,
        aliases: dict[str, layout.AliasFile],
        versions: dict[int, ModelVersion | None],
        tombstones: dict[int, layout.Tombstone],
    ) -> None:
        seen: dict[str, str] = {}
        for alias, each in sorted(aliases.items()):
            path = folder / layout.ALIASES_DIR / f"{alias}.yaml"
            twin = seen.setdefault(alias.lower(), alias)
            if twin != alias and each.version is not None and aliases[twin].version is not None:
                self._report(
                    path,
                    f"alias {alias!r} differs from alias {twin!r} only in case; their files "
                    "are one file on macOS and Windows checkouts",
                    f"use one of them (modelreg alias {name} {alias} --delete)",
                )
            latest = _latest_alias_target(each)
            if latest is not None and latest[1] != each.version:
                target, wanted = latest
                self._report(
                    path,
                    f"says version {each.version} but its latest history entry ({target}) "
                    f"{'deleted the alias' if wanted is None else f'points it at {wanted}'} "
                    "(a merge that kept one side's version and the other side's history)",
                    f"set version to {'null' if wanted is None else wanted}, the latest move",
                    functools.partial(_set_key, path, "version", wanted),
                )
                continue
            number = each.version
            if number is None or number in versions:
                continue
            interrupted = (name, number) in self.trashed_versions
            if interrupted:
                self._report(
                    path,
                    f"alias {alias!r} points at version {number}, which does not exist",
                    f"finish the interrupted delete of version {number} ({_REPAIR_HINT})",
                    repairable=True,
                )
            elif number in tombstones:
                self._report(
                    path,
                    f"alias {alias!r} points at version {number}, which was deleted",
                    "delete the alias (its history keeps where it pointed)",
                    functools.partial(self._drop_alias, path, number),
                )
            else:
                self._report(
                    path,
                    f"alias {alias!r} points at version {number}, which does not exist",
                    f"point it at an existing version (modelreg alias {name} {alias} VERSION) "
                    f"or delete it (modelreg alias {name} {alias} --delete)",
                )

    def _drop_alias(self, path: Path, number: int) -> str:
        doc = read_mapping(path)
        alias = doc.get("alias")
        entry = self._entry(now_iso(), actions.ALIAS_DELETED, alias=alias, version=number)
        entry["comment"] = f"version {number} was deleted; alias dropped by modelreg check --repair"
        doc["version"] = None
        doc["history"] = _appended(doc.get("history"), entry)
        _write_doc(path, doc)
        return "deleted the alias (recorded in its history)"

    def _split_model(self, name: str) -> str:
        store = Store(self.root)
        model_file = store.model_file(name)
        model = RegisteredModel.from_doc(read_mapping(model_file), model_file)
        model.name = name
        layout.save(store, model)
        return "split it into model.yaml, aliases/ and deleted/"

    def _check_version_history(self, path: Path, mv: ModelVersion) -> None:
        """Format 2: what a version file says agrees with its own history."""
        registered = [
            entry for entry in mv.history if entry.get("action") == actions.VERSION_REGISTERED
        ]
        if len(registered) > 1:
            stamps = ", ".join(str(entry.get("timestamp", "?")) for entry in registered)
            self._report(
                path,
                f"records {len(registered)} registrations ({stamps}): two versions were "
                "merged into one file (a merge without the version's uid)",
                "restore both versions from git (`git log -- "
                f"{path.relative_to(self.root)}`), keep one here and register the other "
                "again as a new version",
            )
        if mv.uid is None:
            self._report(
                path,
                "has no uid (format 2 versions carry one; an upgrade that was interrupted, "
                "or a file written by hand)",
                "add a new uid",
                functools.partial(_add_uid, path),
            )
        if mv.current_stage not in self.config.stages:
            return  # reported as an unknown stage
        moves = [entry for entry in mv.history if entry.get("action") == actions.STAGE_CHANGED]
        if not moves:
            return
        last = sorted(moves, key=lambda entry: str(entry.get("timestamp", "")))[-1]
        if last.get("to_stage") != mv.current_stage:
            self._report(
                path,
                f"current_stage is {mv.current_stage} but its last stage change "
                f"({last.get('timestamp', '?')}) moved it to {last.get('to_stage')} (a merge "
                "that kept one side's stage and the other side's history)",
                f"move it where it belongs with modelreg (modelreg transition {mv.name} "
                f"{mv.version} STAGE), which records the move",
            )

    def _check_orphan_folder(
        self, folder: Path, model_file: Path, versions: dict[int, ModelVersion | None]
    ) -> None:
        if versions or not _only_empty_folders(folder):
            self._report(
                model_file,
                "is missing, but the model folder holds other files",
                "restore model.yaml (e.g. `git restore -- "
                f"{model_file}`), or move the folder out of the registry",
            )
            return
        self._report(
            folder,
            "model folder without model.yaml or versions: an interrupted create",
            "delete the empty folder",
            functools.partial(_remove_empty_folders, folder),
        )

    def _check_versions(self, name: str, folder: Path) -> dict[int, ModelVersion | None]:
        """Check every file in versions/; returns number -> version (None when corrupt)."""
        found: dict[int, ModelVersion | None] = {}
        if folder.is_symlink():
            self._report(
                folder,
                "is a symlink; modelreg never reads or writes through it",
                "replace the symlink with a real folder",
            )
            return found
        if os.path.lexists(folder) and not folder.is_dir():
            self._report(folder, "is not a folder", "move it away; versions/ holds the versions")
            return found
        claims: dict[int, list[Path]] = {}
        for entry in self._entries(folder) or []:
            if self._is_temp_file(entry) or entry.name.startswith("."):
                continue
            path = Path(entry.path)
            match = _VERSION_FILE_RE.match(entry.name)
            if match is None:
                self._report(
                    path,
                    "not a version file: versions/ holds only files named N.yaml (N the "
                    "version number, no leading zeros), and modelreg ignores this one",
                    "move it out of the registry, or name it after the 'version' inside it",
                )
                continue
            number = int(match["number"])
            found[number] = None
            try:
                doc = read_mapping(path)
                mv = ModelVersion.from_doc(doc, path, [])
            except CorruptFileError as exc:
                self._report_corrupt(exc)
                continue
            claims.setdefault(mv.version, []).append(path)
            # A missing uid has a finding of its own in format 2 (_check_version_history).
            self._check_keys(path, doc, _VERSION_KEYS, _OPTIONAL_UID)
            if mv.version != number:
                self._report(
                    path,
                    f"says version {mv.version} but is named {number}.yaml",
                    f"if version {mv.version} is this file's true number and no other file "
                    f"has it, rename the file to {mv.version}.yaml; otherwise it is a second "
                    "version under one number: register its artifact again to give it a "
                    "new number, then remove this file",
                )
                continue
            self._check_name(name, path, doc)
            self._check_stage(path, mv)
            if self.split:
                self._check_version_history(path, mv)
            found[number] = mv
        for version, paths in sorted(claims.items()):
            if len(paths) > 1:
                self._report(
                    folder,
                    f"{len(paths)} files claim version {version}: "
                    + ", ".join(path.name for path in paths),
                    "keep the one that is version "
                    f"{version}; register the others' artifacts again as new versions",
                )
        return found

    # -- the checks of one model ----------------------------------------------------

    def _check_keys(
        self,
        path: Path,
        doc: dict[str, Any],
        known: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ) -> None:
        for key in doc:
            if key not in known:
                self._report(
                    path,
                    f"unknown key {key!r} (modelreg ignores it, and drops it on the next write)",
                    f"remove it or correct its spelling; the keys are: {', '.join(known)}",
                )
        # modelreg writes every key, every time: a missing one means a file cut short
        # (by a tool that does not write atomically) or written by hand.
        missing = [key for key in known if key not in doc and key not in optional]
        if missing:
            self._report(
                path,
                f"missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}: the file "
                "is incomplete (cut short, or written by hand)",
                _RESTORE.format(path=path),
            )

    def _check_name(self, name: str, path: Path, doc: dict[str, Any]) -> None:
        if doc.get("name") == name:
            return
        self._report(
            path,
            f"says name {doc.get('name')!r} but is in the folder of model '{name}' (a rename "
            "that was interrupted, or a copied folder)",
            f"set 'name: {name}' (the folder is the name)",
            functools.partial(self._finish_rename, path, name),
        )

    def _finish_rename(self, path: Path, name: str) -> str:
        doc = read_mapping(path)
        old = doc.get("name")
        doc["name"] = name
        if path.name == MODEL_FILE:
            # The rename's own write of model.yaml never happened: record it as it would.
            stamp = now_iso()
            if not self.split:
                doc["updated_at"] = stamp
            entry = self._entry(stamp, actions.MODEL_RENAMED, **{"from": old, "to": name})
            history = doc.get("history")
            doc["history"] = [*(history if isinstance(history, list) else []), entry]
        _write_doc(path, doc)
        return f"set name to {name}" + (", recorded the rename" if path.name == MODEL_FILE else "")

    def _check_stage(self, path: Path, mv: ModelVersion) -> None:
        if mv.current_stage in self.config.stages:
            return
        spelled = [s for s in self.config.stages if s.lower() == mv.current_stage.lower()]
        hint = (
            f"spell it {spelled[0]!r}"
            if spelled
            else f"use one of: {', '.join(self.config.stages)}"
        )
        self._report(
            path,
            f"unknown stage {mv.current_stage!r} (this registry's stages are: "
            f"{', '.join(self.config.stages)})",
            f"set current_stage to a known stage: {hint}",
        )

    def _check_numbers(self, found: _ReadModel) -> None:
        name, model_file, model, versions = found.name, found.file, found.model, found.versions
        deleted: dict[int, str] = {
            version: str(entry.get("timestamp", "?"))
            for entry in model.history
            if entry.get("action") == actions.VERSION_DELETED
            and isinstance(version := entry.get("version"), int)
        }
        for number in sorted(set(deleted) & set(versions)):
            self._report(
                model_file.parent / VERSIONS_DIR / f"{number}.yaml",
                f"version {number} of '{name}' was deleted (model.yaml, {deleted[number]}) yet "
                "this file holds a version under that number: a reused number, e.g. from "
                "a git merge, or a delete undone by hand",
                "if this is a new version, register its artifact again to give it a new "
                "number and remove this file; if the delete was undone on purpose, remove "
                f"the 'version_deleted' entry of version {number} from model.yaml's history",
            )
        highest = max([*versions, *deleted], default=0)
        if model.last_version < highest:
            self._report(
                model_file,
                f"last_version is {model.last_version} but version {highest} exists or "
                "existed (a write interrupted before model.yaml was updated)",
                f"set last_version to {highest}, so the number is never handed out again",
                functools.partial(_set_key, model_file, "last_version", highest),
            )

    def _check_aliases(self, found: _ReadModel) -> None:
        name, model_file, model, versions = found.name, found.file, found.model, found.versions
        for alias, number in sorted(model.aliases.items()):
            if number in versions:
                continue
            interrupted = (name, number) in self.trashed_versions
            if interrupted:
                fix = f"finish the interrupted delete of version {number} ({_REPAIR_HINT})"
            else:
                fix = (
                    f"point it at an existing version (modelreg alias {name} {alias} VERSION) "
                    "or remove it from model.yaml"
                )
            self._report(
                model_file,
                f"alias {alias!r} points at version {number}, which does not exist",
                fix,
                repairable=interrupted,
            )

    def _check_exclusive_stages(
        self, name: str, folder: Path, versions: dict[int, ModelVersion | None]
    ) -> None:
        for stage in self.config.exclusive_stages:
            holders = sorted(n for n, mv in versions.items() if mv and mv.current_stage == stage)
            if len(holders) > 1:
                self._report(
                    folder,
                    f"{len(holders)} versions of '{name}' are in {stage}, which this registry "
                    f"allows only one: versions {', '.join(map(str, holders))}",
                    f"archive all but one (modelreg archive {name} VERSION)",
                )


# -- repairs (each one under the lock, each write atomic) -----------------------------


def _delete_file(path: Path) -> str:
    path.unlink()
    fsync_dir(path.parent)
    return "deleted it"


def _delete_tree(path: Path) -> str:
    if path.is_symlink() or not path.is_dir():
        return _delete_file(path)
    shutil.rmtree(path)  # never follows symlinks inside
    fsync_dir(path.parent)
    return "finished the delete"


def _remove_empty_folders(folder: Path) -> str:
    # rmdir refuses a folder that is not empty, so nothing but empty folders can go.
    with contextlib.suppress(FileNotFoundError):
        (folder / VERSIONS_DIR).rmdir()
    folder.rmdir()
    fsync_dir(folder.parent)
    return "deleted the empty folder"


def _set_key(path: Path, key: str, value: Any) -> str:
    doc = read_mapping(path)
    doc[key] = value
    _write_doc(path, doc)
    return f"set {key} to {value}"


def _add_uid(path: Path) -> str:
    doc = read_mapping(path)
    _write_doc(path, _with_uid(doc))
    return "added a new uid"


def _with_uid(doc: dict[str, Any]) -> dict[str, Any]:
    """A version file's document with a new uid right after ``version`` (as written)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key != "uid":
            out[key] = value
        if key == "version":
            out["uid"] = new_uid()
    return out


def _upgrade(root: Path) -> Finding:
    """Upgrade a clean format 1 registry to format 2: a uid in every version file, then
    ``modelreg: 2`` in registry.yaml, then each model.yaml split (aliases/, deleted/).
    A crash between two steps leaves a registry that reads correctly and that the next
    ``check --repair`` finishes (model.yaml still unsplit, a version without uid)."""
    store = Store(root)
    given = 0
    for name in store.model_names():
        for _, path in layout.numbered_files(store.versions_dir(name)):
            doc = read_mapping(path)
            if not doc.get("uid"):
                _write_doc(path, _with_uid(doc))
                given += 1
    _set_format(root / CONFIG_FILE, FORMAT_VERSION)
    split = 0
    for name in store.model_names():
        model_file = store.model_file(name)
        doc = read_mapping(model_file)
        if layout.is_unsplit(doc):
            model = RegisteredModel.from_doc(doc, model_file)
            model.name = name
            layout.save(store, model)
            split += 1
    return Finding(
        root / CONFIG_FILE,
        "is format 1 (model.yaml holds aliases, deletes and a counter that every write "
        "changes: git merges of unrelated changes conflict)",
        f"upgraded to format {FORMAT_VERSION}: split {split} model.yaml file(s) into "
        f"model.yaml, aliases/ and deleted/, gave {given} version file(s) a uid",
        repaired=True,
    )


def _set_format(path: Path, version: int) -> None:
    """Set ``modelreg:`` in registry.yaml, keeping the rest of the text as it is."""
    text = path.read_text(encoding="utf-8")
    line = f"modelreg: {version}\n"
    pattern = re.compile(r"^modelreg:.*\n?", re.MULTILINE)
    text = pattern.sub(line, text, count=1) if pattern.search(text) else line + text
    atomic_write(path, text.encode("utf-8"))


def _latest_alias_target(each: layout.AliasFile) -> tuple[str, int | None] | None:
    """(stamp, target) of an alias file's latest entry: its version, or None if deleted."""
    entries = [e for e in each.history if e.get("action") in layout.ALIAS_ACTIONS]
    if not entries:
        return None
    latest = sorted(entries, key=lambda entry: str(entry.get("timestamp", "")))[-1]
    if latest.get("action") == actions.ALIAS_DELETED:
        return str(latest.get("timestamp", "?")), None
    target = latest.get("version")
    return str(latest.get("timestamp", "?")), target if isinstance(target, int) else None


def _trashed_life(trashed: Path) -> dict[str, JSONValue] | None:
    """What a delete records of the trashed version's life (None when it is unreadable)."""
    try:
        return lifetime(ModelVersion.from_doc(read_mapping(trashed), trashed, []))
    except (CorruptFileError, OSError):
        return None


def _who_when(history: list[dict[str, Any]]) -> str:
    deletes = [e for e in history if e.get("action") == actions.VERSION_DELETED] or history
    if not deletes:
        return "deleted"
    last = deletes[-1]
    return f"deleted by {last.get('user_id', '?')} at {last.get('timestamp', '?')}"


def _appended(history: object, entry: dict[str, Any]) -> list[Any]:
    """A file's history list with ``entry`` at the end (a missing list is an empty one)."""
    return [*(history if isinstance(history, list) else []), entry]


def _write_doc(path: Path, doc: dict[str, Any]) -> None:
    atomic_write(path, yamlio.dumps(doc).encode("utf-8"))


# -- small helpers ---------------------------------------------------------------------


def _trashed_version(entry_name: str) -> tuple[str, int] | None:
    """(model, version) from a trashed version file's name ``NAME~N.HEX.yaml``."""
    name, sep, rest = entry_name.partition(TRASH_VERSION_SEP)
    number = rest.split(".", 1)[0]
    if not sep or not number.isdigit() or not rest.endswith(".yaml"):
        return None
    return name, int(number)


def _is_real_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and not path.parent.is_symlink()


def _only_empty_folders(folder: Path) -> bool:
    """True when ``folder`` holds nothing but an empty versions/ and temporary files."""
    for entry in os.scandir(folder):
        if _TEMP_RE.match(entry.name) and not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name == VERSIONS_DIR and entry.is_dir(follow_symlinks=False):
            if any(not _TEMP_RE.match(inner.name) for inner in os.scandir(entry.path)):
                return False
            continue
        return False
    return True


def audit_rules(root: Path) -> list[Finding]:
    """Versions whose current stage is not backed by their history under the rules: a
    hand edit of the YAML, or a promotion made before the rules asked for more."""
    from modelreg.registry import Registry

    registry = Registry(root, hooks=False)
    try:
        rules = registry.rules
    except CorruptFileError:
        return []  # reported by the plain check
    skipped: list[CorruptFileError] = []  # corrupt files: reported by the plain check
    findings: list[Finding] = []
    for mv in registry.all_versions(errors=skipped):
        path = root / "models" / mv.name / "versions" / f"{mv.version}.yaml"
        findings.extend(
            Finding(
                path,
                f"{mv.name} version {mv.version} {reason}",
                "restore the file from git, or move the version back and promote it "
                "through the workflow (modelreg request / approve / promote)",
            )
            for reason in workflow.audit_version(rules, mv)
        )
    return findings

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

from modelreg import actions, workflow, yamlio
from modelreg.config import Config, effective_lock_timeout, parse_config
from modelreg.entities import ModelVersion, RegisteredModel, iso_to_ms, now_iso
from modelreg.errors import CorruptFileError, RegistryError
from modelreg.names import validate_model_name
from modelreg.store import (
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
_VERSION_KEYS = tuple(ModelVersion("x", 1, 0, 0).to_doc())
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

    def to_dict(self) -> dict[str, Any]:
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
    with _holding_lock(Store(root, timeout), required=repair):
        findings = _Checker(root, repair).run()
        if repair:
            # What the repairs left is what a fresh check finds now.
            remaining = _Checker(root, repair=False).run()
            findings = [finding for finding in findings if finding.repaired] + remaining
        if rules:
            findings += audit_rules(root)
        findings += vanished_history(root)
    return CheckReport(root, tuple(findings))


def vanished_history(root: Path) -> list[Finding]:
    """History entries that a git merge (or an edit) dropped: each file's entries are
    compared with the committed file (``HEAD``, and ``MERGE_HEAD`` in a stopped merge).
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


class _Checker:
    """One pass over the folder, collecting findings (and repairing, if asked)."""

    def __init__(self, root: Path, repair: bool) -> None:
        self.root = root
        self.repair = repair
        self.findings: list[Finding] = []
        self.config = Config()
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
                "resolve the git merge conflict (README: 'Resolving a merge conflict'); if "
                "two branches registered the same version number, keep one and register "
                "the other again (README: 'Two branches registered the same version number')"
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
        if _is_real_file(model_file) and not os.path.lexists(version_file):
            model = RegisteredModel.from_doc(read_mapping(model_file), model_file)
            stamp = now_iso()
            before = (len(model.history), model.last_version)
            # What delete_model_version records, with the same code.
            dropped = record_deleted(
                model, number, functools.partial(self._entry, stamp), unless_recorded=True
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

    def _entry(self, stamp: str, action: str, **fields: Any) -> dict[str, Any]:
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

    def _check_model(self, name: str, folder: Path) -> None:
        entries = self._entries(folder) or []
        model_file = folder / MODEL_FILE
        for entry in entries:
            if entry.name in (MODEL_FILE, VERSIONS_DIR) or self._is_temp_file(entry):
                continue
            if not entry.name.startswith("."):
                self._report(
                    Path(entry.path),
                    "unexpected file: a model folder holds only model.yaml and versions/",
                    "move it out of the registry",
                )
        versions = self._check_versions(name, folder / VERSIONS_DIR)
        if not any(entry.name == MODEL_FILE for entry in entries):
            self._check_orphan_folder(folder, model_file, versions)
            return
        try:
            doc = read_mapping(model_file)
            model = RegisteredModel.from_doc(doc, model_file)
        except CorruptFileError as exc:
            self._report_corrupt(exc)
            return
        self._check_keys(model_file, doc, _MODEL_KEYS)
        self._check_name(name, model_file, doc)
        self._check_numbers(name, model_file, model, versions)
        self._check_aliases(name, model_file, model, versions)
        self._check_exclusive_stages(name, folder, versions)

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
            self._check_keys(path, doc, _VERSION_KEYS)
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

    def _check_keys(self, path: Path, doc: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in doc:
            if key not in known:
                self._report(
                    path,
                    f"unknown key {key!r} (modelreg ignores it, and drops it on the next write)",
                    f"remove it or correct its spelling; the keys are: {', '.join(known)}",
                )
        # modelreg writes every key, every time: a missing one means a file cut short
        # (by a tool that does not write atomically) or written by hand.
        missing = [key for key in known if key not in doc]
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
            doc["updated_at"] = stamp
            entry = self._entry(stamp, actions.MODEL_RENAMED, **{"from": old, "to": name})
            doc["history"] = [*(doc.get("history") or []), entry]
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

    def _check_numbers(
        self,
        name: str,
        model_file: Path,
        model: RegisteredModel,
        versions: dict[int, ModelVersion | None],
    ) -> None:
        deleted: dict[int, str] = {
            entry["version"]: str(entry.get("timestamp", "?"))
            for entry in model.history
            if entry.get("action") == actions.VERSION_DELETED
            and isinstance(entry.get("version"), int)
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

    def _check_aliases(
        self,
        name: str,
        model_file: Path,
        model: RegisteredModel,
        versions: dict[int, ModelVersion | None],
    ) -> None:
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

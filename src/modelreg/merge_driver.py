"""The git merge driver for registry files: what ``modelreg merge-file`` and
``modelreg git-setup`` do, without printing (the commands are in ``cli/git.py``).

git runs a merge driver as ``DRIVER %O %A %B %P``: the ancestor's version of the file, ours
(where the result goes), theirs, and the file's path in the repository. The driver exits 0
with the merged file in ``%A``, or non-zero with ``%A`` holding what the user resolves
(here: git's own conflict markers, so that every modelreg command refuses the file until
it is resolved). The decisions are :mod:`modelreg.merging`'s.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from modelreg import merging, yamlio
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError
from modelreg.store import atomic_write

DRIVER_NAME = "modelreg"
DRIVER_DESCRIPTION = "modelreg: merge registry files by meaning"
# Relative to the registry folder, where git-setup writes its .gitattributes.
ATTRIBUTE_LINES = (
    f"models/**/model.yaml merge={DRIVER_NAME}",
    f"models/**/versions/*.yaml merge={DRIVER_NAME}",
    f"models/**/aliases/*.yaml merge={DRIVER_NAME}",
    f"models/**/deleted/*.yaml merge={DRIVER_NAME}",
)
_ATTRIBUTES_HEADER = (
    "# The registry's files merge by meaning: `modelreg git-setup` installs the driver."
)


@dataclass(frozen=True)
class FileMerge:
    """What ``merge-file`` did to one file: merged, or left with conflict markers."""

    path: str
    result: merging.MergeResult
    rebasing: bool = False


@dataclass
class Setup:
    """What ``git-setup`` found and changed."""

    attributes: Path
    attributes_written: bool = False
    config: dict[str, str] = field(default_factory=dict)
    config_changed: list[str] = field(default_factory=list)


def merge_file(base: Path, ours: Path, theirs: Path, path: str) -> FileMerge:
    """Merge ``theirs`` into ``ours`` (git's ``%A``, rewritten in place) by meaning."""
    sides = {}
    for side, where in (("base", base), ("ours", ours), ("theirs", theirs)):
        try:
            sides[side] = where.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{side} ({where}) cannot be read: {exc.strerror}") from None
    result = merging.merge_texts(sides["base"], sides["ours"], sides["theirs"], path)
    if result.ok:
        assert result.document is not None
        ours.write_text(yamlio.dumps(result.document), encoding="utf-8")
    else:
        ours.write_bytes(conflict_text(sides["base"], sides["ours"], sides["theirs"], path))
    return FileMerge(path, result, rebasing=_rebasing())


def registry_format(path: str) -> int:
    """The format of the registry holding ``path`` (a repository path, as git's ``%P``;
    the driver runs at the top of the work tree): 1 when it cannot be told."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if "models" not in parts:
        return 1
    at = len(parts) - 1 - parts[::-1].index("models")
    config = Path(*parts[:at], "registry.yaml") if at else Path("registry.yaml")
    try:
        doc = yamlio.load(config)
    except (CorruptFileError, OSError):
        return 1
    value = doc.get("modelreg", 1) if isinstance(doc, dict) else 1
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def conflict_text(base: bytes, ours: bytes, theirs: bytes, path: str) -> bytes:
    """``ours`` with conflict markers: git's line merge when it finds conflicts itself,
    else (it would merge the lines cleanly, e.g. two different versions 4 that differ in a
    few lines) the whole of both sides between markers, so the file is never taken as
    resolved by mistake."""
    text = _git_merge_file(base, ours, theirs, path)
    if text is not None:
        return text

    def block(data: bytes) -> bytes:
        return data if not data or data.endswith(b"\n") else data + b"\n"

    return (
        b"<<<<<<< ours\n"
        + block(ours)
        + b"||||||| base\n"
        + block(base)
        + b"=======\n"
        + block(theirs)
        + b">>>>>>> theirs\n"
    )


def _git_merge_file(base: bytes, ours: bytes, theirs: bytes, path: str) -> bytes | None:
    """git's line merge with diff3 markers, or None when it found no conflict (or failed)."""
    done = _line_merge(base, ours, theirs)
    return done.stdout if done is not None and 0 < done.returncode < 128 else None


def text_merge(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """git's three-way line merge of a text file: the merged bytes, or None when the
    sides conflict (or git cannot be run)."""
    done = _line_merge(base, ours, theirs)
    return done.stdout if done is not None and done.returncode == 0 else None


def _line_merge(
    base: bytes, ours: bytes, theirs: bytes
) -> subprocess.CompletedProcess[bytes] | None:
    import tempfile

    git = shutil.which("git")
    if git is None:
        return None
    with tempfile.TemporaryDirectory(prefix="modelreg-merge-") as folder:
        names = []
        for side, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            (Path(folder) / side).write_bytes(data)
            names.append(str(Path(folder) / side))
        return subprocess.run(
            [
                git,
                "merge-file",
                "-p",
                "--diff3",
                "-L",
                "ours",
                "-L",
                "base",
                "-L",
                "theirs",
                *names,
            ],
            capture_output=True,
            check=False,
        )


def _rebasing() -> bool:
    """Whether git is in a rebase (where "ours" is the upstream, "theirs" the replayed
    commit); the driver runs at the top of the work tree."""
    for name in ("rebase-merge", "rebase-apply"):
        done = subprocess.run(
            ["git", "rev-parse", "--git-path", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and Path(done.stdout.strip()).is_dir():
            return True
    return False


# -- git-setup --------------------------------------------------------------------------


def driver_command(executable: str | None = None) -> str:
    """The ``merge.modelreg.driver`` value: this modelreg, by absolute path."""
    return f"{shlex.join(_modelreg_command(executable))} merge-file %O %A %B %P"


def _modelreg_command(executable: str | None) -> list[str]:
    if executable:
        return [str(Path(executable).absolute())]
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name == "modelreg" and running.is_file():
        return [str(running.absolute())]
    found = shutil.which("modelreg")
    if found:
        return [str(Path(found).absolute())]
    return [sys.executable, "-m", "modelreg"]


def install(root: Path, executable: str | None = None) -> Setup:
    """Route the registry's files to the driver (``.gitattributes`` in ``root``) and define
    the driver in the repository's local git config. Idempotent."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        raise NotFoundError(
            f"{root} is not in a git repository: `git init` (or clone) first, then run "
            "`modelreg git-setup` again"
        )
    setup = Setup(attributes=root / ".gitattributes")
    setup.attributes_written = _write_attributes(setup.attributes)
    wanted = {
        f"merge.{DRIVER_NAME}.name": DRIVER_DESCRIPTION,
        f"merge.{DRIVER_NAME}.driver": driver_command(executable),
    }
    for key, value in wanted.items():
        if _git(root, "config", "--local", "--get", key) != value:
            if _git(root, "config", "--local", key, value) is None:
                raise InvalidInputError(f"`git config --local {key}` failed in {top}")
            setup.config_changed.append(key)
        setup.config[key] = value
    return setup


def _write_attributes(path: Path) -> bool:
    """Add the driver's lines to ``.gitattributes``, keeping every other line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in ATTRIBUTE_LINES if line not in present]
    if not missing:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    if _ATTRIBUTES_HEADER not in present:
        text += _ATTRIBUTES_HEADER + "\n"
    text += "".join(line + "\n" for line in missing)
    atomic_write(path, text.encode("utf-8"))
    return True


def _git(where: Path, *args: str) -> str | None:
    """``git ARGS`` in ``where``: its output without the newline, None when it fails."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=where, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise NotFoundError("git is not installed (or not on PATH)") from None
    return done.stdout.rstrip("\n") if done.returncode == 0 else None

"""A local artifact given to ``register``: checked, hashed, spelled so that every working
directory and every clone finds it, and whether it will travel with a clone."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from modelreg.errors import ArtifactMismatchError, NotFoundError
from modelreg.lineage import artifact_digest, git_exit_code, git_output
from modelreg.refs import local_artifact_path


@dataclass(frozen=True)
class LocalArtifact:
    """A local file or folder named by a source: where it is, how the version records it,
    and its (sha256, size)."""

    path: Path
    stored: str
    digest: tuple[str, int]


def find_local(source: str, root: Path, *, must_exist: bool) -> LocalArtifact | str:
    """The local artifact ``source`` names (relative to the working directory, as a user
    typed it), or the source to record as given: a URI, or (not ``must_exist``, as
    MLflow's ``create_model_version`` allows) a path that is not there.

    A path inside the project that holds the registry (its git repository, else the
    folder around the registry folder) is recorded relative to the registry folder,
    which is what ``resolve`` reads it against, so every clone and every working
    directory finds it; a path elsewhere is recorded absolute."""
    local = local_artifact_path(source)
    if local is None:
        return source
    if not local.exists():
        if must_exist:
            raise NotFoundError(
                f"no artifact at {source!r} (looked for {Path.cwd() / local}); "
                "register an existing file or folder, or a URI (s3://, runs:/, ...)"
            )
        return source
    absolute = local.resolve()
    return LocalArtifact(absolute, recorded_path(absolute, root), artifact_digest(absolute))


def recorded_path(absolute: Path, root: Path) -> str:
    """How a version records the local path ``absolute``: relative to the registry folder
    ``root`` when inside the project that holds the registry (its git repository, else
    the folder around the registry folder), else absolute (see :func:`find_local`)."""
    registry = root.resolve()
    project = git_toplevel(registry) or registry.parent
    if absolute.is_relative_to(project):
        return os.path.relpath(absolute, registry)
    return str(absolute)


def travel_warning(artifact: LocalArtifact, root: Path) -> str | None:
    """Why a clone of the registry would not find this artifact (no store configured):
    it is outside the registry's git repository, or git ignores it. None when it is
    tracked-able, or when the registry is not in a git repository at all."""
    top = git_toplevel(root.resolve())
    if top is None:
        return None
    where = str(artifact.path)
    if not artifact.path.is_relative_to(top):
        reason = f"{where} is outside the git repository {top}"
    elif _git_ignored(artifact.path, top):
        reason = f"git ignores {where}"
    else:
        return None
    return (
        f"warning: {reason}: this artifact will not travel with a clone; set artifact_store "
        "in registry.yaml to upload artifacts (see README, Artifacts)"
    )


def git_toplevel(folder: Path) -> Path | None:
    """The top folder of the git work tree holding ``folder``, or None."""
    out = git_output(["rev-parse", "--show-toplevel"], folder)
    return Path(out).resolve() if out else None


def _git_ignored(path: Path, top: Path) -> bool:
    return git_exit_code(["check-ignore", "-q", "--", str(path)], top) == 0


def check_digest(label: str, where: str, expected: tuple[str, int], found: tuple[str, int]) -> None:
    """Raise ArtifactMismatchError (for the version ``label``, the artifact at ``where``)
    unless ``found`` is the ``expected`` (sha256, size)."""
    if found != expected:
        raise ArtifactMismatchError(label, where, _shown(expected), _shown(found))


def _shown(digest: tuple[str, int]) -> str:
    return f"sha256 {digest[0]} ({digest[1]} bytes)"


def remove_path(path: Path) -> None:
    """Remove a file or a folder tree if it is there (never following a symlink)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

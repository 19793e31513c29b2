"""Who and what produced a version: the user, the git commit, the artifact's checksum."""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

_CHUNK = 1024 * 1024


@functools.lru_cache(maxsize=1)
def _git_user_email() -> str | None:
    return _git(["config", "user.email"], Path.cwd())


def current_user() -> str:
    """``$MODELREG_USER``, else git's ``user.email``, else the login name."""
    explicit = os.environ.get("MODELREG_USER")
    if explicit:
        return explicit
    email = _git_user_email()
    if email:
        return email
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary uid in a container
        return "unknown"


def git_lineage(cwd: Path, exclude: Path | None = None) -> dict[str, Any]:
    """The commit of the repository ``cwd`` is in, and whether its tree was dirty.

    ``exclude`` (the registry folder) does not count as dirt: registering a version
    changes the registry itself, and that says nothing about the code.
    """
    if not _inside_a_work_tree(cwd):
        return {}
    # One call for the top level, the commit and the branch; `status` only in a repo.
    described = _git(["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"], cwd)
    if described is None or len(described.splitlines()) != 3:
        return {}
    top, commit, branch = described.splitlines()
    # The whole work tree counts, not only the folder the command runs in.
    status_args = ["status", "--porcelain", "--untracked-files=no", "--", ":(top)"]
    if exclude is not None:
        registry = exclude.resolve()
        if registry.is_relative_to(Path(top).resolve()):
            inside = registry.relative_to(Path(top).resolve()).as_posix()
            status_args.append(f":(top,exclude){inside}")
    status = _git(status_args, Path(top))
    lineage: dict[str, Any] = {"git_commit": commit, "git_dirty": bool(status)}
    if branch != "HEAD":
        lineage["git_branch"] = branch
    return lineage


def _inside_a_work_tree(cwd: Path) -> bool:
    """Whether git could find a repository here, without starting git (which costs a
    millisecond or two per registration outside any repository)."""
    if os.environ.get("GIT_DIR"):
        return True
    return any((folder / ".git").exists() for folder in (cwd, *cwd.parents))


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip()


def artifact_digest(path: Path) -> tuple[str, int]:
    """sha256 and size in bytes of a file, or of a folder's files (names and contents)."""
    digest = hashlib.sha256()
    if path.is_file():
        return _hash_file(path, digest), path.stat().st_size
    total = 0
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = file.relative_to(path).as_posix().encode("utf-8")
        digest.update(len(relative).to_bytes(8, "big") + relative)
        digest.update(bytes.fromhex(_hash_file(file, hashlib.sha256())))
        total += file.stat().st_size
    return digest.hexdigest(), total


def _hash_file(path: Path, digest: Any) -> str:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return str(digest.hexdigest())

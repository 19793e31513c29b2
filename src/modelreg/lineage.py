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
    described = _describe_head(cwd)
    if described is None:
        return {}
    top, commit, branch = described
    # Dirty: a tracked file differs from the commit, staged or not (untracked files do
    # not count). The whole work tree counts, not only the folder the command runs in.
    # --no-optional-locks: never take the index lock under the user's own git commands.
    diff_args = [
        "--no-optional-locks", "diff", "--quiet", "--no-ext-diff", "--no-textconv", "HEAD",
        "--", ":(top)",
    ]  # fmt: skip
    if exclude is not None:
        registry = exclude.resolve()
        if registry.is_relative_to(top.resolve()):
            inside = registry.relative_to(top.resolve()).as_posix()
            diff_args.append(f":(top,exclude){inside}")
    differs = _git_status_code(diff_args, top)
    lineage: dict[str, Any] = {"git_commit": commit}
    if differs is not None:  # git missing or failing: the commit is still known
        lineage["git_dirty"] = differs
    if branch is not None:
        lineage["git_branch"] = branch
    return lineage


def _describe_head(cwd: Path) -> tuple[Path, str, str | None] | None:
    """The work tree's top folder, the commit checked out and the branch (None when
    detached), or None outside a repository or before the first commit.

    Registering in a loop should not start two git processes per version, so the usual
    layouts (a ``.git`` folder, or a ``.git`` file of a worktree or submodule; loose or
    packed refs) are read directly; anything else asks ``git rev-parse``.
    """
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return _describe_head_with_git(cwd)
    top = next((folder for folder in (cwd, *cwd.parents) if (folder / ".git").exists()), None)
    if top is None:
        return None  # no repository: no git process at all
    try:
        return _read_head(top)
    except (OSError, ValueError, UnicodeDecodeError):
        return _describe_head_with_git(cwd)


def _read_head(top: Path) -> tuple[Path, str, str | None] | None:
    dot_git = top / ".git"
    git_dir = dot_git
    if dot_git.is_file():
        pointer = dot_git.read_text().strip()
        if not pointer.startswith("gitdir:"):
            raise ValueError(pointer)
        git_dir = (top / pointer.removeprefix("gitdir:").strip()).resolve()
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref: "):
        return top, _sha(head), None
    ref = head.removeprefix("ref: ")
    commit = _resolve_ref(common, ref)
    if commit is None:
        return None  # a branch with no commit yet
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    return top, commit, branch


def _resolve_ref(common: Path, ref: str) -> str | None:
    loose = common / ref
    if loose.is_file():
        return _sha(loose.read_text().strip())
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return _sha(sha)
    return None


def _sha(text: str) -> str:
    if len(text) not in (40, 64) or any(char not in "0123456789abcdef" for char in text):
        raise ValueError(f"not an object id: {text!r}")
    return text


def _describe_head_with_git(cwd: Path) -> tuple[Path, str, str | None] | None:
    described = _git(["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"], cwd)
    if described is None or len(described.splitlines()) != 3:
        return None
    top, commit, branch = described.splitlines()
    return Path(top), commit, None if branch == "HEAD" else branch


def _git_status_code(args: list[str], cwd: Path) -> bool | None:
    """For ``git diff --quiet``: True when it found differences (exit 1), False when
    none (exit 0), None when git could not tell (not installed, an error)."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {0: False, 1: True}.get(result.returncode)


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

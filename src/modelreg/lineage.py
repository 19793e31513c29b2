"""Who and what produced a version: the user, the git commit, the artifact's checksum."""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, NamedTuple

from modelreg.docread import Document

_CHUNK = 1024 * 1024


@functools.lru_cache(maxsize=8)
def _git_user_email(where: Path) -> str | None:
    return git_output(["config", "user.email"], where)


def current_user(where: Path | None = None) -> str:
    """``$MODELREG_USER``, else git's ``user.email`` (of the repository ``where`` is in,
    by default the working directory's), else the login name."""
    explicit = os.environ.get("MODELREG_USER")
    if explicit:
        return explicit
    email = _git_user_email(where or Path.cwd())
    if email:
        return email
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary uid in a container
        return "unknown"


def identity_mismatch(where: Path, identities: object = None) -> tuple[str, str] | None:
    """``($MODELREG_USER, git's user.email)`` when both are set and disagree in the git
    repository ``where`` is in; an email listed for that user in ``identities`` (the map
    of registry.yaml) agrees. None when they agree or either is unset."""
    explicit = os.environ.get("MODELREG_USER")
    email = _git_user_email(where) if explicit else None
    if not explicit or not email or explicit.lower() == email.lower():
        return None
    listed = identities.get(explicit) if isinstance(identities, dict) else None
    names = [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []
    if email.lower() in (str(name).lower() for name in names):
        return None
    return explicit, email


class Head(NamedTuple):
    """The checked-out state of a work tree, as read from ``.git``."""

    top: Path  # the work tree's top folder
    commit: str
    branch: str | None  # None when detached
    # The repository's own folder and the one it shares with its worktrees (the same
    # but for a worktree); None when git itself was asked (unusual layouts).
    git_dir: Path | None
    common_dir: Path | None


def git_lineage(cwd: Path, exclude: Path | None = None) -> Document:
    """The commit of the repository ``cwd`` is in, and whether its tree was dirty.

    ``exclude`` (the registry folder) does not count as dirt: registering a version
    changes the registry itself, and that says nothing about the code.
    """
    head = _describe_head(cwd)
    if head is None:
        return {}
    # Dirty: a tracked file differs from the commit, staged or not (untracked files do
    # not count). The whole work tree counts, not only the folder the command runs in.
    # --no-optional-locks: never take the index lock under the user's own git commands.
    diff_args = [
        "--no-optional-locks", "diff", "--quiet", "--no-ext-diff", "--no-textconv", "HEAD",
        "--", ":(top)",
    ]  # fmt: skip
    inside = None
    if exclude is not None:
        registry, top = exclude.resolve(), head.top.resolve()
        if registry.is_relative_to(top):
            inside = registry.relative_to(top).as_posix()
            diff_args.append(f":(top,exclude){inside}")
    differs = _dirty(head, inside, diff_args)
    lineage: dict[str, Any] = {"git_commit": head.commit}
    if differs is not None:  # git missing or failing: the commit is still known
        lineage["git_dirty"] = differs
    if head.branch is not None:
        lineage["git_branch"] = head.branch
    return lineage


def _describe_head(cwd: Path) -> Head | None:
    """The checked-out state of the work tree ``cwd`` is in, or None outside a
    repository or before the first commit.

    Registering in a loop should not start two git processes per version, so the usual
    layouts (a ``.git`` folder, or a ``.git`` file of a worktree or submodule; loose or
    packed refs) are read directly; anything else asks ``git rev-parse``.
    """
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return _describe_head_with_git(cwd)
    top = _find_work_tree(cwd)
    if top is None:
        return None  # no repository: no git process at all
    try:
        return _read_head(top)
    except (OSError, ValueError, UnicodeDecodeError):
        return _describe_head_with_git(cwd)


def _find_work_tree(cwd: Path) -> Path | None:
    """The nearest folder at or above ``cwd`` holding ``.git``, searched as git does: not
    up into a folder listed in ``$GIT_CEILING_DIRECTORIES``."""
    listed = os.environ.get("GIT_CEILING_DIRECTORIES", "").split(os.pathsep)
    ceilings = {path for path in map(Path, listed) if path.is_absolute()}
    for folder in (cwd, *cwd.parents):
        if folder in ceilings and folder != cwd:
            return None
        if (folder / ".git").exists():
            return folder
    return None


def _read_head(top: Path) -> Head | None:
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
        return Head(top, _sha(head), None, git_dir, common)
    ref = head.removeprefix("ref: ")
    commit = _resolve_ref(common, ref)
    if commit is None:
        return None  # a branch with no commit yet
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    return Head(top, commit, branch, git_dir, common)


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


def _describe_head_with_git(cwd: Path) -> Head | None:
    described = git_output(["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"], cwd)
    if described is None or len(described.splitlines()) != 3:
        return None
    top, commit, branch = described.splitlines()
    return Head(Path(top), commit, None if branch == "HEAD" else branch, None, None)


# -- the dirty check -------------------------------------------------------------------
#
# Starting git costs about 1.6 ms, more than the rest of a registration, and a training
# script may register many versions in one process. So the answer of ``git diff`` is
# remembered with what it depended on: the commit, the index file, git's config files and
# the stat data of every tracked file outside the registry (the paths come from the
# index). While all of these are unchanged, git would answer the same. Like the cache of
# version files, the answer is only remembered when none of them changed in the last
# SETTLE_SECONDS: a file changed again within its timestamps' granularity would otherwise
# look unchanged. Anything the witness cannot vouch for (a large, split or sparse index,
# submodules, conflicts, flags that tell git to skip files) means asking git every time.

_MAX_WITNESSED_FILES = 2000  # beyond this, stat-ing the files in Python costs more than git


class _Answer(NamedTuple):
    index_identity: tuple[int, int, int, int]  # the index file's inode, size, mtime, ctime
    paths: tuple[bytes, ...]  # tracked files outside the registry, from that index
    witness: tuple[Any, ...]  # the commit, the config files and the files' stat data
    dirty: bool


_answers: dict[tuple[Path, str | None], _Answer] = {}


def _dirty(head: Head, inside: str | None, diff_args: list[str]) -> bool | None:
    key = (head.top, inside)
    known = _answers.get(key)
    try:
        witnessed = _witness(head, inside, known)
    except (OSError, ValueError, IndexError, RuntimeError):  # RuntimeError: no home folder
        witnessed = None
    # Everything but the answer itself is the same: git would answer the same.
    if witnessed is not None and known is not None and witnessed[:3] == known[:3]:
        return known.dirty
    differs = _git_status_code(diff_args, head.top)
    if witnessed is None or differs is None:
        _answers.pop(key, None)
    else:
        if len(_answers) >= 64:  # a long-lived process visiting many repositories
            _answers.clear()
        _answers[key] = witnessed._replace(dirty=differs)
    return differs


def _witness(head: Head, inside: str | None, known: _Answer | None) -> _Answer | None:
    """What ``git diff`` depends on now, or None when it cannot be vouched for. The
    witness is taken before git runs: a change made meanwhile shows in the next one."""
    if head.git_dir is None or head.common_dir is None or os.environ.get("GIT_INDEX_FILE"):
        return None
    from modelreg import index  # its SETTLE_SECONDS, read now: tests shorten it
    from modelreg.store import stat_identity

    settled_before = time.time_ns() - int(index.SETTLE_SECONDS * 1e9)
    with (head.git_dir / "index").open("rb") as handle:
        stat = os.fstat(handle.fileno())
        identity = stat_identity(stat)
        if stat.st_ctime_ns >= settled_before:
            return None
        if known is not None and known.index_identity == identity:
            paths: tuple[bytes, ...] | None = known.paths
        else:
            excluded = None if inside is None else os.fsencode(inside)
            paths = _tracked_paths(handle.read(), len(head.commit) // 2, excluded)
    if paths is None:
        return None
    home = Path.home()
    configs = (
        head.common_dir / "config",
        head.git_dir / "config.worktree",
        Path(os.environ.get("GIT_CONFIG_GLOBAL") or home / ".gitconfig"),
        Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "git" / "config",
        Path(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"),
    )
    top = os.fsencode(head.top) + b"/"
    witness: list[Any] = [head.commit]
    for path in (*(os.fsencode(config) for config in configs), *(top + p for p in paths)):
        try:
            found = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            witness.append(None)
            continue
        if found.st_ctime_ns >= settled_before:
            return None
        # ctime changes with every change of content, mode or owner, and cannot be set.
        witness.append(stat_identity(found))
    return _Answer(identity, paths, tuple(witness), dirty=False)


def _tracked_paths(data: bytes, hash_size: int, excluded: bytes | None) -> tuple[bytes, ...] | None:
    """The paths a git index lists outside ``excluded``, or None when the index is not
    one this reads whole, or holds anything whose state the files' stat data does not
    show.

    The format (git's Documentation/gitformat-index.txt): a header, sorted entries of
    stat data, mode, object id, flags and path (versions 2 and 3 pad each entry to 8
    bytes; version 4 compresses each path against the previous one), extensions, and a
    checksum of all that (zeros when ``index.skipHash`` is set).
    """
    body, checksum = data[:-hash_size], data[-hash_size:]
    algorithm = hashlib.sha1 if hash_size == 20 else hashlib.sha256
    if checksum != bytes(hash_size) and checksum != algorithm(body, usedforsecurity=False).digest():
        return None
    try:
        return _index_entries(body, hash_size, excluded)
    except (struct.error, ValueError, IndexError):  # cut short: not as git writes them
        return None


def _index_entries(body: bytes, hash_size: int, excluded: bytes | None) -> tuple[bytes, ...] | None:
    if body[:4] != b"DIRC":
        return None
    version, count = struct.unpack_from(">II", body, 4)
    if version not in (2, 3, 4) or count > _MAX_WITNESSED_FILES:
        return None
    flags_at = 40 + hash_size  # after ctime, mtime (8 bytes each), 6 fields of 4, the id
    offset = 12
    previous = b""
    paths: list[bytes] = []
    for _ in range(count):
        (mode,) = struct.unpack_from(">I", body, offset + 24)
        (flags,) = struct.unpack_from(">H", body, offset + flags_at)
        # Only regular files and symlinks, at stage 0 (no conflict), without the
        # assume-valid or extended flags (skip-worktree, intent-to-add, sparse folders).
        if flags & 0xF000 or mode & 0o170000 not in (0o100000, 0o120000):
            return None
        name_at = offset + flags_at + 2
        if version == 4:
            strip, name_at = _varint(body, name_at)
            if strip > len(previous):
                return None
            end = body.index(b"\0", name_at)
            path = previous[: len(previous) - strip] + body[name_at:end]
            offset = end + 1
        else:
            end = body.index(b"\0", name_at)
            path = body[name_at:end]
            offset += (flags_at + 2 + len(path) + 8) & ~7
        previous = path
        if not _is_inside(path, excluded):
            paths.append(path)
    while offset + 8 <= len(body):
        signature = body[offset : offset + 4]
        if signature in (b"link", b"sdir"):  # a split index, a sparse index
            return None
        (size,) = struct.unpack_from(">I", body, offset + 4)
        offset += 8 + size
    return tuple(paths) if offset == len(body) else None


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """git's offset encoding (varint.c): 7 bits a byte, adding one per continuation."""
    byte = data[offset]
    value = byte & 0x7F
    while byte & 0x80:
        offset += 1
        byte = data[offset]
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, offset + 1


def _is_inside(path: bytes, folder: bytes | None) -> bool:
    if folder is None:
        return False
    return folder == b"." or path == folder or path.startswith(folder + b"/")


def _git_status_code(args: list[str], cwd: Path) -> bool | None:
    """For ``git diff --quiet``: True when it found differences (exit 1), False when
    none (exit 0), None when git could not tell (not installed, an error)."""
    code = git_exit_code(args, cwd)
    return None if code is None else {0: False, 1: True}.get(code)


def git_exit_code(args: list[str], cwd: Path) -> int | None:
    """The exit code of ``git args`` run in ``cwd``, or None when it could not run."""
    result = _run_git(args, cwd, text=False)
    return None if result is None else result.returncode


def git_output(args: list[str], cwd: Path) -> str | None:
    """The output of ``git args`` run in ``cwd``, stripped; None when git could not run
    or failed."""
    result = _run_git(args, cwd, text=True)
    if result is None or result.returncode != 0:
        return None
    stdout: str = result.stdout
    return stdout.strip()


def _run_git(args: list[str], cwd: Path, *, text: bool) -> subprocess.CompletedProcess[Any] | None:
    """``git args`` run in ``cwd``, its output captured (as text or bytes), for ten
    seconds at most; None when it could not run (not installed, timed out)."""
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=text, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None


def artifact_digest(path: Path) -> tuple[str, int]:
    """sha256 and size in bytes of a file, or of a folder's files (names and contents)."""
    if path.is_file():
        return _hash_file(path, hashlib.sha256()), path.stat().st_size
    return tree_digest(tree_entries(path))


class TreeEntry(NamedTuple):
    """One file of a folder artifact: its path inside the folder (``/``-separated), its
    sha256 and its size in bytes."""

    path: str
    sha256: str
    size: int


def tree_entries(path: Path) -> list[TreeEntry]:
    """The files of a folder (symbolic links left out), sorted by path, each hashed."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return sorted(
        (
            TreeEntry(file.relative_to(path).as_posix(), _hash_file(file, hashlib.sha256()), size)
            for file in files
            for size in (file.stat().st_size,)
        ),
        key=_tree_order,
    )


def tree_digest(entries: list[TreeEntry]) -> tuple[str, int]:
    """A folder's sha256 and size from its entries: the sha256 of, for each file in order
    of its path's components, the UTF-8 path's length (8 bytes, big-endian), the path and
    the file's raw sha256; the size is the sum of the files' sizes."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=_tree_order):
        relative = entry.path.encode("utf-8")
        digest.update(len(relative).to_bytes(8, "big") + relative)
        digest.update(bytes.fromhex(entry.sha256))
    return digest.hexdigest(), sum(entry.size for entry in entries)


def _tree_order(entry: TreeEntry) -> list[str]:
    # The order of pathlib's sorting, which the first folder digests were made in.
    return entry.path.split("/")


def _hash_file(path: Path, digest: Any) -> str:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return str(digest.hexdigest())

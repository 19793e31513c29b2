"""Registry trees read straight from git, and the few git questions the rest asks.

A *tree* is a registry as a mapping from registry-relative POSIX paths
(``registry.yaml``, ``models/churn/versions/4.yaml``) to file bytes: what
:func:`modelreg.gitsync.integrate.integrate` merges and
:func:`modelreg.gitsync.changes.events_between` compares. :func:`read_tree` reads one
from any revision with two git processes (``ls-tree`` and one ``cat-file --batch`` for
every blob), never touching the work tree. Every git process goes through
:func:`modelreg.process.run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modelreg import process
from modelreg.errors import InvalidInputError, NotFoundError

GIT_TIMEOUT = 120.0
# The files of a registry that are not worth merging or comparing: caches, locks, the
# trash of interrupted deletes (all git-ignored; listed for trees read from a folder).
_SKIPPED_PARTS = frozenset({".cache", ".trash"})


# A git command that failed: bad input as far as the exit code goes (2). A name for the
# callers that catch it, not another class: errors.py is the one hierarchy.
GitError = InvalidInputError


@dataclass(frozen=True)
class Place:
    """Where a registry folder is in git: the work tree's top and the registry's prefix
    inside it (``""`` when the registry is the top, else ``"registry/"``)."""

    top: Path
    prefix: str

    def path(self, relative: str) -> str:
        """The repository path of a registry-relative path."""
        return self.prefix + relative


def git(
    repo: Path,
    *args: str,
    stdin: bytes | None = None,
    config: Mapping[str, str] | None = None,
    ok: Sequence[int] = (0,),
) -> process.Finished:
    """``git ARGS`` in ``repo`` (with ``-c KEY=VALUE`` for each of ``config``);
    InvalidInputError (exit 2) naming the command and what git said unless it exits with
    one of ``ok``."""
    options = [part for key, value in (config or {}).items() for part in ("-c", f"{key}={value}")]
    command = ["git", *options, *args]
    try:
        done = process.run(
            command,
            cwd=repo,
            env={"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
            timeout=GIT_TIMEOUT,
            stdin=stdin,
        )
    except OSError as exc:
        raise NotFoundError(f"git cannot be run: {exc.strerror or exc}") from None
    if done.exit_code not in ok:
        said = (
            done.stderr.decode("utf-8", "replace").strip()
            or done.stdout.decode("utf-8", "replace").strip()
        )
        status = "timed out" if done.timed_out else f"failed (exit {done.exit_code})"
        raise GitError(f"`git {' '.join(args)}` {status}: {said}")
    return done


def text(repo: Path, *args: str, **options: object) -> str:
    """The output of ``git ARGS`` without the final newline (see :func:`git`)."""
    done = git(repo, *args, **options)  # type: ignore[arg-type]
    return done.stdout.decode("utf-8", "replace").rstrip("\n")


def driver_config() -> dict[str, str]:
    """``merge.modelreg.*`` for one git call: the registry's merge driver, whether or not
    this clone ran ``modelreg git-setup`` (``.gitattributes`` still decides the files)."""
    from modelreg.merge_driver import DRIVER_DESCRIPTION, DRIVER_NAME, driver_command

    return {
        f"merge.{DRIVER_NAME}.name": DRIVER_DESCRIPTION,
        f"merge.{DRIVER_NAME}.driver": driver_command(),
    }


def place(root: Path) -> Place:
    """Where the registry folder ``root`` is in its git work tree (NotFoundError when it
    is not in one)."""
    try:
        done = process.run(
            ["git", "rev-parse", "--show-toplevel", "--show-prefix"],
            cwd=root,
            env={"LC_ALL": "C"},
            timeout=GIT_TIMEOUT,
        )
    except OSError:
        raise NotFoundError("git is not installed (or not on PATH)") from None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    if done.exit_code != 0 or len(lines) < 1:
        raise NotFoundError(f"{root} is not inside a git work tree")
    prefix = lines[1] if len(lines) > 1 else ""
    return Place(Path(lines[0]), prefix)


def inside_work_tree(root: Path) -> bool:
    """Whether ``root`` is in a git work tree, answered from the folders alone (no git
    process) so that callers on a quick path pay nothing outside git."""
    folder = root.resolve()
    return any((candidate / ".git").exists() for candidate in (folder, *folder.parents))


def rev_parse(repo: Path, rev: str) -> str | None:
    """The commit ``rev`` names, or None when it names none."""
    done = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", ok=(0, 1, 128))
    return done.stdout.decode().strip() if done.exit_code == 0 else None


def merge_base(repo: Path, one: str, other: str) -> str | None:
    """The best common ancestor of two commits, or None when they share none."""
    done = git(repo, "merge-base", one, other, ok=(0, 1))
    return done.stdout.decode().strip() if done.exit_code == 0 else None


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    return git(repo, "merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1)).exit_code == 0


def git_dir(repo: Path) -> Path:
    """The repository's git folder for this work tree (absolute)."""
    found = Path(text(repo, "rev-parse", "--git-dir"))
    return found if found.is_absolute() else (repo / found).resolve()


def upstream(repo: Path) -> str | None:
    """The remote-tracking branch the current branch follows (``origin/main``), if any."""
    done = git(
        repo, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", ok=(0, 128)
    )
    name = done.stdout.decode().strip()
    return name if done.exit_code == 0 and name else None


def read_tree(repo: Path, rev: str, prefix: str) -> dict[str, bytes]:
    """The registry under ``prefix`` (``"registry/"``, or ``""`` for the whole repository)
    at ``rev``: registry-relative path -> bytes. An empty mapping when ``rev`` has no
    such folder. One ``ls-tree`` and one ``cat-file --batch`` process, whatever the size."""
    folder = prefix.strip("/")
    args = ["ls-tree", "-r", "-z", "--full-tree", rev]
    if folder:
        args += ["--", folder + "/"]
    listing = git(repo, *args).stdout
    blobs: list[tuple[str, str]] = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind != "blob" or mode == "120000":  # symlinks are not registry files
            continue
        path = name.decode("utf-8", "surrogateescape")
        relative = path[len(folder) + 1 :] if folder else path
        if _SKIPPED_PARTS.intersection(PurePosixPath(relative).parts):
            continue
        blobs.append((relative, sha))
    if not blobs:
        return {}
    contents = _cat_blobs(repo, [sha for _, sha in blobs])
    return dict(zip((path for path, _ in blobs), contents, strict=True))


def _cat_blobs(repo: Path, shas: list[str]) -> list[bytes]:
    """The contents of ``shas``, in order, from one ``git cat-file --batch``."""
    out = git(repo, "cat-file", "--batch", stdin="".join(f"{sha}\n" for sha in shas).encode())
    data = out.stdout
    contents: list[bytes] = []
    at = 0
    for sha in shas:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        if len(header) != 3 or header[0].decode() != sha:
            raise GitError(f"`git cat-file --batch` answered {data[at:end]!r} for {sha}")
        size = int(header[2])
        contents.append(data[end + 1 : end + 1 + size])
        at = end + 1 + size + 1  # the content is followed by a newline
    return contents


def read_folder(root: Path) -> dict[str, bytes]:
    """The registry's documents as they are in the folder ``root`` (the work tree):
    ``registry.yaml`` and the YAML files under ``models/``, as a tree."""
    found: dict[str, bytes] = {}
    config = root / "registry.yaml"
    if config.is_file():
        found["registry.yaml"] = config.read_bytes()
    for path in sorted((root / "models").glob("*/**/*.yaml")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink():
            found[relative] = path.read_bytes()
    return found

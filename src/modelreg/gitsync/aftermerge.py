"""Finishing a ``git merge`` / ``git pull`` / ``git pull --rebase`` that stopped on
registry files, losslessly: what ``modelreg merge-continue`` does (the command is in
``cli/git.py``; nothing here prints).

The registry is merged as a whole, never file by file: the common ancestor, the
*published* side (the one reachable from the branch's remote-tracking branch, e.g.
``origin/main``) and the *local* side go through
:func:`modelreg.gitsync.integrate.integrate`, so a version created here under a number
that was published meanwhile is renumbered with everything it carries, and the result is
written into the work tree and the index.

- **A merge** (``MERGE_HEAD``): the sides are ``HEAD`` and ``MERGE_HEAD``; when nothing
  else is unmerged, the merge is committed (``git commit --no-edit``).
- **A rebase** (``rebase-merge/onto`` and ``orig-head``; git swaps ours and theirs
  there): the published side is ``onto``, the local side the branch as it was before the
  rebase (``orig-head``), so every replayed commit counts at once. When those commits
  change only the registry, the rebase is aborted and replaced by one commit on top of
  ``onto`` with the integrated registry: replaying them one by one would land later
  commits (an alias, a promotion of "version 4") on the other clone's version 4. When
  they change other files too, the rebase is aborted and the upstream merged instead
  (``git merge onto``, other files by git, the registry integrated): the history is not
  linear, but nothing is lost and nothing lands on the wrong version.
- **After a merge or rebase git finished by itself**: git's line merge cannot see some
  collisions (a number one side deleted and the other registered are two different
  files). With ``HEAD`` an unpublished merge commit, the registry is integrated again and
  the commit amended; right after a rebase (``ORIG_HEAD`` is the branch before it), the
  registry is integrated with the original commits and the difference committed on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from modelreg.errors import InvalidInputError
from modelreg.gitsync import trees
from modelreg.gitsync.integrate import Integration, integrate

Mode = Literal["merge", "rebase", "amend"]


@dataclass
class Finished:
    """What ``merge-continue`` did: how the merge or rebase ended, the integration, the
    commit it made (None when files outside the registry still need resolving), and
    those files."""

    mode: Mode
    integration: Integration
    commit: str | None = None
    unresolved: list[str] = field(default_factory=list)
    replaced_rebase: bool = False
    merged_instead: bool = False
    published: str = ""
    local: str = ""


def finish(root: Path) -> Finished:
    """Finish the merge or rebase git stopped in the repository holding registry
    ``root`` (InvalidInputError when there is none to finish)."""
    where = trees.place(root)
    folder = trees.git_dir(where.top)
    rebase = next(
        (folder / name for name in ("rebase-merge", "rebase-apply") if (folder / name).is_dir()),
        None,
    )
    if rebase is not None:
        return _finish_rebase(where, rebase)
    if (folder / "MERGE_HEAD").is_file():
        return _finish_merge(where)
    return _after_git(where)


def _sides(where: trees.Place, one: str, other: str) -> tuple[str, str]:
    """(published, local) of two commits: the one the remote-tracking branch reaches is
    published (in ``git pull``, the one merged in)."""
    upstream = trees.upstream(where.top)
    if upstream is not None:
        tip = trees.rev_parse(where.top, upstream)
        if tip is not None and trees.is_ancestor(where.top, one, tip):
            return one, other
        if tip is not None and trees.is_ancestor(where.top, other, tip):
            return other, one
    return one, other


def _integrated(where: trees.Place, published: str, local: str) -> Integration:
    base = trees.merge_base(where.top, published, local)
    old = trees.read_tree(where.top, base, where.prefix) if base else {}
    return integrate(
        old,
        trees.read_tree(where.top, published, where.prefix),
        trees.read_tree(where.top, local, where.prefix),
    )


def _finish_merge(where: trees.Place) -> Finished:
    head = _commit(where, "HEAD")
    merging = _commit(where, "MERGE_HEAD")
    published, local = _sides(where, merging, head)
    done = _integrated(where, published, local)
    _write(where, done, (published, local))
    result = Finished("merge", done, published=published, local=local)
    result.unresolved = _unmerged(where)
    if not result.unresolved:
        trees.git(where.top, "commit", "-q", "--no-edit")
        result.commit = _commit(where, "HEAD")
    return result


def _finish_rebase(where: trees.Place, state: Path) -> Finished:
    onto = _read(state / "onto")
    original = _read(state / "orig-head")
    done = _integrated(where, onto, original)
    base = trees.merge_base(where.top, onto, original) or onto
    changed = trees.text(where.top, "diff", "--name-only", "-z", base, original).split("\0")
    only_registry = all(path.startswith(where.prefix) for path in changed if path)
    subjects = trees.text(where.top, "log", "--reverse", "--format=%s", f"{base}..{original}")
    trees.git(where.top, "rebase", "--abort")
    result = Finished("rebase", done, published=onto, local=original)
    if only_registry:
        trees.git(where.top, "reset", "-q", "--keep", onto)
        _write(where, done, (onto, original))
        message = "Registry changes integrated onto the published registry (modelreg " + (
            "merge-continue replaced a rebase)\n\n" + subjects
        )
        trees.git(where.top, "commit", "-q", "--allow-empty", "-m", message)
        result.replaced_rebase = True
    else:
        trees.git(
            where.top,
            "merge",
            "--no-commit",
            "--no-ff",
            onto,
            config=trees.driver_config(),
            ok=(0, 1),
        )
        _write(where, done, (onto, original))
        result.merged_instead = True
        result.unresolved = _unmerged(where)
        if result.unresolved:
            return result
        trees.git(where.top, "commit", "-q", "--no-edit")
    result.commit = _commit(where, "HEAD")
    return result


def _after_git(where: trees.Place) -> Finished:
    """git finished the merge or rebase itself; integrate again what it merged line by
    line, for what it cannot see (a number deleted on one side, registered on the other)."""
    upstream = trees.upstream(where.top)
    tip = trees.rev_parse(where.top, upstream) if upstream else None
    head = _commit(where, "HEAD")
    parents = trees.text(where.top, "rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
    published_head = tip is not None and trees.is_ancestor(where.top, head, tip)
    if len(parents) == 2 and not published_head:
        published, local = _sides(where, parents[1], parents[0])
        return _redo(where, "amend", published, local)
    before = trees.rev_parse(where.top, "ORIG_HEAD")
    if (
        tip is not None
        and before is not None
        and not published_head
        and trees.is_ancestor(where.top, tip, head)
        and not trees.is_ancestor(where.top, tip, before)
        and not trees.is_ancestor(where.top, before, head)
    ):
        return _redo(where, "rebase", tip, before)
    raise InvalidInputError(
        "there is no merge or rebase to finish here (no MERGE_HEAD, no rebase in progress, "
        "HEAD is not an unpublished merge commit and no rebase just ended: ORIG_HEAD)"
    )


def _redo(where: trees.Place, mode: Mode, published: str, local: str) -> Finished:
    done = _integrated(where, published, local)
    result = Finished(mode, done, published=published, local=local)
    if trees.read_tree(where.top, "HEAD", where.prefix) == done.files:
        result.commit = _commit(where, "HEAD")
        return result
    _write(where, done, (published, local, "HEAD"))
    if mode == "amend":
        trees.git(where.top, "commit", "-q", "--amend", "--no-edit")
    else:
        message = (
            "Registry integrated with the published registry "
            "(modelreg merge-continue after a rebase)"
        )
        trees.git(where.top, "commit", "-q", "-m", message)
    result.commit = _commit(where, "HEAD")
    return result


def _write(where: trees.Place, done: Integration, revs: tuple[str, ...]) -> None:
    """The integrated registry into the work tree and the index; registry files of
    ``revs`` that it does not have are removed from both."""
    folder = where.top / where.prefix if where.prefix else where.top
    known: set[str] = set()
    for rev in revs:
        known.update(trees.read_tree(where.top, rev, where.prefix))
    removed = sorted(path for path in known if path not in done.files)
    for path in removed:
        (folder / path).unlink(missing_ok=True)
    for path, data in sorted(done.files.items()):
        target = folder / path
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    # Paths go in on stdin: a registry of 10,000 versions would not fit a command line.
    if removed:
        trees.git(
            where.top,
            "rm",
            "-q",
            "--cached",
            "--ignore-unmatch",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            stdin=_pathspecs(where, removed),
        )
    trees.git(
        where.top,
        "add",
        "--pathspec-from-file=-",
        "--pathspec-file-nul",
        stdin=_pathspecs(where, sorted(done.files)),
    )


def _pathspecs(where: trees.Place, paths: list[str]) -> bytes:
    # ":(literal)": a name with * or ? is that file, not a pattern.
    return b"".join(f":(literal){where.path(path)}".encode() + b"\0" for path in paths)


def _unmerged(where: trees.Place) -> list[str]:
    listed = trees.text(where.top, "diff", "--name-only", "-z", "--diff-filter=U")
    return sorted({path for path in listed.split("\0") if path})


def _commit(where: trees.Place, rev: str) -> str:
    found = trees.rev_parse(where.top, rev)
    if found is None:
        raise InvalidInputError(f"{rev} names no commit in {where.top}")
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidInputError(f"{path} cannot be read: {exc.strerror}") from None

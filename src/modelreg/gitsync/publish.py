"""Publishing the registry through its git remote: what ``modelreg sync`` and ``--push`` do,
without printing (the commands are in ``cli/git.py``).

One publication, under the registry's write lock:

1. **Commit what is pending** in the registry folder (and only there): a commit made with
   a temporary index (``read-tree HEAD``, ``add -A -- REGISTRY``, ``write-tree``,
   ``commit-tree``), so the user's staged and unstaged files elsewhere stay as they are.
2. **Fetch** the branch's remote (its upstream, else ``origin/<branch>``).
3. **Decide what to push.** Unpushed commits that touch files outside the registry folder
   are refused (sync publishes the registry only). When the remote did not move since we
   forked, our commits are pushed as they are; when it did, the three registry trees
   (merge base, remote tip, our HEAD) are integrated by meaning
   (:func:`modelreg.gitsync.integrate.integrate`) into ONE commit on top of the remote tip,
   built with plumbing (``read-tree`` of the tip into a temporary index, ``update-index``
   of the changed blobs, ``write-tree``, ``commit-tree``), never touching the work tree.
4. **Push** it: the remote accepts only a fast-forward, atomically — the compare-and-swap.
   A rejected push means someone published first: fetch and redo from step 2, up to
   ``MODELREG_PUSH_ATTEMPTS`` times with jittered exponential back-off, the lock released
   while waiting; then :class:`RemoteBusyError` (exit 6).
5. **Move the local branch** to the pushed commit as ``git checkout`` would (``read-tree -m
   -u HEAD COMMIT``, then ``update-ref``), keeping the user's staged and unstaged changes;
   they were checked not to be in the way before pushing.

Numbers on the remote never change: only versions made here that collide are renumbered,
and :class:`Publication` says which. Its ``events`` are the changes this publication added
to the remote (:func:`modelreg.gitsync.changes.events_between` of the remote tip before and
after): what the hooks hear, once, after the push succeeded.

git's own hooks (``pre-push``, ...) run as usual: nothing here passes ``--no-verify``.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from modelreg import events as ev
from modelreg import process
from modelreg.errors import BusyError, ConflictError, InvalidInputError, NotFoundError
from modelreg.gitsync import trees
from modelreg.gitsync.trees import GitError, Place
from modelreg.store import Store

ATTEMPTS_ENV = "MODELREG_PUSH_ATTEMPTS"
DEFAULT_ATTEMPTS = 20
# Full jitter (a random wait up to base * 2**attempt, at most the cap): parallel CI jobs that
# lost to the same winner do not all come back at the same instant.
BACKOFF_BASE = 0.05
BACKOFF_CAP = 2.0
_ZERO = "0" * 40
# How a push that lost a race is refused (git push --porcelain's summary): the remote moved
# (rejected as not a fast-forward), or another push held the ref at that instant (the
# remote could not lock or update it). Anything else is not retried.
_LOST_RACE = (
    "[rejected] (fetch first)",
    "[rejected] (non-fast-forward)",
    "[rejected] (stale info)",
    "[remote rejected] (failed to update ref)",
    "[remote rejected] (failed to lock)",
    "[remote rejected] (cannot lock ref",
    "[remote rejected] (incorrect old value provided)",
)


class RemoteBusyError(BusyError):
    """Every push attempt lost a race: others kept publishing first (exit 6)."""

    def __init__(self, remote: str, branch: str, attempts: int) -> None:
        super().__init__(Path(remote), 0)
        self.message = (
            f"could not publish to {remote}/{branch}: others published first {attempts} times "
            "in a row; your change is committed here — run `modelreg sync` again (or raise "
            f"${ATTEMPTS_ENV})"
        )
        self.args = (self.message,)
        self.remote = remote
        self.branch = branch
        self.attempts = attempts


@dataclass(frozen=True)
class Target:
    """Where the current branch publishes: ``remote``'s ``branch``, tracked locally as
    ``tracking`` (``refs/remotes/origin/main``); ``configured`` when it is the branch's
    upstream (else the ``origin/<branch>`` default, set as upstream after a first push)."""

    remote: str
    branch: str
    local_branch: str
    tracking: str
    configured: bool

    @property
    def name(self) -> str:
        return f"{self.remote}/{self.branch}"


@dataclass
class Publication:
    """What one ``sync`` did.

    ``commit`` is the remote's tip afterwards (None when there is none); ``pushed`` whether
    this sync pushed it; ``committed`` the local commit of pending registry changes, if
    any; ``integrated`` how many commits others had published that this sync brought in;
    ``renumbered`` the versions made here that got a new number (model, from, to);
    ``events`` the changes this sync published, with their final numbers."""

    remote: str
    branch: str
    commit: str | None = None
    pushed: bool = False
    committed: str | None = None
    integrated: int = 0
    attempts: int = 0
    renumbered: list[tuple[str, int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: list[ev.Event] = field(default_factory=list)

    def final_version(self, name: str, version: int) -> int:
        """The number version ``version`` of ``name`` (as numbered here) was published as."""
        for model, old, new in self.renumbered:
            if model == name and old == version:
                return new
        return version


@dataclass(frozen=True)
class _Plan:
    """One attempt's decision: push ``commit`` (None: nothing of ours to publish; then the
    local branch moves to ``tip``, if there is one)."""

    commit: str | None
    tip: str | None
    before: str | None  # the remote's tip (or the newest published commit) before ours
    integrated: int = 0
    renumbered: tuple[tuple[str, int, int], ...] = ()
    notes: tuple[str, ...] = ()


def publish(
    store: Store,
    *,
    attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Publication:
    """Commit the registry's pending changes, integrate what others published, push, and
    move the local branch to what was pushed (see the module's docstring)."""
    where = trees.place(store.root)
    top = where.top
    target = push_target(top)
    most = attempts if attempts is not None else attempts_from_environment()
    publication = Publication(target.remote, target.branch)
    for attempt in range(1, most + 1):
        publication.attempts = attempt
        with store.lock():
            _refuse_unfinished_git(top)
            committed = commit_pending(top, where)
            publication.committed = committed or publication.committed
            fetch(top, target)
            plan = _plan(top, where, target)
            if plan.commit is None:
                publication.commit = plan.tip
                publication.integrated = plan.integrated
                publication.notes.extend(plan.notes)
                if plan.tip is not None:
                    _move_branch(store, top, plan.tip, publication)
                return publication
            if push(top, target, plan.commit):
                publication.commit = plan.commit
                publication.pushed = True
                publication.integrated = plan.integrated
                publication.renumbered = list(plan.renumbered)
                publication.notes.extend(plan.notes)
                if not target.configured:
                    _set_upstream(top, target)
                _move_branch(store, top, plan.commit, publication)
                publication.events = _published_events(top, where, plan.before, plan.commit)
                return publication
        if attempt < most:
            sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))  # noqa: S311
    raise RemoteBusyError(target.remote, target.branch, most)


def attempts_from_environment() -> int:
    raw = os.environ.get(ATTEMPTS_ENV, "").strip()
    if not raw:
        return DEFAULT_ATTEMPTS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInputError(f"${ATTEMPTS_ENV} must be a whole number >= 1, not {raw!r}")
    return value


# -- where to publish --------------------------------------------------------------------------


def push_target(top: Path) -> Target:
    """The current branch's upstream, else ``origin/<branch>``; a clear error without a
    branch or a remote."""
    branch = trees.git(top, "symbolic-ref", "-q", "--short", "HEAD", ok=(0, 1))
    local = branch.stdout.decode().strip()
    if branch.exit_code != 0 or not local:
        raise InvalidInputError(
            "HEAD is detached: sync publishes the current branch; check out a branch "
            "(`git switch BRANCH`) and run it again"
        )
    remote = _config(top, f"branch.{local}.remote")
    merge = _config(top, f"branch.{local}.merge")
    if remote and remote != "." and merge and merge.startswith("refs/heads/"):
        branch_name = merge.removeprefix("refs/heads/")
        return Target(remote, branch_name, local, _tracking_ref(top, remote, merge), True)
    remotes = trees.text(top, "remote").split()
    if "origin" not in remotes:
        known = f" (this repository has: {', '.join(remotes)})" if remotes else ""
        raise NotFoundError(
            f"branch {local} has no upstream and there is no remote named origin{known}: "
            "sync publishes through a git remote — add one (`git remote add origin URL`) or "
            f"set the branch's upstream (`git branch --set-upstream-to REMOTE/{local}`)"
        )
    merge = f"refs/heads/{local}"
    return Target("origin", local, local, _tracking_ref(top, "origin", merge), False)


def _config(top: Path, key: str) -> str | None:
    done = trees.git(top, "config", "--get", key, ok=(0, 1))
    value = done.stdout.decode().strip()
    return value or None


def _tracking_ref(top: Path, remote: str, merge: str) -> str:
    """The remote-tracking ref that ``remote``'s fetch refspec maps ``merge`` to."""
    done = trees.git(top, "config", "--get-all", f"remote.{remote}.fetch", ok=(0, 1))
    for spec in done.stdout.decode().split():
        source, _, destination = spec.lstrip("+").partition(":")
        if source.endswith("/*") and destination.endswith("/*"):
            stem = source[:-1]
            if merge.startswith(stem):
                return destination[:-1] + merge[len(stem) :]
        elif source == merge and destination:
            return destination
    return f"refs/remotes/{remote}/{merge.removeprefix('refs/heads/')}"


def fetch(top: Path, target: Target) -> None:
    """Bring ``target``'s remote-tracking ref up to date (missing on the remote: removed)."""
    spec = f"+refs/heads/{target.branch}:{target.tracking}"
    done = trees.git(top, "fetch", "--quiet", "--no-tags", target.remote, spec, ok=(0, 1, 128))
    if done.exit_code == 0:
        return
    said = done.stderr.decode("utf-8", "replace")
    if "couldn't find remote ref" in said.lower():
        # A branch never pushed: publishing it is its first push.
        trees.git(top, "update-ref", "-d", target.tracking)
        return
    raise GitError(
        f"could not fetch from {target.remote}: {said.strip()} (nothing was published; "
        "your change is kept here — run `modelreg sync` again once the remote answers)"
    )


# -- step 1: the pending changes ---------------------------------------------------------------


def _refuse_unfinished_git(top: Path) -> None:
    folder = trees.git_dir(top)
    for marker, what in (
        ("MERGE_HEAD", "a merge"),
        ("REBASE_HEAD", "a rebase"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ):
        if (folder / marker).exists():
            raise ConflictError(
                f"git is in the middle of {what}: finish it (or abort it) first, then run "
                "`modelreg sync` again"
            )


def registry_pathspecs(where: Place) -> list[str]:
    """The registry's paths, as pathspecs from the top of the work tree."""
    if where.prefix:
        return [f":(top,literal){where.prefix.rstrip('/')}"]
    # The registry is the repository's top folder: its own files, not the user's others.
    names = ("registry.yaml", ".gitignore", ".gitattributes", "models")
    return [f":(top,literal){name}" for name in names]


def _outside_pathspecs(where: Place) -> list[str]:
    """Every path outside the registry, as pathspecs from the top of the work tree."""
    return [":(top)"] + [
        spec.replace(":(top,", ":(top,exclude,", 1) for spec in registry_pathspecs(where)
    ]


def commit_pending(top: Path, where: Place) -> str | None:
    """Commit the registry folder's uncommitted changes (only those) on the current
    branch; the new commit, or None when there was nothing to commit."""
    head = trees.rev_parse(top, "HEAD")
    with _temporary_index(top) as index:
        if head is None:
            index.git("read-tree", "--empty")
        else:
            # From a copy of the real index, HEAD's entries keep the stat data git has for
            # unchanged files: `add` then hashes only what changed, not every file.
            real = trees.git_dir(top) / "index"
            if real.is_file():
                shutil.copyfile(real, index.path)
            index.git("read-tree", "-m", head)
        index.git("add", "-A", "--", *registry_pathspecs(where))
        tree = index.text("write-tree")
    if head is not None and tree == trees.text(top, "rev-parse", f"{head}^{{tree}}"):
        return None
    models = _touched_models(top, where, (head, tree))
    old = _read_registry(top, where, head, models) if head else {}
    message = commit_message(changes_between(old, _read_registry(top, where, tree, models)))
    commit = _commit_tree(top, tree, [head] if head else [], message)
    trees.git(
        top, "update-ref", "-m", "modelreg sync: commit the registry", "HEAD", commit, head or _ZERO
    )
    # The real index follows HEAD for the registry's paths (git status shows them clean);
    # the user's staged changes elsewhere stay staged.
    trees.git(top, "reset", "-q", "--", *registry_pathspecs(where), ok=(0, 1))
    return commit


def changes_between(old: dict[str, bytes], new: dict[str, bytes]) -> list[ev.Event]:
    """The events for what ``new`` adds to ``old`` (registry trees)."""
    from modelreg.gitsync.changes import events_between

    return events_between(old, new)


def commit_message(changes: list[ev.Event]) -> str:
    """``modelreg: ...``: the changes in a commit, the first few in the subject."""
    lines = [_describe(event) for event in changes]
    if not lines:
        return "modelreg: update the registry\n"
    subject = "; ".join(lines[:3]) + (f"; and {len(lines) - 3} more" if len(lines) > 3 else "")
    body = "\n".join(f"- {line}" for line in lines) if len(lines) > 1 else ""
    return f"modelreg: {subject}\n" + (f"\n{body}\n" if body else "")


def _describe(event: ev.Event) -> str:
    entity = event.entity
    what = f"{entity.get('name')}"
    if "version" in entity and entity.get("version") is not None:
        what += f" version {entity['version']}"
    detail = ", ".join(
        f"{key}={value}"
        for key, value in sorted(event.data.items())
        if isinstance(value, (str, int, float)) and key not in ("comment",)
    )
    return f"{event.type} {what}" + (f" ({detail})" if detail else "")


# -- step 3: what to push ----------------------------------------------------------------------


def _plan(top: Path, where: Place, target: Target) -> _Plan:
    head = trees.rev_parse(top, "HEAD")
    tip = trees.rev_parse(top, target.tracking)
    if head is None:
        return _Plan(None, tip, tip)
    if tip is None:
        # The remote has no such branch yet: its first push, as it is.
        published = ["--not", f"--remotes={target.remote}"]
        _refuse_outside_changes(top, where, head, published, target)
        mine = trees.text(top, "rev-list", "--max-count=1", head, *published)
        return _Plan(head if mine else None, None, _newest_published(top, head, target))
    if head == tip or trees.is_ancestor(top, head, tip):
        _refuse_in_the_way(top, where, head, tip)
        return _Plan(None, tip, tip, _count(top, tip, head))
    _refuse_outside_changes(top, where, head, ["--not", tip], target)
    if trees.is_ancestor(top, tip, head):
        return _Plan(head, tip, tip)  # nobody published since: our commits as they are
    return _integrated(top, where, target, head, tip)


def _refuse_outside_changes(
    top: Path, where: Place, head: str, published: list[str], target: Target
) -> None:
    """Refuse when an unpushed commit touches files outside the registry folder."""
    touching = trees.text(
        top, "rev-list", head, *published, "--", *_outside_pathspecs(where)
    ).split()
    if not touching:
        return
    shown = trees.text(top, "log", "--no-walk=unsorted", "--format=%h %s", *touching[:5])
    more = f"\n  ... and {len(touching) - 5} more" if len(touching) > 5 else ""
    raise ConflictError(
        f"{len(touching)} unpushed commit(s) on {target.local_branch} change files outside "
        "the registry folder:\n  " + shown.replace("\n", "\n  ") + more + "\n"
        "sync publishes the registry only: push your code yourself (`git pull --rebase`, "
        "`git push`), then run `modelreg sync` again"
    )


def _refuse_in_the_way(top: Path, where: Place, head: str, commit: str) -> None:
    """Refuse (before anything is pushed) when moving the branch from ``head`` to
    ``commit`` would have to overwrite the user's uncommitted changes: files others
    changed on the remote that are also changed (or untracked) here."""
    changed = trees.text(
        top, "diff", "--name-only", "-z", head, commit, "--", *_outside_pathspecs(where)
    ).split("\0")
    changed = [path for path in changed if path]
    if not changed:
        return
    status = trees.text(
        top,
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--",
        *(f":(top,literal){path}" for path in changed),
    )
    dirty = sorted({entry[3:] for entry in status.split("\0") if len(entry) > 3})
    if dirty:
        raise ConflictError(
            "others changed files on the remote that you have uncommitted changes to: "
            + ", ".join(dirty[:10])
            + ("..." if len(dirty) > 10 else "")
            + "; commit or stash them, then run `modelreg sync` again (nothing was published)"
        )


def _newest_published(top: Path, head: str, target: Target) -> str | None:
    """The newest commit of ``head``'s history that ``target``'s remote already has."""
    boundary = trees.text(
        top, "rev-list", "--boundary", head, "--not", f"--remotes={target.remote}"
    )
    for line in boundary.split():
        if line.startswith("-"):
            return line[1:]
    return None


def _count(top: Path, tip: str, head: str) -> int:
    """How many commits ``tip`` has that ``head`` has not."""
    return int(trees.text(top, "rev-list", "--count", tip, f"^{head}"))


def _integrated(top: Path, where: Place, target: Target, head: str, tip: str) -> _Plan:
    """Both sides moved: integrate the registry trees into one commit on top of ``tip``."""
    from modelreg.gitsync.integrate import integrate

    base = trees.merge_base(top, head, tip)
    # Models nobody changed since the fork are the same on all three sides: left out.
    models = _touched_models(top, where, (base, tip), (base, head))
    base_tree = _read_registry(top, where, base, models) if base else {}
    published = _read_registry(top, where, tip, models)
    local = _read_registry(top, where, head, models)
    result = integrate(base_tree, published, local)
    integrated = _count(top, tip, head)
    if dict(result.files) == published:
        _refuse_in_the_way(top, where, head, tip)
        return _Plan(None, tip, tip, integrated, (), tuple(result.notes))
    message = commit_message(changes_between(published, dict(result.files)))
    commit = _commit_on(top, where, tip, published, dict(result.files), message)
    _refuse_in_the_way(top, where, head, commit)
    renumbered = tuple((name, old, new) for name, old, new in result.renumbered)
    return _Plan(commit, tip, tip, integrated, renumbered, tuple(result.notes))


def _commit_on(
    top: Path,
    where: Place,
    tip: str,
    published: dict[str, bytes],
    files: dict[str, bytes],
    message: str,
) -> str:
    """A commit on top of ``tip`` whose registry folder holds ``files`` (the rest of its
    tree is ``tip``'s), built in a temporary index: only the changed blobs are written."""
    changed = {path: data for path, data in files.items() if published.get(path) != data}
    removed = [path for path in published if path not in files]
    with _temporary_index(top) as index:
        index.git("read-tree", tip)
        lines = [f"0 {_ZERO}\t{where.path(path)}" for path in removed]
        if changed:
            shas = _hash_blobs(top, list(changed.values()))
            lines += [
                f"100644 {sha}\t{where.path(path)}" for path, sha in zip(changed, shas, strict=True)
            ]
        if lines:
            index.git("update-index", "--index-info", stdin=("\n".join(lines) + "\n").encode())
        tree = index.text("write-tree")
    return _commit_tree(top, tree, [tip], message)


def _hash_blobs(top: Path, contents: list[bytes]) -> list[str]:
    """Write ``contents`` as blobs (exactly these bytes: no filters); their ids."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="modelreg-blobs-") as folder:
        paths = []
        for number, data in enumerate(contents):
            path = Path(folder) / str(number)
            path.write_bytes(data)
            paths.append(str(path))
        done = trees.git(
            top,
            "hash-object",
            "-w",
            "--no-filters",
            "--stdin-paths",
            stdin=("\n".join(paths) + "\n").encode(),
        )
    return done.stdout.decode().split()


def _commit_tree(top: Path, tree: str, parents: list[str], message: str) -> str:
    parent_args = [part for parent in parents for part in ("-p", parent)]
    return trees.text(top, "commit-tree", tree, *parent_args, stdin=message.encode())


class _Index:
    """git commands run against a temporary index file (``GIT_INDEX_FILE``)."""

    def __init__(self, top: Path, path: Path) -> None:
        self.top = top
        self.path = path

    def git(self, *args: str, stdin: bytes | None = None) -> process.Finished:
        done = process.run(
            ["git", *args],
            cwd=self.top,
            env={"GIT_INDEX_FILE": str(self.path), "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
            timeout=trees.GIT_TIMEOUT,
            stdin=stdin,
        )
        if done.exit_code != 0:
            said = done.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"`git {' '.join(args)}` failed (exit {done.exit_code}): {said}")
        return done

    def text(self, *args: str) -> str:
        return self.git(*args).stdout.decode().strip()


@contextlib.contextmanager
def _temporary_index(top: Path) -> Iterator[_Index]:
    # In the git folder: same file system as the objects, and never in the work tree.
    path = trees.git_dir(top) / f"modelreg-index-{os.getpid()}"
    try:
        yield _Index(top, path)
    finally:
        path.unlink(missing_ok=True)
        Path(f"{path}.lock").unlink(missing_ok=True)


# -- step 4 and 5: push, then follow ----------------------------------------------------------


def push(top: Path, target: Target, commit: str) -> bool:
    """Push ``commit`` as ``target``'s branch: True when the remote took it, False when it
    refused because someone published first (a lost race); GitError for anything else (a
    pre-push hook, permissions, the network)."""
    done = trees.git(
        top,
        "push",
        "--porcelain",
        target.remote,
        f"{commit}:refs/heads/{target.branch}",
        ok=(0, 1, 128),
    )
    if done.exit_code == 0:
        return True
    out = done.stdout.decode("utf-8", "replace")
    for line in out.splitlines():
        flag, _, rest = line.partition("\t")
        if flag == "!" and any(reason in rest for reason in _LOST_RACE):
            return False
    said = (done.stderr.decode("utf-8", "replace") + out).strip()
    raise GitError(
        f"could not push to {target.name}: {said} (nothing was published; your change is "
        "committed here — fix the cause, then run `modelreg sync` again)"
    )


def _set_upstream(top: Path, target: Target) -> None:
    """After a first push, the branch follows what it was pushed to (as ``push -u``)."""
    trees.git(top, "config", f"branch.{target.local_branch}.remote", target.remote)
    trees.git(top, "config", f"branch.{target.local_branch}.merge", f"refs/heads/{target.branch}")


def _move_branch(store: Store, top: Path, commit: str, publication: Publication) -> None:
    """Move the current branch (and the work tree's files that differ) to ``commit``,
    keeping the user's uncommitted changes; a note when git refuses."""
    head = trees.rev_parse(top, "HEAD")
    if head == commit:
        return
    # The registry's files change under the lock: readers see the counter odd meanwhile.
    store.begin_change()
    # As `git checkout` moves between commits: the files that differ are updated, the
    # user's staged and unstaged changes elsewhere are kept (refused if in the way).
    done = trees.git(top, "read-tree", "-m", "-u", "HEAD", commit, ok=(0, 1, 128))
    if done.exit_code == 0:
        trees.git(
            top, "update-ref", "-m", "modelreg sync: published", "HEAD", commit, head or _ZERO
        )
        return
    said = done.stderr.decode("utf-8", "replace").strip()
    publication.notes.append(
        f"your branch was not moved to {commit[:12]}: {said}; commit or stash your changes, "
        f"then `git merge --ff-only {commit[:12]}`"
    )


def _published_events(top: Path, where: Place, before: str | None, after: str) -> list[ev.Event]:
    models = _touched_models(top, where, (before, after))
    old = _read_registry(top, where, before, models) if before else {}
    return changes_between(old, _read_registry(top, where, after, models))


def _touched_models(top: Path, where: Place, *pairs: tuple[str | None, str]) -> set[str] | None:
    """The models whose files differ between the revisions of any pair (None: every
    model, when a pair has no first revision)."""
    names: set[str] = set()
    for old, new in pairs:
        if old is None:
            return None
        listed = trees.git(
            top,
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            old,
            new,
            "--",
            *registry_pathspecs(where),
        ).stdout.decode("utf-8", "surrogateescape")
        for path in filter(None, listed.split("\0")):
            parts = path[len(where.prefix) :].split("/")
            if len(parts) > 2 and parts[0] == "models":
                names.add(parts[1])
    return names


def _read_registry(top: Path, where: Place, rev: str, models: set[str] | None) -> dict[str, bytes]:
    """The registry tree at ``rev``: all of it, or its top files and ``models``' folders
    (what the events of, and the merge of, changes to those models need)."""
    if models is None:
        return trees.read_tree(top, rev, where.prefix)
    files: dict[str, bytes] = {}
    listing = trees.git(top, "ls-tree", "-z", f"{rev}:{where.prefix}").stdout
    for record in filter(None, listing.split(b"\0")):
        meta, _, entry = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind == "blob" and mode != "120000":
            data = trees.git(top, "cat-file", "blob", sha).stdout
            files[entry.decode("utf-8", "surrogateescape")] = data
    for model in sorted(models):
        for path, data in trees.read_tree(top, rev, where.path(f"models/{model}/")).items():
            files[f"models/{model}/{path}"] = data
    return files

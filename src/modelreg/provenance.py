"""``modelreg check --provenance``: the registry's history verified against git.

A history entry says who did what; git says who committed it (and, signed, proves it).
This module walks the commits that changed the registry folder and checks, for each one,
the history entries it added and the ones it took away:

- **Append-only.** An entry is identified by its content (every field, canonical JSON)
  and by whose history holds it: the version (its registration identity, which survives
  a renumbering and the format upgrade) or the model (its creation time and creator,
  which survive a rename). Entries are compared as multisets over the whole registry, so
  an entry that moves to another file in one commit (``rename``, a renumbering by
  ``sync`` or a merge) is neither added nor removed; its position in a list does not
  matter (a merge interleaves entries by time). An entry that disappears while what held
  it still exists was *removed*; one replaced at the same place of the same file was
  *changed*. A deleted version takes its history with it only when the same commit
  leaves its tombstone (``deleted/N.yaml``); a deleted model takes everything with it.
- **Attributable.** Every entry a commit adds must be by that commit's author: the
  entry's ``user_id`` is the author's email, or lists it in ``identities`` of
  ``registry.yaml`` (``identities: {alice: [alice@example.com, ...]}``). With
  ``require_signed: true`` the signature decides instead of the author (which anyone can
  state): the commit must carry a good signature (``%G?`` is ``G``: GPG, or SSH checked
  against the ``allowed_signers`` file, path configurable with ``allowed_signers:``) whose
  signer (principal or key fingerprint) maps to the user.
  So an approval counts only when the approver's own commit added it.
- **Within the rules.** A stage change a commit adds must satisfy the promotion rules of
  ``registry.yaml`` *at that commit* (:func:`modelreg.workflow.audit_version` on the
  version's history up to that entry).

Merges: an entry present in a parent was added by the commit that brought it on that
parent's branch (which is walked too); an entry in the merge but in no parent was added
by the merge's resolution and is attributed to the merge's author. An entry that a
parent had and the merge dropped is a removal by the merge, unless the other side had
removed it since the merge base (that side's commit is the one named). A squash merge
is one commit by the squasher: every entry it brings is attributed to the squasher.

The identity map, ``require_signed`` and the allowed signers are read at the trusted
revision: ``--since REV`` (the merge base of a pull request), else ``HEAD``. A pull
request cannot vouch for itself by adding its author to the map.

Git is asked in batches: one ``log`` for the commits, one ``diff-tree --stdin`` for every
commit's changes, one ``cat-file --batch`` for every file version, plus one ``ls-tree``
per commit outside the walk that is needed whole (a ``--since`` base, a merge base).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelreg import actions, workflow
from modelreg.check import Finding
from modelreg.config import Config, parse_config
from modelreg.docread import Document, JSONValue
from modelreg.entities import ModelVersion
from modelreg.errors import CorruptFileError, InvalidInputError
from modelreg.gitsync import trees
from modelreg.gitsync._files import load
from modelreg.gitsync.integrate import content_identity, locate

CONFIG_PATH = "registry.yaml"
DEFAULT_ALLOWED_SIGNERS = "allowed_signers"
_SEP = "\x1f"
_END = "\x1e"
_FIX_ATTRIBUTION = (
    "the person named in the entry records it with their own commit (modelreg writes the "
    "entry as them; they commit it); if that is them under another address, add it to "
    "`identities` in registry.yaml"
)
_FIX_REMOVED = (
    "restore the entry from git (`git show COMMIT^:FILE`): history entries are only ever "
    "added; a correction is a new entry"
)

Files = dict[str, str]  # registry-relative path -> blob sha


@dataclass(frozen=True)
class ProvenanceFinding(Finding):
    """A finding of ``check --provenance``: the commit, the entry and the person."""

    commit: str = ""
    person: str = ""  # the commit's author (or signer) the entry was checked against
    entry: Mapping[str, JSONValue] = field(default_factory=dict)

    def to_dict(self) -> Document:
        return {
            **super().to_dict(),
            "commit": self.commit,
            "person": self.person,
            "entry": dict(self.entry),
        }


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    committer: str
    signature: str = "N"  # git's %G?: G good, N none, B bad, U/X/Y/R/E see git-log
    signer: str = ""
    key: str = ""

    @property
    def short(self) -> str:
        return self.sha[:12]


@dataclass(frozen=True)
class Trust:
    """What vouches for a person, read at the trusted revision."""

    identities: Mapping[str, tuple[str, ...]]
    require_signed: bool
    allowed_signers: bytes | None
    allowed_signers_path: str

    def names_of(self, user: str) -> set[str]:
        """Every email, signer principal or key that may act as ``user``."""
        return {user.lower(), *(name.lower() for name in self.identities.get(user, ()))}


@dataclass(frozen=True)
class _Held:
    """One history entry of one tree: its file, its place in the list, its content."""

    path: str
    index: int
    entry: Mapping[str, Any]
    owner: str
    model: str


def parse_trust(doc: Mapping[str, object], path: Path) -> Trust:
    """The provenance settings of a registry.yaml (CorruptFileError naming the key)."""
    raw = doc.get("identities") or {}
    if not isinstance(raw, dict):
        raise CorruptFileError(path, "identities must map each user to a list of emails or keys")
    identities: dict[str, tuple[str, ...]] = {}
    for user, names in raw.items():
        listed = [names] if isinstance(names, str) else names
        if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
            raise CorruptFileError(path, f"identities.{user} must be a list of emails or keys")
        identities[str(user)] = tuple(listed)
    signed = doc.get("require_signed", False)
    if not isinstance(signed, bool):
        raise CorruptFileError(path, "require_signed must be true or false")
    signers = doc.get("allowed_signers", DEFAULT_ALLOWED_SIGNERS)
    if not isinstance(signers, str) or not signers:
        raise CorruptFileError(path, "allowed_signers must be a path (relative to the registry)")
    return Trust(identities, signed, None, signers)


# -- git ------------------------------------------------------------------------------


class _Git:
    """The repository, the registry's place in it, and what was read (cached)."""

    def __init__(self, root: Path) -> None:
        where = trees.place(root)
        self.root = root
        self.top = where.top
        self.prefix = where.prefix
        self.files: dict[str, Files] = {}
        self.blobs: dict[str, bytes] = {}

    def rev(self, rev: str) -> str:
        found = trees.rev_parse(self.top, rev)
        if found is None:
            raise InvalidInputError(f"--since {rev}: no such commit in {self.top}")
        return found

    def commits(self, head: str, since: str | None, trust: Trust) -> list[Commit]:
        """The commits of ``since..head``, parents before children."""
        fields = ["%H", "%P", "%ae", "%ce"]
        config: dict[str, str] = {}
        signers: Path | None = None
        if trust.require_signed:
            fields += ["%G?", "%GS", "%GK"]
            signers = _signers_file(trust.allowed_signers)
            config["gpg.ssh.allowedSignersFile"] = str(signers)
        try:
            rows = trees.text(
                self.top,
                "log",
                "--topo-order",
                "--reverse",
                f"--format={_SEP.join(fields)}{_END}",
                head,
                *([f"^{since}"] if since else []),
                "--",
                config=config,
            )
        finally:
            if signers is not None:
                signers.unlink(missing_ok=True)
        commits = []
        for row in rows.split(_END):
            parts = row.strip("\n").split(_SEP)
            if len(parts) < 4:
                continue
            sha, parents, author, committer, *signed = parts
            commits.append(Commit(sha, tuple(parents.split()), author, committer, *signed))
        return commits

    def diffs(self, commits: Sequence[Commit]) -> dict[str, list[tuple[str, str]]]:
        """For each commit, the registry files changed against its first parent (a root
        commit: against nothing): (path, new blob sha or "" when deleted)."""
        lines = "".join(
            f"{c.sha} {c.parents[0]}\n" if c.parents else f"{c.sha}\n" for c in commits
        ).encode()
        args = ["diff-tree", "--stdin", "-r", "-z", "--no-abbrev", "--no-renames", "--root"]
        folder = self.prefix.strip("/")
        out = trees.git(self.top, *args, *(["--", folder + "/"] if folder else []), stdin=lines)
        changes: dict[str, list[tuple[str, str]]] = {}
        current: list[tuple[str, str]] = []
        records = out.stdout.split(b"\0")
        at = 0
        while at < len(records):
            record = records[at].decode("utf-8", "surrogateescape").strip("\n")
            at += 1
            if not record:
                continue
            if record.startswith(":"):
                meta = record[1:].split()
                path = records[at].decode("utf-8", "surrogateescape")
                at += 1
                # Deleted, or not a file (a submodule, a symlink): not a registry file.
                new = "" if meta[4] == "D" or meta[1] in ("160000", "120000") else meta[3]
                current.append((self._relative(path), new))
            else:
                current = changes.setdefault(record.split()[0], [])
        return changes

    def whole(self, rev: str) -> Files:
        """The registry's files at a commit outside the walk (one ``ls-tree``)."""
        if rev in self.files:
            return self.files[rev]
        folder = self.prefix.strip("/")
        args = ["ls-tree", "-r", "-z", "--full-tree", rev]
        listing = trees.git(self.top, *args, *(["--", folder + "/"] if folder else [])).stdout
        found: Files = {}
        for record in listing.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            if meta:
                mode, kind, sha = meta.decode().split()
                if kind == "blob" and mode != "120000":
                    found[self._relative(name.decode("utf-8", "surrogateescape"))] = sha
        self.files[rev] = found
        return found

    def fetch(self, shas: set[str]) -> None:
        """Read every blob of ``shas`` not read yet, with one ``cat-file --batch``."""
        missing = sorted(shas - self.blobs.keys())
        if missing:
            self.blobs.update(zip(missing, trees._cat_blobs(self.top, missing), strict=True))

    def merge_base(self, one: str, other: str) -> str | None:
        return trees.merge_base(self.top, one, other)

    def _relative(self, path: str) -> str:
        folder = self.prefix.strip("/")
        return path[len(folder) + 1 :] if folder else path


def _signers_file(content: bytes | None) -> Path:
    """The trusted allowed_signers, in a temporary file for git (empty: nobody)."""
    with tempfile.NamedTemporaryFile("wb", prefix="modelreg-signers-", delete=False) as handle:
        handle.write(content or b"")
    return Path(handle.name)


# -- one tree's entries -------------------------------------------------------------------


class _Reader:
    """History entries and settings of registry trees, parsed once per file version."""

    def __init__(self, git: _Git) -> None:
        self.git = git
        self.docs: dict[str, dict[str, Any] | None] = {}

    def doc(self, path: str, sha: str) -> dict[str, Any] | None:
        if sha not in self.docs:
            try:
                self.docs[sha] = load(self.git.blobs[sha], path)
            except CorruptFileError:
                self.docs[sha] = None  # the plain check names broken files
        return self.docs[sha]

    def held(self, files: Files) -> list[_Held]:
        owners: dict[str, str] = {}
        for path, sha in files.items():
            located = locate(path)
            if located is not None and located[1] == "model":
                model_doc = self.doc(path, sha) or {}
                key = [model_doc.get("created_at"), model_doc.get("user_id")]
                owners[located[0]] = "model:" + json.dumps(key, default=str)
        found: list[_Held] = []
        for path in sorted(files):
            located = locate(path)
            if located is None:
                continue
            doc = self.doc(path, files[path])
            if doc is None:
                continue
            model, kind, _ = located
            owner = (
                content_identity(doc) if kind == "version" else owners.get(model, "model:" + model)
            )
            history = doc.get("history")
            for index, entry in enumerate(history if isinstance(history, list) else []):
                if isinstance(entry, dict):
                    found.append(_Held(path, index, entry, owner, model))
        return found

    def owners(self, files: Files) -> set[str]:
        """Whose histories ``files`` hold: every version's and model's (even empty)."""
        return {held.owner for held in self.held(files)} | {
            content_identity(doc)
            for path, sha in files.items()
            if (located := locate(path)) is not None
            and located[1] == "version"
            and (doc := self.doc(path, sha)) is not None
        }

    def config(self, files: Files) -> Config | None:
        sha = files.get(CONFIG_PATH)
        doc: dict[str, Any] | None = self.doc(CONFIG_PATH, sha) if sha else {}
        if doc is None:
            return None
        try:
            return parse_config(doc, Path(CONFIG_PATH))
        except CorruptFileError:
            return None

    def rules(self, files: Files) -> workflow.Rules | None:
        config = self.config(files)
        if config is None:
            return None
        try:
            return workflow.parse_rules(config.raw.get("rules"), config.stages, Path(CONFIG_PATH))
        except CorruptFileError:
            return None


def _key(held: _Held) -> str:
    return held.owner + "\0" + json.dumps(held.entry, sort_keys=True, default=str)


def _counted(entries: list[_Held]) -> Counter[str]:
    return Counter(_key(held) for held in entries)


# -- the walk -------------------------------------------------------------------------------


def verify(root: Path, since: str | None = None, notes: list[str] | None = None) -> list[Finding]:
    """Every provenance problem of the registry at ``root`` in the commits ``since..HEAD``
    (all of them without ``since``); see the module's docstring. ``notes`` is told what
    was verified (for the people reading a CI log)."""
    git = _Git(root)
    head = trees.rev_parse(git.top, "HEAD")
    if head is None:
        return []  # no commit yet: nothing to verify
    base = git.rev(since) if since else None
    trust = _trust(git, base or head)
    commits = git.commits(head, base, trust)
    changes = git.diffs(commits)
    walk = _Walk(git, trust)
    for commit in commits:
        first = git.whole(commit.parents[0]) if commit.parents else {}
        files = dict(first)
        for path, sha in changes.get(commit.sha, []):
            if sha:
                files[path] = sha
            else:
                files.pop(path, None)
        git.files[commit.sha] = files
    # Every file version the walk reads, in one `cat-file --batch`.
    git.fetch({sha for files in git.files.values() for path, sha in files.items() if _wanted(path)})
    for commit in commits:
        walk.commit(commit)
    if notes is not None:
        trusted = f"{base[:12]} (--since)" if base else f"{head[:12]} (HEAD)"
        signed = ", signatures required" if trust.require_signed else ""
        notes.append(
            f"provenance: {len(commits)} commit(s) verified; identities{signed} as of {trusted}"
        )
    return list(walk.findings)


def _trust(git: _Git, rev: str) -> Trust:
    files = git.whole(rev)
    git.fetch({sha for path, sha in files.items() if path == CONFIG_PATH})
    sha = files.get(CONFIG_PATH)
    doc = load(git.blobs[sha], CONFIG_PATH) if sha else {}
    trust = parse_trust(doc, Path(CONFIG_PATH))
    if not trust.require_signed:
        return trust
    signers = files.get(trust.allowed_signers_path.strip("/"))
    if signers is not None:
        git.fetch({signers})
    content = git.blobs[signers] if signers is not None else None
    return Trust(trust.identities, True, content, trust.allowed_signers_path)


class _Walk:
    """Judges one commit after the other (parents first)."""

    def __init__(self, git: _Git, trust: Trust) -> None:
        self.git = git
        self.trust = trust
        self.reader = _Reader(git)
        self.findings: list[Finding] = []
        # Entries found forged or rewritten: no rule counts them (an approval typed in by
        # someone else does not make a promotion lawful).
        self.unverified: set[str] = set()
        # The commit being judged and its parents.
        self._current = ""
        self._parents: tuple[str, ...] = ()

    def entries(self, rev: str) -> list[_Held]:
        files = self.git.files[rev] if rev in self.git.files else self.git.whole(rev)
        self.git.fetch({sha for path, sha in files.items() if _wanted(path)})
        return self.reader.held(files)

    def commit(self, commit: Commit) -> None:
        files = self.git.files[commit.sha]
        parents = [self.git.files.get(p) or self.git.whole(p) for p in commit.parents]
        if parents and all(files == each for each in parents):
            return  # the registry did not change
        self._current, self._parents = commit.sha, commit.parents
        now = self.entries(commit.sha)
        before = [self.entries(p) for p in commit.parents]
        current = _counted(now)
        union: Counter[str] = Counter()
        for each in before:
            union |= _counted(each)
        added = current - union
        removed = union - current
        if len(commit.parents) > 1:
            removed = self._removed_by_merge(commit, removed)
        self._judge(commit, now, before, added, removed)

    def _removed_by_merge(self, commit: Commit, removed: Counter[str]) -> Counter[str]:
        """What a merge dropped, less what one side had removed since the merge base (the
        side's own commit answers for that)."""
        if not removed:
            return removed
        first, *others = commit.parents
        on_sides: Counter[str] = Counter()
        for other in others:
            base = self.git.merge_base(first, other)
            if base is None:
                continue
            had = _counted(self.entries(base))
            for parent in (first, other):
                on_sides |= had - _counted(self.entries(parent))
        return removed - on_sides

    def _judge(
        self,
        commit: Commit,
        now: list[_Held],
        before: list[list[_Held]],
        added: Counter[str],
        removed: Counter[str],
    ) -> None:
        new_places = {(held.path, held.index): held for held in now}
        remaining = Counter(added)
        # Entries added: attributed to this commit's author.
        fresh = _take(now, added)
        old = [held for each in before for held in _take(each, removed)]
        owners_now = self.reader.owners(self.git.files[commit.sha])
        rewritten: set[tuple[str, int]] = set()
        for held in _unique(old):
            replaced = new_places.get((held.path, held.index))
            if replaced is not None and remaining[_key(replaced)] > 0:
                rewritten.add((replaced.path, replaced.index))
                remaining[_key(replaced)] -= 1
                self.unverified.add(_key(replaced))
                self._finding(
                    commit,
                    held,
                    f"changed {_describe(held.entry)} to {_describe(replaced.entry)}",
                    _FIX_REMOVED,
                    commit.author,
                )
            elif held.owner in owners_now:
                self._finding(
                    commit, held, f"removed {_describe(held.entry)}", _FIX_REMOVED, commit.author
                )
            elif not held.owner.startswith("model:") and not self._tombstoned(held, now):
                self._finding(
                    commit,
                    held,
                    f"removed {_describe(held.entry)} with its version's file, without "
                    "leaving a tombstone (deleted/N.yaml): versions are deleted with "
                    "`modelreg delete`",
                    _FIX_REMOVED,
                    commit.author,
                )
        files = self.git.files[commit.sha]
        for held in fresh:
            if (held.path, held.index) in rewritten:
                continue
            if not _consequence(held, now):
                self._attribute(commit, held)
            action = held.entry.get("action")
            if action == actions.STAGE_CHANGED:
                self._rules(commit, held, files)
            elif action in (actions.APPROVED, actions.REJECTED):
                self._approver(commit, held, files)

    def _tombstoned(self, held: _Held, now: list[_Held]) -> bool:
        """Whether the version that held ``held`` was deleted as ``delete`` does it: this
        commit has a ``version_deleted`` entry of its number in the model (format 2: in
        its tombstone, which also records its uid; format 1: in model.yaml)."""
        version = self._version_doc(held) or {}
        number, uid = version.get("version"), version.get("uid")
        files = self.git.files[self._current]
        for other in now:
            if (
                other.model == held.model
                and other.entry.get("action") == actions.VERSION_DELETED
                and other.entry.get("version") == number
            ):
                return True
            located = locate(other.path)
            if located is not None and located[1] == "deleted" and located[0] == held.model:
                tomb = self.reader.doc(other.path, files[other.path]) or {}
                if isinstance(uid, str) and tomb.get("uid") == uid:
                    return True  # renumbered before it was deleted
        return False

    def _version_doc(self, held: _Held) -> Mapping[str, Any] | None:
        for rev in self._parents:
            files = self.git.files.get(rev) or self.git.whole(rev)
            sha = files.get(held.path)
            if sha is not None:
                return self.reader.doc(held.path, sha)
        return None

    # -- attribution and rules ----------------------------------------------------------

    def _attribute(self, commit: Commit, held: _Held) -> None:
        """The entry's user must be the commit's author — or, with ``require_signed``, its
        verified signer (the author a commit states is then not evidence)."""
        user = str(held.entry.get("user_id") or "")
        names = self.trust.names_of(user)
        if not self.trust.require_signed:
            if commit.author.lower() not in names:
                self._finding(
                    commit,
                    held,
                    f"added {_describe(held.entry)}, but the commit's author is {commit.author}",
                    _FIX_ATTRIBUTION,
                    commit.author,
                )
            return
        if commit.signature != "G":
            self._finding(
                commit,
                held,
                f"added {_describe(held.entry)} in a commit without a good signature "
                f"({_SIGNATURES.get(commit.signature, commit.signature)}); registry.yaml "
                "says require_signed",
                "sign the commit (git commit -S) with a key listed in "
                f"{self.trust.allowed_signers_path} for this user",
                commit.author,
            )
            return
        signer = {commit.signer.lower(), commit.key.lower()} - {""}
        if not signer & names:
            self._finding(
                commit,
                held,
                f"added {_describe(held.entry)}, but the commit is signed by "
                f"{commit.signer or commit.key}",
                "the person named in the entry signs their own commit; map their signing "
                "principal or key to them in `identities`",
                commit.signer or commit.key,
            )

    def _version_at(self, held: _Held, files: Files) -> tuple[workflow.Rules, ModelVersion] | None:
        """The rules at this commit, and the version whose history ``held`` is in, with
        its verified history up to ``held`` (None when either cannot be read: the plain
        check names broken files)."""
        rules = self.reader.rules(files)
        doc = self.reader.doc(held.path, files[held.path])
        if rules is None or doc is None:
            return None
        try:
            mv = ModelVersion.from_doc(doc, Path(held.path), [])
        except CorruptFileError:
            return None
        mv.history = [
            entry
            for entry in mv.history[: held.index + 1]
            if _key(_Held(held.path, 0, entry, held.owner, held.model)) not in self.unverified
        ]
        return rules, mv

    def _approver(self, commit: Commit, held: _Held, files: Files) -> None:
        """An approval or rejection by someone the rules at this commit let decide (as
        ``approve`` checks it)."""
        found = self._version_at(held, files)
        if found is None:
            return
        rules, mv = found
        stage, user = str(held.entry.get("stage")), str(held.entry.get("user_id"))
        rule = rules.for_stage(stage, mv.name)
        if rule is None:
            return
        reason = None
        if rule.approvers is not None and user not in rule.approvers:
            reason = f"{user} is not an approver of {stage} ({', '.join(rule.approvers)})"
        elif not rules.allow_self_approval:
            start = workflow.last_stage_change(mv.history) + 1
            state = workflow.window(mv, stage, start, len(mv.history) - 1)
            if user in workflow.self_approvers(mv, state):
                reason = f"{user} requested or registered it, and self-approval is not allowed"
        if reason is not None:
            self._finding(
                commit,
                held,
                f"added {_describe(held.entry)}, which the rules at this commit refuse: {reason}",
                "approvals are given with `modelreg approve` by the approvers the rules name",
                commit.author,
            )

    def _rules(self, commit: Commit, held: _Held, files: Files) -> None:
        if held.entry.get("archived_by") is not None:
            return  # archived by the registry when another version entered the stage
        found = self._version_at(held, files)
        if found is None:
            return
        rules, mv = found
        mv.current_stage = str(held.entry.get("to_stage"))
        for reason in workflow.audit_version(rules, mv):
            self._finding(
                commit,
                held,
                f"{mv.name} version {mv.version} {reason} (rules of registry.yaml at this commit)",
                "move it through the workflow (modelreg request / approve / promote); "
                "a commit cannot grant what the rules ask for",
                commit.author,
            )

    def _finding(self, commit: Commit, held: _Held, what: str, fix: str, person: str) -> None:
        self.unverified.add(_key(held))
        self.findings.append(
            ProvenanceFinding(
                self.git.root / held.path,
                f"commit {commit.short} ({commit.author}): {what}",
                fix.replace("COMMIT", commit.short).replace("FILE", self.git.prefix + held.path),
                commit=commit.sha,
                person=person,
                entry=held.entry,
            )
        )


_SIGNATURES = {
    "N": "no signature",
    "B": "a bad signature",
    "U": "a good signature of unknown validity",
    "X": "a good signature that has expired",
    "Y": "a good signature by an expired key",
    "R": "a good signature by a revoked key",
    "E": "a signature that cannot be checked (key not in allowed_signers?)",
}


def _consequence(held: _Held, now: list[_Held]) -> bool:
    """Whether ``held`` is an entry that a merge or ``sync`` writes in the name of whoever
    caused it, and its cause is in the same tree: an alias cleared because its version
    was deleted on the other branch (the deleter's), a version archived because another
    entered the stage later (the promoter's). The cause is attributed on its own."""
    entry = held.entry
    action = entry.get("action")
    if action == actions.ALIAS_DELETED:
        number = entry.get("version")
        if entry.get("comment") != f"merge: version {number} was deleted on the other branch":
            return False
        return any(
            other.model == held.model
            and other.entry.get("action") == actions.VERSION_DELETED
            and other.entry.get("version") == number
            and other.entry.get("user_id") == entry.get("user_id")
            for other in now
        )
    winner = entry.get("archived_by")
    if action == actions.STAGE_CHANGED and winner is not None:
        stage = entry.get("from_stage")
        if entry.get("comment") != f"archived by merge: version {winner} entered {stage} later":
            return False
        return any(
            other.model == held.model
            and other.path.endswith(f"/versions/{winner}.yaml")
            and other.entry.get("action") == actions.STAGE_CHANGED
            and other.entry.get("to_stage") == stage
            and other.entry.get("user_id") == entry.get("user_id")
            and other.entry.get("timestamp") == entry.get("timestamp")
            for other in now
        )
    return False


def _wanted(path: str) -> bool:
    return path == CONFIG_PATH or locate(path) is not None


def _take(entries: list[_Held], wanted: Counter[str]) -> list[_Held]:
    """The entries of ``entries`` counted in ``wanted`` (the last ones of equal keys)."""
    left = Counter(wanted)
    found = []
    for held in reversed(entries):
        key = _key(held)
        if left[key] > 0:
            left[key] -= 1
            found.append(held)
    return list(reversed(found))


def _unique(entries: list[_Held]) -> Iterator[_Held]:
    seen: set[str] = set()
    for held in entries:
        key = _key(held)
        if key not in seen:
            seen.add(key)
            yield held


def _describe(entry: Mapping[str, Any]) -> str:
    """``approved (Staging) by alice@example.com at 2026-...``: the entry in one line."""
    action = str(entry.get("action", "?"))
    detail = [
        str(entry[key])
        for key in ("stage", "to_stage", "alias", "key", "check")
        if entry.get(key) is not None
    ]
    what = action + (f" ({', '.join(detail)})" if detail else "")
    return f"`{what}` entry by {entry.get('user_id')} at {entry.get('timestamp')}"

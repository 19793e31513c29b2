"""A cache of parsed version files, derived from the YAML and never trusted over it.

Reading 100,000 YAML files costs seconds; reading a cache of what they said costs a
fraction of that, but only if the cache can never serve stale data. So every read still
lists the folder and ``lstat``s every file (about a microsecond each), and a cached entry
is used only when the file's identity — inode, size, modification and change time — is
exactly what it was when the entry was made. Anything else is parsed again: files edited
by hand, replaced by ``git checkout`` or ``git pull``, or written by another process a
moment ago.

The change time (``ctime``) cannot be set by tools like ``touch`` or ``cp -p`` and moves
on every write; an entry is cached only once its file's ctime is a few seconds in the
past, so that a later edit within the same clock tick cannot produce the same identity
(git's "racily clean" problem). Deleting the cache changes nothing but speed.

The cache lives outside the registry folder, in ``$MODELREG_CACHE_DIR``, else
``$XDG_CACHE_HOME/modelreg``, else ``~/.cache/modelreg``, one folder per registry (by the
sha256 of its real path) and one ``marshal`` file per model. It is kept out of the folder
because ``marshal`` is fast (four times faster than JSON here) but not meant for
untrusted data: a cache shipped inside a cloned repository must never be loaded. Files
are written atomically without fsync (a torn cache is unreadable and rebuilt); concurrent
writers simply race, since each writes entries that are valid for what they claim.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import secrets
import time
from pathlib import Path
from typing import Any

from modelreg.entities import ModelVersion
from modelreg.errors import CorruptFileError
from modelreg.store import Store

CACHE_FORMAT = 1
# How long ago a file must have last changed before its parsed form is cached.
SETTLE_SECONDS = 2.0

Identity = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns


def _identity(stat: os.stat_result) -> Identity:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class VersionIndex:
    """The versions of a model, read through the cache."""

    def __init__(self, store: Store) -> None:
        self.store = store
        key = hashlib.sha256(os.fsencode(os.path.realpath(store.root))).hexdigest()[:24]
        self.cache_dir = cache_home() / key

    def fields(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[dict[str, Any]]:
        """The constructor fields of every version of ``name`` (without ``aliases``),
        ascending by version; corrupt files are raised, or appended to ``errors``.

        The dictionaries are the caller's to change: the cache is saved before they are
        returned."""
        cached = self._load(name)
        fresh: dict[str, list[Any]] = {}
        found: list[dict[str, Any]] = []
        changed = False
        settled_before = time.time_ns() - int(SETTLE_SECONDS * 1e9)
        for number, entry_name, identity in self._listing(name):
            hit = cached.get(entry_name)
            if hit is not None and tuple(hit[0]) == identity:
                fresh[entry_name] = hit
                found.append(hit[1])
                continue
            try:
                fields, identity = self._parse(name, number)
            except CorruptFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
                continue
            changed = True
            if identity[3] < settled_before:
                fresh[entry_name] = [identity, fields]
            found.append(fields)
        if changed or len(fresh) != len(cached):
            self._save(name, fresh)
        return found

    def _listing(self, name: str) -> list[tuple[int, str, Identity]]:
        folder = self.store.versions_dir(name)
        self.store.version_numbers(name)  # refuses symlinked model or versions folders
        entries = []
        try:
            scan = os.scandir(folder)
        except FileNotFoundError:
            return []
        with scan:
            for entry in scan:
                stem, dot, ext = entry.name.partition(".")
                if not (dot and ext == "yaml" and stem.isdigit() and stem == str(int(stem))):
                    continue
                try:
                    identity = _identity(entry.stat(follow_symlinks=False))
                except FileNotFoundError:
                    continue  # deleted while we listed
                entries.append((int(stem), entry.name, identity))
        entries.sort()
        return entries

    def _parse(self, name: str, number: int) -> tuple[dict[str, Any], Identity]:
        """Parse one version file; its identity is taken from the open file, so that the
        content and the identity cached together belong together."""
        path = self.store.version_file(name, number)
        doc, stat = self.store.read_version_with_stat(name, number)
        mv = ModelVersion.from_doc(doc, path, [])
        if mv.version != number:
            raise CorruptFileError(path, f"says version {mv.version} but is named {number}.yaml")
        mv.name = name
        fields = vars(mv).copy()
        del fields["aliases"]
        return fields, _identity(stat)

    def _cache_file(self, name: str) -> Path:
        return self.cache_dir / f"{name}.marshal"

    def _load(self, name: str) -> dict[str, list[Any]]:
        try:
            data = marshal.loads(self._cache_file(name).read_bytes())  # noqa: S302 - our own file, outside any repository
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _save(self, name: str, entries: dict[str, list[Any]]) -> None:
        # Best effort: a read-only checkout or a full disk costs speed, never a failure.
        path = self._cache_file(name)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        with contextlib.suppress(OSError, ValueError):
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_bytes(marshal.dumps({"format": CACHE_FORMAT, "entries": entries}))
            tmp.replace(path)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def cache_home() -> Path:
    """Where modelreg keeps its caches: never inside a registry folder."""
    explicit = os.environ.get("MODELREG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "modelreg"

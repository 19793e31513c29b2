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
sha256 of its real path) and two ``marshal`` files per model: the records, and the
versions' histories, which a search never needs. It is kept out of the folder
because ``marshal`` is fast (four times faster than JSON here) but not meant for
untrusted data: a cache shipped inside a cloned repository must never be loaded. Files
are written atomically without fsync (a torn cache is unreadable and rebuilt); concurrent
writers simply race, since each writes entries that are valid for what they claim.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import os
import time
from pathlib import Path

from modelreg.datasets import Dataset, pack, unpack
from modelreg.docread import JSONValue
from modelreg.entities import HistoryEntry, ModelVersion, RegisteredModel
from modelreg.errors import CorruptFileError, NotFoundError
from modelreg.store import MODEL_FILE, Store, read_mapping_with_stat

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from typing import Any, NoReturn, TypedDict, TypeGuard, TypeVar
else:

    class TypedDict(dict):  # type: ignore[type-arg]
        """What this module's TypedDicts need at run time, without importing typing (a
        read command's start-up): their fields' names, a class's own and its bases', in
        ``__annotations__`` as typing's have them. They are never instantiated."""

        def __init_subclass__(cls, **_options: object) -> None:
            names: dict[str, object] = {}
            for base in reversed(cls.__mro__):
                names |= getattr(base, "__annotations__", {})
            cls.__annotations__ = names


class VersionFields(TypedDict, total=False):
    """A version's fields as the cache keeps them: the keyword arguments of
    :class:`~modelreg.entities.ModelVersion` but ``aliases`` (model.yaml holds those);
    a read without history leaves ``history`` out."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str
    description: str | None
    user_id: str | None
    source: str
    run_id: str | None
    run_link: str | None
    status: str
    status_message: str | None
    tags: dict[str, str]
    metrics: dict[str, int | float]
    params: dict[str, JSONValue]
    artifact_sha256: str | None
    artifact_size: int | None
    artifact_uri: str | None
    lineage: dict[str, JSONValue]
    history: list[HistoryEntry]
    uid: str | None
    model_id: str | None
    datasets: dict[str, Dataset]


class VersionRecord(VersionFields, total=False):
    """What a search of versions runs over: a version's fields, without its history, and
    its aliases (``ModelVersion(**record)`` builds the version)."""

    aliases: list[str]


class ModelFields(TypedDict, total=False):
    """A model's fields as the cache keeps them: the keyword arguments of
    :class:`~modelreg.entities.RegisteredModel` but ``latest_versions``."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    user_id: str | None
    tags: dict[str, str]
    aliases: dict[str, int]
    last_version: int
    history: list[HistoryEntry]


if TYPE_CHECKING:
    _Fields = TypeVar("_Fields", ModelFields, VersionFields)

# 5: versions' data sets (kept as tuples, see modelreg.datasets.pack).
CACHE_FORMAT = 5
# How long ago a file must have last changed before its parsed form is cached.
SETTLE_SECONDS = 2.0

Identity = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns
# model.yaml's entry in a model's cache (version files are keyed "N.yaml").
MODEL_KEY = MODEL_FILE


def _identity(stat: os.stat_result) -> Identity:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class VersionIndex:
    """The versions of a model, read through the cache."""

    def __init__(self, store: Store, *, split: bool = False) -> None:
        self.store = store
        # Format 2 (layout.py): the model's fields come from several files, read each time.
        self.split = split

    @functools.cached_property
    def cache_dir(self) -> Path:
        """This registry's cache folder (by the sha256 of its real path); worked out when
        first needed: a read of one file (``resolve``, ``describe``) needs no cache, nor
        hashlib's start-up."""
        import hashlib

        key = hashlib.sha256(os.fsencode(os.path.realpath(self.store.root))).hexdigest()[:24]
        return cache_home() / key

    def read(
        self,
        name: str,
        errors: list[CorruptFileError] | None = None,
        *,
        history: bool = True,
    ) -> tuple[ModelFields, list[VersionFields]]:
        """The constructor fields of the model ``name`` (without ``latest_versions``) and
        of every one of its versions (without ``aliases``), ascending by version.

        Without ``history`` the versions' histories are neither loaded nor included (a
        search needs none of them, and they are much of a cache's size). A corrupt
        model.yaml is raised; a corrupt version file is raised, or appended to
        ``errors`` and skipped. The dictionaries are the caller's to change: the cache
        is saved before they are returned."""
        records = _Section(self._cache_file(name, "records"))
        histories = _Section(self._cache_file(name, "history"))
        settled_before = time.time_ns() - int(SETTLE_SECONDS * 1e9)

        def parsed(key: str, fields: _Fields, identity: Identity) -> _Fields:
            if identity[3] < settled_before:  # see SETTLE_SECONDS
                without = dict(fields)
                if without.get("datasets"):
                    without["datasets"] = pack(without["datasets"])
                histories.put(key, identity, without.pop("history", None))
                records.put(key, identity, without)
            return fields

        if self.split:
            # Not cached: a model's fields in format 2 are model.yaml, every alias file and
            # every tombstone (a few small files), and keying them by model.yaml alone
            # would serve a stale alias after `git checkout` changed an alias file.
            model = self._compose_model(name)
        else:
            model_identity = self._model_identity(name)
            hit = records.get(MODEL_KEY, model_identity)
            model = hit if hit is not None else parsed(MODEL_KEY, *self._parse_model(name))
        found: list[VersionFields] = []
        folder = self.store.versions_dir(name)
        for number, key, identity in self._listing(folder):
            fields = records.get(key, identity)
            if fields is not None and fields.get("datasets"):
                fields = fields.copy()  # the cached entry stays in marshal's form
                fields["datasets"] = unpack(fields["datasets"])
            if fields is not None and history:
                past = histories.get(key, identity)
                if past is None:
                    fields = None
                else:
                    fields["history"] = past
            if fields is None:
                try:
                    fields = parsed(key, *self.parse_version(name, number, folder))
                except CorruptFileError as exc:
                    if errors is None:
                        raise
                    errors.append(exc)
                    continue
            found.append(fields)
        records.save()
        histories.save()
        return model, found

    def fields(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[VersionFields]:
        """The versions' part of :meth:`read`."""
        return self.read(name, errors)[1]

    def _compose_model(self, name: str) -> ModelFields:
        from modelreg import layout

        model = layout.load(self.store, name)
        model.name = name  # the folder is the name (see Catalog.load_model)
        fields = _fields(model, "latest_versions")
        return fields if _are_model_fields(fields) else _drifted(fields)

    def _model_identity(self, name: str) -> Identity | None:
        try:
            return _identity(os.lstat(self.store.model_file(name)))
        except OSError:
            return None  # parsing says what is wrong

    def _parse_model(self, name: str) -> tuple[ModelFields, Identity]:
        path = self.store.model_file(name)
        self.store.refuse_symlinks(path.parent)
        try:
            doc, stat = read_mapping_with_stat(path)
        except FileNotFoundError:
            raise NotFoundError(f"registered model '{name}' not found") from None
        model = RegisteredModel.from_doc(doc, path)
        # The folder is the name (see Catalog.load_model).
        model.name = name
        fields = _fields(model, "latest_versions")
        return (fields if _are_model_fields(fields) else _drifted(fields)), _identity(stat)

    def _listing(self, folder: Path) -> list[tuple[int, str, Identity]]:
        self.store.refuse_symlinks(folder)  # nothing outside the registry is ever read
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

    def parse_version(
        self, name: str, number: int, folder: Path | None = None
    ) -> tuple[VersionFields, Identity]:
        """Parse one version file, bypassing the cache, into its fields (without
        ``aliases``); its identity is taken from the open file, so that the content and
        the identity cached together belong together. ``folder`` is the model's versions
        folder when the caller has already refused symlinks on the way to it (a read of
        every version checks it once, not once a file)."""
        if folder is None:
            folder = self.store.versions_dir(name)
            self.store.refuse_symlinks(folder)
        path = folder / f"{number}.yaml"
        try:
            doc, stat = read_mapping_with_stat(path)
        except FileNotFoundError:
            raise NotFoundError(f"version {number} of model '{name}' not found") from None
        mv = ModelVersion.from_doc(doc, path, [])
        if mv.version != number:
            raise CorruptFileError(path, f"says version {mv.version} but is named {number}.yaml")
        mv.name = name
        fields = _fields(mv, "aliases")
        return (fields if _are_version_fields(fields) else _drifted(fields)), _identity(stat)

    def _cache_file(self, name: str, part: str) -> Path:
        return self.cache_dir / f"{name}.{part}.marshal"


# An entity's ``vars`` hold the types its dataclass declares; what is checked at run time
# is that the TypedDicts still name every field, so that they cannot drift apart silently.
_MODEL_KEYS = frozenset(ModelFields.__annotations__)
_VERSION_KEYS = frozenset(VersionFields.__annotations__)


def _fields(entity: RegisteredModel | ModelVersion, without: str) -> dict[str, Any]:
    """The keyword arguments that build ``entity`` again, but ``without``."""
    fields = vars(entity).copy()
    del fields[without]
    return fields


def _drifted(fields: dict[str, Any]) -> NoReturn:
    raise TypeError(f"a TypedDict of this module lacks one of the fields {sorted(fields)}")


def _are_model_fields(fields: dict[str, Any]) -> TypeGuard[ModelFields]:
    return fields.keys() <= _MODEL_KEYS


def _are_version_fields(fields: dict[str, Any]) -> TypeGuard[VersionFields]:
    return fields.keys() <= _VERSION_KEYS


class _Section:
    """One cache file: entries ``key -> [identity, value]``, loaded when first asked, and
    rewritten only when an entry was added, replaced or dropped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: dict[str, list[Any]] | None = None
        self._fresh: dict[str, list[Any]] = {}
        self._changed = False

    def get(self, key: str, identity: Identity | None) -> Any:
        """The value cached for a file of this identity, else None."""
        if self._cached is None:
            self._cached = self._load()
        hit = self._cached.get(key)
        if hit is None or identity is None or tuple(hit[0]) != identity:
            return None
        self._fresh[key] = hit
        return hit[1]

    def put(self, key: str, identity: Identity, value: Any) -> None:
        if self._cached is None:
            self._cached = self._load()
        self._fresh[key] = [identity, value]
        self._changed = True

    def save(self) -> None:
        """Write what this read saw; entries of files that are gone are dropped."""
        if self._cached is None:
            return  # never consulted: nothing to add or drop
        if not self._changed and self._fresh.keys() == self._cached.keys():
            return
        # Best effort: a read-only home or a full disk costs speed, never a failure.
        tmp = self.path.with_name(f".{self.path.name}.{os.urandom(4).hex()}.tmp")
        with contextlib.suppress(OSError, ValueError):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_bytes(marshal.dumps({"format": CACHE_FORMAT, "entries": self._fresh}))
            tmp.replace(self.path)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)

    def _load(self) -> dict[str, list[Any]]:
        try:
            data = marshal.loads(self.path.read_bytes())  # noqa: S302 - our own file, outside any repository
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}


def cache_home() -> Path:
    """Where modelreg keeps its caches: never inside a registry folder."""
    explicit = os.environ.get("MODELREG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "modelreg"

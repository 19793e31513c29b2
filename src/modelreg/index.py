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
``$XDG_CACHE_HOME/modelreg``, else ``~/.cache/modelreg``, one folder per registry (by a
hash of its real path) and two ``marshal`` files per model: the records, and the
versions' histories, which a search never needs. It is kept out of the folder
because ``marshal`` is fast (four times faster than JSON here) but not meant for
untrusted data: a cache shipped inside a cloned repository must never be loaded. Files
are written atomically without fsync (a torn cache is unreadable and rebuilt); concurrent
writers simply race, since each writes entries that are valid for what they claim.

Two shortcuts, under the same rule. A :class:`VersionIndex` (one per ``Registry``)
remembers what it parsed, from a model's second read on: a read whose files all kept
their identity answers from memory, without loading the cache files again (a search in
a loop pays one ``lstat`` a file and the filter). And a search reads the models it does
not hold in memory on every core, each process a share of them (``Catalog.VersionScan``):
after a clone, that is parsing them in parallel.

A search whose filter requires a text (``filters.file_prefilter``) parses, at a first
look, only the files that hold it; for each file it refused, the cache and the memory keep
which of its texts the file holds, by the file's identity, instead of its fields.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import os
import time
from pathlib import Path

from modelreg import yamlio
from modelreg.datasets import Dataset, pack, unpack
from modelreg.docread import JSONValue
from modelreg.entities import HistoryEntry, ModelVersion, RegisteredModel
from modelreg.errors import CorruptFileError, NotFoundError
from modelreg.store import (
    MODEL_FILE,
    Identity,
    Store,
    parse_mapping,
    read_mapping_with_stat,
    stat_identity,
    version_number,
)
from modelreg.structs import field, struct

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterator, Sequence
    from typing import Any, NoReturn, TypedDict, TypeGuard, TypeVar

    from modelreg.filters import FilePrefilter
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
    _Fields = TypeVar("_Fields", ModelFields, VersionFields, VersionRecord)
    _Copied = TypeVar("_Copied")

# 5: versions' data sets (kept as tuples, see modelreg.datasets.pack). 6: an entry may be
# which texts a file a search refused holds (see _Held), which format 5's readers would
# take for a version's fields.
CACHE_FORMAT = 6
# How long ago a file must have last changed before its parsed form is cached.
SETTLE_SECONDS = 2.0

# model.yaml's entry in a model's cache (version files are keyed "N.yaml").
MODEL_KEY = MODEL_FILE


class VersionIndex:
    """The versions of a model, read through the cache."""

    def __init__(self, store: Store, *, split: bool = False) -> None:
        self.store = store
        # Format 2 (layout.py): the model's fields come from several files, read each time.
        self.split = split
        # What the last reads parsed, by model: a read whose files all kept their
        # identity answers from here without loading the cache files again. A model is
        # remembered from its second read on: a command that reads each model once (every
        # CLI command) keeps nothing, so its peak memory stays that of one model.
        self._memory: dict[str, _Memo] = {}
        self._read_before: set[str] = set()
        # Inside keeping(): first reads kept until it ends (a search's histories).
        self._kept: set[str] | None = None
        # The history cache files history() loaded, until keeping() ends.
        self._histories: dict[str, _Section] = {}

    @functools.cached_property
    def cache_dir(self) -> Path:
        """This registry's cache folder (by a hash of its real path); worked out when
        first needed: a read of one file (``resolve``, ``describe``) needs no cache.

        Not hashlib's sha256: loading OpenSSL cost 5 ms of a `list NAME`. A tuple of
        small ints hashes the same in every process (a str's hash is salted per process),
        in 64 bits. Two registries that met on one folder would only evict each other's
        entries: every entry is checked against its file's identity before it is used."""
        real = os.fsencode(os.path.realpath(self.store.root))
        return cache_home() / f"{hash(tuple(real)) & (2**64 - 1):016x}"

    def read(
        self,
        name: str,
        errors: list[CorruptFileError] | None = None,
        *,
        history: bool = True,
        shared: bool = False,
        prefilter: FilePrefilter | None = None,
    ) -> tuple[ModelFields, list[VersionFields]]:
        """The constructor fields of the model ``name`` (without ``latest_versions``) and
        of every one of its versions (without ``aliases``), ascending by version.

        Without ``history`` the versions' histories are neither loaded nor included (a
        search needs none of them, and they are much of a cache's size). A corrupt
        model.yaml is raised; a corrupt version file is raised, or appended to
        ``errors`` and skipped. The dictionaries are the caller's to change, unless
        ``shared``: then they are this index's memory, which the caller must not change
        (a search filters them and copies only what it returns).

        ``prefilter`` is a search's test of a file's bytes (``filters.file_prefilter``): a
        version neither remembered nor cached whose file it refuses is left out, unparsed
        (so neither cached nor reported if corrupt). Which of its texts the file holds is
        kept instead, by the file's identity, so that the same search repeated does not
        read the file again; a later search that this does not decide parses the file."""
        records = _Section(self._cache_file(name, "records"))
        histories = _Section(self._cache_file(name, "history"))
        settled_before = time.time_ns() - int(SETTLE_SECONDS * 1e9)
        memo = self._memory.get(name)
        if memo is None:
            memo = _Memo()
            if name in self._read_before:
                self._memory[name] = memo

        def parsed(key: str, fields: _Fields, identity: Identity) -> _Fields:
            if identity[3] < settled_before:  # see SETTLE_SECONDS
                without = marshallable(fields)
                histories.put(key, identity, without.pop("history", None))
                records.put(key, identity, without)
            return fields

        folder = self.store.versions_dir(name)
        listing = self._listing(folder)
        model = self._model_fields(name, memo, listing, records, parsed, settled_before)
        found: list[VersionFields] = []
        remembered = memo.versions
        for number, key, identity in listing:
            known = remembered.get(key)
            fields: VersionFields | None
            past: list[HistoryEntry] | None = None
            held = None  # what an earlier search learnt of which of its texts it holds
            if known is not None and known.settled and known.identity == identity:
                fields, past = known.fields, known.history
            else:
                if prefilter is not None:
                    held = _held(memo, records, key, identity)
                    if prefilter.refuses(held):
                        continue
                cached: VersionFields | _Held | None = records.get(key, identity)
                fields = None
                if type(cached) is dict:
                    # never changed (the section may save it again): data sets unpacked
                    # into a copy
                    fields = unmarshalled(cached)
                    remembered[key] = known = _Remembered(identity, fields, None, True)
            if fields is not None and history and past is None:
                past = histories.get(key, identity)
                if past is None:
                    fields = None  # parsed again below, history and all
                elif known is not None:
                    known.history = past
            if fields is None:
                remembered.pop(key, None)
                try:
                    path, data, identity = self._read_version(name, number, folder)
                    # Refused unparsed only at a first look: a file an earlier search
                    # refused, whose texts this one is not among, is parsed and cached
                    # (a script looking up one run id after another would otherwise
                    # read every file again for each).
                    if prefilter is not None and held is None:
                        held = prefilter.held(data)
                        if prefilter.refuses(held):
                            _keep_held(memo, records, key, identity, held, settled_before)
                            continue
                    whole = self._version_fields(name, number, path, data)
                except CorruptFileError as exc:
                    if errors is None:
                        raise
                    errors.append(exc)
                    continue
                parsed(key, whole, identity)
                past = whole.pop("history", [])
                fields = whole
                settled = identity[3] < settled_before
                remembered[key] = _Remembered(identity, fields, past, settled)
            found.append({**fields, "history": past} if history else fields)  # type: ignore[typeddict-item]
        present = {key for _, key, _ in listing}
        for kept in (remembered, memo.held):
            if len(kept) > len(listing):  # files gone: forget them
                for key in [key for key in list(kept) if key not in present]:
                    kept.pop(key, None)
        present.add(MODEL_KEY)
        records.save(present)
        histories.save(present)
        if name not in self._read_before:
            self._read_before.add(name)
            if self._kept is not None:
                self._memory[name] = memo
                self._kept.add(name)
        if shared:
            return model, found
        return _copy(model), _copy(found)

    def has_read(self, name: str) -> bool:
        """Whether the model ``name`` was read before (by this index, or for it): its
        next read here is kept in memory."""
        return name in self._read_before

    def read_elsewhere(self, names: list[str]) -> None:
        """The models ``names`` were read by another process for this one (a search's
        children, see ``Catalog.VersionScan``): the next read here is their second, so
        what it reads is kept."""
        self._read_before.update(names)

    @contextlib.contextmanager
    def keeping(self) -> Iterator[None]:
        """Keep what first reads parse until the block ends (not only from a model's
        second read on): a search takes the histories of the versions it returns from
        the very read that found them."""
        outer = self._kept
        self._kept = set() if outer is None else outer
        try:
            yield
        finally:
            if outer is None:
                for name in self._kept:
                    self._memory.pop(name, None)
                self._kept = None
                self._histories.clear()

    def history(self, name: str, number: int) -> list[HistoryEntry]:
        """The history of version ``number`` as the last :meth:`read` of its model saw
        the file (a search reads without histories, then takes the histories of the
        versions it returns from here): from memory, the cache, or the file. Like a
        ``shared`` read, the list is this index's memory: copy it before changing it."""
        key = f"{number}.yaml"
        memo = self._memory.get(name)
        known = memo.versions.get(key) if memo is not None else None
        histories = self._histories.get(name)
        if histories is None:  # one load of the model's histories for all its versions
            histories = self._histories[name] = _Section(self._cache_file(name, "history"))
        if known is None:  # a first read, not remembered: the file as it is now
            with contextlib.suppress(OSError):
                path = self.store.versions_dir(name) / key
                cached = histories.get(key, stat_identity(os.lstat(path)))
                if cached is not None:
                    found: list[HistoryEntry] = cached
                    return found
            fields, _ = self.parse_version(name, number)
            return fields.get("history", [])
        if known.history is None:
            past: list[HistoryEntry] | None = histories.get(key, known.identity)
            if past is None:
                fields, identity = self.parse_version(name, number)
                past = fields.get("history", [])
                if identity != known.identity:
                    return past  # changed since: not what the read saw, so not kept
            known.history = past
        return known.history

    def _model_fields(
        self,
        name: str,
        memo: _Memo,
        listing: list[tuple[int, str, Identity]],
        records: _Section,
        parsed: Callable[[str, ModelFields, Identity], ModelFields],
        settled_before: int,
    ) -> ModelFields:
        """The model's fields, from memory when none of its files changed."""
        if self.split:
            # A model's fields in format 2 are model.yaml, every alias file and every
            # tombstone, and the highest version number: all of them are the key, so that
            # `git checkout` of an alias file is seen. The cache keeps them by that key
            # (without the model's history, which a read never returns): composing them
            # costs a YAML read of each of those files, most of a warm search's time.
            key = self._split_key(name, listing, settled_before)
            if key is not None and memo.model_key == key and memo.model is not None:
                return memo.model
            cached: ModelFields | None = records.get(MODEL_KEY, key)
            if cached is not None:
                model = cached
            else:
                model = self._compose_model(name)
                if key is not None:
                    records.put(MODEL_KEY, key, {**model, "history": []})
            memo.model_key, memo.model = key, model
            return model
        model_identity = self._model_identity(name)
        if (
            model_identity is not None
            and memo.model is not None
            and memo.model_key == model_identity
            and model_identity[3] < settled_before
        ):
            return memo.model
        hit: ModelFields | None = records.get(MODEL_KEY, model_identity)
        if hit is not None:
            model = hit
        else:
            model, model_identity = self._parse_model(name)
            parsed(MODEL_KEY, model, model_identity)
        settled = model_identity is not None and model_identity[3] < settled_before
        memo.model_key, memo.model = (model_identity if settled else None), model
        return model

    def _split_key(
        self, name: str, listing: list[tuple[int, str, Identity]], settled_before: int
    ) -> tuple[object, ...] | None:
        """What a format-2 model's fields depend on, or None when any of it is too recent
        to be remembered (see SETTLE_SECONDS) or cannot be read."""
        from modelreg.layout import ALIASES_DIR, DELETED_DIR

        model_dir = self.store.model_dir(name)
        parts: list[object] = [listing[-1][0] if listing else 0]
        try:
            parts.append(stat_identity(os.lstat(model_dir / MODEL_FILE)))
            for sub in (ALIASES_DIR, DELETED_DIR):
                folder = model_dir / sub
                try:
                    parts.append(stat_identity(os.lstat(folder)))
                    with os.scandir(folder) as scan:
                        parts.append(
                            sorted(
                                (entry.name, stat_identity(entry.stat(follow_symlinks=False)))
                                for entry in scan
                            )
                        )
                except FileNotFoundError:
                    parts.append(None)
        except OSError:
            return None
        for part in parts:
            if isinstance(part, tuple) and part[3] >= settled_before:
                return None
            if isinstance(part, list) and any(ident[3] >= settled_before for _, ident in part):
                return None
        return tuple(tuple(part) if isinstance(part, list) else part for part in parts)

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
            return stat_identity(os.lstat(self.store.model_file(name)))
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
        return (fields if _are_model_fields(fields) else _drifted(fields)), stat_identity(stat)

    def _listing(self, folder: Path) -> list[tuple[int, str, Identity]]:
        self.store.refuse_symlinks(folder)  # nothing outside the registry is ever read
        entries = []
        try:
            scan = os.scandir(folder)
        except FileNotFoundError:
            return []
        with scan:
            for entry in scan:
                number = version_number(entry.name)
                if number is None:
                    continue
                try:
                    identity = stat_identity(entry.stat(follow_symlinks=False))
                except FileNotFoundError:
                    continue  # deleted while we listed
                entries.append((number, entry.name, identity))
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
        path, data, identity = self._read_version(name, number, folder)
        return self._version_fields(name, number, path, data), identity

    def _read_version(
        self, name: str, number: int, folder: Path | None
    ) -> tuple[str, bytes, Identity]:
        if folder is None:
            folder = self.store.versions_dir(name)
            self.store.refuse_symlinks(folder)
        # As text: building and using a Path object cost 10 µs a file, of about 150 that a
        # first read after a clone spends on each (errors make a Path of it).
        path = f"{folder}/{number}.yaml"
        try:
            data, stat = yamlio.read_file(path, follow_symlinks=False)
        except FileNotFoundError:
            raise NotFoundError(f"version {number} of model '{name}' not found") from None
        return path, data, stat_identity(stat)

    def _version_fields(self, name: str, number: int, path: str, data: bytes) -> VersionFields:
        mv = ModelVersion.from_doc(parse_mapping(data, path), path, [])
        if mv.version != number:
            raise CorruptFileError(path, f"says version {mv.version} but is named {number}.yaml")
        mv.name = name
        fields = _fields(mv, "aliases")
        return fields if _are_version_fields(fields) else _drifted(fields)

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


# Which of a search's texts a version file holds (see filters.FilePrefilter), as a cache
# entry keeps it: pairs, told from a version's fields (a dict) by their type.
_Held = tuple[tuple[bytes, bool], ...]


def _held(memo: _Memo, records: _Section, key: str, identity: Identity) -> dict[bytes, bool] | None:
    """What is known of which texts the file ``key`` of this identity holds."""
    known = memo.held.get(key)
    if known is not None and known[0] == identity:
        return known[1]
    cached = records.get(key, identity)
    if type(cached) is not tuple:
        return None
    held = dict(cached)
    memo.held[key] = (identity, held)
    return held


def _keep_held(
    memo: _Memo,
    records: _Section,
    key: str,
    identity: Identity,
    held: dict[bytes, bool] | None,
    settled_before: int,
) -> None:
    """Keep which texts a file refused by a search holds, once its identity can be trusted
    to say it is unchanged (see SETTLE_SECONDS)."""
    if held is None or identity[3] >= settled_before:
        return
    memo.held[key] = (identity, held)
    records.put(key, identity, tuple(held.items()))


def _are_model_fields(fields: dict[str, Any]) -> TypeGuard[ModelFields]:
    return fields.keys() <= _MODEL_KEYS


def _are_version_fields(fields: dict[str, Any]) -> TypeGuard[VersionFields]:
    return fields.keys() <= _VERSION_KEYS


@struct
class _Remembered:
    """A version file as a read last parsed it: ``settled`` when its identity may be
    trusted to say it is unchanged (see SETTLE_SECONDS); an unsettled one only serves
    :meth:`VersionIndex.history` for the read that parsed it."""

    identity: Identity
    fields: VersionFields  # without history
    history: list[HistoryEntry] | None  # None: not loaded yet
    settled: bool


@struct
class _Memo:
    """What the index remembers of one model between reads."""

    model_key: object = None  # None: the model's fields are read again
    model: ModelFields | None = None
    versions: dict[str, _Remembered] = field(default_factory=dict)
    # The files a search refused unparsed: which of its texts each holds (see _held).
    held: dict[str, tuple[Identity, dict[bytes, bool]]] = field(default_factory=dict)


def marshallable(fields: _Fields) -> _Fields:
    """``fields`` as marshal can write them (a cache file, a search's child's pipe):
    a copy with the data sets as tuples (:func:`modelreg.datasets.pack`), when it has any."""
    copied = dict(fields)
    if copied.get("datasets"):
        copied["datasets"] = pack(copied["datasets"])
    return copied  # type: ignore[return-value]


def unmarshalled(fields: _Fields) -> _Fields:
    """``fields`` as marshal gave them back, with their data sets as ``Dataset`` again (a
    copy when it has any: what a cache section holds stays as loaded)."""
    if not fields.get("datasets"):
        return fields
    return {**fields, "datasets": unpack(fields["datasets"])}  # type: ignore[typeddict-unknown-key]


def copy_records(records: Sequence[_Copied]) -> list[_Copied]:
    """The caller's own copy of records (or histories) that share the index's memory."""
    return _copy(list(records))  # a plain list: marshal refuses subclasses (Page)


def _copy(value: _Copied) -> _Copied:
    """A deep copy of parsed data (``marshal`` does it in C, many times faster than
    ``copy.deepcopy``)."""
    try:
        copied: _Copied = marshal.loads(marshal.dumps(value))  # type: ignore[arg-type]  # noqa: S302 - our own bytes
    except ValueError:  # not marshallable: cannot come from a parsed file, but be safe
        import copy

        return copy.deepcopy(value)
    return copied


class _Section:
    """One cache file: entries ``key -> [identity, value]``, loaded when first asked, and
    rewritten only when an entry was added, replaced or dropped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: dict[str, list[Any]] | None = None
        self._fresh: dict[str, list[Any]] = {}
        self._changed = False

    def get(self, key: str, identity: tuple[object, ...] | None) -> Any:
        """The value cached for a file of this identity (or a format-2 model's key,
        see ``VersionIndex._split_key``), else None."""
        if self._cached is None:
            self._cached = self._load()
        hit = self._cached.get(key)
        if hit is None or identity is None or tuple(hit[0]) != identity:
            return None
        self._fresh[key] = hit
        return hit[1]

    def put(self, key: str, identity: tuple[object, ...], value: Any) -> None:
        if self._cached is None:
            self._cached = self._load()
        self._fresh[key] = [identity, value]
        self._changed = True

    def save(self, present: Container[str]) -> None:
        """Write what this read added or replaced. An entry it did not look at is kept
        when its key is ``present`` (the read listed the file but took it from memory),
        else dropped (the file is gone)."""
        if self._cached is None:
            return  # never consulted: nothing to add or drop
        entries = {key: hit for key, hit in self._cached.items() if key in present}
        entries.update(self._fresh)
        if not self._changed and entries.keys() == self._cached.keys():
            return
        # Best effort: a read-only home or a full disk costs speed, never a failure.
        tmp = self.path.with_name(f".{self.path.name}.{os.urandom(4).hex()}.tmp")
        with contextlib.suppress(OSError, ValueError):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_bytes(marshal.dumps({"format": CACHE_FORMAT, "entries": entries}))
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

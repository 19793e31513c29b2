"""The artifact store: content-addressed copies of artifacts, through fsspec.

Layout under the store's URL (a folder, ``s3://bucket/prefix``, ``gs://``, ``az://``,
``file://``)::

    blobs/ab/ab12...ef      a file's bytes, named by their sha256 (the same content once)
    trees/<sha256>.json     a folder's manifest, named by the folder's sha256
    tmp/<sha256>.<random>   an upload under way (never read; ``gc`` removes old ones)

A folder's manifest is JSON: ``{"modelreg_tree": 1, "files": [{"path", "sha256",
"size"}, ...]}``, the files sorted by the components of their ``/``-separated path, each
file also a blob. Its name is the folder's sha256 as a version records it (see
:func:`modelreg.lineage.tree_digest`: the hash of each path and its file's hash, in that
order), so the manifest is checked against its own name before it is trusted.

Every object is first written under ``tmp/`` and only then moved to its name, so an
interrupted upload leaves nothing under ``blobs/`` or ``trees/`` that looks complete; a
folder's manifest is written after all its blobs. Two uploads of the same content write
the same bytes under the same name, so racing is harmless. Data moves in chunks of
:data:`CHUNK` bytes: a file is never held in memory whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

import fsspec
from fsspec.implementations.local import LocalFileSystem

from modelreg.artifacts.local import check_digest, remove_path
from modelreg.errors import (
    ArtifactStoreError,
    CorruptFileError,
    InvalidInputError,
    NotFoundError,
    RegistryError,
)
from modelreg.lineage import TreeEntry, tree_digest, tree_entries
from modelreg.store import _crash_point, fsync_dir

CHUNK = 1024 * 1024
# s3fs uploads a part whenever this much is buffered (S3 needs parts of 5 MiB or more).
_BLOCK = 8 * 1024 * 1024
TREE_FORMAT = 1
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}

Progress = Callable[[int], None]  # told the number of bytes moved since it was last told


def blob_key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def tree_key(sha256: str) -> str:
    return f"trees/{sha256}.json"


def is_tree_uri(uri: str) -> bool:
    return "/trees/" in uri or uri.startswith("trees/")


class Location:
    """One place of fsspec: a filesystem and a path in it, and how the registry spells
    it (``spelling``: a URL, or a local path relative to the registry folder)."""

    def __init__(self, spelling: str, root: Path) -> None:
        self.spelling = spelling.rstrip("/") or spelling
        if "://" in spelling and not spelling.startswith("file://"):
            self.fs, self.path = _url_to_fs(spelling)
            self.local = False
        else:
            local = Path(spelling.removeprefix("file://"))
            self.fs, self.path = LocalFileSystem(), os.path.normpath(root.resolve() / local)
            self.local = True

    def join(self, key: str) -> str:
        return f"{self.path.rstrip('/')}/{key}"

    def uri(self, key: str) -> str:
        return f"{self.spelling}/{key}"


class ArtifactStore:
    """The store of one registry (``artifact_store:`` in its registry.yaml)."""

    def __init__(self, spelling: str, root: Path) -> None:
        self.where = Location(spelling, root)

    def check_reachable(self) -> None:
        """Refuse early, in one line, a store that is missing or refuses us."""
        # An object store's prefix exists only once something is in it: its bucket must.
        top = self.where.path if self.where.local else self.where.path.split("/", 1)[0]
        with _translated(self.where.spelling, "reach"):
            # info, not exists: s3fs's exists answers False when credentials are refused.
            try:
                self.where.fs.info(top)
                found = True
            except FileNotFoundError:
                found = False
        if not found:
            raise NotFoundError(
                f"the artifact store {self.where.spelling} does not exist"
                + (
                    f" ({self.where.path}); create the folder or fix artifact_store in "
                    "registry.yaml"
                    if self.where.local
                    else "; create it or fix artifact_store in registry.yaml"
                )
            )

    def upload(self, path: Path, sha256: str, size: int, progress: Progress | None = None) -> str:
        """Store the file or folder at ``path``, whose recorded hash is ``sha256``; its
        URI as the version records it. Content already there is not uploaded again."""
        self.check_reachable()
        with _translated(self.where.spelling, "upload to"):
            if path.is_file():
                self._put_blob(path, sha256, size, progress)
                return self.where.uri(blob_key(sha256))
            return self._put_tree(path, sha256, progress)

    def _put_tree(self, folder: Path, sha256: str, progress: Progress | None) -> str:
        key = tree_key(sha256)
        if self._has(key):
            return self.where.uri(key)
        entries = tree_entries(folder)
        if tree_digest(entries)[0] != sha256:
            raise _changed(folder)
        for entry in entries:
            self._put_blob(folder / entry.path, entry.sha256, entry.size, progress)
        manifest = manifest_bytes(entries)
        self._commit(key, lambda out: out.write(manifest), sha256, check=None)
        return self.where.uri(key)

    def _put_blob(self, path: Path, sha256: str, size: int, progress: Progress | None) -> None:
        key = blob_key(sha256)
        if self._has(key, size):
            if progress:
                progress(size)
            return

        def copy(out: IO[bytes]) -> tuple[str, int]:
            digest, total = hashlib.sha256(), 0
            with path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    total += len(chunk)
                    if progress:
                        progress(len(chunk))
            return digest.hexdigest(), total

        self._commit(key, copy, sha256, check=(sha256, size), source=path)

    def _has(self, key: str, size: int | None = None) -> bool:
        full = self.where.join(key)
        try:
            info = self.where.fs.info(full)
        except FileNotFoundError:
            return False
        return size is None or int(info.get("size", -1)) == size

    def _commit(
        self,
        key: str,
        write: Callable[[IO[bytes]], Any],
        sha256: str,
        *,
        check: tuple[str, int] | None,
        source: Path | None = None,
    ) -> None:
        """Write an object under tmp/, check what was written, then move it to ``key``.
        A crash before the move leaves only the tmp/ object; after it, the complete one."""
        fs, tmp = self.where.fs, self.where.join(f"tmp/{sha256}.{secrets.token_hex(8)}")
        final = self.where.join(key)
        try:
            if self.where.local:
                written = _write_local(tmp, write)
            else:
                with fs.open(tmp, "wb", block_size=_BLOCK) as out:
                    written = write(out)
            if check is not None and written != check:
                raise _changed(source or Path(key))
            _crash_point("artifact:uploaded")
            if self.where.local:
                Path(final).parent.mkdir(parents=True, exist_ok=True)
                Path(tmp).replace(final)
                fsync_dir(Path(final).parent)
            else:
                fs.mv(tmp, final)
        except BaseException:
            with contextlib.suppress(Exception):
                if fs.exists(tmp):
                    fs.rm(tmp)
            raise

    def objects(self, prefix: str) -> list[StoredObject]:
        """The objects under ``prefix`` (``blobs``, ``trees``, ``tmp``)."""
        where = self.where
        with _translated(where.spelling, "list"):
            try:
                found = where.fs.find(where.join(prefix), detail=True)
            except FileNotFoundError:
                return []
        return sorted(
            StoredObject(key_of(str(name), self), int(info.get("size") or 0), modified(info))
            for name, info in found.items()
        )

    def keys_of(self, uri: str) -> list[str]:
        """The keys in this store that the artifact ``uri`` (of any store) uses: its blob,
        or a folder's manifest and, when this store has that manifest, its files' blobs."""
        key = uri_key(uri)
        if not is_tree_uri(uri):
            return [key]
        with _translated(self.where.spelling, "read"):
            try:
                with self.where.fs.open(self.where.join(key), "rb") as handle:
                    entries = parse_manifest(handle.read(), uri)
            except FileNotFoundError:
                return [key]
        return [key, *(blob_key(entry.sha256) for entry in entries)]

    def remove(self, keys: list[str]) -> None:
        with _translated(self.where.spelling, "remove from"):
            for key in keys:
                self.where.fs.rm(self.where.join(key))


class StoredObject(NamedTuple):
    key: str
    size: int
    modified: float | None


def _write_local(tmp: str, write: Callable[[IO[bytes]], Any]) -> Any:
    Path(tmp).parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as out:
        written = write(out)
        out.flush()
        os.fsync(out.fileno())
    return written


def manifest_bytes(entries: list[TreeEntry]) -> bytes:
    files = [{"path": e.path, "sha256": e.sha256, "size": e.size} for e in entries]
    doc = {"modelreg_tree": TREE_FORMAT, "files": files}
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")


def parse_manifest(data: bytes, where: str) -> list[TreeEntry]:
    try:
        doc = json.loads(data)
        entries = [
            TreeEntry(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in doc["files"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactStoreError(f"{where}: not a modelreg folder manifest ({exc})") from None
    for entry in entries:
        parts = entry.path.split("/")
        if entry.path.startswith("/") or ".." in parts or "" in parts or "\\" in entry.path:
            raise ArtifactStoreError(f"{where}: refusing the file path {entry.path!r}")
    return entries


# -- downloading --------------------------------------------------------------------------


def download(
    uri: str,
    root: Path,
    target: Path,
    expected: tuple[str, int],
    label: str,
    progress: Progress | None = None,
) -> None:
    """Copy the stored artifact ``uri`` to ``target`` (which must not exist; its folder
    must), checking every byte against ``expected`` (sha256, size) as it arrives. On any
    failure nothing is left at ``target``."""
    where, key = _split(uri, root)
    fetch = _Fetch(where.fs, uri, label, progress)
    try:
        with _translated(where.spelling, "download from"):
            if is_tree_uri(uri):
                fetch.tree(where.join(key), target, expected)
            else:
                fetch.file(where.join(key), target, expected)
    except BaseException:
        remove_path(target)
        raise


class _Fetch(NamedTuple):
    """One download: the store's filesystem, the artifact's URI and its version's label
    (for the errors), and whom to tell of the bytes moved."""

    fs: Any
    uri: str
    label: str
    progress: Progress | None

    def tree(self, full: str, target: Path, expected: tuple[str, int]) -> None:
        with self.fs.open(full, "rb") as handle:
            data = handle.read(64 * 1024 * 1024 + 1)
        entries = parse_manifest(data, self.uri)
        check_digest(self.label, self.uri, expected, tree_digest(entries))
        base = full.rsplit("/trees/", 1)[0]
        target.mkdir()
        for entry in entries:
            dest = target / entry.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.file(f"{base}/{blob_key(entry.sha256)}", dest, (entry.sha256, entry.size))

    def file(self, full: str, target: Path, expected: tuple[str, int]) -> None:
        digest, total = hashlib.sha256(), 0
        with self.fs.open(full, "rb", block_size=_BLOCK) as source, target.open("xb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                total += len(chunk)
                if self.progress:
                    self.progress(len(chunk))
                if total > expected[1]:
                    break
        # No fsync: a copy that a crash left short fails its next check and is fetched again.
        check_digest(self.label, self.uri, expected, (digest.hexdigest(), total))


def uri_key(uri: str) -> str:
    """The key of a stored artifact's URI: ``blobs/ab/<sha256>`` or ``trees/<sha256>.json``."""
    for marker in ("blobs/", "trees/"):
        if uri.startswith(marker):
            return uri
        if f"/{marker}" in uri:
            return marker + uri.rpartition(f"/{marker}")[2]
    raise InvalidInputError(f"not an artifact store location: {uri!r}")


def _split(uri: str, root: Path) -> tuple[Location, str]:
    for marker in ("/blobs/", "/trees/"):
        if marker in uri:
            base, _, rest = uri.rpartition(marker)
            return Location(base, root), marker.strip("/") + "/" + rest
    raise InvalidInputError(f"not an artifact store location: {uri!r}")


def _changed(path: Path) -> RegistryError:
    return CorruptFileError(
        path,
        "changed while it was being uploaded (its bytes are not the ones hashed a moment "
        "before); nothing was registered: register it again once it is written",
    )


def _url_to_fs(url: str) -> tuple[Any, str]:
    protocol = url.split("://", 1)[0]
    try:
        # A filesystem of its own: fsspec's shared instances would outlive a change of
        # the environment (credentials, AWS_ENDPOINT_URL) within one Python process.
        fs, path = fsspec.core.url_to_fs(url, skip_instance_cache=True)
    except ImportError as exc:
        extra = _EXTRAS.get(protocol)
        hint = f": pip install 'modelreg[{extra}]'" if extra else ""
        raise ArtifactStoreError(
            f"the artifact store {url} needs a package that is not installed{hint} ({exc})"
        ) from None
    except ValueError as exc:
        raise ArtifactStoreError(f"the artifact store {url}: {exc}") from None
    return fs, str(path)


@contextlib.contextmanager
def _translated(store: str, doing: str) -> Iterator[None]:
    """fsspec's and the cloud libraries' errors as one-line registry errors."""
    try:
        yield
    except RegistryError:
        raise
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"could not {doing} the artifact store {store}: not found ({_cause(exc)})"
        ) from None
    except PermissionError as exc:
        raise ArtifactStoreError(
            f"could not {doing} the artifact store {store}: access denied ({_cause(exc)}); "
            "check the credentials its library reads (for s3://: AWS_* variables, ~/.aws)"
        ) from None
    except Exception as exc:
        raise ArtifactStoreError(
            f"could not {doing} the artifact store {store}: {_cause(exc)}"
        ) from None


def _cause(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


def stored_size(uri: str, root: Path) -> int | None:
    """The size of the stored artifact ``uri`` (a folder's: the sum of its files'), or
    None when it, or any file of a folder, is not in the store."""
    where, key = _split(uri, root)
    fs = where.fs
    with _translated(where.spelling, "read"):
        try:
            if not is_tree_uri(uri):
                return int(fs.info(where.join(key))["size"])
            with fs.open(where.join(key), "rb") as handle:
                entries = parse_manifest(handle.read(), uri)
            total = 0
            for entry in entries:
                if int(fs.info(where.join(blob_key(entry.sha256)))["size"]) != entry.size:
                    return -1
                total += entry.size
            return total
        except FileNotFoundError:
            return None


def key_of(full: str, store: ArtifactStore) -> str:
    return full.removeprefix(store.where.path.rstrip("/") + "/")


def modified(info: Mapping[str, object]) -> float | None:
    """When an object was last written (epoch seconds), from fsspec's info."""
    import datetime

    for name in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(name)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None
